/**
 * An analysis over several questions: a follow-up builds on the variables of
 * the first, "Cell [n]" in an answer shows that cell, and the downloaded
 * .ipynb is valid and runs unchanged next to its data file.
 */
import { expect, test } from '@jupyterlab/galata';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import {
  ask,
  attachThroughChooser,
  chip,
  FIXTURES,
  newNotebookWithChat,
  recordedBodies,
  resetStandin,
  runCode,
  say,
  script,
  turnDone,
  visibleNotebook
} from './helpers';

test.beforeEach(async ({ request }) => {
  await resetStandin(request);
});

/**
 * Validate a notebook with nbformat, then run it top to bottom in a fresh
 * python3 kernel from its folder (Restart & Run All); returns the stdout of
 * its cells, one entry per cell.
 */
function validateAndRun(notebookFile: string): string[] {
  const program = [
    'import json, os, sys',
    'import nbformat',
    'from nbclient import NotebookClient',
    'nb = nbformat.read(sys.argv[1], as_version=4)',
    'nbformat.validate(nb)',
    "NotebookClient(nb, kernel_name='python3', timeout=120,",
    "    resources={'metadata': {'path': os.path.dirname(sys.argv[1])}}).execute()",
    'print(json.dumps([",".join(o.get("text", "") for o in c.outputs if o.output_type == "stream")',
    "                  for c in nb.cells if c.cell_type == 'code']))"
  ].join('\n');
  const out = execFileSync('python', ['-c', program, notebookFile], {
    encoding: 'utf-8',
    timeout: 180_000
  });
  return JSON.parse(out.trim().split('\n').pop()!);
}

test('a follow-up reuses a variable; cell references; the download runs unchanged', async ({
  page,
  request
}) => {
  await script(request, [
    runCode(
      "import pandas as pd\nshoes = pd.read_csv('shoes.csv')\nprint(len(shoes))"
    ),
    say('Cell [1] read **3** shoes into `shoes`.'),
    runCode(
      "counts = shoes['gender'].value_counts()\nprint(counts['women'], counts['men'])"
    ),
    say('Cell [2] counts 2 for women and 1 for men, from `shoes` of Cell [1].')
  ]);
  const chat = await newNotebookWithChat(page, 'followup.ipynb');
  await attachThroughChooser(page, chat, ['shoes.csv']);
  await expect(chip(chat, 'shoes.csv')).toContainText('3 rows', {
    timeout: 30_000
  });

  await ask(chat, 'Load the shoes');
  await turnDone(chat);
  await ask(chat, 'How many are for women and for men?');
  await turnDone(chat);

  // The second turn used `shoes` from the first: its cell printed "2 1".
  const notebook = visibleNotebook(page);
  const second = notebook
    .locator('.jp-CodeCell')
    .filter({ hasText: 'value_counts' });
  await expect(second.locator('.jp-OutputArea-output')).toContainText('2 1');
  // …and Claude was told the first turn's cell and the live variable.
  const bodies = await recordedBodies(request);
  const followUp = JSON.stringify(bodies[2].messages);
  expect(followUp).toContain("read_csv('shoes.csv')");
  expect(followUp).toContain('Live variables in the kernel now');
  expect(followUp).toContain('shoes');

  // "Cell [1]" in the last answer is a button that selects that cell.
  const answer = chat.locator('.jp-NbChat-answer').last();
  const refs = answer.locator('button.jp-NbChat-cellRef');
  await expect(refs).toHaveText(['Cell [2]', 'Cell [1]']);
  await refs.nth(0).click();
  const active = notebook.locator('.jp-Cell.jp-mod-active');
  await expect(active).toContainText('value_counts');
  await refs.nth(1).click();
  await expect(active).toContainText("read_csv('shoes.csv')");
  await expect(active).toBeInViewport();
  // Keyboard too: the reference is a focusable button.
  await refs.nth(0).focus();
  await page.keyboard.press('Enter');
  await expect(active).toContainText('value_counts');

  // Download notebook: a valid .ipynb that runs unchanged beside shoes.csv.
  const downloading = page.waitForEvent('download');
  await chat.getByRole('button', { name: 'Download notebook' }).click();
  const download = await downloading;
  expect(download.suggestedFilename()).toBe('followup.ipynb');
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'nbchat-download-'));
  const file = path.join(folder, 'followup.ipynb');
  await download.saveAs(file);
  const saved = JSON.parse(fs.readFileSync(file, 'utf-8'));
  const roles = saved.cells.map((c: any) => c.metadata?.nbchat?.role);
  expect(roles).toEqual([
    'question',
    'code',
    'answer',
    'question',
    'code',
    'answer'
  ]);
  expect(saved.metadata.nbchat.attachments[0].path).toMatch(/shoes\.csv$/);
  fs.copyFileSync(
    path.join(FIXTURES, 'shoes.csv'),
    path.join(folder, 'shoes.csv')
  );
  expect(validateAndRun(file)).toEqual(['3\n', '2 1\n']);
});
