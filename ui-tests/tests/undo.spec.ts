/**
 * Turns you can undo: "Undo turn" takes out what a turn added and leaves the
 * person's cells alone, the notebook saved as it was before the turn.
 */
import { expect, galata, test } from '@jupyterlab/galata';

import {
  ask,
  newNotebookWithChat,
  openChat,
  resetStandin,
  runCode,
  savedCells,
  savedNotebook,
  say,
  script,
  turnDone,
  typeOwnCell,
  visibleNotebook
} from './helpers';

test.beforeEach(async ({ request }) => {
  await resetStandin(request);
});

/**
 * Without Galata's kernel tracking: its route mock answers every POST under
 * /api/kernels with 201, a restart included, and JupyterLab (expecting 200)
 * then never sees the restarted kernel. Sessions are still tracked, and
 * their kernels shut down with them.
 */
const testWithRestart = test.extend({
  // eslint-disable-next-line no-empty-pattern
  kernels: async ({}, use) => {
    await use(null as any);
  }
});

/** A notebook with one cell of the person's, run and saved. */
async function notebookWithOwnCell(page: any, name: string) {
  const chat = await newNotebookWithChat(page, name);
  await page.notebook.setCell(0, 'code', 'print("base", 10)');
  await page.notebook.runCell(0, true);
  await expect(
    visibleNotebook(page).locator('.jp-OutputArea-output').first()
  ).toHaveText('base 10');
  await page.notebook.save();
  return chat;
}

/** Undo the chat's last turn and wait for the notice that follows. */
async function undoLastTurn(chat: any) {
  await chat.getByRole('button', { name: 'Undo turn' }).last().click();
  await expect(chat.locator('.jp-NbChat-notice').last()).toContainText(
    'may still exist'
  );
}

testWithRestart(
  'Undo turn restores the notebook exactly as it was before the turn',
  async ({ page, request, tmpPath }) => {
    const name = 'undo.ipynb';
    const path = `${tmpPath}/${name}`;
    const chat = await notebookWithOwnCell(page, name);
    const before = await savedCells(request, path);
    expect(before).toHaveLength(1);

    await script(request, [
      runCode('made_by_turn = 42\nprint(made_by_turn)'),
      say('It is **42**.')
    ]);
    await ask(chat, 'Make a variable');
    await turnDone(chat);
    await expect
      .poll(async () => (await savedCells(request, path)).length)
      .toBe(4);
    await expect(chat.locator('.jp-NbChat-turnChanges').last()).toContainText(
      'added'
    );

    await undoLastTurn(chat);
    await expect.poll(() => savedCells(request, path)).toEqual(before);
    const meta = (await savedNotebook(request, path)).metadata.nbchat ?? {};
    expect(meta.turns ?? []).toEqual([]);
    await expect(chat.locator('.jp-NbChat-question')).toHaveCount(0);

    // JupyterLab's own undo still works on the notebook: one step brings the
    // turn's cells back, redo takes them out again.
    const notebook = visibleNotebook(page);
    await notebook
      .locator('.jp-Cell')
      .first()
      .locator('.jp-InputPrompt')
      .click();
    await page.keyboard.press('Escape');
    await page.keyboard.press('z');
    await expect(notebook.locator('.jp-Cell')).toHaveCount(4);
    await page.keyboard.press('Shift+z');
    await expect(notebook.locator('.jp-Cell')).toHaveCount(1);

    // The kernel still has the removed cell's variable until it is brought
    // back in line: restart and run the remaining cells.
    await chat
      .getByRole('button', { name: 'Restart and run remaining cells' })
      .click();
    await expect(chat.locator('.jp-NbChat-info').last()).toContainText(
      'The kernel was restarted and the remaining cells ran again.',
      { timeout: 30_000 }
    );
    await expect(notebook.locator('.jp-OutputArea-output').first()).toHaveText(
      'base 10'
    );
    await typeOwnCell(page, 'print("made_by_turn" in globals())');
    await page.notebook.runCell(1, true);
    await expect(
      notebook.locator('.jp-Cell').nth(1).locator('.jp-OutputArea-output')
    ).toHaveText('False', { timeout: 30_000 });
  }
);

test('Undo keeps a cell the person typed during the turn', async ({
  page,
  request,
  tmpPath
}) => {
  const name = 'undo-typed.ipynb';
  const path = `${tmpPath}/${name}`;
  const chat = await notebookWithOwnCell(page, name);
  const before = await savedCells(request, path);

  await script(request, [
    runCode('import time\ntime.sleep(3)\nprint("slow step done")'),
    say('Done.')
  ]);
  await ask(chat, 'Do the slow step');
  await expect(chat.getByRole('button', { name: 'Stop' })).toBeVisible();
  const text = 'mine = "typed during the turn"';
  await typeOwnCell(page, text);
  await turnDone(chat);

  await undoLastTurn(chat);
  await expect
    .poll(async () => (await savedCells(request, path)).map(c => c.source))
    .toEqual([before[0].source, text]);
  const kept = await savedCells(request, path);
  expect(kept[0]).toEqual(before[0]);
});

