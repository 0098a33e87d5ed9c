/**
 * The panel after a turn with a table and a plot, captured in the light and
 * dark themes (test artefacts: test-results/…/panel-*.png).
 */
import { expect, test } from '@jupyterlab/galata';

import { attachThroughChooser, chip } from './helpers';

const STANDIN = 'http://127.0.0.1:8775';
const CODE = [
  'import pandas as pd',
  'import matplotlib.pyplot as plt',
  "shoes = pd.DataFrame({'gender': ['men', 'women', 'women', 'men', 'women']})",
  "counts = shoes['gender'].value_counts()",
  'display(counts.to_frame())',
  'print((counts / counts.sum()).round(2).to_dict())',
  "counts.plot.pie(autopct='%1.0f%%')",
  'plt.show()'
].join('\n');

test('panel in light and dark themes', async ({ page, request }, testInfo) => {
  await request.post(`${STANDIN}/_standin/reset`);
  await request.post(`${STANDIN}/_standin/script`, {
    data: {
      responses: [
        {
          content: [
            { type: 'text', text: 'I will count shoes per gender.' },
            { type: 'tool_use', name: 'run_code', input: { code: CODE } }
          ]
        },
        {
          content: [
            {
              type: 'text',
              text: 'Cell [1] counted **3 pairs for women** and **2 for men**; the pie chart shows 60% / 40%.'
            }
          ]
        }
      ]
    }
  });

  await page.notebook.createNew('shoes.ipynb', { kernel: 'python3' });
  await page.evaluate(async () => {
    await window.jupyterapp.commands.execute('nbchat:open');
  });
  const chat = page.locator('#jp-NbChat-panel');
  await attachThroughChooser(page, chat, ['shoes.csv']);
  await expect(chip(chat, 'shoes.csv')).toContainText('3 rows × 12 cols');
  await chat
    .getByLabel('Ask about your data')
    .fill('How many shoes are for men and for women, as a pie chart?');
  await chat.getByRole('button', { name: 'Send' }).click();
  await expect(chat.getByText('3 pairs for women')).toBeVisible({
    timeout: 60_000
  });
  const notebook = page.locator('.jp-NotebookPanel:visible .jp-Notebook');
  await expect(notebook.locator('.jp-OutputArea-output img')).toHaveCount(1);
  // The plot shows in the chat too, under its cell.
  await expect(
    chat.locator(
      '.jp-NbChat-cell .jp-NbChat-image img[alt="Plot from cell [1]"]'
    )
  ).toBeVisible();

  for (const [theme, name] of [
    ['JupyterLab Light', 'light'],
    ['JupyterLab Dark', 'dark']
  ]) {
    await page.theme.setTheme(theme);
    // The theme's CSS may still be swapping in: wait until the panel wears it.
    await expect
      .poll(() =>
        chat.evaluate(node => {
          const rgb = getComputedStyle(node).backgroundColor.match(/\d+/g)!;
          return rgb.slice(0, 3).reduce((sum, c) => sum + Number(c), 0) > 384
            ? 'light'
            : 'dark';
        })
      )
      .toBe(name);
    const path = testInfo.outputPath(`panel-${name}.png`);
    await page.screenshot({ path });
    await testInfo.attach(`panel-${name}`, { path, contentType: 'image/png' });
  }
});
