/**
 * One chat per open notebook, and which one the sidebar shows.
 */

import { PathExt } from '@jupyterlab/coreutils';
import type { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import type { Contents } from '@jupyterlab/services';
import type { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { errorMessage, NbChatApi } from '../api/client';
import type { IDatabaseList, IStatus } from '../api/types';
import { folderOf } from '../attachments/datafiles';
import { NotebookDocument } from '../notebook/document';
import {
  isUntitledNotebook,
  slugFromQuestion,
  uniqueNotebookName
} from '../notebook/naming';
import { EditedChoice, ITurnEnded, NotebookChat } from './chat';
import type { IChatMessages } from './messages';
import { policyOf } from './policy';
import { IChatDefaults, ITurnSettings, usableDefaults } from './settings';

/** What the panel knows about the server extension. */
export type ServerState =
  | { kind: 'loading' }
  | { kind: 'ready'; status: IStatus }
  | { kind: 'unreachable'; message: string };

/** The chat the sidebar shows, with its notebook's names. */
export interface ICurrentChat {
  /** Stable key (the notebook widget's id). */
  key: string;
  /** File name shown in the header. */
  name: string;
  /** Path relative to the server root. */
  path: string;
  chat: NotebookChat;
}

/** Construction options of NotebookChats. */
export interface INotebookChatsOptions {
  tracker: INotebookTracker;
  api: NbChatApi;
  /** Lists folders (new analyses named after their first question) and reads files. */
  contents?: Contents.IManager;
  /** The person's settings, read at send time. */
  settings: () => ITurnSettings;
  /** What a chat uses until it chooses (settings); read whenever needed. */
  defaults: () => IChatDefaults;
  messages: IChatMessages;
  /** Asks whether cells the person edited go too when a turn is undone. */
  confirmEdited?: (count: number) => Promise<EditedChoice>;
}

/**
 * Keeps a chat per open notebook (so a turn keeps running, and a draft
 * survives, while another notebook is active) and follows the active one.
 */
export class NotebookChats implements IDisposable {
  constructor(options: INotebookChatsOptions) {
    this._options = options;
    const { tracker, api } = options;
    tracker.currentChanged.connect(this._follow, this);
    tracker.widgetAdded.connect(this._watch, this);
    tracker.forEach(notebook => this._watch(tracker, notebook));
    this._follow();
    // Not awaited: nothing waits on the network.
    api.status().then(
      status => this._setServer({ kind: 'ready', status }),
      reason =>
        this._setServer({ kind: 'unreachable', message: errorMessage(reason) })
    );
    // The named database connections (their names only) the panel offers.
    api.databases().then(
      list => this._setDatabases(list),
      reason => console.warn('jupyter-nbchat: no database connections', reason)
    );
  }

  /** Emitted when the current chat or the server state changes. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** What is known about the server extension. */
  get server(): ServerState {
    return this._server;
  }

  /** The chat of the active notebook, or null when none is active. */
  get current(): ICurrentChat | null {
    return this._current;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** The chat of `notebook`, created on first use. */
  chatFor(notebook: NotebookPanel): NotebookChat {
    const existing = this._chats.get(notebook);
    if (existing) {
      return existing;
    }
    const { api, contents, settings, messages, confirmEdited } = this._options;
    const chat = new NotebookChat({
      doc: new NotebookDocument(notebook, contents),
      api,
      settings,
      defaults: () => this._defaults(),
      serverExecutor: () =>
        this._server.kind === 'ready' ? this._server.status.executor : 'kernel',
      policy: () =>
        this._server.kind === 'ready' ? policyOf(this._server.status) : null,
      confirmEdited,
      databases: () => this._databases,
      messages
    });
    this._chats.set(notebook, chat);
    chat.turnEnded.connect((_, ended) => {
      void this._maybeRename(notebook, ended);
    });
    // Reopening a notebook shows the conversation it records, its files,
    // and follows a turn that still runs for it.
    void notebook.context.ready.then(() => {
      if (!chat.isDisposed) {
        void chat.load();
      }
    });
    notebook.context.pathChanged.connect(this._follow, this);
    notebook.disposed.connect(() => {
      this._chats.delete(notebook);
      chat.dispose();
      this._follow();
    });
    return chat;
  }

  /**
   * Name `notebook` after its first question once that turn is over, while
   * it still has JupyterLab's "Untitled" name (new analyses only).
   */
  nameAfterFirstQuestion(notebook: NotebookPanel): void {
    this._autoName.add(notebook);
  }

  /** The settings changed: chats that have not chosen follow them. */
  settingsChanged(): void {
    this._chats.forEach(chat => chat.settingsChanged());
    this._follow();
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._options.tracker.currentChanged.disconnect(this._follow, this);
    this._options.tracker.widgetAdded.disconnect(this._watch, this);
    this._chats.forEach(chat => chat.dispose());
    this._chats.clear();
    Signal.clearData(this);
  }

  /** The settings' defaults, as this server can honour them. */
  private _defaults(): IChatDefaults {
    const server = this._server;
    return usableDefaults(
      this._options.defaults(),
      server.kind === 'ready' ? server.status : null
    );
  }

  private _setServer(server: ServerState): void {
    this._server = server;
    if (!this._isDisposed) {
      // Chats that have not chosen may now run elsewhere.
      this._chats.forEach(chat => chat.settingsChanged());
      this._changed.emit();
    }
  }

  private _setDatabases(list: IDatabaseList): void {
    this._databases = list;
    if (!this._isDisposed) {
      this._chats.forEach(chat => chat.databases.recordChanged());
      this._changed.emit();
    }
  }

  private async _maybeRename(
    notebook: NotebookPanel,
    ended: ITurnEnded
  ): Promise<void> {
    if (!this._autoName.has(notebook) || notebook.isDisposed) {
      return;
    }
    this._autoName.delete(notebook);
    const contents = this._options.contents;
    const path = notebook.context.path;
    const question = ended.question.trim();
    if (!contents || !isUntitledNotebook(PathExt.basename(path)) || !question) {
      return;
    }
    try {
      const folder = await contents.get(folderOf(path), { content: true });
      const taken = (folder.content as Contents.IModel[]).map(m => m.name);
      const name = uniqueNotebookName(slugFromQuestion(question), taken);
      if (notebook.isDisposed || notebook.context.path !== path) {
        return;
      }
      await notebook.context.rename(name);
    } catch (reason) {
      // Keeping the Untitled name is harmless; say why in the console only.
      console.warn('jupyter-nbchat: could not rename the notebook', reason);
    }
  }

  /** Show the chat of the tracker's current notebook (or none). */
  private _follow(): void {
    if (this._isDisposed) {
      return;
    }
    const notebook = this._options.tracker.currentWidget;
    if (!notebook || notebook.isDisposed) {
      this._current = null;
    } else {
      const known = this._chats.has(notebook);
      const chat = this.chatFor(notebook);
      if (known) {
        // A turn may have started elsewhere (another window) meanwhile.
        void chat.resume();
      }
      this._current = {
        key: notebook.id,
        name: PathExt.basename(notebook.context.path),
        path: notebook.context.path,
        chat
      };
    }
    this._changed.emit();
  }

  /**
   * A notebook opened (or restored with the page) in the background: if a
   * turn runs for it, its chat follows the turn now, so the cells land.
   */
  private _watch(_: INotebookTracker, notebook: NotebookPanel): void {
    void notebook.context.ready.then(async () => {
      if (this._isDisposed || this._chats.has(notebook)) {
        return;
      }
      let running = false;
      try {
        const turns = await this._options.api.turns(notebook.context.path);
        running = turns[turns.length - 1]?.status === 'running';
      } catch {
        // The server did not answer: nothing to follow.
      }
      if (
        running &&
        !this._isDisposed &&
        !notebook.isDisposed &&
        !this._chats.has(notebook)
      ) {
        this.chatFor(notebook);
      }
    });
  }

  private readonly _options: INotebookChatsOptions;
  private readonly _chats = new Map<NotebookPanel, NotebookChat>();
  private readonly _autoName = new WeakSet<NotebookPanel>();
  private readonly _changed = new Signal<this, void>(this);
  private _server: ServerState = { kind: 'loading' };
  private _databases: IDatabaseList | null = null;
  private _current: ICurrentChat | null = null;
  private _isDisposed = false;
}
