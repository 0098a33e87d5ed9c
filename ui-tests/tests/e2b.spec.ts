/**
 * A chat whose code runs in an E2B sandbox: the server talks to the E2B
 * stand-in (playwright.config.js, port 8776), which runs each sandbox's
 * cells in a real local kernel in its own folder.
 */
import type { Locator, Page } from '@playwright/test';
import { expect, test } from '@jupyterlab/galata';

import {
  ask,
  attachThroughChooser,
  chip,
  expectOneCreatedFile,
  newNotebookWithChat,
  nextTurnRequest,
  resetStandin,
  runCode,
  savedNotebook,
  say,
  script,
  turnDone,
  visibleNotebook
} from './helpers';

/** The E2B stand-in started by playwright.config.js. */
const E2B_STANDIN = 'http://127.0.0.1:8776';

test.beforeEach(async ({ request }) => {
  await resetStandin(request);
});

/** A new notebook whose chat runs its code in the E2B sandbox. */
async function e2bChat(page: Page, name: string): Promise<Locator> {
  const chat = await newNotebookWithChat(page, name);
  const runsIn = chat.getByLabel('Runs in');
  await expect(runsIn).toHaveValue('kernel');
  await runsIn.selectOption('e2b');
  await expect(runsIn.locator('option:checked')).toHaveText('E2B sandbox');
  return chat;
}

test('E2B: the attached CSV is read in the sandbox, which the notebook remembers', async ({
  page,
  request,
  tmpPath
}) => {
  await script(request, [
    runCode(
      [
        'import pandas as pd',
        "shoes = pd.read_csv('shoes.csv')",
        "print(shoes['gender'].value_counts())"
      ].join('\n')
    ),
    say('Two pairs are for women and one for men.')
  ]);
  const name = 'e2b-shoes.ipynb';
  const chat = await e2bChat(page, name);
  await attachThroughChooser(page, chat, ['shoes.csv']);
  await expect(chip(chat, 'shoes.csv')).toContainText('3 rows × 12 cols', {
    timeout: 30_000
  });

  const turn = nextTurnRequest(page);
  await ask(chat, 'How many shoes per gender?');
  expect(await turn).toEqual(
    expect.objectContaining({
      executor: 'e2b',
      attachments: [`${tmpPath}/shoes.csv`],
      review: false
    })
  );
  await expect(chat.locator('.jp-NbChat-answer')).toContainText(
    'Two pairs are for women',
    { timeout: 60_000 }
  );
  await turnDone(chat);

  // The cell and its output (computed in the sandbox) are in the notebook.
  const cell = visibleNotebook(page)
    .locator('.jp-CodeCell')
    .filter({ hasText: "pd.read_csv('shoes.csv')" });
  await expect(cell).toHaveCount(1);
  await expect(cell.locator('.jp-OutputArea-output')).toContainText(
    /women\s+2/
  );
  await expect(cell.locator('.jp-OutputArea-output')).toContainText(/men\s+1/);
  await expect(chat.locator('.jp-NbChat-cell')).toContainText(/women\s+2/);
  await expect(chat.getByLabel('Runs in')).toHaveValue('e2b');

  // The notebook remembers its sandbox, one the E2B stand-in runs.
  let sandbox = '';
  await expect
    .poll(
      async () => {
        const saved = await savedNotebook(request, `${tmpPath}/${name}`);
        const state = saved.metadata.nbchat?.executor_state;
        sandbox = state?.state?.sandbox_id ?? '';
        return [state?.executor, typeof state?.state?.sandbox_id];
      },
      { timeout: 15_000 }
    )
    .toEqual(['e2b', 'string']);
  const health = await (
    await request.get(`${E2B_STANDIN}/_standin/health`)
  ).json();
  expect(health.sandboxes).toContain(sandbox);
  // That sandbox received the CSV and ran the code.
  const { stats } = await (
    await request.get(`${E2B_STANDIN}/_standin/stats`)
  ).json();
  expect(stats.bytes_uploaded[sandbox]).toBeGreaterThan(0);
  expect(
    stats.requests.some(
      (r: any) => r.path === '/execute' && r.sandbox_id === sandbox
    )
  ).toBeTruthy();
});

test('E2B: a file a sandbox cell writes is listed and copied to the workspace', async ({
  page,
  request,
  tmpPath
}) => {
  await script(request, [
    runCode(
      [
        'import os',
        "os.makedirs('out', exist_ok=True)",
        "with open('out/summary.txt', 'w') as f:",
        "    f.write('3 pairs of shoes\\n')",
        "print('saved')"
      ].join('\n')
    ),
    say('I saved the summary to out/summary.txt.')
  ]);
  const chat = await e2bChat(page, 'e2b-files.ipynb');
  await ask(chat, 'Write a summary file');
  await expect(chat.locator('.jp-NbChat-answer')).toContainText(
    'out/summary.txt',
    { timeout: 60_000 }
  );
  await turnDone(chat);

  await expectOneCreatedFile(chat, tmpPath, 'out/summary.txt');

  // The sandbox's file was copied next to the notebook.
  const copied = await request.get(
    `/api/contents/${tmpPath}/out/summary.txt?content=1&type=file&format=text`
  );
  expect(copied.ok()).toBeTruthy();
  expect((await copied.json()).content).toBe('3 pairs of shoes\n');
});

test('E2B: a Plotly figure from the sandbox is interactive in the notebook', async ({
  page,
  request
}) => {
  const figure = {
    data: [{ type: 'bar', x: ['men', 'women'], y: [1, 2] }],
    layout: { title: { text: 'Pairs by gender' } }
  };
  await script(request, [
    runCode(
      [
        'from IPython.display import display',
        `display({'application/vnd.plotly.v1+json': ${JSON.stringify(figure)}, 'text/plain': 'Figure'}, raw=True)`
      ].join('\n')
    ),
    say('Cell [1] draws the bar chart.')
  ]);
  const chat = await e2bChat(page, 'e2b-plotly.ipynb');
  await ask(chat, 'Pairs by gender as an interactive chart');
  await turnDone(chat);
  const output = visibleNotebook(page).locator('.jp-CodeCell').first();
  // Plotly's own renderer drew it: an SVG plot with its toolbar, not the text fallback.
  await expect(output.locator('.js-plotly-plot')).toBeVisible();
  await expect(output.locator('.js-plotly-plot .modebar')).toHaveCount(1);
  await expect(output.locator('.js-plotly-plot')).toContainText(
    'Pairs by gender'
  );
});
