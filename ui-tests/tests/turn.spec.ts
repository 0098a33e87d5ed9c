/**
 * One whole turn in real JupyterLab: the question goes to the (stand-in)
 * Claude, its code runs in the notebook's python3 kernel, the cell lands in
 * the notebook with its output and the answer shows in the chat.
 */
import { expect, test } from '@jupyterlab/galata';

import { savedSources, typeOwnCell } from './helpers';

const STANDIN = 'http://127.0.0.1:8775';
const QUESTION = 'What is six times seven?';
const CODE = 'x = 6 * 7\nprint(f"x is {x}")';

test.beforeEach(async ({ request }) => {
  const reset = await request.post(`${STANDIN}/_standin/reset`);
  expect(reset.ok()).toBeTruthy();
});

test('a question becomes a run code cell and an answer', async ({
  page,
  request,
  tmpPath
}) => {
  const script = await request.post(`${STANDIN}/_standin/script`, {
    data: {
      responses: [
        {
          content: [
            { type: 'text', text: 'Let me compute that.' },
            { type: 'tool_use', name: 'run_code', input: { code: CODE } }
          ]
        },
        { content: [{ type: 'text', text: 'The answer is 42.' }] }
      ]
    }
  });
  expect(script.ok()).toBeTruthy();

  const name = 'six.ipynb';
  await page.notebook.createNew(name, { kernel: 'python3' });
  await page.evaluate(async () => {
    await window.jupyterapp.commands.execute('nbchat:open');
  });

  const chat = page.locator('#jp-NbChat-panel');
  await expect(chat).toBeVisible();
  await expect(chat.locator('.jp-NbChat-notebookName')).toHaveText(name);

  const box = chat.getByLabel('Ask about your data');
  await expect(box).toBeFocused();
  await box.fill(QUESTION);
  await chat.getByRole('button', { name: 'Send' }).click();

  await expect(chat.getByText('The answer is 42.')).toBeVisible({
    timeout: 60_000
  });
  await expect(chat.locator('.jp-NbChat-cell')).toContainText('x is 42');
  // Today's model returns its note before the tool call as thinking: the panel shows it,
  // apart from the answer (the server asks for that text; llm/models.thinking_config).
  await expect(chat.locator('.jp-NbChat-thinking')).toHaveText(
    'Let me compute that.'
  );
  await expect(box).toHaveValue('');
  await expect(chat.getByRole('button', { name: 'Send' })).toBeVisible();

  // The notebook gained the code cell with its real output.
  const notebook = page.locator('.jp-NotebookPanel:visible .jp-Notebook');
  const codeCell = notebook
    .locator('.jp-CodeCell')
    .filter({ hasText: 'x = 6 * 7' });
  await expect(codeCell).toHaveCount(1);
  await expect(codeCell.locator('.jp-OutputArea-output')).toContainText(
    'x is 42'
  );

  // …and the panel saved it once the turn finished.
  await expect
    .poll(
      async () =>
        (await savedSources(request, `${tmpPath}/${name}`)).join('\n'),
      { timeout: 15_000 }
    )
    .toContain('x = 6 * 7');

  // Claude was offered the run_code tool and was asked the question.
  const recorded = await (
    await request.get(`${STANDIN}/_standin/requests`)
  ).json();
  const bodies: any[] = recorded.requests.map((r: any) => r.body);
  expect(bodies.length).toBeGreaterThanOrEqual(2);
  expect(
    bodies.some(
      body =>
        (body.tools ?? []).some((tool: any) => tool.name === 'run_code') &&
        JSON.stringify(body.messages).includes(QUESTION)
    )
  ).toBeTruthy();

  // Reopened, the notebook's own cells rebuild the conversation.
  await page.notebook.close(true);
  await expect(chat.getByText('Open a notebook to start')).toBeVisible();
  await page.notebook.openByPath(`${tmpPath}/${name}`);
  await expect(chat.locator('.jp-NbChat-question')).toHaveText(QUESTION);
  await expect(chat.locator('.jp-NbChat-answer')).toContainText(
    'The answer is 42.'
  );
});

test('an HTTP error shows the server message and keeps the question', async ({
  page
}) => {
  await page.notebook.createNew('refused.ipynb', { kernel: 'python3' });
  await page.evaluate(async () => {
    await window.jupyterapp.commands.execute('nbchat:open');
  });
  const chat = page.locator('#jp-NbChat-panel');
  const box = chat.getByLabel('Ask about your data');
  // 20000 characters is the protocol's limit for a question.
  const tooLong = 'x'.repeat(20_001);
  await box.fill(tooLong);
  await box.press('Enter');

  await expect(chat.locator('.jp-NbChat-error')).toContainText('question');
  await expect(box).toHaveValue(tooLong);
});

