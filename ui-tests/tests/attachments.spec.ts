/**
 * Data files in the chat: attached from the computer, from a workbook, from
 * the file browser; what Claude is told about them; restored on reopen.
 */
import { expect, test } from '@jupyterlab/galata';

import {
  ask,
  attachThroughChooser,
  chip,
  newNotebookWithChat,
  openChat,
  putFixture,
  recordedBodies,
  resetStandin,
  runCode,
  savedNotebook,
  say,
  script,
  systemText,
  turnDone,
  visibleNotebook
} from './helpers';

/** A data value of shoes.csv that must never reach Claude at "Headers only". */
const DATA_VALUE = 'Zyxquorp';

test.beforeEach(async ({ request }) => {
  await resetStandin(request);
});

test('a CSV from the computer: chip, what Claude sees, a table cell', async ({
  page,
  request,
  tmpPath
}, testInfo) => {
  await script(request, [
    runCode(
      [
        'import pandas as pd',
        "shoes = pd.read_csv('shoes.csv')",
        "shoes['gender'].value_counts().to_frame()"
      ].join('\n'),
      'I will count the shoes per gender.'
    ),
    say('There are **2 pairs for women** and 1 for men.')
  ]);
  const chat = await newNotebookWithChat(page, 'shoes.ipynb');
  await attachThroughChooser(page, chat, ['shoes.csv']);

  const shoes = chip(chat, 'shoes.csv');
  await expect(shoes).toContainText('3 rows × 12 cols', { timeout: 30_000 });
  await expect(
    chat.getByRole('button', { name: 'Remove shoes.csv' })
  ).toBeVisible();
  // What Claude sees: headers only, by default.
  await expect(chat.getByLabel('What Claude sees')).toHaveValue('headers');

  // The details: headers, and the exact text Claude will be given.
  await shoes.locator('.jp-NbChat-chipMain').click();
  const dialog = page.locator('.jp-Dialog');
  await expect(dialog.locator('.jp-NbChat-column')).toHaveCount(12);
  const prompt = dialog.locator('pre.jp-NbChat-prompt');
  await expect(prompt).toContainText('"release_year"');
  await expect(prompt).toContainText('"shoes.csv"');
  await expect(prompt).not.toContainText(DATA_VALUE);
  const shot = testInfo.outputPath('attachment-details.png');
  await page.screenshot({ path: shot });
  await testInfo.attach('attachment-details', {
    path: shot,
    contentType: 'image/png'
  });
  const shownPrompt = await prompt.textContent();
  await dialog.getByRole('button', { name: 'Close' }).click();
  await expect(dialog).toHaveCount(0);

  // The attachment is recorded in the notebook's metadata.
  await ask(chat, 'How many shoes per gender?');
  await expect(chat.locator('.jp-NbChat-answer')).toContainText(
    '2 pairs for women',
    { timeout: 60_000 }
  );
  const panelShot = testInfo.outputPath('panel-with-chip.png');
  await page.screenshot({ path: panelShot });
  await testInfo.attach('panel-with-chip', {
    path: panelShot,
    contentType: 'image/png'
  });

  // A cell with the table landed in the notebook, in place of the empty one.
  const notebook = visibleNotebook(page);
  const cell = notebook
    .locator('.jp-CodeCell')
    .filter({ hasText: "pd.read_csv('shoes.csv')" });
  await expect(cell.locator('.jp-OutputArea-output table')).toBeVisible();
  await expect(cell.locator('.jp-OutputArea-output')).toContainText('women');
  await expect(notebook.locator('.jp-Cell').first()).toContainText(
    'How many shoes per gender?'
  );

  // Claude was told the headers, exactly as previewed, but no row.
  const bodies = await recordedBodies(request);
  expect(bodies.length).toBeGreaterThanOrEqual(2);
  const system = systemText(bodies[0]);
  expect(system).toContain('"release_year"');
  expect(system).toContain('"brand"');
  expect(system).not.toContain(DATA_VALUE);
  expect(system).toContain(shownPrompt!.trim());

  // And the notebook records the attachment.
  await turnDone(chat);
  const saved = await savedNotebook(request, `${tmpPath}/shoes.ipynb`);
  const meta = saved.metadata.nbchat;
  expect(meta.context_level).toBe('headers');
  expect(meta.attachments.map((a: any) => a.path)).toEqual([
    `${tmpPath}/shoes.csv`
  ]);
  expect(meta.attachments[0].summary.tables[0].row_count).toBe(3);
  expect(meta.usage.turns).toBe(1);
  await expect(chat.locator('.jp-NbChat-chatUsage')).toContainText(
    'This chat:'
  );
});

