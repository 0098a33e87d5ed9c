/**
 * Cells that run live: a generated cell enters the notebook when it starts,
 * shows [*], and receives what it prints while it runs; a page reloaded
 * mid-cell shows everything printed so far, then continues.
 */
import { expect, test } from '@jupyterlab/galata';

import {
  ask,
  newNotebookWithChat,
  openChat,
  release,
  resetStandin,
  runCode,
  savedNotebook,
  say,
  script,
  turnDone,
  visibleNotebook,
  waitForFile
} from './helpers';

test.beforeEach(async ({ request }) => {
  await resetStandin(request);
});

/** A cell printing `tick 1` … `tick n`, one per second. */
function ticks(n: number): string {
  return [
    'import time',
    `for i in range(1, ${n + 1}):`,
    '    print(f"tick {i}", flush=True)',
    '    time.sleep(1)'
  ].join('\n');
}

/** The text of a saved cell's stream outputs. */
function streamText(cell: any, name: string): string {
  return (cell.outputs ?? [])
    .filter((o: any) => o.output_type === 'stream' && o.name === name)
    .map((o: any) => (Array.isArray(o.text) ? o.text.join('') : o.text))
    .join('');
}

test('a running cell is in the notebook with [*] and shows tick 1 while it runs', async ({
  page,
  request,
  tmpPath
}) => {
  await script(request, [runCode(ticks(5)), say('Ticked five times.')]);
  const name = 'ticks.ipynb';
  const chat = await newNotebookWithChat(page, name);
  await ask(chat, 'Tick five times');

  const cell = visibleNotebook(page)
    .locator('.jp-CodeCell')
    .filter({ hasText: 'tick {i}' });
  const output = cell.locator('.jp-OutputArea-output');
  await expect(output).toContainText('tick 1', { timeout: 30_000 });
  // Seen while the cell still runs: four more seconds of ticks remain.
  await expect(cell.locator('.jp-InputPrompt')).toHaveText('[*]:');
  await expect(chat.getByRole('button', { name: 'Stop' })).toBeVisible();

  await expect(output).toContainText('tick 5', { timeout: 30_000 });
  await turnDone(chat);
  await expect(cell.locator('.jp-InputPrompt')).toHaveText(/^\[\d+\]:$/);
  await expect(cell).toHaveCount(1);

  await expect
    .poll(
      async () => {
        const saved = await savedNotebook(request, `${tmpPath}/${name}`);
        const code = saved.cells.find((c: any) =>
          [c.source].flat().join('').includes('tick {i}')
        );
        return code ? streamText(code, 'stdout') : '';
      },
      { timeout: 15_000 }
    )
    .toBe('tick 1\ntick 2\ntick 3\ntick 4\ntick 5\n');
});

test('a tqdm loop ends as one progress bar', async ({
  page,
  request,
  tmpPath
}) => {
  await script(request, [
    runCode(
      'from tqdm import tqdm\nimport time\nfor _ in tqdm(range(60), mininterval=0):\n    time.sleep(0.02)'
    ),
    say('Done.')
  ]);
  const name = 'tqdm.ipynb';
  const chat = await newNotebookWithChat(page, name);
  await ask(chat, 'Show progress');
  await turnDone(chat);

  const cell = visibleNotebook(page)
    .locator('.jp-CodeCell')
    .filter({ hasText: 'from tqdm import tqdm' });
  await expect(cell.locator('.jp-OutputArea-output')).toContainText('60/60');
  await expect
    .poll(
      async () => {
        const saved = await savedNotebook(request, `${tmpPath}/${name}`);
        const code = saved.cells.find((c: any) =>
          [c.source].flat().join('').includes('from tqdm import tqdm')
        );
        return code ? streamText(code, 'stderr') : '';
      },
      { timeout: 15_000 }
    )
    .toMatch(/^[^\n\r]*60\/60[^\n\r]*\n?$/);
});

