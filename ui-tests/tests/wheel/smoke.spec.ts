/**
 * What users install: one whole chat turn in JupyterLab started from the clean virtual
 * environment the wheel was installed into (scripts/test_wheel.sh). The question goes to
 * the Claude stand-in, its code runs in the notebook's kernel, the cell lands in the
 * notebook with its real output and the answer shows in the chat.
 */
import { expect, test } from '@jupyterlab/galata';

import { ask, newNotebookWithChat, turnDone } from '../helpers';

const STANDIN = 'http://127.0.0.1:8785';
const CODE = 'import sys\nx = 6 * 7\nprint(f"x is {x} from {sys.prefix}")';

test('the installed wheel answers one question with a run cell', async ({
  page,
  request
}) => {
  // The labextension loaded from the wheel, without an error on the way.
  const errors: string[] = [];
  page.on('pageerror', error => errors.push(error.message));
  await page.reload();
  expect(
    await page.evaluate(() =>
      window.jupyterapp.hasPlugin('jupyter-nbchat:plugin')
    )
  ).toBe(true);

  expect((await request.post(`${STANDIN}/_standin/reset`)).ok()).toBeTruthy();
  const script = await request.post(`${STANDIN}/_standin/script`, {
    data: {
      responses: [
        {
          content: [
            { type: 'text', text: 'Let me compute that.' },
            { type: 'tool_use', name: 'run_code', input: { code: CODE } }
          ]
        },
        { content: [{ type: 'text', text: 'The answer is 42.' }] }
      ]
    }
  });
  expect(script.ok()).toBeTruthy();

  const chat = await newNotebookWithChat(page, 'wheel.ipynb');
  await ask(chat, 'What is six times seven?');
  await expect(chat.getByText('The answer is 42.')).toBeVisible({
    timeout: 60_000
  });
  await turnDone(chat);

  // The notebook gained the code cell with its real output, from the clean environment's kernel.
  const cell = page
    .locator('.jp-NotebookPanel:visible .jp-CodeCell')
    .filter({ hasText: 'x = 6 * 7' });
  await expect(cell).toHaveCount(1);
  const output = cell.locator('.jp-OutputArea-output');
  await expect(output).toContainText('x is 42 from ');
  await expect(output).toContainText('nbchat-wheel-');

  expect(errors).toEqual([]);
});
