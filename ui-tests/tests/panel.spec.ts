/**
 * The sidebar follows the active notebook and explains itself when there is
 * none.
 */
import { expect, test } from '@jupyterlab/galata';

async function openChat(page: any): Promise<void> {
  await page.evaluate(async () => {
    await window.jupyterapp.commands.execute('nbchat:open');
  });
}

test('shows the empty state without a notebook', async ({ page }) => {
  await openChat(page);
  const chat = page.locator('#jp-NbChat-panel');
  await expect(chat).toBeVisible();
  await expect(chat.getByText('Open a notebook to start')).toBeVisible();
  await expect(chat.getByLabel('Ask about your data')).toHaveCount(0);
});

test('follows the active notebook', async ({ page }) => {
  await page.notebook.createNew('first.ipynb', { kernel: 'python3' });
  await openChat(page);
  const chat = page.locator('#jp-NbChat-panel');
  const name = chat.locator('.jp-NbChat-notebookName');
  await expect(name).toHaveText('first.ipynb');
  await expect(chat.getByRole('button', { name: 'Send' })).toBeDisabled();
  await chat.getByLabel('Ask about your data').fill('a draft for first');
  await expect(chat.getByRole('button', { name: 'Send' })).toBeEnabled();

  await page.notebook.createNew('second.ipynb', { kernel: 'python3' });
  await expect(name).toHaveText('second.ipynb');
  await expect(chat.getByLabel('Ask about your data')).toHaveValue('');

  // Back to the first notebook: its draft is still there.
  await page.activity.activateTab('first.ipynb');
  await expect(name).toHaveText('first.ipynb');
  await expect(chat.getByLabel('Ask about your data')).toHaveValue(
    'a draft for first'
  );

  // Closing every notebook brings the empty state back (saved first: a
  // kernel's metadata makes a fresh notebook dirty).
  await page.evaluate(async () => {
    await window.jupyterapp.commands.execute('docmanager:save-all');
    await window.jupyterapp.commands.execute('application:close-all');
  });
  await expect(chat.getByText('Open a notebook to start')).toBeVisible();
});

test('is in the command palette', async ({ page }) => {
  await page.evaluate(async () => {
    await window.jupyterapp.commands.execute(
      'apputils:activate-command-palette'
    );
  });
  await page.keyboard.type('Open Notebook Chat');
  await expect(
    page.locator('.lm-CommandPalette-item', { hasText: 'Open Notebook Chat' })
  ).toBeVisible();
});

test('Accel+Shift+1 opens the chat from a notebook in command mode, the cursor in the question box; focus is visible', async ({
  page
}) => {
  await page.notebook.createNew('keys.ipynb', { kernel: 'python3' });
  await page.sidebar.close('right');
  const chat = page.locator('#jp-NbChat-panel');
  await expect(chat).toBeHidden();
  await page.locator('.jp-NotebookPanel:visible .jp-Cell').first().click();
  // Command mode, where JupyterLab's own Ctrl+Shift+M (merge cells) would win over ours.
  await page.keyboard.press('Escape');
  await expect(
    page.locator('.jp-NotebookPanel:visible .jp-Notebook')
  ).toHaveClass(/jp-mod-commandMode/);

  await page.keyboard.press('Control+Shift+1');
  await expect(chat).toBeVisible();
  const box = chat.getByLabel('Ask about your data');
  await expect(box).toBeFocused();

  // Keyboard users see where they are: the next control shows a focus ring.
  await page.keyboard.press('Shift+Tab');
  const outline = await page.evaluate(() => {
    const active = document.activeElement as HTMLElement;
    return {
      inPanel: !!active.closest('#jp-NbChat-panel'),
      name: active.getAttribute('aria-label') ?? active.textContent ?? '',
      style: getComputedStyle(active).outlineStyle
    };
  });
  expect(outline.inPanel).toBe(true);
  expect(outline.name).not.toBe('');
  expect(outline.style).not.toBe('none');
});