test('a workbook: sheet count on the chip, both sheets in the details', async ({
  page,
  request,
  tmpPath
}) => {
  await putFixture(request, tmpPath, 'sales.xlsx');
  const chat = await newNotebookWithChat(page, 'sales.ipynb');

  // Dragged from the file browser onto the chat.
  const item = page.locator('.jp-DirListing-item', { hasText: 'sales.xlsx' });
  await expect(item).toBeVisible();
  await item.dragTo(chat.locator('.jp-NbChat-messages, .jp-NbChat-hint'));

  const sales = chip(chat, 'sales.xlsx');
  await expect(sales).toContainText('2 sheets', { timeout: 30_000 });
  await expect(sales).toContainText('3 rows × 4 cols');

  await sales.locator('.jp-NbChat-chipMain').press('Enter');
  const dialog = page.locator('.jp-Dialog');
  await expect(dialog.locator('.jp-NbChat-table')).toHaveCount(2);
  await expect(dialog).toContainText('Sheet “Orders”');
  await expect(dialog).toContainText('Sheet “Returns”');
  await expect(dialog.locator('.jp-NbChat-column')).toContainText([
    'order_id',
    'customer',
    'amount',
    'placed_on',
    'order_id',
    'reason'
  ]);
  await page.keyboard.press('Escape');
  await expect(dialog).toHaveCount(0);

  // Switching what Claude sees re-inspects: the preview shows the types.
  await chat.getByLabel('What Claude sees').selectOption('schema');
  await sales.locator('.jp-NbChat-chipMain').click();
  await expect(dialog.locator('pre.jp-NbChat-prompt')).toContainText('dtype', {
    timeout: 15_000
  });
  await dialog.getByRole('button', { name: 'Close' }).click();

  // Files dropped from the computer are uploaded next to the notebook.
  await chat.locator('.jp-NbChat-input').evaluate(target => {
    const data = new DataTransfer();
    data.items.add(
      new File(['city,visits\nLyon,3\nNantes,4\n'], 'visits.csv', {
        type: 'text/csv'
      })
    );
    for (const type of ['dragenter', 'dragover', 'drop']) {
      target.dispatchEvent(
        new DragEvent(type, {
          bubbles: true,
          cancelable: true,
          dataTransfer: data
        })
      );
    }
  });
  await expect(chip(chat, 'visits.csv')).toContainText('2 rows × 2 cols', {
    timeout: 30_000
  });
  const uploaded = await request.get(
    `/api/contents/${tmpPath}/visits.csv?content=1`
  );
  expect((await uploaded.json()).content).toContain('Nantes,4');

  // Removing detaches the file; it stays on disk.
  await chat.getByRole('button', { name: 'Remove sales.xlsx' }).click();
  await expect(sales).toHaveCount(0);
  const listing = await request.get(`/api/contents/${tmpPath}/sales.xlsx`);
  expect(listing.ok()).toBeTruthy();
});

test('"Attach to chat" in the file browser; chips come back on reopen', async ({
  page,
  request,
  tmpPath
}) => {
  await putFixture(request, tmpPath, 'shoes.csv');
  const chat = await newNotebookWithChat(page, 'reopen.ipynb');

  await page.locator('.jp-DirListing-item', { hasText: 'shoes.csv' }).click({
    button: 'right'
  });
  await page.getByRole('menuitem', { name: 'Attach to Chat' }).click();
  await expect(chip(chat, 'shoes.csv')).toContainText('3 rows × 12 cols', {
    timeout: 30_000
  });

  // Save, close and reopen: the chip comes back from the metadata.
  await page.notebook.save();
  await page.notebook.close(true);
  await expect(chat.getByText('Open a notebook to start')).toBeVisible();
  await page.notebook.openByPath(`${tmpPath}/reopen.ipynb`);
  await openChat(page);
  await expect(chip(chat, 'shoes.csv')).toContainText('3 rows × 12 cols');
});

test('more files than the server allows: its message, nothing lost', async ({
  page,
  request,
  tmpPath
}) => {
  const names = ['a', 'b', 'c', 'd', 'e', 'f'].map(n => `${n}.csv`);
  for (const name of names) {
    await request.put(`/api/contents/${tmpPath}/${name}`, {
      data: { type: 'file', format: 'text', content: 'x,y\n1,2\n' }
    });
  }
  const chat = await newNotebookWithChat(page, 'many.ipynb');
  await chat.getByLabel('Ask about your data').fill('a draft to keep');
  const listing = page.locator('.jp-DirListing-content');
  const first = listing.locator('.jp-DirListing-item', { hasText: 'a.csv' });
  await first.click({ button: 'right' });
  await page.getByRole('menuitem', { name: 'Attach to Chat' }).click();
  await expect(chip(chat, 'a.csv')).toContainText('1 row × 2 cols', {
    timeout: 30_000
  });

  // All six at once: one more than NbChat.max_files_per_chat.
  await first.click();
  await listing
    .locator('.jp-DirListing-item', { hasText: 'f.csv' })
    .click({ modifiers: ['Shift'] });
  await listing
    .locator('.jp-DirListing-item', { hasText: 'f.csv' })
    .click({ button: 'right' });
  await page.getByRole('menuitem', { name: 'Attach to Chat' }).click();

  await expect(chat.locator('.jp-NbChat-attachError')).toContainText(
    'at most 5',
    { timeout: 30_000 }
  );
  await expect(chat.locator('.jp-NbChat-chip')).toHaveCount(1);
  await expect(chip(chat, 'a.csv')).toBeVisible();
  await expect(chat.getByLabel('Ask about your data')).toHaveValue(
    'a draft to keep'
  );
});
