/**
 * The "Question and answer cells" setting off: only code cells go into the
 * notebook; the questions and answers live in its metadata, and the chat is
 * rebuilt from there on reopening.
 */
import { expect, galata, test } from '@jupyterlab/galata';

import {
  ask,
  newNotebookWithChat,
  recordedBodies,
  resetStandin,
  runCode,
  savedNotebook,
  say,
  script,
  turnDone,
  visibleNotebook
} from './helpers';

test.use({
  mockSettings: {
    ...galata.DEFAULT_SETTINGS,
    'jupyter-nbchat:plugin': {
      reviewMode: 'never',
      questionAnswerCells: false
    }
  }
});

test.beforeEach(async ({ request }) => {
  await resetStandin(request);
});

test('without question/answer cells the conversation lives in metadata', async ({
  page,
  request,
  tmpPath
}) => {
  await script(request, [
    runCode('pairs = 21\nprint(pairs * 2)'),
    say('There are **42** shoes.'),
    runCode('print(pairs)'),
    say('21 pairs.')
  ]);
  const name = 'quiet.ipynb';
  const chat = await newNotebookWithChat(page, name);
  await ask(chat, 'How many shoes?');
  await turnDone(chat);
  await expect(chat.locator('.jp-NbChat-question')).toHaveText(
    'How many shoes?'
  );
  await expect(chat.locator('.jp-NbChat-answer')).toContainText(
    'There are 42 shoes.'
  );

  // Only the code cell went into the notebook.
  const notebook = visibleNotebook(page);
  await expect(notebook.locator('.jp-Cell')).toHaveCount(1);
  await expect(notebook.locator('.jp-MarkdownCell')).toHaveCount(0);
  await expect
    .poll(
      async () => {
        const saved = await savedNotebook(request, `${tmpPath}/${name}`);
        return {
          roles: saved.cells.map((c: any) => c.metadata?.nbchat?.role),
          turns: (saved.metadata?.nbchat?.turns ?? []).map((t: any) => [
            t.question,
            t.answer
          ])
        };
      },
      { timeout: 15_000 }
    )
    .toEqual({
      roles: ['code'],
      turns: [['How many shoes?', 'There are **42** shoes.']]
    });

  // Reopened: the chat comes back from the metadata.
  await page.notebook.close(true);
  await page.notebook.openByPath(`${tmpPath}/${name}`);
  await expect(chat.locator('.jp-NbChat-question')).toHaveText(
    'How many shoes?'
  );
  await expect(chat.locator('.jp-NbChat-answer')).toContainText(
    'There are 42 shoes.'
  );

  // A follow-up: Claude is told the earlier question and answer.
  await ask(chat, 'And in pairs?');
  await turnDone(chat);
  await expect(chat.locator('.jp-NbChat-answer').last()).toContainText(
    '21 pairs.'
  );
  const bodies = await recordedBodies(request);
  const history = JSON.stringify(bodies[2].messages);
  expect(history).toContain('Question: How many shoes?');
  expect(history).toContain('There are **42** shoes.');
  await expect(notebook.locator('.jp-MarkdownCell')).toHaveCount(0);
});
