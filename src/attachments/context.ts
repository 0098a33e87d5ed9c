/**
 * What a chat works with besides its conversation: the attached data files
 * (and what Claude is told about them), the executor, its live variables and
 * the files its cells created. No React here; views listen to `changed`.
 *
 * The notebook is the record: attachments, context level, executor choice,
 * executor state and usage live in its `metadata.nbchat` (see metadata.ts),
 * read and written through an IMetadataStore.
 */

import type { ServerConnection } from '@jupyterlab/services';
import { JSONExt } from '@lumino/coreutils';
import type { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { DEFAULT_CONTEXT_LEVEL, folderOf } from './datafiles';
import {
  addTurnUsage,
  applyManifest,
  attachmentFromSummary,
  contextId,
  emptyMetadata,
  IAttachment,
  IChatMetadata,
  readChatMetadata,
  sandboxId,
  turnTotals,
  upsertTurnRecord,
  writeChatMetadata
} from '../notebook/metadata';
import { NbChatRequestError, requestAPI } from '../api/client';
import type {
  ContextLevel,
  Executor,
  IChangedFile,
  IInspectRequest,
  IInspectResult,
  IStatus,
  ITurnRecord,
  ITurnRequest,
  IVariable,
  IVariables,
  IWarmRequest,
  TurnEvent
} from '../api/types';
import { uploadFile } from './upload';

/** The chat's own fields of each TurnRequest and WarmRequest. */
export type ChatRequestFields = Pick<
  ITurnRequest,
  'attachments' | 'context_level' | 'executor' | 'sandbox_id' | 'context_id'
>;

/** Where `metadata.nbchat` of one notebook is read and written. */
export interface IMetadataStore {
  /** The raw `metadata.nbchat` value (anything; undefined when absent). */
  get(): unknown;
  /** Replace `metadata.nbchat`. */
  set(value: Record<string, any>): void;
  /** Emitted when the notebook's metadata changes (from anywhere). */
  readonly changed: ISignal<any, any>;
}

/** The HTTP call the context makes (requestAPI in the app, a fake in tests). */
export type RequestFn = <T>(endpoint: string, init?: RequestInit) => Promise<T>;

/** Uploads one file and resolves with its summary (uploadFile in the app). */
export type UploadFn = typeof uploadFile;

/** Messages the context shows (translated by the caller). */
export interface IChatContextMessages {
  uploadFailed: string;
  uploadCancelled: string;
  /** Warming the executor failed; `%1` is the server's message. */
  warmFailed: string;
}

const DEFAULT_MESSAGES: IChatContextMessages = {
  uploadFailed: 'The upload did not complete.',
  uploadCancelled: 'Upload cancelled.',
  warmFailed: 'Could not prepare the executor: %1'
};

/** A file being uploaded from the computer. */
export interface IUploadState {
  id: number;
  name: string;
  /** 0..1 */
  progress: number;
}

/** A problem shown next to the attach area until dismissed. */
export interface IAttachError {
  id: number;
  message: string;
  /** The file it is about, when there is one ('' otherwise). */
  name: string;
}

/** Everything the attach area, footer and sections render. */
export interface IChatContextState {
  /** The chat's record as in the notebook. */
  meta: IChatMetadata;
  /** What Claude will be told about the attachments ('' with none). */
  prompt: string;
  /** An inspect request is in flight (the prompt may change). */
  inspecting: boolean;
  uploads: readonly IUploadState[];
  errors: readonly IAttachError[];
  /** A soft warning about the executor (warm failed), or ''. */
  executorWarning: string;
  /** Live variables; null before the first look. */
  variables: readonly IVariable[] | null;
  variablesLoading: boolean;
  variablesError: string;
  /** Files the chat's cells created or changed, newest last. */
  filesCreated: readonly IChangedFile[];
  restarting: boolean;
}

/** What a chat uses until it chooses otherwise (the person's settings). */
export interface IChatDefaults {
  contextLevel: ContextLevel;
  /** Where code runs; undefined: the server's default. */
  executor?: Executor;
}

/**
 * `defaults` without an E2B default on a server that has no E2B key: such a
 * chat runs where the server says rather than failing every turn.
 */
export function usableDefaults(
  defaults: IChatDefaults,
  status: Pick<IStatus, 'e2b_available'> | null
): IChatDefaults {
  if (defaults.executor === 'e2b' && status && !status.e2b_available) {
    return { ...defaults, executor: undefined };
  }
  return defaults;
}

/** Construction options of ChatContext. */
export interface IChatContextOptions {
  store: IMetadataStore;
  /** Read whenever needed, so a changed setting applies to chats that have not chosen. */
  defaults?: () => IChatDefaults;
  /** The notebook's current path (read when needed, so renames are followed). */
  notebookPath: () => string;
  serverSettings?: ServerConnection.ISettings;
  request?: RequestFn;
  upload?: UploadFn;
  messages?: Partial<IChatContextMessages>;
}

/** The data files, executor and outputs of one notebook's chat. */
export class ChatContext implements IDisposable {
  constructor(options: IChatContextOptions) {
    this._store = options.store;
    this._notebookPath = options.notebookPath;
    this._serverSettings = options.serverSettings;
    this._request =
      options.request ??
      (<T>(endpoint: string, init: RequestInit = {}) =>
        requestAPI<T>(endpoint, init, this._serverSettings));
    this._upload = options.upload ?? uploadFile;
    this._defaults =
      options.defaults ?? (() => ({ contextLevel: DEFAULT_CONTEXT_LEVEL }));
    this._messages = { ...DEFAULT_MESSAGES, ...options.messages };
    this._state = {
      meta: this._readMeta(),
      prompt: '',
      inspecting: false,
      uploads: [],
      errors: [],
      executorWarning: '',
      variables: null,
      variablesLoading: false,
      variablesError: '',
      filesCreated: [],
      restarting: false
    };
    this._store.changed.connect(this._onMetadataChanged, this);
  }

  /** Emitted whenever `state` changes. */
  get changed(): ISignal<this, IChatContextState> {
    return this._changed;
  }

  get state(): IChatContextState {
    return this._state;
  }

  /** The attached files, in the order they were attached. */
  get attachments(): readonly IAttachment[] {
    return this._state.meta.attachments;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** Emitted after this context wrote the notebook's metadata. */
  get metadataWritten(): ISignal<this, void> {
    return this._metadataWritten;
  }

  /**
   * The notebook is loaded: show what Claude will see about its recorded
   * attachments (re-read from disk) and get their executor ready.
   */
  async load(): Promise<void> {
    this._setState({ meta: this._readMeta() });
    if (this.attachments.length > 0) {
      await this.refreshPreview();
      this.warm();
    }
  }

  /** The fields every TurnRequest (and warm request) of this chat carries. */
  requestFields(): ChatRequestFields {
    const meta = this._state.meta;
    const fields: ChatRequestFields = {
      attachments: meta.attachments.map(a => a.path),
      context_level: meta.context_level
    };
    const executor = meta.executor ?? this._defaults().executor;
    if (executor) {
      fields.executor = executor;
    }
    // The executor's state as the server last sent it, so it can reconnect.
    const sandbox = sandboxId(meta);
    if (sandbox) {
      fields.sandbox_id = sandbox;
    }
    const context = contextId(meta);
    if (context) {
      fields.context_id = context;
    }
    return fields;
  }

  /** The chat's executor choice, else the setting's; undefined: the server's default. */
  get executor(): Executor | undefined {
    return this._state.meta.executor ?? this._defaults().executor;
  }

  /** Questions and answers of the turns asked with question/answer cells off. */
  turnRecords(): ITurnRecord[] {
    return (this._state.meta.turns ?? []).map(r => ({ ...r }));
  }

  /** The settings changed: a chat that has not chosen follows them. */
  defaultsChanged(): void {
    const meta = this._readMeta();
    if (!same(meta, this._state.meta)) {
      this._setState({ meta });
      if (this.attachments.length > 0) {
        void this.refreshPreview();
      }
    }
  }

  /**
   * Attach files already under the server root. The server inspects the
   * chat's files with the new ones; its refusal (too many files, unreadable,
   * missing) is shown and nothing attached before is lost.
   */
  attachPaths(paths: readonly string[]): Promise<boolean> {
    return this._serialise(async () => {
      const current = this.attachments.map(a => a.path);
      const added = paths.filter(p => p !== '' && !current.includes(p));
      if (added.length === 0) {
        return true;
      }
      const result = await this._inspect([...current, ...added]);
      if (!result) {
        return false;
      }
      this._writeMeta({
        ...this._state.meta,
        attachments: result.files.map(attachmentFromSummary)
      });
      this.warm();
      return true;
    });
  }

  /**
   * Upload files from the computer into the notebook's folder, showing each
   * one's progress, and attach those the server accepted.
   */
  async uploadFiles(files: readonly File[]): Promise<void> {
    const dir = folderOf(this._notebookPath());
    await Promise.all(
      files.map(async file => {
        const id = ++this._ids;
        const controller = new AbortController();
        this._aborts.set(id, controller);
        this._setState({
          uploads: [
            ...this._state.uploads,
            { id, name: file.name, progress: 0 }
          ]
        });
        let path: string | null = null;
        try {
          const summary = await this._upload({
            file,
            name: file.name,
            dir,
            level: this._state.meta.context_level,
            settings: this._settings(),
            signal: controller.signal,
            messages: {
              failed: this._messages.uploadFailed,
              cancelled: this._messages.uploadCancelled
            },
            onProgress: progress => {
              this._setState({
                uploads: this._state.uploads.map(u =>
                  u.id === id ? { ...u, progress } : u
                )
              });
            }
          });
          path = summary.path;
        } catch (reason) {
          if (!controller.signal.aborted) {
            this._addError(errorText(reason), file.name);
          }
        } finally {
          this._aborts.delete(id);
          this._setState({
            uploads: this._state.uploads.filter(u => u.id !== id)
          });
        }
        if (path !== null) {
          await this.attachPaths([path]);
        }
      })
    );
  }

  /** Stop an upload in progress. */
  cancelUpload(id: number): void {
    this._aborts.get(id)?.abort();
  }

  /** Detach a file (it stays on disk). */
  remove(path: string): Promise<void> {
    return this._serialise(async () => {
      const removed = this.attachments.find(a => a.path === path);
      if (!removed) {
        return;
      }
      const remaining = this.attachments.filter(a => a !== removed);
      this._writeMeta({ ...this._state.meta, attachments: remaining });
      // Problems about the removed file no longer apply.
      this._setState({
        errors: this._state.errors.filter(
          e => e.name === '' || e.name !== removed.summary.name
        )
      });
      if (remaining.length === 0) {
        this._setState({ prompt: '' });
        return;
      }
      await this._inspect(remaining.map(a => a.path));
    });
  }

  /** Choose how much Claude is told; the preview follows. */
  setContextLevel(level: ContextLevel): Promise<void> {
    return this._serialise(async () => {
      if (level === this._state.meta.context_level) {
        return;
      }
      this._writeMeta({ ...this._state.meta, context_level: level });
      if (this.attachments.length > 0) {
        await this._inspect(this.attachments.map(a => a.path));
      }
    });
  }

  /** Choose where this chat's code runs. */
  setExecutor(executor: Executor): void {
    if (executor === this._state.meta.executor) {
      return;
    }
    this._writeMeta({ ...this._state.meta, executor });
    this._setState({ variables: null, executorWarning: '' });
    if (this.attachments.length > 0) {
      this.warm();
    }
  }

  /** Ask the server again what Claude will see (e.g. the files changed). */
  refreshPreview(): Promise<void> {
    return this._serialise(async () => {
      if (this.attachments.length === 0) {
        this._setState({ prompt: '' });
        return;
      }
      const result = await this._inspect(this.attachments.map(a => a.path));
      if (result) {
        const attachments = result.files.map(attachmentFromSummary);
        if (!same(attachments, this.attachments)) {
          this._writeMeta({ ...this._state.meta, attachments });
        }
      }
    });
  }

  /** Start the executor and send it the attachments now (fire and forget). */
  warm(): void {
    const body: IWarmRequest = {
      notebook_path: this._notebookPath(),
      ...this.requestFields()
    };
    this._request<Record<string, never>>('executor/warm', {
      method: 'POST',
      body: JSON.stringify(body)
    }).then(
      () => {
        if (this._state.executorWarning !== '') {
          this._setState({ executorWarning: '' });
        }
      },
      reason => {
        if (!this._isDisposed) {
          this._setState({
            executorWarning: this._messages.warmFailed.replace(
              '%1',
              errorText(reason)
            )
          });
        }
      }
    );
  }

  /** Fetch the executor's live variables. */
  async refreshVariables(): Promise<void> {
    const path = this._notebookPath();
    this._setState({ variablesLoading: true });
    try {
      const answer = await this._request<IVariables>(
        `variables?notebook_path=${encodeURIComponent(path)}`
      );
      this._setState({
        variables: Array.isArray(answer.variables) ? answer.variables : [],
        variablesLoading: false,
        variablesError: ''
      });
    } catch (reason) {
      this._setState({
        variablesLoading: false,
        variablesError: errorText(reason)
      });
    }
  }

  /**
   * Restart the executor (variables are lost, files stay).
   *
   * @throws NbChatRequestError with the server's message.
   */
  async restart(): Promise<void> {
    this._setState({ restarting: true });
    try {
      await this._request<Record<string, never>>('executor/restart', {
        method: 'POST',
        body: JSON.stringify({ notebook_path: this._notebookPath() })
      });
    } finally {
      this._setState({ restarting: false });
    }
    await this.refreshVariables();
  }

  /** Show a soft warning about the executor in the footer ('' clears it). */
  warnExecutor(message: string): void {
    this._setState({ executorWarning: message });
  }

  /** Forget a shown problem. */
  dismissError(id: number): void {
    this._setState({ errors: this._state.errors.filter(e => e.id !== id) });
  }

  /** Show a problem next to the attach area. */
  addError(message: string, name = ''): void {
    this._addError(message, name);
  }

  /** Apply what a turn event says about files, executor and usage. */
  handleEvent(event: TurnEvent): void {
    const meta = this._state.meta;
    switch (event.type) {
      case 'turn_started':
        // Question/answer cells off: the notebook keeps the question here.
        if (event.question_answer_cells === false) {
          this._record(event.turn_id, { question: event.question });
        }
        break;
      case 'answer':
        if (meta.turns?.some(r => r.turn_id === event.turn_id)) {
          this._record(event.turn_id, { answer: event.text });
        }
        break;
      case 'manifest': {
        const attachments = applyManifest(meta.attachments, event.files);
        if (!same(attachments, meta.attachments)) {
          this._writeMeta({ ...meta, attachments });
        }
        if (event.level === meta.context_level) {
          this._setState({ prompt: event.prompt });
        }
        break;
      }
      case 'executor_state': {
        const state = { executor: event.executor, state: event.state ?? {} };
        if (!same(state, meta.executor_state)) {
          this._writeMeta({ ...meta, executor_state: state });
        }
        break;
      }
      case 'files_changed': {
        const paths = new Set(event.files.map(f => f.path));
        this._setState({
          filesCreated: [
            ...this._state.filesCreated.filter(f => !paths.has(f.path)),
            ...event.files
          ]
        });
        break;
      }
      case 'usage':
        this._writeMeta({
          ...meta,
          usage: addTurnUsage(meta.usage, event.turn_id, turnTotals(event))
        });
        break;
      case 'turn_finished':
        void this.refreshVariables();
        break;
      default:
        break;
    }
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._aborts.forEach(controller => controller.abort());
    this._aborts.clear();
    this._store.changed.disconnect(this._onMetadataChanged, this);
    Signal.clearData(this);
  }

  /** Inspect `paths` at the chat's level; on failure show why and return null. */
  private async _inspect(paths: string[]): Promise<IInspectResult | null> {
    const body: IInspectRequest = {
      paths,
      level: this._state.meta.context_level,
      notebook_path: this._notebookPath()
    };
    this._setState({ inspecting: true });
    try {
      const result = await this._request<IInspectResult>('files/inspect', {
        method: 'POST',
        body: JSON.stringify(body)
      });
      // A general problem (too many files, a missing one) is over once the
      // server accepts the chat's files again.
      this._setState({
        inspecting: false,
        prompt: result.prompt,
        errors: this._state.errors.filter(e => e.name !== '')
      });
      return result;
    } catch (reason) {
      this._setState({ inspecting: false });
      this._addError(errorText(reason), '');
      return null;
    }
  }

  /** Run attachment changes one after the other, so none is lost. */
  private _serialise<T>(task: () => Promise<T>): Promise<T> {
    const run = this._queue.then(task, task);
    this._queue = run.catch(() => undefined);
    return run;
  }

  private _settings(): ServerConnection.ISettings {
    if (!this._serverSettings) {
      throw new NbChatRequestError('No server settings.', 0, 'files/upload');
    }
    return this._serverSettings;
  }

  private _addError(message: string, name: string): void {
    if (this._isDisposed) {
      return;
    }
    // The same message twice in a row is shown once.
    const errors = this._state.errors.filter(e => e.message !== message);
    this._setState({
      errors: [...errors, { id: ++this._ids, message, name }]
    });
  }

  /** Record (or complete) turn `turnId` in `metadata.nbchat.turns`. */
  private _record(
    turnId: string,
    change: Partial<Omit<ITurnRecord, 'turn_id'>>
  ): void {
    const meta = this._state.meta;
    const known = meta.turns?.find(r => r.turn_id === turnId);
    const record: ITurnRecord = {
      turn_id: turnId,
      question: change.question ?? known?.question ?? '',
      answer: change.answer ?? known?.answer ?? null
    };
    if (known && same(known, record)) {
      return;
    }
    this._writeMeta({ ...meta, turns: upsertTurnRecord(meta.turns, record) });
  }

  /** `metadata.nbchat` as in the notebook, the settings filling what it lacks. */
  private _readMeta(): IChatMetadata {
    return readChatMetadata(this._store.get(), this._defaults().contextLevel);
  }

  private _writeMeta(meta: IChatMetadata): void {
    this._setState({ meta });
    this._writing = true;
    try {
      this._store.set(writeChatMetadata(meta));
    } finally {
      this._writing = false;
    }
    this._metadataWritten.emit();
  }

  private _onMetadataChanged(): void {
    if (this._writing || this._isDisposed) {
      return;
    }
    // Someone else (another view, an undo, a collaborator) changed it.
    const meta = this._readMeta();
    if (!same(meta, this._state.meta)) {
      this._setState({ meta });
    }
  }

  private _setState(patch: Partial<IChatContextState>): void {
    if (this._isDisposed) {
      return;
    }
    this._state = { ...this._state, ...patch };
    this._changed.emit(this._state);
  }

  private readonly _store: IMetadataStore;
  private readonly _defaults: () => IChatDefaults;
  private readonly _notebookPath: () => string;
  private readonly _serverSettings: ServerConnection.ISettings | undefined;
  private readonly _request: RequestFn;
  private readonly _upload: UploadFn;
  private readonly _messages: IChatContextMessages;
  private readonly _changed = new Signal<this, IChatContextState>(this);
  private readonly _metadataWritten = new Signal<this, void>(this);
  private readonly _aborts = new Map<number, AbortController>();
  private _state: IChatContextState;
  private _queue: Promise<unknown> = Promise.resolve();
  private _ids = 0;
  private _writing = false;
  private _isDisposed = false;
}

/** Deep equality of JSON-like values (undefined only equals undefined). */
function same(a: unknown, b: unknown): boolean {
  if (a === undefined || b === undefined) {
    return a === b;
  }
  return JSONExt.deepEqual(a as any, b as any);
}

/** The text to show for a failed request. */
export function errorText(reason: unknown): string {
  if (reason instanceof Error) {
    return reason.message;
  }
  return String(reason);
}

/** A metadata store that keeps the value in memory (tests, closed notebooks). */
export class MemoryMetadataStore implements IMetadataStore {
  constructor(value?: unknown) {
    this._value = value;
  }

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get(): unknown {
    return this._value;
  }

  set(value: Record<string, any>): void {
    this._value = value;
    this._changed.emit();
  }

  private _value: unknown;
  private readonly _changed = new Signal<this, void>(this);
}

export { emptyMetadata };
