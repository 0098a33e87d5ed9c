/**
 * Notebook 7: the chat lives in its right sidebar. The shortcut opens it as soon as the
 * notebook page shows the notebook, and one question becomes a cell run in the notebook's
 * kernel, with its output, as in JupyterLab.
 *
 * Plain @playwright/test (Galata's fixtures assume JupyterLab); the servers come from
 * playwright.notebook7.config.js.
 */
import { expect, Page, test } from '@playwright/test';

const STANDIN = 'http://127.0.0.1:8795';
const CODE = 'x = 6 * 7\nprint(f"x is {x}")';
/** schema/plugin.json: "Accel Shift 1" (Accel is Control on Linux). */
const SHORTCUT = 'Control+Shift+1';

/** An empty notebook with the python3 kernel, written through the contents API. */
async function putNotebook(page: Page, path: string): Promise<void> {
  const answer = await page.request.put(`/api/contents/${path}`, {
    data: {
      type: 'notebook',
      content: {
        cells: [],
        metadata: {
          kernelspec: {
            name: 'python3',
            display_name: 'Python 3 (ipykernel)',
            language: 'python'
          }
        },
        nbformat: 4,
        nbformat_minor: 5
      }
    }
  });
  expect(answer.ok(), await answer.text()).toBeTruthy();
}

test.beforeEach(async ({ request }) => {
  expect((await request.post(`${STANDIN}/_standin/reset`)).ok()).toBeTruthy();
});

test('the shortcut opens the chat in the right sidebar at once, and a question runs a cell', async ({
  page,
  request
}) => {
  const errors: string[] = [];
  page.on('pageerror', error =>
    errors.push(`${error.message}\n${error.stack}`)
  );
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

  const name = `nb7-${test.info().testId}.ipynb`;
  await putNotebook(page, name);
  await page.goto(`/notebooks/${name}`);

  // The moment the notebook is on the page, before anything else: the shortcut.
  const notebook = page.locator('.jp-NotebookPanel .jp-Notebook');
  await notebook.waitFor({ state: 'visible' });
  const chat = page.locator('#jp-NbChat-panel');
  await expect(chat).toBeHidden();
  await page.keyboard.press(SHORTCUT);

  // Shown in Notebook 7's right sidebar, beside the notebook, ready for a question.
  await expect(chat).toBeVisible();
  await expect(page.locator('#jp-right-stack #jp-NbChat-panel')).toBeVisible();
  const [chatBox, notebookBox] = [
    await chat.boundingBox(),
    await notebook.boundingBox()
  ];
  expect(chatBox!.x).toBeGreaterThanOrEqual(
    notebookBox!.x + notebookBox!.width - 1
  );
  await expect(chat.locator('.jp-NbChat-notebookName')).toHaveText(name);
  const box = chat.getByLabel('Ask about your data');
  await expect(box).toBeFocused();

  // Typed key by key, as a person types it into the panel that has just opened.
  await box.pressSequentially('What is six times seven?');
  const send = chat.getByRole('button', { name: 'Send' });
  await expect(send).toBeEnabled();
  await send.click();
  await expect(chat.getByText('The answer is 42.')).toBeVisible({
    timeout: 60_000
  });
  await expect(chat.locator('.jp-NbChat-cell')).toContainText('x is 42');

  // The notebook gained the code cell with its real output from the kernel.
  const cell = notebook
    .locator('.jp-CodeCell')
    .filter({ hasText: 'x = 6 * 7' });
  await expect(cell).toHaveCount(1);
  await expect(cell.locator('.jp-OutputArea-output')).toContainText('x is 42');

  // Notebook 7.6 itself logs one TypeError from its shortcuts plugin ("reading 'schema'"),
  // with or without this extension; none may come from the chat.
  expect(errors.filter(e => /nbchat/i.test(e))).toEqual([]);
});

test('the shortcut opens the chat from inside a cell editor', async ({
  page
}) => {
  const name = `nb7-edit-${test.info().testId}.ipynb`;
  await putNotebook(page, name);
  await page.goto(`/notebooks/${name}`);
  const editor = page.locator('.jp-Notebook .jp-Cell .cm-content').first();
  await editor.click();
  await page.keyboard.type('1 + 1');

  const chat = page.locator('#jp-NbChat-panel');
  await page.keyboard.press(SHORTCUT);
  await expect(chat).toBeVisible();
  await expect(chat.getByLabel('Ask about your data')).toBeFocused();
  // The key went to the chat, not into the cell.
  await expect(editor).toHaveText('1 + 1');
});

test('the shortcut opens the chat again when a cell is selected in command mode', async ({
  page
}) => {
  // JupyterLab's and Notebook 7's notebook-extension bind "Ctrl Shift M" to
  // notebook:merge-cell-below in command mode, with a more specific selector than ours
  // ("body"): with that key (our default until 2026-12) the cells merged instead.
  const name = `nb7-command-${test.info().testId}.ipynb`;
  await putNotebook(page, name);
  await page.goto(`/notebooks/${name}`);
  const notebook = page.locator('.jp-NotebookPanel .jp-Notebook');
  await notebook.locator('.jp-Cell').first().waitFor();
  const chat = page.locator('#jp-NbChat-panel');
  await page.keyboard.press(SHORTCUT);
  await expect(chat).toBeVisible();

  // Closed through View → Right Sidebar: the notebook takes the focus, in command mode.
  await page
    .getByRole('menubar')
    .getByRole('menuitem', { name: 'View', exact: true })
    .click();
  await page.getByText('Right Sidebar', { exact: true }).click();
  await page.getByText('Show Notebook Chat', { exact: true }).click();
  await expect(chat).toBeHidden();
  await expect(notebook).toHaveClass(/jp-mod-commandMode/);

  await page.keyboard.press(SHORTCUT);
  await expect(chat).toBeVisible({ timeout: 3000 });
});