test('Undo takes back a turn whose fix loop replaced a failed cell', async ({
  page,
  request,
  tmpPath
}) => {
  const name = 'undo-fix.ipynb';
  const path = `${tmpPath}/${name}`;
  const chat = await notebookWithOwnCell(page, name);
  const before = await savedCells(request, path);

  await script(request, [
    runCode('print(undefined_total)'),
    runCode('undefined_total = 7\nprint(undefined_total)'),
    say('The total is 7.')
  ]);
  await ask(chat, 'What is the total?');
  await turnDone(chat);
  const notebook = visibleNotebook(page);
  await expect(
    notebook.locator('.jp-CodeCell').filter({ hasText: 'undefined_total = 7' })
  ).toHaveCount(1);
  // What the turn changed: the failed code it replaced is shown.
  const changes = chat.locator('.jp-NbChat-turnChanges').last();
  await expect(changes).toContainText('replaced');
  await expect(changes).toContainText('print(undefined_total)');

  await undoLastTurn(chat);
  await expect.poll(() => savedCells(request, path)).toEqual(before);
});

test('a cell the person edited after the turn is kept unless they confirm', async ({
  page,
  request,
  tmpPath
}) => {
  const name = 'undo-edited.ipynb';
  const path = `${tmpPath}/${name}`;
  const chat = await notebookWithOwnCell(page, name);
  const before = await savedCells(request, path);

  await script(request, [
    runCode('first = 1\nprint(first)'),
    runCode('second = 2\nprint(second)'),
    say('One and two.')
  ]);
  await ask(chat, 'Count to two');
  await turnDone(chat);

  // The person changes the turn's second cell.
  const notebook = visibleNotebook(page);
  const second = notebook
    .locator('.jp-CodeCell')
    .filter({ hasText: 'second = 2' });
  await second.locator('.cm-content').click();
  await page.keyboard.press('Control+End');
  await page.keyboard.type('\n# checked by hand');
  await page.keyboard.press('Escape');

  await chat.getByRole('button', { name: 'Undo turn' }).last().click();
  const dialog = page.locator('.jp-Dialog');
  await expect(dialog).toBeVisible();
  await dialog.getByRole('button', { name: 'Keep my edited cells' }).click();
  await expect(chat.locator('.jp-NbChat-notice').last()).toContainText(
    'may still exist'
  );

  await expect
    .poll(async () => (await savedCells(request, path)).map(c => c.source))
    .toEqual([
      before[0].source,
      'second = 2\nprint(second)\n# checked by hand'
    ]);
  const saved = await savedNotebook(request, path);
  // The kept cell is the person's now: no longer tagged as the turn's.
  expect(saved.cells[1].metadata.nbchat).toBeUndefined();
});

test.describe('with question/answer cells off', () => {
  test.use({
    mockSettings: {
      ...galata.DEFAULT_SETTINGS,
      'jupyter-nbchat:plugin': {
        reviewMode: 'never',
        questionAnswerCells: false
      }
    }
  });

  test('Undo after a page reload removes the turn and its record', async ({
    page,
    request,
    tmpPath
  }) => {
    const name = 'undo-quiet.ipynb';
    const path = `${tmpPath}/${name}`;
    const chat = await notebookWithOwnCell(page, name);
    const before = await savedCells(request, path);

    await script(request, [
      runCode('quiet = 5\nprint(quiet)'),
      say('Five.'),
      runCode('print(quiet * 2)'),
      say('Ten.')
    ]);
    await ask(chat, 'Five?');
    await turnDone(chat);
    await ask(chat, 'Ten?');
    await turnDone(chat);
    await expect
      .poll(async () => (await savedCells(request, path)).length)
      .toBe(3);

    await page.reload({ waitForIsReady: false });
    await page.locator('#jupyterlab-splash').waitFor({ state: 'detached' });
    if (!(await page.notebook.isOpen(name))) {
      await page.notebook.openByPath(path);
    }
    const reopened = await openChat(page);
    await expect(reopened.locator('.jp-NbChat-question')).toHaveCount(2);

    // Undo the first turn: the second stays.
    await reopened.getByRole('button', { name: 'Undo turn' }).first().click();
    await expect(reopened.locator('.jp-NbChat-notice').last()).toContainText(
      'may still exist'
    );
    await expect
      .poll(async () => (await savedCells(request, path)).map(c => c.source))
      .toEqual([before[0].source, 'print(quiet * 2)']);
    const meta = (await savedNotebook(request, path)).metadata.nbchat;
    expect(meta.turns.map((t: any) => t.question)).toEqual(['Ten?']);
    await expect(reopened.locator('.jp-NbChat-question')).toHaveText(['Ten?']);
  });
});
