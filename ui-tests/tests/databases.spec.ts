/**
 * A server database in the browser: the panel offers the server's named connections
 * (jupyter_server_test_config.py configures "shop", a SQLite URL), the chip's details show
 * exactly what Claude is told (tables, columns, exact counts; no row), and a question's
 * code queries the connection through NBCHAT_DB_SHOP, whose URL never reaches the page or
 * the notebook.
 */
import { expect, test } from '@jupyterlab/galata';

import {
  ask,
  newNotebookWithChat,
  openChat,
  recordedBodies,
  resetStandin,
  runCode,
  savedNotebook,
  say,
  script,
  turnDone
} from './helpers';

const SQL =
  'SELECT region, SUM(amount) AS total FROM orders GROUP BY region ORDER BY region';
const CODE = `import os\nimport pandas as pd\ntotals = pd.read_sql_query("${SQL}", os.environ["NBCHAT_DB_SHOP"])\nprint(totals.to_string(index=False))`;

test.beforeEach(async ({ request }) => {
  await resetStandin(request);
});

test('a named connection is chosen, described exactly, and queried where it lives', async ({
  page,
  request,
  tmpPath
}) => {
  const name = 'shop.ipynb';
  const chat = await newNotebookWithChat(page, name);

  // The server's connections, by name, with what using one means.
  await chat.getByRole('button', { name: 'Use a database' }).click();
  const dialog = page.locator('.jp-Dialog');
  await expect(dialog.getByText("The web shop's orders")).toBeVisible();
  await expect(dialog.locator('.jp-NbChat-databaseNotice')).toContainText(
    'kernel'
  );
  await dialog.getByRole('checkbox').check();
  await dialog.getByRole('button', { name: 'Use' }).click();
  await expect(dialog).toBeHidden();

  // The chip opens what Claude will see: every table and view, exact counts, no row.
  const chip = chat.locator('.jp-NbChat-chip[data-database="shop"]');
  await expect(chip).toContainText('SQLite');
  await chip.getByRole('button', { name: /Database shop/ }).click();
  const prompt = page.locator('.jp-Dialog .jp-NbChat-prompt');
  await expect(prompt).toContainText('orders', { timeout: 30_000 });
  const text = await prompt.textContent();
  expect(text).toMatch(/"orders"[^\n]*5 rows/);
  expect(text).toMatch(/"regions"[^\n]*3 rows/);
  expect(text).toMatch(/"big_orders"[^\n]*2 rows/);
  expect(text).toContain('NBCHAT_DB_SHOP');
  expect(text).not.toContain('Zebediah');
  expect(text).not.toContain('sqlite:///');
  await page
    .locator('.jp-Dialog')
    .getByRole('button', { name: 'Close' })
    .click();

  // The question: SQL aggregates in the database, the cell prints the real totals.
  await script(request, [
    runCode(CODE, 'Summing in the database.'),
    say('North sold 150.5.')
  ]);
  await ask(chat, 'How much did each region sell?');
  await turnDone(chat);
  const cell = page
    .locator('.jp-NotebookPanel:visible .jp-CodeCell')
    .filter({ hasText: 'NBCHAT_DB_SHOP' });
  await expect(cell.locator('.jp-OutputArea-output')).toContainText('150.5');
  await expect(cell.locator('.jp-OutputArea-output')).toContainText('99.5');

  // Claude was told the schema, never a row; the notebook never holds the URL.
  const bodies = await recordedBodies(request);
  const sent = JSON.stringify(bodies[0]);
  expect(sent).toContain('attached_databases');
  expect(sent).not.toContain('Zebediah');
  await expect
    .poll(async () =>
      JSON.stringify(await savedNotebook(request, `${tmpPath}/${name}`))
    )
    .toContain('NBCHAT_DB_SHOP');
  const saved = JSON.stringify(
    await savedNotebook(request, `${tmpPath}/${name}`)
  );
  expect(saved).toContain('"databases":["shop"]');
  expect(saved).not.toContain('sqlite:///');

  // The choice is the notebook's: it is still there after a reload.
  await page.reload({ waitForIsReady: false });
  await page.locator('#jupyterlab-splash').waitFor({ state: 'detached' });
  if (!(await page.notebook.isOpen(name))) {
    await page.notebook.openByPath(`${tmpPath}/${name}`);
  }
  const reopened = await openChat(page);
  await expect(reopened.locator('.jp-NbChat-notebookName')).toHaveText(name);
  await expect(
    reopened.locator('.jp-NbChat-chip[data-database="shop"]')
  ).toBeVisible();
});
