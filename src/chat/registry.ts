/**
 * One chat per open notebook, and the panel following the active one.
 */

import { PathExt } from '@jupyterlab/coreutils';
import type { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import type { Contents, ServerConnection } from '@jupyterlab/services';
import type { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import {
  ChatContext,
  IChatContextMessages,
  IChatDefaults,
  usableDefaults
} from '../attachments/context';
import { DEFAULT_CONTEXT_LEVEL, folderOf } from '../attachments/datafiles';
import {
  ChatModel,
  IChatModelMessages,
  ITurnEnded,
  ITurnSettings,
  runningTurn
} from './model';
import {
  isUntitledNotebook,
  slugFromQuestion,
  uniqueNotebookName
} from '../notebook/naming';
import { readChatMetadata } from '../notebook/metadata';
import { INotebookWriter, notebookMetadataStore } from '../notebook/writer';
import type { ChatPanel } from '../components/panel';
import { stateFromCells } from './reducer';

/** Construction options of NotebookChats. */
export interface INotebookChatsOptions {
  tracker: INotebookTracker;
  panel: ChatPanel;
  writer: INotebookWriter;
  serverSettings: ServerConnection.ISettings;
  /** Lists folders when a new analysis is named after its first question. */
  contents?: Contents.IManager;
  /** The person's settings, read at send time. */
  turnSettings: () => ITurnSettings;
  /** What a chat uses until it chooses (settings); read whenever needed. */
  chatDefaults?: () => IChatDefaults;
  messages: Partial<IChatModelMessages>;
  contextMessages?: Partial<IChatContextMessages>;
}

/** The conversation and the data of one notebook's chat. */
export interface INotebookChat {
  model: ChatModel;
  context: ChatContext;
}

/**
 * Keeps a chat per open notebook (so a turn keeps running, and a draft
 * survives, while another notebook is active) and shows the active one.
 */
export class NotebookChats implements IDisposable {
  constructor(options: INotebookChatsOptions) {
    this._options = options;
    options.tracker.currentChanged.connect(this._follow, this);
    options.tracker.widgetAdded.connect(this._watch, this);
    options.tracker.forEach(notebook => this._watch(options.tracker, notebook));
    this._follow();
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** Emitted when a notebook is renamed after its first question. */
  get renamed(): ISignal<this, { from: string; to: string }> {
    return this._renamed;
  }

  /** The chat of `notebook`, created on first use. */
  chatFor(notebook: NotebookPanel): INotebookChat {
    const existing = this._chats.get(notebook);
    if (existing) {
      return existing;
    }
    const { writer, serverSettings, turnSettings, messages } = this._options;
    const store = notebookMetadataStore(notebook);
    const context = new ChatContext({
      store,
      defaults: () => this._defaults(),
      notebookPath: () => notebook.context.path,
      serverSettings,
      messages: this._options.contextMessages
    });
    const model = new ChatModel({
      notebookPath: () => notebook.context.path,
      writer,
      serverSettings,
      turnSettings,
      messages,
      requestFields: () => context.requestFields(),
      turnRecords: () => context.turnRecords(),
      defaultExecutor: () => {
        const server = this._options.panel.server;
        return server.kind === 'ready' ? server.status.executor : 'kernel';
      }
    });
    model.eventApplied.connect((_, event) => context.handleEvent(event));
    context.metadataWritten.connect(() => model.markForSave());
    model.turnEnded.connect((_, ended) => {
      void this._maybeRename(notebook, ended);
    });
    const chat = { model, context };
    this._chats.set(notebook, chat);

    /** The conversation the notebook's cells and metadata record. */
    const recorded = () => {
      const cells = notebook.model?.sharedModel.toJSON().cells ?? [];
      const records = readChatMetadata(store.get()).turns ?? [];
      return stateFromCells(cells as any, records);
    };
    // The server saved a turn while no page followed: show what it wrote.
    model.diskLoaded.connect(() => model.restore(recorded(), true));

    // Reopening a notebook shows the conversation its cells record, and
    // the files its metadata lists.
    void notebook.context.ready.then(() => {
      if (model.isDisposed) {
        return;
      }
      model.restore(recorded());
      void context.load();
      // A turn may still run for it (the page was reloaded): follow it.
      void model.resume();
    });
    notebook.context.pathChanged.connect(this._follow, this);
    notebook.disposed.connect(() => {
      this._chats.delete(notebook);
      model.dispose();
      context.dispose();
      this._follow();
    });
    return chat;
  }

  /** The settings' defaults, as this server can honour them. */
  private _defaults(): IChatDefaults {
    const server = this._options.panel.server;
    return usableDefaults(
      this._options.chatDefaults?.() ?? { contextLevel: DEFAULT_CONTEXT_LEVEL },
      server.kind === 'ready' ? server.status : null
    );
  }

  /** The settings changed: chats that have not chosen follow them. */
  settingsChanged(): void {
    this._chats.forEach(chat => chat.context.defaultsChanged());
    this._follow();
  }

  /** The chat of the notebook the tracker has current, if any. */
  currentChat(): { notebook: NotebookPanel; chat: INotebookChat } | null {
    const notebook = this._options.tracker.currentWidget;
    if (!notebook || notebook.isDisposed) {
      return null;
    }
    return { notebook, chat: this.chatFor(notebook) };
  }

  /**
   * Name `notebook` after its first question once that turn is over, while
   * it still has JupyterLab's "Untitled" name (new analyses only).
   */
  nameAfterFirstQuestion(notebook: NotebookPanel): void {
    this._autoName.add(notebook);
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._options.tracker.currentChanged.disconnect(this._follow, this);
    this._options.tracker.widgetAdded.disconnect(this._watch, this);
    this._chats.forEach(chat => {
      chat.model.dispose();
      chat.context.dispose();
    });
    this._chats.clear();
    Signal.clearData(this);
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
    if (!contents || !isUntitledNotebook(PathExt.basename(path))) {
      return;
    }
    const question = ended.question.trim();
    if (question === '') {
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
      this._renamed.emit({ from: path, to: notebook.context.path });
    } catch (reason) {
      // Keeping the Untitled name is harmless; say why in the console only.
      console.warn('jupyter-nbchat: could not rename the notebook', reason);
    }
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
    const known = this._chats.get(current);
    const chat = this.chatFor(current);
    if (known) {
      // A turn may have started elsewhere (another window) meanwhile.
      void chat.model.resume();
    }
    panel.notebook = {
      key: current.id,
      name: PathExt.basename(current.context.path),
      path: current.context.path,
      model: chat.model,
      context: chat.context
    };
  }

  /**
   * A notebook opened (or restored with the page) in the background: if a
   * turn runs for it, its chat follows the turn now, so the cells land.
   */
  private _watch(_: INotebookTracker, notebook: NotebookPanel): void {
    void notebook.context.ready.then(async () => {
      if (
        this._isDisposed ||
        notebook.isDisposed ||
        this._chats.has(notebook)
      ) {
        return;
      }
      const running = await runningTurn(
        notebook.context.path,
        this._options.serverSettings
      );
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
  private readonly _chats = new Map<NotebookPanel, INotebookChat>();
  private readonly _autoName = new WeakSet<NotebookPanel>();
  private readonly _renamed = new Signal<this, { from: string; to: string }>(
    this
  );
  private _isDisposed = false;
}
