/**
 * What a chat shows around its turns: live variables, files the cells
 * created, Retry after an error, and new analyses named after their first
 * question.
 */
import { expect, test } from '@jupyterlab/galata';

import {
  ask,
  chip,
  expectOneCreatedFile,
  newNotebookWithChat,
  openChat,
  putFixture,
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

test('variables and created files after a turn', async ({
  page,
  request,
  tmpPath
}) => {
  await script(request, [
    runCode(
      [
        'import pandas as pd',
        "sizes = pd.DataFrame({'gender': ['men', 'women', 'women'], 'size': [42, 38, 39]})",
        "sizes.groupby('gender').size().to_csv('per_gender.csv')",
        'print(len(sizes))'
      ].join('\n')
    ),
    say('I saved the counts to per_gender.csv.')
  ]);
  const chat = await newNotebookWithChat(page, 'vars.ipynb');
  await ask(chat, 'Save the counts per gender to a file');
  await expect(chat.locator('.jp-NbChat-answer')).toContainText(
    'per_gender.csv',
    { timeout: 60_000 }
  );
  await turnDone(chat);

  // Files created: a download link through the contents API.
  await expectOneCreatedFile(chat, tmpPath, 'per_gender.csv');
  const download = await request.get(
    `/files/${tmpPath}/per_gender.csv?download=1`
  );
  expect(await download.text()).toContain('women,2');

  // Variables: the DataFrame with its shape and columns.
  const variables = chat.locator('.jp-NbChat-variables');
  await variables.locator('summary').click();
  const row = variables.locator('tr', { hasText: 'sizes' });
  await expect(row).toContainText('DataFrame');
  await expect(row).toContainText('3 × 2');
  await expect(row).toContainText('gender, size');

  // Restart (confirmed): the variables are gone, the chat says so.
  await chat.getByRole('button', { name: 'Restart', exact: true }).click();
  const dialog = page.locator('.jp-Dialog');
  await expect(dialog).toContainText('Restart the Local kernel?');
  await dialog.getByRole('button', { name: 'Restart' }).click();
  await expect(chat.locator('.jp-NbChat-info')).toContainText(
    'The Local kernel was restarted.',
    { timeout: 30_000 }
  );
  await expect(variables.locator('summary')).toHaveText('Variables (0)');
});

test('an error offers Retry, which asks again and succeeds', async ({
  page,
  request
}) => {
  // The SDK retries twice: three 529s make the turn fail.
  await script(request, [
    { status: 529 },
    { status: 529 },
    { status: 529 },
    // The answer quotes what its cell printed (answers' numbers are checked).
    runCode('print(6 * 7)'),
    say('Second time lucky: 42.')
  ]);
  const chat = await newNotebookWithChat(page, 'retry.ipynb');
  await ask(chat, 'What is six times seven?');

  const error = chat.locator('.jp-NbChat-error');
  await expect(error).toBeVisible({ timeout: 60_000 });
  await expect(error).toContainText(/overloaded/i);
  await turnDone(chat);
  await error.getByRole('button', { name: 'Retry' }).click();

  await expect(chat.locator('.jp-NbChat-answer')).toContainText(
    'Second time lucky: 42.',
    { timeout: 60_000 }
  );
  const bodies = await recordedBodies(request);
  // Three refused, then the retried question and the answer after its cell.
  expect(bodies).toHaveLength(5);
  expect(JSON.stringify(bodies[3].messages)).toContain(
    'What is six times seven?'
  );
});

test('New analysis: a notebook beside the chat, named after its first question', async ({
  page,
  request,
  tmpPath
}) => {
  await script(request, [say('Let us look at the shoes.')]);
  const chat = await openChat(page);
  await chat.getByRole('button', { name: 'New analysis', exact: true }).click();

  await expect(chat.locator('.jp-NbChat-notebookName')).toHaveText(
    /^Untitled\d*\.ipynb$/
  );
  const box = chat.getByLabel('Ask about your data');
  await expect(box).toBeFocused();
  await box.fill('How many shoes per gender?');
  await box.press('Enter');
  await expect(chat.locator('.jp-NbChat-answer')).toContainText(
    'Let us look at the shoes.',
    { timeout: 60_000 }
  );

  await expect(chat.locator('.jp-NbChat-notebookName')).toHaveText(
    'how-many-shoes-per-gender.ipynb',
    { timeout: 15_000 }
  );
  await expect(
    page.getByRole('main').getByRole('tab', {
      name: /how-many-shoes-per-gender\.ipynb/
    })
  ).toBeVisible();
  const saved = await request.get(
    `/api/contents/${tmpPath}/how-many-shoes-per-gender.ipynb?content=0`
  );
  expect(saved.ok()).toBeTruthy();
  await expect(visibleNotebook(page)).toContainText(
    'How many shoes per gender?'
  );

  // "Download notebook" saves, then downloads the .ipynb under its new name.
  const download = page.waitForEvent('download');
  await chat.getByRole('button', { name: 'Download notebook' }).click();
  expect((await download).suggestedFilename()).toBe(
    'how-many-shoes-per-gender.ipynb'
  );
});

test('"Analyse in chat" opens a new notebook with the file attached', async ({
  page,
  request,
  tmpPath
}) => {
  await putFixture(request, tmpPath, 'shoes.csv');
  await openChat(page);
  await page
    .locator('.jp-DirListing-item', { hasText: 'shoes.csv' })
    .click({ button: 'right' });
  await page.getByRole('menuitem', { name: 'Analyse in Chat' }).click();

  const chat = page.locator('#jp-NbChat-panel');
  await expect(chat.locator('.jp-NbChat-notebookName')).toHaveText(
    /^Untitled\d*\.ipynb$/
  );
  await expect(chip(chat, 'shoes.csv')).toContainText('3 rows × 12 cols', {
    timeout: 30_000
  });
  await expect(chat.getByLabel('Ask about your data')).toBeFocused();
});
