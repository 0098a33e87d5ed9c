/**
 * Shared steps of the Galata specs: the Claude stand-in's control API, files
 * through the contents API, the chat sidebar.
 */
import type { APIRequestContext, Locator, Page } from '@playwright/test';
import { expect } from '@jupyterlab/galata';
import * as fs from 'fs';
import * as path from 'path';

/** The Claude stand-in started by playwright.config.js. */
export const STANDIN = 'http://127.0.0.1:8775';

/** Fixture files of the specs. */
export const FIXTURES = path.join(__dirname, 'fixtures');

/** A scripted stand-in response (docs/protocol.md, "Claude stand-in"). */
export type StandinResponse = Record<string, unknown>;

/** A response running `code` through the run_code tool. */
export function runCode(code: string, text = ''): StandinResponse {
  const content: unknown[] = text ? [{ type: 'text', text }] : [];
  content.push({ type: 'tool_use', name: 'run_code', input: { code } });
  return { content };
}

/** A plain text response. */
export function say(text: string): StandinResponse {
  return { content: [{ type: 'text', text }] };
}

/** Clear the stand-in's queue and recordings. */
export async function resetStandin(request: APIRequestContext): Promise<void> {
  const reset = await request.post(`${STANDIN}/_standin/reset`);
  expect(reset.ok()).toBeTruthy();
}

/** Queue what the stand-in answers, one response per Messages API call. */
export async function script(
  request: APIRequestContext,
  responses: StandinResponse[]
): Promise<void> {
  const answer = await request.post(`${STANDIN}/_standin/script`, {
    data: { responses }
  });
  expect(answer.ok()).toBeTruthy();
}

/** Bodies of every Messages API call the stand-in received. */
export async function recordedBodies(
  request: APIRequestContext
): Promise<any[]> {
  const recorded = await (
    await request.get(`${STANDIN}/_standin/requests`)
  ).json();
  return recorded.requests.map((r: any) => r.body);
}

/** The system text of a recorded Messages API body. */
export function systemText(body: any): string {
  const system = body.system;
  if (typeof system === 'string') {
    return system;
  }
  return (system ?? []).map((block: any) => block.text ?? '').join('\n');
}

/** Write a file under the server root through the contents API. */
export async function putFile(
  request: APIRequestContext,
  filePath: string,
  content: string | Buffer
): Promise<void> {
  const binary = Buffer.isBuffer(content);
  const answer = await request.put(`/api/contents/${filePath}`, {
    data: {
      type: 'file',
      format: binary ? 'base64' : 'text',
      content: binary ? content.toString('base64') : content
    }
  });
  expect(answer.ok(), await answer.text()).toBeTruthy();
}

/** Copy a fixture file to `dir` on the server; returns its server path. */
export async function putFixture(
  request: APIRequestContext,
  dir: string,
  name: string
): Promise<string> {
  const target = `${dir}/${name}`;
  await putFile(request, target, fs.readFileSync(path.join(FIXTURES, name)));
  return target;
}

/**
 * A notebook's JSON as saved on the server. jupyter_server saves a notebook by
 * rewriting the file in place, so a read that lands mid-save finds it empty
 * ("Unreadable Notebook", 400): that read is taken again once the save is over.
 */
export async function savedNotebook(
  request: APIRequestContext,
  notebookPath: string
): Promise<any> {
  for (let attempt = 0; ; attempt++) {
    const answer = await request.get(`/api/contents/${notebookPath}?content=1`);
    const midSave =
      answer.status() === 400 &&
      (await answer.text()).includes('Unreadable Notebook');
    if (midSave && attempt < 20) {
      await new Promise(resolve => setTimeout(resolve, 100));
      continue;
    }
    expect(answer.ok(), await answer.text()).toBeTruthy();
    return (await answer.json()).content;
  }
}

/** The sources of a notebook's cells as saved on the server. */
export async function savedSources(
  request: APIRequestContext,
  notebookPath: string
): Promise<string[]> {
  const saved = await savedNotebook(request, notebookPath);
  return (saved.cells ?? []).map((c: any) =>
    Array.isArray(c.source) ? c.source.join('') : c.source
  );
}

/** The body of the next `POST nbchat/turns` the page sends (call before asking). */
export async function nextTurnRequest(page: Page): Promise<any> {
  const request = await page.waitForRequest(
    r => /\/nbchat\/turns(\?|$)/.test(r.url()) && r.method() === 'POST'
  );
  return request.postDataJSON();
}

/**
 * The chat lists one created file, `name` (relative to the notebook's
 * `folder`), with a download link through the server's /files route.
 */
