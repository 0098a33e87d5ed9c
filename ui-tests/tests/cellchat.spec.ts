/**
 * Turns about any notebook cell, the person's own too: "Fix with chat" on
 * an error output replaces that cell (and Undo turn puts it back);
 * "Explain with Chat" and "Ask Chat About This Cell…" from the cell's
 * context menu send the cell's code and outputs with the question.
 */
import type { Locator, Page } from '@playwright/test';
import { expect, test } from '@jupyterlab/galata';

import {
  ask,
  newNotebookWithChat,
  recordedBodies,
  resetStandin,
  runCode,
  savedCells,
  say,
  script,
  turnDone,
  visibleNotebook
} from './helpers';

test.beforeEach(async ({ request }) => {
  await resetStandin(request);
});

/** The text of the last user message Claude was sent. */
function lastQuestion(body: any): string {
  const last = body.messages[body.messages.length - 1];
  return last.content.map((b: any) => b.text ?? '').join('\n');
}

/** A cell that writes to stderr: an output like an error's, but not one. */
const STDERR_CELL = 'import sys\nprint("careful", file=sys.stderr)';

/** A notebook whose cells (the person's) ran; the first one fails. */
async function notebookWithError(page: any, name: string): Promise<Locator> {
  const chat = await newNotebookWithChat(page, name);
  await page.notebook.setCell(0, 'code', 'total = sum(valuez)\nprint(total)');
  await page.notebook.addCell('code', STDERR_CELL);
  await page.notebook.runCell(0, true);
  await page.notebook.runCell(1, true);
  await expect(
    visibleNotebook(page)
      .locator('.jp-Cell')
      .first()
      .locator('.jp-OutputArea-output')
  ).toContainText("NameError: name 'valuez' is not defined");
  await page.notebook.save();
  return chat;
}

/** Right-click cell `index` of the visible notebook and choose `item`. */
async function fromCellMenu(page: Page, index: number, item: string) {
  const cell = visibleNotebook(page).locator('.jp-Cell').nth(index);
  await cell.locator('.jp-InputArea-editor').click({ button: 'right' });
  await page.locator('.lm-Menu-itemLabel', { hasText: item }).click();
}

test('Fix with chat on the person’s error replaces that cell, and Undo turn puts it back', async ({
  page,
  request,
  tmpPath
}) => {
  const name = 'fix-mine.ipynb';
  const path = `${tmpPath}/${name}`;
  const chat = await notebookWithError(page, name);
  const before = await savedCells(request, path);
  const notebook = visibleNotebook(page);
  const first = notebook.locator('.jp-Cell').first();

  // The button is on the notebook's error output (not on stderr), never in the panel.
  await expect(notebook.locator('.jp-Cell').nth(1)).toContainText('careful');
  const fix = first.getByRole('button', { name: 'Fix with chat' });
  await expect(fix).toBeVisible();
  await expect(
    notebook.getByRole('button', { name: 'Fix with chat' })
  ).toHaveCount(1);

  await script(request, [
    runCode('valuez = [1, 2, 3]\ntotal = sum(valuez)\nprint(total)'),
    say('`valuez` was never defined; Cell [3] now prints 6.')
  ]);
  await fix.click();
  await turnDone(chat);
  await expect(chat.locator('.jp-NbChat-question').last()).toContainText(
    "Fix Cell [1] (NameError: name 'valuez' is not defined)"
  );

  // Claude got the cell whole, with its traceback, and was asked to fix it.
  const asked = lastQuestion((await recordedBodies(request))[0]);
  expect(asked).toContain('total = sum(valuez)');
  expect(asked).toContain('NameError');
  expect(asked).toContain('fix this cell');

  // The fixed cell took the failed cell's place; the person's next cell stays after it.
  await expect(first.locator('.jp-OutputArea-output')).toHaveText('6');
  await expect(
    first.getByRole('button', { name: 'Fix with chat' })
  ).toHaveCount(0);
  await expect
    .poll(async () => (await savedCells(request, path)).map(c => c.source))
    .toEqual([
      'valuez = [1, 2, 3]\ntotal = sum(valuez)\nprint(total)',
      STDERR_CELL,
      expect.stringContaining('**Question**'),
      expect.stringContaining('**Answer**')
    ]);

  // Undo turn: the person's failing cell is back where it was, error and all.
  await chat.getByRole('button', { name: 'Undo turn' }).last().click();
  await expect.poll(() => savedCells(request, path)).toEqual(before);
  await expect(first.locator('.jp-OutputArea-output')).toContainText(
    'NameError'
  );
  await expect(
    first.getByRole('button', { name: 'Fix with chat' })
  ).toBeVisible();
});

test('Explain and Ask about a cell from its context menu', async ({
  page,
  request,
  tmpPath
}) => {
  const name = 'explain-mine.ipynb';
  const path = `${tmpPath}/${name}`;
  const chat = await newNotebookWithChat(page, name);
  await page.notebook.setCell(0, 'code', 'x = 21 * 2\nprint(x)');
  await page.notebook.runCell(0, true);
  await expect(
    visibleNotebook(page).locator('.jp-OutputArea-output').first()
  ).toHaveText('42');

  await script(request, [say('Cell [1] multiplies 21 by 2 and prints 42.')]);
  await fromCellMenu(page, 0, 'Explain with Chat');
  await turnDone(chat);
  await expect(chat.locator('.jp-NbChat-question').last()).toContainText(
    'Explain Cell [1]'
  );
  const explained = lastQuestion((await recordedBodies(request))[0]);
  expect(explained).toContain('x = 21 * 2');
  expect(explained).toContain('explain this cell');
  // Explaining changes no cell: the person's cell is first and unchanged.
  await expect
    .poll(async () => (await savedCells(request, path))[0]?.source)
    .toBe('x = 21 * 2\nprint(x)');

  await resetStandin(request);
  await script(request, [say('21 is half of 42, which Cell [1] prints.')]);
  await fromCellMenu(page, 0, 'Ask Chat About This Cell');
  const about = chat.locator('.jp-NbChat-about');
  await expect(about).toContainText('About Cell [1]');
  await expect(chat.getByLabel('Ask about your data')).toBeFocused();
  await ask(chat, 'Why 21?');
  await turnDone(chat);
  await expect(about).toHaveCount(0);
  const asked = lastQuestion((await recordedBodies(request))[0]);
  expect(asked).toContain('x = 21 * 2');
  expect(asked).toContain('Question: Why 21?');

  // Dismissed, the chip takes the cell out of the next question.
  await fromCellMenu(page, 0, 'Ask Chat About This Cell');
  await about.getByRole('button', { name: 'Not about Cell [1]' }).click();
  await expect(about).toHaveCount(0);
});
