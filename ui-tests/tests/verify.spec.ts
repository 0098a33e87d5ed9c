/**
 * "Verify notebook": the notebook runs top to bottom in a fresh kernel
 * beside the live one; the panel reports the cells whose outputs differ
 * from the saved ones and the answers' numbers the fresh run no longer shows.
 */
import { expect, test } from '@jupyterlab/galata';

import { openChat, putFile, savedCells, visibleNotebook } from './helpers';

const TURN_ID = 'a'.repeat(32);

/** A saved notebook: two cells with their outputs, and one answer quoting them. */
function notebook(firstOutput: string) {
  const stream = (text: string) => [
    { output_type: 'stream', name: 'stdout', text }
  ];
  return JSON.stringify({
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: {
        name: 'python3',
        display_name: 'Python 3',
        language: 'python'
      },
      nbchat: {
        turns: [
          {
            turn_id: TURN_ID,
            question: 'What do the cells print?',
            answer: `Cell [1] shows ${firstOutput.trim()} and Cell [2] shows 42.`,
            status: 'done',
            question_answer_cells: false,
            cells: []
          }
        ]
      }
    },
    cells: [
      {
        id: 'sum00001',
        cell_type: 'code',
        source: 'print(2 + 2)',
        metadata: {},
        execution_count: 1,
        outputs: stream(firstOutput)
      },
      {
        id: 'times002',
        cell_type: 'code',
        source: 'x = 21 * 2\nprint(x)',
        metadata: {},
        execution_count: 2,
        outputs: stream('42\n')
      }
    ]
  });
}

test('Verify reports the cell whose saved output a fresh kernel does not give, and the number it no longer shows', async ({
  page,
  request,
  tmpPath
}) => {
  const path = `${tmpPath}/verify-me.ipynb`;
  // The first cell's output was edited by hand: 2 + 2 "printed" 5.
  await putFile(request, path, notebook('5\n'));
  const before = await savedCells(request, path);
  await page.notebook.openByPath(path);
  const chat = await openChat(page);

  await chat.getByRole('button', { name: 'Verify', exact: true }).click();
  const verify = chat.locator('.jp-NbChat-verify');
  await expect(verify).toContainText(
    '1 of 2 code cells give other outputs in a fresh Local kernel',
    { timeout: 60_000 }
  );
  await expect(verify.locator('li').first()).toHaveText(
    "Cell [1]: stdout differs: saved '5', now '4'"
  );
  await expect(verify.locator('.jp-NbChat-verifyAnswer')).toHaveText(
    'The answer to “What do the cells print?” quotes a number the fresh run no longer shows: 5'
  );
  await expect(verify.locator('mark')).toHaveText('5');

  // The report's cell link shows the cell in the notebook.
  await verify.getByRole('button', { name: 'Cell [1]' }).click();
  await expect(visibleNotebook(page).locator('.jp-Cell').first()).toHaveClass(
    /jp-mod-active/
  );

  // It ran beside the live kernel, not in it, and changed nothing saved.
  expect(await savedCells(request, path)).toEqual(before);
  await page.notebook.addCell('code', 'print("x" in globals())');
  await page.notebook.runCell(2, true);
  await expect(
    visibleNotebook(page)
      .locator('.jp-Cell')
      .nth(2)
      .locator('.jp-OutputArea-output')
  ).toHaveText('False', { timeout: 30_000 });

  await verify
    .getByRole('button', { name: 'Dismiss the verification' })
    .click();
  await expect(verify).toHaveCount(0);
});

test('Verify Notebook from the command palette: a notebook that reproduces says so', async ({
  page,
  request,
  tmpPath
}) => {
  const path = `${tmpPath}/verified.ipynb`;
  await putFile(request, path, notebook('4\n'));
  await page.notebook.openByPath(path);
  const chat = await openChat(page);

  await page.evaluate(async () => {
    await window.jupyterapp.commands.execute('nbchat:verify-notebook');
  });
  const verify = chat.locator('.jp-NbChat-verify');
  await expect(verify).toContainText(
    'Reproduced: all 2 code cells give their saved outputs in a fresh Local kernel',
    { timeout: 60_000 }
  );
  await expect(verify).toHaveClass(/jp-mod-same/);
  await expect(verify.locator('.jp-NbChat-verifyAnswer')).toHaveText(
    'The answer to “What do the cells print?”: all 2 numbers still appear.'
  );
});
