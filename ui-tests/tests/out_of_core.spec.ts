/**
 * A file bigger than the kernel's memory, in the browser: the notebook runs "Python 3
 * (512 MiB)" (ipykernel under RLIMIT_DATA, jupyter_server_test_config.py), the attached
 * 161 MB CSV would need about 0.56 GB in pandas. Claude is told the kernel's memory and an
 * out-of-core read; the chip says so; the cell aggregates with DuckDB inside the limit and
 * prints the exact totals (from the generating formula).
 */
import { expect, test } from '@jupyterlab/galata';

import {
  ask,
  chip,
  openChat,
  recordedBodies,
  resetStandin,
  runCode,
  say,
  script,
  systemText,
  turnDone
} from './helpers';

/** What the steer tells Claude to do, as a person following it would write it. */
const CODE = [
  'import duckdb, json',
  'con = duckdb.connect(config={"memory_limit": "100MB", "threads": 1})',
  "rows = con.sql(\"SELECT region, SUM(amount_cents), COUNT(*) FROM read_csv('sales.csv', delim=';', header=true) GROUP BY region ORDER BY region\").fetchall()",
  'print(json.dumps({r: [int(s), int(n)] for r, s, n in rows}, sort_keys=True))'
].join('\n');

test.beforeEach(async ({ request }) => {
  await resetStandin(request);
});

test('a CSV bigger than the kernel memory is read out of core, with the exact answer', async ({
  page,
  request,
  tmpPath
}) => {
  test.setTimeout(180_000);
  const made = await request.put('/nbchat-galata/big-csv', {
    data: { path: `${tmpPath}/sales.csv` }
  });
  expect(made.ok(), await made.text()).toBeTruthy();
  const totals = (await made.json()) as Record<string, number[]>;

  const name = 'small-kernel.ipynb';
  await page.notebook.createNew(name, { kernel: 'limited' });
  const chat = await openChat(page);
  await expect(chat.locator('.jp-NbChat-notebookName')).toHaveText(name);
  await page.filebrowser.refresh();
  await page
    .locator('.jp-DirListing-item', { hasText: 'sales.csv' })
    .click({ button: 'right' });
  await page.getByRole('menuitem', { name: 'Attach to Chat' }).click();
  await expect(chip(chat, 'sales.csv')).toContainText('4,000,000 rows', {
    timeout: 60_000
  });

  await script(request, [
    runCode(CODE, 'Aggregating in DuckDB.'),
    say('Done.')
  ]);
  await ask(chat, 'Total amount per region?');
  await turnDone(chat);

  // Claude was told the kernel's memory and how to read the file without loading it.
  const system = systemText((await recordedBodies(request))[0]);
  expect(system).toMatch(
    /The code can use about [\d.]+ GB of memory where it runs \([^)]*RLIMIT_DATA/
  );
  expect(system).toContain('"sales.csv" (0.16 GB) needs about');
  expect(system).toContain('read with (out of core): duckdb');

  // The chip says so, and its details show the same text Claude read.
  await expect(chip(chat, 'sales.csv')).toContainText('out of core');
  await chip(chat, 'sales.csv').getByRole('button').first().click();
  const dialog = page.locator('.jp-Dialog');
  await expect(dialog.getByRole('note')).toContainText('out of core');
  await expect(dialog.locator('.jp-NbChat-prompt')).toContainText(
    'read with (out of core): duckdb'
  );
  await dialog.getByRole('button', { name: 'Close' }).click();

  // The small kernel answered, exactly.
  const cell = page
    .locator('.jp-NotebookPanel:visible .jp-CodeCell')
    .filter({ hasText: 'read_csv' });
  const output = cell.locator('.jp-OutputArea-output');
  await expect(output).toContainText('"centre"');
  expect(JSON.parse((await output.textContent())!.trim())).toEqual(totals);
});