test('Stop ends a running turn', async ({ page, request }) => {
  await request.post(`${STANDIN}/_standin/script`, {
    data: {
      responses: [
        {
          chunk_delay: 0.05,
          content: [
            { type: 'text', text: 'This will take a while.' },
            {
              type: 'tool_use',
              name: 'run_code',
              input: { code: 'import time\ntime.sleep(120)\nprint("woke up")' }
            }
          ]
        },
        { content: [{ type: 'text', text: 'Never reached.' }] }
      ]
    }
  });
  await page.notebook.createNew('stop.ipynb', { kernel: 'python3' });
  await page.evaluate(async () => {
    await window.jupyterapp.commands.execute('nbchat:open');
  });
  const chat = page.locator('#jp-NbChat-panel');
  await chat.getByLabel('Ask about your data').fill('Sleep, please.');
  await chat.getByLabel('Ask about your data').press('Enter');

  await expect(chat.locator('.jp-NbChat-status')).toHaveText(
    /^Running cell 1 of this turn… \d+ s$/,
    {
      timeout: 30_000
    }
  );
  // The status line counts the seconds the cell has run.
  await expect(chat.locator('.jp-NbChat-status')).toHaveText(
    /^Running cell 1 of this turn… [2-9] s$/,
    { timeout: 15_000 }
  );
  await expect(chat.locator('.jp-NbChat-code')).toContainText(
    'time.sleep(120)'
  );
  await chat.getByRole('button', { name: 'Stop' }).click();

  await expect(chat.getByText('Stopped.')).toBeVisible({ timeout: 30_000 });
  await expect(chat.getByRole('button', { name: 'Send' })).toBeVisible();
  await expect(chat.locator('.jp-NbChat-status')).toHaveText('');
});

test('a fixed cell takes the place of the failed one', async ({
  page,
  request
}) => {
  await request.post(`${STANDIN}/_standin/script`, {
    data: {
      responses: [
        {
          content: [
            {
              type: 'tool_use',
              name: 'run_code',
              input: { code: 'print(undefined_total)' }
            }
          ]
        },
        {
          content: [
            {
              type: 'tool_use',
              name: 'run_code',
              input: {
                code: 'undefined_total = 5\nprint("total", undefined_total)'
              }
            }
          ]
        },
        { content: [{ type: 'text', text: 'The total is 5.' }] }
      ]
    }
  });
  await page.notebook.createNew('fix.ipynb', { kernel: 'python3' });
  await page.evaluate(async () => {
    await window.jupyterapp.commands.execute('nbchat:open');
  });
  const chat = page.locator('#jp-NbChat-panel');
  await chat.getByLabel('Ask about your data').fill('What is the total?');
  await chat.getByRole('button', { name: 'Send' }).click();

  await expect(chat.locator('.jp-NbChat-answer')).toContainText(
    'The total is 5.',
    { timeout: 60_000 }
  );
  await expect(chat.locator('.jp-NbChat-cell.jp-mod-replaced')).toContainText(
    'NameError'
  );
  await expect(chat.getByText(/Fixed cell \[\d+\] executed/)).toBeVisible();

  const notebook = page.locator('.jp-NotebookPanel:visible .jp-Notebook');
  await expect(
    notebook.locator('.jp-CodeCell').filter({ hasText: 'total' })
  ).toHaveCount(1);
  await expect(notebook.locator('.jp-OutputArea-output')).toContainText([
    'total 5'
  ]);
  await expect(notebook).not.toContainText('NameError');
});

test('code streams in while the person types in the notebook; both are kept', async ({
  page,
  request,
  tmpPath
}) => {
  const lines = Array.from(
    { length: 12 },
    (_, i) => `step_${i} = ${i} * 2  # one line of a longer cell`
  );
  lines.push('print("last step", step_11)');
  await request.post(`${STANDIN}/_standin/script`, {
    data: {
      responses: [
        {
          chunk_delay: 0.12,
          content: [
            {
              type: 'tool_use',
              name: 'run_code',
              input: { code: lines.join('\n') }
            }
          ]
        },
        { content: [{ type: 'text', text: 'All steps ran.' }] }
      ]
    }
  });
  const name = 'stream.ipynb';
  await page.notebook.createNew(name, { kernel: 'python3' });
  await page.evaluate(async () => {
    await window.jupyterapp.commands.execute('nbchat:open');
  });
  const chat = page.locator('#jp-NbChat-panel');
  await chat.getByLabel('Ask about your data').fill('Run the steps');
  await chat.getByRole('button', { name: 'Send' }).click();

  // Part of the code is shown before Claude has finished writing it.
  const writing = chat.locator('.jp-NbChat-code.jp-mod-writing');
  await expect(writing).toContainText('step_0 = 0 * 2', { timeout: 30_000 });
  await expect(writing).not.toContainText('last step');
  await expect(chat.locator('.jp-NbChat-status')).toHaveText('Writing code…');

  // Meanwhile the person writes a cell of their own, as a person does: by
  // the cell they have selected, not by an index the chat's cells shift.
  await typeOwnCell(page, 'mine = "typed during the turn"');

  await expect(chat.getByText('All steps ran.')).toBeVisible({
    timeout: 60_000
  });
  await expect(chat.locator('.jp-NbChat-cell')).toContainText('last step 22');
  // Finished code is highlighted like the notebook's cells.
  const code = chat.locator('.jp-NbChat-code .jp-NbChat-highlighted');
  await expect(code).toContainText('print("last step", step_11)');
  expect(await code.locator('span').count()).toBeGreaterThan(5);
  const notebook = page.locator('.jp-NotebookPanel:visible .jp-Notebook');
  await expect(
    notebook.locator('.jp-Cell').filter({ hasText: 'typed during the turn' })
  ).toHaveCount(1);
  await expect(page.locator('.jp-Dialog')).toHaveCount(0);

  // Saved at the end of the turn, the person's cell included.
  await expect
    .poll(() => savedSources(request, `${tmpPath}/${name}`), {
      timeout: 15_000
    })
    .toEqual(
      expect.arrayContaining([
        'mine = "typed during the turn"',
        lines.join('\n'),
        '**Answer**\n\nAll steps ran.'
      ])
    );
});
