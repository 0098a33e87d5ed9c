/**
 * One chat per open notebook, and the panel following the active one.
 */

import { PathExt } from '@jupyterlab/coreutils';
import type { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import type { ServerConnection } from '@jupyterlab/services';
import type { IDisposable } from '@lumino/disposable';

import { ChatModel, IChatModelMessages, ITurnSettings } from './model';
import type { INotebookWriter } from './notebook';
import type { ChatPanel } from './panel';
import { stateFromCells } from './reducer';

/** Construction options of NotebookChats. */
export interface INotebookChatsOptions {
  tracker: INotebookTracker;
  panel: ChatPanel;
  writer: INotebookWriter;
  serverSettings: ServerConnection.ISettings;
  /** The person's settings, read at send time. */
  turnSettings: () => ITurnSettings;
  messages: Partial<IChatModelMessages>;
}

/**
 * Keeps a ChatModel per open notebook (so a turn keeps running, and a draft
 * survives, while another notebook is active) and shows the active one.
 */
export class NotebookChats implements IDisposable {
  constructor(options: INotebookChatsOptions) {
    this._options = options;
    options.tracker.currentChanged.connect(this._follow, this);
    this._follow();
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** The chat of `notebook`, created on first use. */
  chatFor(notebook: NotebookPanel): ChatModel {
    let chat = this._chats.get(notebook);
    if (chat) {
      return chat;
    }
    const { writer, serverSettings, turnSettings, messages } = this._options;
    const created = new ChatModel({
      notebookPath: () => notebook.context.path,
      writer,
      serverSettings,
      turnSettings,
      messages
    });
    chat = created;
    this._chats.set(notebook, created);

    // Reopening a notebook shows the conversation its cells record.
    void notebook.context.ready.then(() => {
      const cells = notebook.model?.sharedModel.toJSON().cells ?? [];
      created.restore(stateFromCells(cells as any));
    });
    notebook.context.pathChanged.connect(this._follow, this);
    notebook.disposed.connect(() => {
      this._chats.delete(notebook);
      created.dispose();
      this._follow();
    });
    return created;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._options.tracker.currentChanged.disconnect(this._follow, this);
    this._chats.forEach(chat => chat.dispose());
    this._chats.clear();
  }

  /** Show the chat of the tracker's current notebook (or the empty state). */
  private _follow(): void {
    if (this._isDisposed) {
      return;
    }
    const current = this._options.tracker.currentWidget;
    const panel = this._options.panel;
    if (!current || current.isDisposed) {
      panel.notebook = null;
      return;
    }
    panel.notebook = {
      key: current.id,
      name: PathExt.basename(current.context.path),
      model: this.chatFor(current)
    };
  }

  private readonly _options: INotebookChatsOptions;
  private readonly _chats = new Map<NotebookPanel, ChatModel>();
  private _isDisposed = false;
}
