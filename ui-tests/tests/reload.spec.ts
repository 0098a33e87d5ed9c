/**
 * A page reloaded while a turn runs: the panel finds the notebook's running
 * turn on the server, follows it again and inserts every cell exactly once.
 */
import { expect, test } from '@jupyterlab/galata';

import {
  ask,
  release,
  waitForFile,
  openChat,
  newNotebookWithChat,
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

test('reloading mid-turn: the turn finishes in the panel, each cell once', async ({
  page,
  request,
  tmpPath
}) => {
  await script(request, [
    // The cell waits for the test: the turn outlasts the reload however
    // long a busy machine takes to bring the page back.
    runCode(`${waitForFile('wake')}\nprint("slept")`),
    say('Slept well.')
  ]);
  const name = 'reload.ipynb';
  const chat = await newNotebookWithChat(page, name);
  await ask(chat, 'Take a nap?');
  await expect(chat.locator('.jp-NbChat-status')).toHaveText(
    /^Running cell 1 of this turn… \d+ s$/,
    {
      timeout: 30_000
    }
  );
  // Saved with the question cell: the replay must not insert it again.
  await page.notebook.save();

  // Galata's readiness check waits for the Launcher; the restored layout
  // shows the notebook instead.
  await page.reload({ waitForIsReady: false });
  await page.locator('#jupyterlab-splash').waitFor({ state: 'detached' });
  // The layout brings the notebook back; open it if it did not.
  if (!(await page.notebook.isOpen(name))) {
    await page.notebook.openByPath(`${tmpPath}/${name}`);
  }
  const reopened = await openChat(page);
  await expect(reopened.locator('.jp-NbChat-notebookName')).toHaveText(name);
  // The panel follows the turn that still runs on the server.
  await expect(reopened.getByRole('button', { name: 'Stop' })).toBeVisible();
  await release(request, tmpPath, 'wake');

  await expect(reopened.locator('.jp-NbChat-answer')).toContainText(
    'Slept well.',
    { timeout: 60_000 }
  );
  await turnDone(reopened);
  await expect(reopened.locator('.jp-NbChat-question')).toHaveCount(1);
  await expect(reopened.locator('.jp-NbChat-cell')).toContainText('slept');

  const notebook = visibleNotebook(page);
  const sleeper = notebook
    .locator('.jp-CodeCell')
    .filter({ hasText: 'os.path.exists("wake")' });
  await expect(sleeper).toHaveCount(1);
  await expect(sleeper.locator('.jp-OutputArea-output')).toHaveText('slept');
  await expect(
    notebook.locator('.jp-Cell').filter({ hasText: 'Take a nap?' })
  ).toHaveCount(1);

  // Saved once the turn was over: question, code, answer, once each.
  await expect
    .poll(
      async () => {
        const saved = await savedNotebook(request, `${tmpPath}/${name}`);
        return saved.cells.map((c: any) => c.metadata?.nbchat?.role ?? '');
      },
      { timeout: 15_000 }
    )
    .toEqual(['question', 'code', 'answer']);
});

test('the notebook closed mid-turn: the server saves the cells, reopening shows them', async ({
  page,
  request,
  tmpPath
}) => {
  await script(request, [
    runCode('import time; time.sleep(3)\nprint("rested")'),
    { ...say('Rested **well**.'), delay: 1 }
  ]);
  const name = 'closed.ipynb';
  const chat = await newNotebookWithChat(page, name);
  await ask(chat, 'Rest a little?');
  await expect(chat.locator('.jp-NbChat-status')).toHaveText(
    /^Running cell 1/,
    { timeout: 30_000 }
  );
  // Closed without saving: no page follows the turn any more.
  await page.notebook.close(true);
  await expect(chat.getByText('Open a notebook to start')).toBeVisible();

  // The server finished the turn and, nobody following, wrote its cells.
  await expect
    .poll(
      async () => {
        const saved = await savedNotebook(request, `${tmpPath}/${name}`);
        return saved.cells.map((c: any) => c.metadata?.nbchat?.role ?? '');
      },
      { timeout: 60_000 }
    )
    .toEqual(['question', 'code', 'answer']);

  await page.notebook.openByPath(`${tmpPath}/${name}`);
  await expect(chat.locator('.jp-NbChat-question')).toHaveText(
    'Rest a little?'
  );
  await expect(chat.locator('.jp-NbChat-answer')).toContainText('Rested well.');
  const notebook = visibleNotebook(page);
  const rested = notebook
    .locator('.jp-CodeCell')
    .filter({ hasText: 'time.sleep(3)' });
  await expect(rested).toHaveCount(1);
  await expect(rested.locator('.jp-OutputArea-output')).toHaveText('rested');
  // Nothing to reconcile: no notice, no "File changed" dialog.
  await expect(chat.locator('.jp-NbChat-info')).toHaveCount(0);
  await expect(page.locator('.jp-Dialog')).toHaveCount(0);
});
