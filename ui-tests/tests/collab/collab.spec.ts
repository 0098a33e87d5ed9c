/**
 * Two people on one notebook with jupyter-collaboration installed. The one who
 * asks leaves mid-turn; the server writes the turn through the collaboration
 * room while the other keeps typing: nothing they typed is lost, nothing they
 * deleted comes back, the turn lands once, its question rendered as markdown.
 */
import { expect, test } from '@jupyterlab/galata';
import { Page } from '@playwright/test';

import {
  ask,
  openChat,
  putFile,
  resetStandin,
  runCode,
  say,
  script
} from '../helpers';

const QUESTION = 'What is six times seven?';

/** The notebook area of a page that opened it by URL. */
function notebookOf(page: Page) {
  return page.locator('.jp-NotebookPanel:visible .jp-Notebook');
}

test('a turn the server writes keeps what a collaborator types', async ({
  browser,
  baseURL,
  request,
  tmpPath
}) => {
  test.setTimeout(240_000);
  await resetStandin(request);
  // Long enough a cell for the asker to leave while it runs.
  await script(request, [
    runCode('import time\ntime.sleep(4)\nprint(6 * 7)'),
    say('Cell [1]: 42.')
  ]);
  const name = 'together.ipynb';
  const notebook = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: {
        name: 'python3',
        display_name: 'Python 3',
        language: 'python'
      }
    },
    cells: [
      {
        id: 'doomed',
        cell_type: 'markdown',
        metadata: {},
        source: 'delete me'
      },
      {
        id: 'typed',
        cell_type: 'code',
        metadata: {},
        source: 'total = 1',
        outputs: [],
        execution_count: null
      }
    ]
  };
  await putFile(request, `${tmpPath}/${name}`, JSON.stringify(notebook));

  // Two people open it, each in their own browser: one asks, the other types.
  // `?reset`: a fresh workspace, not one that remembers an earlier test's folder.
  const url = `${baseURL}/lab/tree/${tmpPath}/${name}?reset`;
  const askerContext = await browser.newContext();
  const asker = await askerContext.newPage();
  await asker.goto(url);
  await expect(notebookOf(asker).locator('.jp-Cell')).toHaveCount(2, {
    timeout: 60_000
  });
  const chat = await openChat(asker);
  const context = await browser.newContext();
  const other = await context.newPage();
  await other.goto(url);
  const theirs = notebookOf(other);
  await expect(theirs.locator('.jp-Cell')).toHaveCount(2, { timeout: 60_000 });

  await ask(chat, QUESTION);
  await expect(theirs.locator('.jp-Cell')).toHaveCount(4, { timeout: 60_000 });
  await askerContext.close(); // the asker leaves mid-turn

  // Meanwhile the other person deletes a cell and types through the server's
  // write (about ten seconds after the turn ends).
  await theirs.locator('.jp-Cell').first().locator('.jp-InputPrompt').click();
  await other.keyboard.press('Escape');
  await other.keyboard.press('d');
  await other.keyboard.press('d');
  await expect(
    theirs.locator('.jp-Cell').filter({ hasText: 'delete me' })
  ).toHaveCount(0);
  const typed = theirs.locator('.jp-Cell').filter({ hasText: 'total = 1' });
  await typed.locator('.jp-InputArea-editor').click();
  await other.keyboard.press('End');
  // Never a pause long enough for the room to save (one second): whatever the
  // server does meanwhile, the file lags behind what this person typed.
  const answer = theirs.locator('.jp-Cell').filter({ hasText: '42.' });
  let text = ' + 41  #';
  await other.keyboard.type(text);
  for (let i = 0; (await answer.count()) === 0; i++) {
    expect(i, 'the server never wrote the turn').toBeLessThan(1500);
    const ch = String(i % 10);
    await other.keyboard.type(ch);
    text += ch;
    await other.waitForTimeout(100);
  }
  await other.keyboard.type(' ok');
  text += ' ok';
  await other.waitForTimeout(2500); // past the room's save: a reload from the file would show now

  await expect(typed.locator('.jp-InputArea-editor')).toHaveText(
    'total = 1' + text
  );
  await expect(
    theirs.locator('.jp-Cell').filter({ hasText: 'delete me' })
  ).toHaveCount(0);
  const question = theirs
    .locator('.jp-MarkdownCell')
    .filter({ hasText: QUESTION });
  await expect(question).toHaveCount(1);
  await expect(question).toHaveClass(/jp-mod-rendered/);
  const code = theirs
    .locator('.jp-CodeCell')
    .filter({ hasText: 'print(6 * 7)' });
  await expect(code).toHaveCount(1);
  await expect(code.locator('.jp-OutputArea-output')).toHaveText('42');
  await expect(theirs.locator('.jp-Cell')).toHaveCount(4);
  await context.close();
});
