/**
 * A SQLite file attaches like any data file: the chip counts its tables and views, the
 * details list them with their SQL types and exact row counts (no row at the default level),
 * and a question's code queries the file with SQL, aggregating in the database.
 */
import { expect, test } from '@jupyterlab/galata';

import {
  ask,
  attachThroughChooser,
  chip,
  newNotebookWithChat,
  recordedBodies,
  resetStandin,
  runCode,
  say,
  script,
  systemText,
  turnDone
} from './helpers';

const CODE = [
  'import sqlite3',
  'import pandas as pd',
  'with sqlite3.connect("library.sqlite") as con:',
  '    pages = pd.read_sql_query(\'SELECT genre, COUNT(*) AS books, SUM(pages) AS pages FROM "books" GROUP BY genre ORDER BY genre\', con)',
  'print(pages.to_string(index=False))'
].join('\n');

test.beforeEach(async ({ request }) => {
  await resetStandin(request);
});

test('a SQLite file is described table by table and queried in SQL', async ({
  page,
  request
}) => {
  const chat = await newNotebookWithChat(page, 'library.ipynb');
  await attachThroughChooser(page, chat, ['library.sqlite']);
  const attached = chip(chat, 'library.sqlite');
  await expect(attached).toContainText('SQLite database, 2 tables, 1 view', {
    timeout: 30_000
  });

  // Details: each table and view with its SQL types; what Claude sees has exact counts.
  await attached.getByRole('button').first().click();
  const dialog = page.locator('.jp-Dialog');
  await expect(dialog.getByText('Table “books” · 6 rows')).toBeVisible();
  await expect(dialog.getByText('View “long_books” · 3 rows')).toBeVisible();
  await expect(
    dialog.locator('.jp-NbChat-column', { hasText: 'pages' }).first()
  ).toContainText('INTEGER');
  const prompt = dialog.locator('.jp-NbChat-prompt');
  await expect(prompt).toContainText('sqlite3.connect');
  expect(await prompt.textContent()).not.toContain('Marmalade');
  await dialog.getByRole('button', { name: 'Close' }).click();

  await script(request, [runCode(CODE, 'Counting in SQL.'), say('Done.')]);
  await ask(chat, 'How many books and pages per genre?');
  await turnDone(chat);
  const system = systemText((await recordedBodies(request))[0]);
  expect(system).toMatch(/table "books": 6 rows × 4 columns/);
  expect(system).not.toContain('Marmalade');

  const cell = page
    .locator('.jp-NotebookPanel:visible .jp-CodeCell')
    .filter({ hasText: 'GROUP BY genre' });
  const output = cell.locator('.jp-OutputArea-output');
  await expect(output).toContainText('classic');
  const lines = (await output.textContent())!.trim().split('\n');
  expect(lines.map(l => l.trim().split(/\s+/))).toEqual([
    ['genre', 'books', 'pages'],
    ['classic', '2', '723'],
    ['fantasy', '1', '333'],
    ['sci-fi', '3', '887']
  ]);
});