test('a page reloaded mid-cell shows what the cell printed so far, then the rest', async ({
  page,
  request,
  tmpPath
}) => {
  // Two ticks, then the cell waits for the test (the reload takes what it
  // takes on a busy machine), then five more.
  const code = [
    'import time',
    'for i in (1, 2):',
    '    print(f"tick {i}", flush=True)',
    waitForFile('go'),
    'for i in range(3, 8):',
    '    print(f"tick {i}", flush=True)',
    '    time.sleep(0.3)'
  ].join('\n');
  await script(request, [runCode(code), say('Ticked seven times.')]);
  const name = 'reload-live.ipynb';
  const chat = await newNotebookWithChat(page, name);
  await ask(chat, 'Tick seven times');

  const notebook = visibleNotebook(page);
  const cell = notebook.locator('.jp-CodeCell').filter({ hasText: 'tick {i}' });
  await expect(cell.locator('.jp-OutputArea-output')).toContainText('tick 2', {
    timeout: 30_000
  });
  await page.notebook.save();

  await page.reload({ waitForIsReady: false });
  await page.locator('#jupyterlab-splash').waitFor({ state: 'detached' });
  if (!(await page.notebook.isOpen(name))) {
    await page.notebook.openByPath(`${tmpPath}/${name}`);
  }
  const reopened = await openChat(page);
  await expect(reopened.getByRole('button', { name: 'Stop' })).toBeVisible();
  const again = visibleNotebook(page)
    .locator('.jp-CodeCell')
    .filter({ hasText: 'tick {i}' });
  // Everything printed before the reload is there while the cell still runs.
  const output = again.locator('.jp-OutputArea-output');
  await expect(output).toContainText('tick 1');
  await expect(output).toContainText('tick 2');
  await expect(again.locator('.jp-InputPrompt')).toHaveText('[*]:');
  await expect(output).not.toContainText('tick 3');

  await release(request, tmpPath, 'go');
  await expect(output).toContainText('tick 7', { timeout: 30_000 });
  await turnDone(reopened);
  await expect(again).toHaveCount(1);
  await expect(output).toHaveText(
    Array.from({ length: 7 }, (_, i) => `tick ${i + 1}`).join('\n')
  );
});

test('the notebook follows the running cell, unless the person scrolled away', async ({
  page,
  request,
  tmpPath
}) => {
  await script(request, [
    runCode(`${waitForFile('go1')}\nprint("first done")`),
    runCode(`${waitForFile('go2')}\nprint("second done")`),
    say('Both ran.')
  ]);
  const chat = await newNotebookWithChat(page, 'follow.ipynb');
  // A notebook taller than the window: the chat's cells land far below.
  await page.evaluate(() => {
    const panel = window.jupyterapp.shell.currentWidget as any;
    panel.content.model.sharedModel.insertCells(
      0,
      Array.from({ length: 30 }, (_, i) => ({
        cell_type: 'markdown',
        source: `## Section ${i}\n\nA paragraph of notes for section ${i}.`
      }))
    );
  });
  const notebook = visibleNotebook(page);
  const top = notebook.locator('.jp-Cell').filter({ hasText: 'Section 0' });
  await top.scrollIntoViewIfNeeded();
  await ask(chat, 'Run both steps');

  const first = notebook.locator('.jp-CodeCell').filter({ hasText: 'go1' });
  await expect(first).toBeInViewport({ timeout: 30_000 });

  // The person scrolls back up while the cell runs: the notebook stays there.
  await notebook.hover();
  await page.mouse.wheel(0, -100_000);
  await expect(top).toBeInViewport();
  await release(request, tmpPath, 'go1');
  const second = notebook.locator('.jp-CodeCell').filter({ hasText: 'go2' });
  await expect(second).toHaveCount(1, { timeout: 30_000 });
  await expect(second.locator('.jp-InputPrompt')).toHaveText('[*]:');
  await expect(top).toBeInViewport();
  await expect(second).not.toBeInViewport();

  await release(request, tmpPath, 'go2');
  await turnDone(chat);
});
