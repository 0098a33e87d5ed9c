/**
 * Review mode: each cell Claude writes lands in the notebook unexecuted and
 * waits for the person's Run (of the cell as they left it) or Skip.
 */
import { expect, galata, test } from '@jupyterlab/galata';

import {
  ask,
  newNotebookWithChat,
  resetStandin,
  runCode,
  say,
  script,
  turnDone,
  visibleNotebook
} from './helpers';

// The test server turns review mode off for everyone (see
// jupyter_server_test_config.py); these tests turn it on.
test.use({
  mockSettings: {
    ...galata.DEFAULT_SETTINGS,
    'jupyter-nbchat:plugin': { reviewMode: 'always' }
  }
});

test.beforeEach(async ({ request }) => {
  await resetStandin(request);
});

test('Run executes the proposed cell as edited in the notebook', async ({
  page,
  request
}, testInfo) => {
  await script(request, [
    runCode(
      "total = 6 * 7\nprint('proposed', total)",
      'I will compute the total.'
    ),
    say('The total is printed above.')
  ]);
  const chat = await newNotebookWithChat(page, 'review-run.ipynb');
  await expect(chat.locator('.jp-NbChat-hint')).toContainText(
    'each one waits for you to run or skip it'
  );
  await ask(chat, 'What is the total?');

  const run = chat.getByRole('button', { name: 'Run', exact: true });
  const skip = chat.getByRole('button', { name: 'Skip', exact: true });
  await expect(run).toBeVisible({ timeout: 30_000 });
  await expect(skip).toBeVisible();
  await expect(chat.locator('.jp-NbChat-status')).toHaveText(
    'Waiting for your review…'
  );

  // The proposed cell is in the notebook, not executed.
  const notebook = visibleNotebook(page);
  const proposed = notebook
    .locator('.jp-CodeCell')
    .filter({ hasText: 'total = 6 * 7' });
  await expect(proposed).toHaveCount(1);
  await expect(proposed.locator('.jp-InputPrompt')).toHaveText('[ ]:');
  await expect(proposed.locator('.jp-OutputArea-output')).toHaveCount(0);

  const shot = testInfo.outputPath('review-mode.png');
  await page.screenshot({ path: shot });
  await testInfo.attach('review-mode', {
    path: shot,
    contentType: 'image/png'
  });
  await page.theme.setTheme('JupyterLab Dark');
  const dark = testInfo.outputPath('review-mode-dark.png');
  await page.screenshot({ path: dark });
  await testInfo.attach('review-mode-dark', {
    path: dark,
    contentType: 'image/png'
  });

  // The person edits it in the notebook…
  await proposed.locator('.cm-content').click();
  await page.keyboard.press('Control+A');
  await page.keyboard.type("total = 6 * 7 + 1\nprint('edited', total)");
  await page.keyboard.press('Escape');

  // …and runs it from the chat (keyboard: focus the button, press Enter).
  await run.focus();
  await page.keyboard.press('Enter');

  await expect(chat.locator('.jp-NbChat-answer')).toContainText(
    'The total is printed above.',
    { timeout: 60_000 }
  );
  await turnDone(chat);
  const ran = notebook.locator('.jp-CodeCell').filter({ hasText: 'total' });
  await expect(ran).toHaveCount(1);
  await expect(ran.locator('.jp-OutputArea-output')).toHaveText('edited 43');
  await expect(ran.locator('.jp-InputPrompt')).not.toHaveText('[ ]:');
  await expect(chat.locator('.jp-NbChat-cell')).toContainText('edited 43');
  await expect(run).toHaveCount(0);
});

test('Skip removes the proposed cell', async ({ page, request }) => {
  await script(request, [
    runCode("print('never run')"),
    say('Understood, I did not run it.')
  ]);
  const chat = await newNotebookWithChat(page, 'review-skip.ipynb');
  await ask(chat, 'Print something?');

  const notebook = visibleNotebook(page);
  const proposed = notebook
    .locator('.jp-CodeCell')
    .filter({ hasText: 'never run' });
  await expect(proposed).toHaveCount(1, { timeout: 30_000 });
  // "Show in notebook" selects the proposed cell.
  await chat.getByRole('button', { name: 'Show in notebook' }).click();
  await expect(proposed).toHaveClass(/jp-mod-active/);
  await chat.getByRole('button', { name: 'Skip', exact: true }).click();

  await expect(chat.locator('.jp-NbChat-answer')).toContainText(
    'I did not run it.',
    { timeout: 60_000 }
  );
  await turnDone(chat);
  await expect(proposed).toHaveCount(0);
  await expect(chat.locator('.jp-NbChat-code.jp-mod-skipped')).toContainText(
    'Skipped: not run'
  );
  await expect(
    chat.getByRole('button', { name: 'Run', exact: true })
  ).toHaveCount(0);
});
