/**
 * The panel's problem states, each saying what to do: no API key on the
 * server, the server extension not answering, the E2B sandbox unavailable.
 */
import { expect, test } from '@jupyterlab/galata';

import {
  ask,
  newNotebookWithChat,
  resetStandin,
  runCode,
  say,
  script,
  turnDone
} from './helpers';

/** The E2B stand-in started by playwright.config.js. */
const E2B_STANDIN = 'http://127.0.0.1:8776';

/** One cell, then the answer. */
const SIX_BY_SEVEN = [runCode('print(6 * 7)'), say('It printed 42.')];

test.beforeEach(async ({ request }) => {
  await resetStandin(request);
  await request.post(`${E2B_STANDIN}/_standin/reset`);
});

test.afterEach(async ({ request }) => {
  await request.post(`${E2B_STANDIN}/_standin/reset`);
});

test('no API key: the panel says how to set one and nothing can be sent', async ({
  page
}) => {
  // The server's real status, as a server without a key would answer it.
  await page.route(/\/nbchat\/status(\?|$)/, async route => {
    const real = await route.fetch();
    const status = await real.json();
    expect(status.has_api_key).toBe(true);
    await route.fulfill({
      response: real,
      json: { ...status, has_api_key: false }
    });
  });
  await page.reload();
  const chat = await newNotebookWithChat(page, 'nokey.ipynb');
  const notice = chat.locator('.jp-NbChat-notice');
  await expect(notice).toContainText('API key needed');
  await expect(notice).toContainText('ANTHROPIC_API_KEY');
  await chat.getByLabel('Ask about your data').fill('Anything?');
  await expect(chat.getByRole('button', { name: 'Send' })).toBeDisabled();
});

test('the server extension not answering: what to check', async ({ page }) => {
  await page.route(/\/nbchat\/status(\?|$)/, route => route.abort());
  await page.reload();
  const chat = await newNotebookWithChat(page, 'noserver.ipynb');
  const notice = chat.locator('.jp-NbChat-notice');
  await expect(notice).toContainText('did not answer');
  await expect(notice).toContainText('jupyter server extension list');
});

test('E2B unavailable: the error says what to do, Retry works once it is back', async ({
  page,
  request
}) => {
  await script(request, SIX_BY_SEVEN);
  const faults = await request.post(`${E2B_STANDIN}/_standin/faults`, {
    data: { create_status: 500 }
  });
  expect(faults.ok()).toBeTruthy();

  const chat = await newNotebookWithChat(page, 'nosandbox.ipynb');
  await chat.getByLabel('Runs in').selectOption('e2b');
  await ask(chat, 'Print six times seven');
  const error = chat.locator('.jp-NbChat-error');
  await expect(error).toContainText('Could not start an E2B sandbox', {
    timeout: 60_000
  });
  await expect(error).toContainText('choose the local kernel');
  await turnDone(chat);

  // E2B is back: Retry asks again and the cell runs in a sandbox.
  await request.post(`${E2B_STANDIN}/_standin/faults`, {
    data: { create_status: null }
  });
  await resetStandin(request);
  await script(request, SIX_BY_SEVEN);
  await error.getByRole('button', { name: 'Retry' }).click();
  await expect(chat.locator('.jp-NbChat-answer')).toContainText(
    'It printed 42.',
    { timeout: 60_000 }
  );
  await expect(chat.locator('.jp-NbChat-cell')).toContainText('42');
});