export async function expectOneCreatedFile(
  chat: Locator,
  folder: string,
  name: string
): Promise<void> {
  const files = chat.locator('.jp-NbChat-files');
  await expect(files.locator('summary')).toHaveText('Files created (1)');
  const link = files.getByRole('link', {
    name: new RegExp(escapeRegExp(name))
  });
  await expect(link).toHaveAttribute(
    'href',
    new RegExp(`/files/${escapeRegExp(`${folder}/${name}`)}\\?download=1$`)
  );
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Open the chat sidebar; returns its locator. */
export async function openChat(page: Page): Promise<Locator> {
  await page.evaluate(async () => {
    await window.jupyterapp.commands.execute('nbchat:open');
  });
  const chat = page.locator('#jp-NbChat-panel');
  await expect(chat).toBeVisible();
  return chat;
}

/** A new notebook with the python3 kernel, and the chat beside it. */
export async function newNotebookWithChat(
  page: any,
  name: string
): Promise<Locator> {
  await page.notebook.createNew(name, { kernel: 'python3' });
  const chat = await openChat(page);
  await expect(chat.locator('.jp-NbChat-notebookName')).toHaveText(name);
  return chat;
}

/** Attach local fixture files through the "Attach file" chooser. */
export async function attachThroughChooser(
  page: Page,
  chat: Locator,
  names: string[]
): Promise<void> {
  const chooser = page.waitForEvent('filechooser');
  await chat.getByRole('button', { name: 'Attach file', exact: true }).click();
  const fileChooser = await chooser;
  expect(fileChooser.isMultiple()).toBeTruthy();
  await fileChooser.setFiles(names.map(name => path.join(FIXTURES, name)));
}

/** Type a question and send it. */
export async function ask(chat: Locator, question: string): Promise<void> {
  const box = chat.getByLabel('Ask about your data');
  await box.fill(question);
  await chat.getByRole('button', { name: 'Send' }).click();
}

/** Wait until the turn is over (the Send button is back, the status empty). */
export async function turnDone(chat: Locator): Promise<void> {
  await expect(chat.getByRole('button', { name: 'Send' })).toBeVisible({
    timeout: 60_000
  });
  await expect(chat.locator('.jp-NbChat-status')).toHaveText('', {
    timeout: 60_000
  });
}

/** The chip of an attached file. */
export function chip(chat: Locator, name: string): Locator {
  return chat.locator('.jp-NbChat-chip').filter({ hasText: name });
}

/** The visible notebook's cells container. */
export function visibleNotebook(page: Page): Locator {
  return page.locator('.jp-NotebookPanel:visible .jp-Notebook');
}

/**
 * Write a cell of one's own as a person does, whatever the chat inserts
 * meanwhile: select the notebook's last cell, add a cell below it with `B`,
 * type into it, leave edit mode. Returns the new cell's locator.
 */
export async function typeOwnCell(page: Page, text: string): Promise<Locator> {
  const notebook = visibleNotebook(page);
  await notebook.locator('.jp-Cell').last().locator('.jp-InputPrompt').click();
  await page.keyboard.press('Escape');
  await page.keyboard.press('b');
  await page.keyboard.press('Enter');
  await page.keyboard.type(text);
  await page.keyboard.press('Escape');
  const mine = notebook.locator('.jp-Cell').filter({ hasText: text });
  await expect(mine).toHaveCount(1);
  return mine;
}

/** A notebook's cells as saved, reduced to what a person sees and keeps. */
export async function savedCells(
  request: APIRequestContext,
  notebookPath: string
): Promise<any[]> {
  const saved = await savedNotebook(request, notebookPath);
  return (saved.cells ?? []).map((c: any) => ({
    id: c.id,
    cell_type: c.cell_type,
    source: Array.isArray(c.source) ? c.source.join('') : c.source,
    outputs: c.outputs ?? null,
    execution_count: c.execution_count ?? null
  }));
}

/**
 * Code that waits until `name` exists next to the notebook: a cell that
 * outlasts whatever the test does meanwhile (a page reload) on any machine,
 * however busy, until the test calls `release`.
 */
export function waitForFile(name: string): string {
  return `import os, time\nwhile not os.path.exists(${JSON.stringify(name)}):\n    time.sleep(0.1)`;
}

/** Let a cell waiting in `waitForFile(name)` go on. */
export async function release(
  request: APIRequestContext,
  folder: string,
  name: string
): Promise<void> {
  await putFile(request, `${folder}/${name}`, '');
}
