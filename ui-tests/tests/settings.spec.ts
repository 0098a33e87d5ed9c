/**
 * The settings as defaults: a new chat runs where "Where code runs" says and
 * tells Claude what "What Claude sees of attached files" says.
 */
import { expect, galata, test } from '@jupyterlab/galata';

import {
  ask,
  attachThroughChooser,
  chip,
  newNotebookWithChat,
  nextTurnRequest,
  resetStandin,
  say,
  script,
  turnDone
} from './helpers';

test.use({
  mockSettings: {
    ...galata.DEFAULT_SETTINGS,
    'jupyter-nbchat:plugin': {
      reviewMode: 'never',
      executor: 'e2b',
      contextLevel: 'schema'
    }
  }
});

test.beforeEach(async ({ request }) => {
  await resetStandin(request);
});

test('a new chat takes its executor and context level from the settings', async ({
  page,
  request
}) => {
  await script(request, [say('Noted.')]);
  const chat = await newNotebookWithChat(page, 'defaults.ipynb');
  await expect(chat.getByLabel('Runs in')).toHaveValue('e2b');
  await attachThroughChooser(page, chat, ['shoes.csv']);
  await expect(chip(chat, 'shoes.csv')).toContainText('3 rows', {
    timeout: 30_000
  });
  await expect(chat.getByLabel('What Claude sees')).toHaveValue('schema');

  const posted = nextTurnRequest(page);
  await ask(chat, 'What columns are there?');
  expect(await posted).toEqual(
    expect.objectContaining({ executor: 'e2b', context_level: 'schema' })
  );
  await turnDone(chat);

  // The chat's own choice wins over the setting.
  await chat.getByLabel('Runs in').selectOption('kernel');
  await chat.getByLabel('What Claude sees').selectOption('headers');
  await script(request, [say('Noted again.')]);
  const again = nextTurnRequest(page);
  await ask(chat, 'And now?');
  expect(await again).toEqual(
    expect.objectContaining({ executor: 'kernel', context_level: 'headers' })
  );
  await turnDone(chat);
});
