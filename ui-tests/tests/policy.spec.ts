/**
 * Admin policies (NbChat.allowed_models, allowed_executors, force_review,
 * max_tokens_per_turn): the panel offers only what the administrator allows
 * and says why, the server refuses the rest with its reason, and the token
 * cap ends a turn with its message, keeping the cells that ran. The policy is
 * set on the running test server through its test-only route (see
 * jupyter_server_test_config.py) and lifted after each test.
 */
import { expect, galata, test } from '@jupyterlab/galata';
import type { APIRequestContext } from '@playwright/test';

import {
  ask,
  newNotebookWithChat,
  nextTurnRequest,
  openChat,
  resetStandin,
  runCode,
  say,
  script,
  turnDone,
  visibleNotebook
} from './helpers';

const MODELS = ['claude-standin-small', 'claude-standin-large'];

/** Set the server's policy; `{}` lifts every limit. */
async function setPolicy(
  request: APIRequestContext,
  policy: Record<string, unknown>
): Promise<void> {
  const answer = await request.put('/nbchat-galata/policy', { data: policy });
  expect(answer.ok(), await answer.text()).toBeTruthy();
}

test.beforeEach(async ({ request }) => {
  await resetStandin(request);
});

test.afterEach(async ({ request }) => {
  await setPolicy(request, {});
});

test('the panel offers only what is allowed; the token cap ends a turn', async ({
  page,
  request
}) => {
  await setPolicy(request, {
    allowed_models: MODELS,
    allowed_executors: ['kernel'],
    force_review: true,
    max_tokens_per_turn: 5000
  });
  await page.reload(); // the panel reads the policy with the server's status
  const chat = await newNotebookWithChat(page, 'policy.ipynb');
  const limits = chat.getByRole('group', {
    name: 'Limits set by your administrator'
  });
  await expect(limits).toContainText(
    'Your administrator limits these choices.'
  );

  // Code may run in the local kernel only: no choice, and the reason.
  await expect(chat.getByLabel('Runs in')).toHaveCount(0);
  await expect(chat.locator('.jp-NbChat-executorName')).toHaveAttribute(
    'title',
    'Your administrator lets code run only in: Local kernel.'
  );
  // Only the allowed models.
  const model = limits.getByLabel('Model');
  await expect(model.locator('option')).toHaveText(MODELS);
  // Review is on and cannot be turned off (the test user's setting is "never").
  const review = limits.getByRole('checkbox', {
    name: 'Review each cell before it runs'
  });
  await expect(review).toBeChecked();
  await expect(review).toBeDisabled();
  await expect(review.locator('xpath=..')).toHaveAttribute(
    'title',
    /requires every generated cell to wait for your Run or Skip/
  );
  await expect(limits).toContainText('Up to 5,000 tokens per question');
  await expect(chat.locator('.jp-NbChat-hint')).toContainText(
    'each one waits for you to run or skip it'
  );

  await model.selectOption('claude-standin-large');
  await script(request, [
    {
      ...runCode('print(6 * 7)'),
      usage: { input_tokens: 3000, output_tokens: 100 }
    },
    say('Never asked for: the cap stops the turn first.')
  ]);
  const posted = nextTurnRequest(page);
  await ask(chat, 'What is six times seven?');
  expect(await posted).toEqual(
    expect.objectContaining({ model: 'claude-standin-large', review: true })
  );
  const run = chat.getByRole('button', { name: 'Run', exact: true });
  await expect(run).toBeVisible({ timeout: 30_000 });
  await run.click();

  // The cell ran and stays; asking Claude again would pass the cap.
  await expect(chat.locator('.jp-NbChat-error')).toContainText(
    'This question stopped after 3,100 tokens: the administrator caps a question at 5,000 tokens',
    { timeout: 60_000 }
  );
  await turnDone(chat);
  const cell = visibleNotebook(page)
    .locator('.jp-CodeCell')
    .filter({ hasText: 'print(6 * 7)' });
  await expect(cell.locator('.jp-OutputArea-output')).toHaveText('42');
});

test.describe('a model the person set', () => {
  test.use({
    mockSettings: {
      ...galata.DEFAULT_SETTINGS,
      'jupyter-nbchat:plugin': {
        reviewMode: 'never',
        model: 'claude-standin-large'
      }
    }
  });

  test('is refused with the server’s reason, then no longer sent', async ({
    page,
    request,
    tmpPath
  }) => {
    const chat = await newNotebookWithChat(page, 'refused.ipynb');
    await expect(
      chat.getByRole('group', { name: 'Limits set by your administrator' })
    ).toHaveCount(0);

    // The administrator limits the models while the page is open.
    await setPolicy(request, { allowed_models: ['claude-standin-small'] });
    await ask(chat, 'Which model?');
    await expect(chat.locator('.jp-NbChat-error')).toContainText(
      "Model 'claude-standin-large' is not allowed here. The administrator allows only these models: claude-standin-small."
    );

    // A reloaded page knows the policy: it offers the allowed model only and
    // sends none other (the server's default is the allowed one).
    await page.notebook.save();
    await page.reload({ waitForIsReady: false });
    await page.locator('#jupyterlab-splash').waitFor({ state: 'detached' });
    if (!(await page.notebook.isOpen('refused.ipynb'))) {
      await page.notebook.openByPath(`${tmpPath}/refused.ipynb`);
    }
    const again = await openChat(page);
    await expect(again.locator('.jp-NbChat-notebookName')).toHaveText(
      'refused.ipynb'
    );
    const limits = again.getByRole('group', {
      name: 'Limits set by your administrator'
    });
    await expect(limits.getByLabel('Model')).toHaveText('claude-standin-small');
    await script(request, [say('The small one.')]);
    const posted = nextTurnRequest(page);
    await ask(again, 'Which model now?');
    expect((await posted).model).toBeUndefined();
    await turnDone(again);
    await expect(again.locator('.jp-NbChat-error')).toHaveCount(0);
  });
});
