/**
 * The analyst checks its answer's numbers against the cells' outputs: a
 * right answer is shown as is; a number found nowhere, after one chance to
 * correct it, is marked in the panel and noted in the answer cell.
 */
import { expect, test } from '@jupyterlab/galata';

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

test.beforeEach(async ({ request }) => {
  await resetStandin(request);
});

test('a number the outputs do not show is marked; a right answer is not', async ({
  page,
  request,
  tmpPath
}) => {
  const name = 'numbers.ipynb';
  await script(request, [
    runCode('pairs = 21\nprint("pairs", pairs, "shoes", pairs * 2)'),
    say('There are **42** shoes in 21 pairs.'),
    runCode('print("women", 12)'),
    say('There are 12 women and 17 men.'),
    // The one chance to correct it repeats the made-up number.
    say('There are 12 women and 17 men.')
  ]);
  const chat = await newNotebookWithChat(page, name);

  await ask(chat, 'How many shoes?');
  await turnDone(chat);
  const first = chat.locator('.jp-NbChat-answer').first();
  await expect(first).toContainText('There are 42 shoes in 21 pairs.');
  await expect(first.locator('mark')).toHaveCount(0);
  await expect(chat.locator('.jp-NbChat-unverifiedNote')).toHaveCount(0);

  await ask(chat, 'How many women and men?');
  await turnDone(chat);
  const second = chat.locator('.jp-NbChat-answer').last();
  const marked = second.locator('mark.jp-NbChat-unverified');
  await expect(marked).toHaveText(['17']);
  await expect(marked).toHaveAttribute('title', /Not found in/);
  await expect(second.locator('.jp-NbChat-unverifiedNote')).toHaveText(
    '1 number could not be checked against the outputs'
  );

  // Exactly one correction request, naming the number, after the answer.
  const bodies = await recordedBodies(request);
  expect(bodies).toHaveLength(5);
  expect(JSON.stringify(bodies[4].messages.at(-1))).toContain('17');

  // The answer cell keeps a short note; the notebook shows it.
  const answerCell = visibleNotebook(page)
    .locator('.jp-MarkdownCell')
    .filter({ hasText: '12 women and 17 men' });
  await expect(answerCell).toContainText('was not found');
  await expect
    .poll(async () => {
      const saved = await savedNotebook(request, `${tmpPath}/${name}`);
      const turns = saved.metadata?.nbchat?.turns ?? [];
      return turns.map((t: any) => t.numbers?.unverified ?? null);
    })
    .toEqual([0, 1]);
});
