/**
 * The chat of one notebook: its messages, its running turn and the events
 * WebSocket that feeds them. No React here; views listen to `stateChanged`.
 */

import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import type { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import type { INotebookWriter } from '../notebook/writer';
import {
  addError,
  addNotice,
  applyEvent,
  decide,
  EMPTY_STATE,
  finishTurn,
  IChatState,
  IRetry,
  isRunning,
  pendingProposal,
  resumeTurn,
  startTurn
} from './reducer';
import { API_NAMESPACE, NbChatRequestError, requestAPI } from '../api/client';
import type {
  Executor,
  FinishedStatus,
  INotebookCell,
  IReviewDecision,
  ITurnCreated,
  ITurnInfo,
  ITurnList,
  ITurnRecord,
  ITurnRequest,
  ReviewChoice,
  TurnEvent
} from '../api/types';

/** Messages the model itself shows (translated by the caller). */
export interface IChatModelMessages {
  /** The events socket could not be reopened. */
  connectionLost: string;
  /** A cell arrived for a notebook that is no longer open. */
  notebookClosed: string;
  /** Saving the notebook after the turn failed; `{error}` is replaced. */
  saveFailed: string;
  /** The server saved a turn into the file and the notebook was reloaded. */
  savedByServer: string;
  /** The same, but unsaved edits here kept the file from being loaded. */
  savedByServerUnsaved: string;
}

const DEFAULT_MESSAGES: IChatModelMessages = {
  connectionLost: 'Lost the connection to the server.',
  notebookClosed:
    'The notebook is no longer open, so this turn’s cells were not inserted.',
  saveFailed: 'Could not save the notebook: {error}',
  savedByServer:
    'No page was following the last turn, so the server saved its cells in the notebook file; the notebook was reloaded from it.',
  savedByServerUnsaved:
    'No page was following the last turn, so the server saved its cells in the notebook file. This notebook has unsaved changes, so the file was not loaded: File › Reload Notebook from Disk shows the cells (and drops the unsaved changes).'
};

/**
 * When cells wait for the person's Run or Skip: `auto` for the local kernel
 * only (its code runs on the person's machine), `always`, or `never`.
 */
export type ReviewMode = 'auto' | 'always' | 'never';

/** Whether a turn on `executor` is reviewed under `mode`. */
export function reviewFor(mode: ReviewMode, executor: Executor): boolean {
  switch (mode) {
    case 'always':
      return true;
    case 'never':
      return false;
    default:
      return executor === 'kernel';
  }
}

/** A settings value as a ReviewMode (anything unknown: `auto`). */
export function asReviewMode(value: unknown): ReviewMode {
  return value === 'always' || value === 'never' ? value : 'auto';
}

/** Settings-registry values that go into each TurnRequest. */
export interface ITurnSettings {
  /** Model override; '' = the server's default. */
  model: string;
  /** 1..10; 0 = the server's default. */
  maxFixAttempts: number;
  /** Whether cells wait for Run/Skip (default `auto`). */
  reviewMode?: ReviewMode;
  /** false: no question/answer cells, the conversation lives in metadata (default true). */
  questionAnswerCells?: boolean;
}

/** Construction options of a ChatModel. */
export interface IChatModelOptions {
  /** The notebook's current path (read at send time, so renames are followed). */
  notebookPath: () => string;
  /** Inserts the turn's cells into the open notebook and saves it. */
  writer: INotebookWriter;
  /** Server connection settings (default: the page's). */
  serverSettings?: ServerConnection.ISettings;
  /** The person's settings (settings registry), read at send time. */
  turnSettings?: () => ITurnSettings;
  /** Milliseconds to wait before each reconnect attempt; its length caps attempts. */
  reconnectDelays?: readonly number[];
  /** Translated messages. */
  messages?: Partial<IChatModelMessages>;
  /** Initial conversation (e.g. rebuilt from the notebook's cells). */
  initialState?: IChatState;
  /** The chat's own fields of each TurnRequest (attachments, executor …). */
  requestFields?: () => Partial<ITurnRequest>;
  /** `metadata.nbchat.turns`, sent when question/answer cells are off. */
  turnRecords?: () => ITurnRecord[];
  /** Where code runs when the chat has not chosen (the server's default). */
  defaultExecutor?: () => Executor;
}

/** How a followed turn ended (`turnEnded`), once the notebook is saved. */
export interface ITurnEnded {
  turnId: string;
  question: string;
  status: FinishedStatus;
  /** The notebook path the turn wrote to. */
  path: string;
}

/** Default waits between reconnect attempts: about 40 s in total. */
export const RECONNECT_DELAYS: readonly number[] = [
  250, 500, 1000, 2000, 4000, 8000, 8000, 8000, 8000
];

/** The chat of one notebook. */
export class ChatModel implements IDisposable {
  constructor(options: IChatModelOptions) {
    this._notebookPath = options.notebookPath;
    this._writer = options.writer;
    this._settings = options.serverSettings ?? ServerConnection.makeSettings();
    this._turnSettings =
      options.turnSettings ?? (() => ({ model: '', maxFixAttempts: 0 }));
    this._delays = options.reconnectDelays ?? RECONNECT_DELAYS;
    this._messages = { ...DEFAULT_MESSAGES, ...options.messages };
    this._state = options.initialState ?? EMPTY_STATE;
    this._requestFields = options.requestFields ?? (() => ({}));
    this._turnRecords = options.turnRecords ?? (() => []);
    this._defaultExecutor = options.defaultExecutor ?? (() => 'kernel');
  }

  /** Emitted for each event that changed the state (replays are not). */
  get eventApplied(): ISignal<this, TurnEvent> {
    return this._eventApplied;
  }

  /** Emitted when a followed turn is over and its notebook saved. */
  get turnEnded(): ISignal<this, ITurnEnded> {
    return this._turnEnded;
  }

  /** Emitted after the notebook was loaded again from disk (a server-saved turn). */
  get diskLoaded(): ISignal<this, void> {
    return this._diskLoaded;
  }

  /** Emitted whenever `state`, `sending` or `busy` change. */
  get stateChanged(): ISignal<this, IChatState> {
    return this._stateChanged;
  }

  /** What the panel renders. */
  get state(): IChatState {
    return this._state;
  }

  /** A `POST nbchat/turns` is in flight. */
  get sending(): boolean {
    return this._sending;
  }

  /** A question cannot be sent now (one is being sent or a turn runs). */
  get busy(): boolean {
    return this._sending || isRunning(this._state);
  }

  /** Whether the next question's cells will wait for Run or Skip. */
  get reviews(): boolean {
    const executor = this._requestFields().executor ?? this._defaultExecutor();
    return reviewFor(this._turnSettings().reviewMode ?? 'auto', executor);
  }

  /** The unsent text of the question box (kept across notebook switches). */
  draft = '';

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /**
   * Ask a question: start a turn and follow its events.
   *
   * @returns true when the server accepted the turn; false when it refused
   *   (the reason is shown as an error item and the caller keeps the text).
   */
  async send(
    question: string,
    fields: IRetry['fields'] = {}
  ): Promise<boolean> {
    const text = question.trim();
    if (this.busy || this._isDisposed || text === '') {
      return false;
    }
    const path = this._notebookPath();
    const body: ITurnRequest = {
      ...this._requestFields(),
      ...fields,
      notebook_path: path,
      question: text,
      write: 'browser'
    };
    const retry: IRetry = {
      question: text,
      fields: {
        attachments: body.attachments,
        context_level: body.context_level,
        executor: body.executor
      }
    };
    for (const key of ['attachments', 'context_level', 'executor'] as const) {
      if (retry.fields[key] === undefined) {
        delete retry.fields[key];
      }
    }
    const settings = this._turnSettings();
    const model = settings.model.trim();
    if (model !== '') {
      body.model = model;
    }
    if (settings.maxFixAttempts >= 1 && settings.maxFixAttempts <= 10) {
      body.max_fix_attempts = Math.floor(settings.maxFixAttempts);
    }
    body.review = reviewFor(
      settings.reviewMode ?? 'auto',
      body.executor ?? this._defaultExecutor()
    );
    if (settings.questionAnswerCells === false) {
      body.question_answer_cells = false;
    }
    // Turns asked while the cells were off, wherever the setting is now.
    const records = this._turnRecords();
    if (records.length > 0 || body.question_answer_cells === false) {
      body.turns = records;
    }
    // The server reads the notebook as the browser has it, unsaved edits included.
    const cells = this._writer.cells(path);
    if (cells) {
      body.cells = cells;
    }

    this._sending = true;
    this._emit();
    let created: ITurnCreated;
    try {
      created = await requestAPI<ITurnCreated>(
        'turns',
        { method: 'POST', body: JSON.stringify(body) },
        this._settings
      );
    } catch (reason) {
      this._sending = false;
      this._setState(
        addError(this._state, 'request', errorMessage(reason), retry)
      );
      return false;
    }
    this._sending = false;
    if (this._isDisposed) {
      return true;
    }
    this._begin(path);
    this._setState(startTurn(this._state, created.turn_id, text, retry));
    this._connect();
    return true;
  }

  /**
   * Follow the notebook's turn that still runs on the server (the page was
   * reloaded, or the turn was started in another window): replay its events
   * from the start. Cells already in the notebook are not inserted again.
   *
   * @returns true when a running turn is now followed.
   */
  async resume(): Promise<boolean> {
    if (this.busy || this._isDisposed) {
      return false;
    }
    const path = this._notebookPath();
    const latest = await lastTurn(path, this._settings);
    if (
      latest?.saved_by_server &&
      latest.status !== 'running' &&
      latest.turn_id !== this._settledTurn &&
      !this.busy &&
      !this._isDisposed
    ) {
      // It ended while no page followed it: the file has its cells. Once
      // per turn: switching back to the notebook must not say it again.
      this._settledTurn = latest.turn_id;
      await this._syncFromDisk(path, false);
      return false;
    }
    const last = latest?.status === 'running' ? latest : null;
    if (
      !last ||
      this.busy ||
      this._isDisposed ||
      this._state.turn?.turnId === last.turn_id ||
      this._notebookPath() !== path
    ) {
      return false;
    }
    this._begin(path);
    this._setState(resumeTurn(this._state, last.turn_id, last.question));
    this._connect();
    return true;
  }

  /**
   * Run or skip a proposed cell (review mode). Run sends the cell's source as
   * it is in the notebook now, so the person's edits are what runs.
   *
   * @returns true when the server took the decision.
   */
  async review(toolUseId: string, decision: ReviewChoice): Promise<boolean> {
    const item = pendingProposal(this._state, toolUseId);
    if (!item || item.proposal!.decision !== null) {
      return false;
    }
    const turnId = this._state.turn!.turnId;
    const body: IReviewDecision = { tool_use_id: toolUseId, decision };
    if (decision === 'run') {
      body.code =
        this._writer.cellSource(this._turnPath, item.proposal!.cellId) ??
        item.code;
    }
    this._setState(decide(this._state, toolUseId, decision));
    try {
      await requestAPI<Record<string, never>>(
        `turns/${encodeURIComponent(turnId)}/review`,
        { method: 'POST', body: JSON.stringify(body) },
        this._settings
      );
    } catch (reason) {
      if (!this._isDisposed) {
        this._setState(
          addError(
            decide(this._state, toolUseId, null),
            'request',
            errorMessage(reason)
          )
        );
      }
      return false;
    }
    return true;
  }

  /** Ask again what an error item's Retry holds. */
  retry(retry: IRetry): Promise<boolean> {
    return this.send(retry.question, retry.fields);
  }

  /** Show an informational line in the conversation. */
  notify(text: string): void {
    this._setState(addNotice(this._state, text));
  }

  /**
   * The notebook changed for the followed turn (e.g. its metadata): save it
   * when the turn is over even if no cell was inserted.
   */
  markForSave(): void {
    if (isRunning(this._state)) {
      this._needsSave = true;
    }
  }

  /**
   * Show a conversation rebuilt from the notebook (see `stateFromCells`),
   * unless this chat already has something to show (or `replace`: the
   * notebook was loaded again, and no turn runs).
   */
  restore(state: IChatState, replace = false): void {
    const empty = this._state.items.length === 0;
    if ((empty || replace) && !this.busy && state.items.length) {
      this._setState(state);
    }
  }

  /** Ask the server to stop the running turn (its `turn_finished` follows). */
  async cancel(): Promise<void> {
    const turn = this._state.turn;
    if (!turn || turn.finished !== null) {
      return;
    }
    try {
      await requestAPI<Record<string, never>>(
        `turns/${encodeURIComponent(turn.turnId)}/cancel`,
        { method: 'POST' },
        this._settings
      );
    } catch (reason) {
      this._setState(addError(this._state, 'request', errorMessage(reason)));
    }
  }

  /** Show a cell of the followed turn in the notebook (e.g. a proposed one). */
  async reveal(cellId: string): Promise<boolean> {
    const path = this._turnPath || this._notebookPath();
    return (await this._writer.reveal?.(path, cellId)) ?? false;
  }

  /** Apply one event (what the socket does for each frame; public for tests). */
  handleEvent(event: TurnEvent): void {
    const before = this._state;
    const after = applyEvent(before, event);
    if (after === before) {
      return;
    }
    this._setState(after);
    this._eventApplied.emit(event);

    if (event.type === 'cell') {
      const isNew =
        after.turn!.cellIds.length > (before.turn?.cellIds.length ?? 0);
      if (isNew) {
        this._insertCell(event);
      }
    } else if (event.type === 'cell_proposed') {
      this._propose(event);
    } else if (event.type === 'cell_skipped') {
      this._skip(event.cell_id);
    } else if (event.type === 'turn_finished') {
      this._closeSocket();
      // Saved by the server: this page has just replayed the whole turn.
      void this._endTurn(
        event.status,
        event.saved_by_server ? 'replayed' : null
      );
    }
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._closeSocket();
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
    Signal.clearData(this);
  }

  private _insertCell(
    event: Extract<TurnEvent, { type: 'cell' | 'cell_proposed' }>
  ): void {
    const result = this._writer.appendCell(
      this._turnPath,
      event.cell,
      event.replaces
    );
    if (result === 'inserted' || result === 'replaced') {
      this._inserted += 1;
    } else if (result === 'not-open') {
      this._reportClosed();
    }
  }

  /** Insert a proposed cell, remembering the (failed) cell it takes the place of. */
  private _propose(event: Extract<TurnEvent, { type: 'cell_proposed' }>): void {
    const replaces = event.replaces ?? null;
    if (replaces) {
      const replaced = this._writer
        .cells(this._turnPath)
        ?.find(c => c.id === replaces);
      if (replaced) {
        this._displaced.set(event.cell.id, replaced);
      }
    }
    this._insertCell(event);
  }

  /** A skipped proposal leaves the notebook; a cell it displaced comes back. */
  private _skip(cellId: string): void {
    const restore = this._displaced.get(cellId) ?? null;
    this._displaced.delete(cellId);
    const result = this._writer.removeCell(this._turnPath, cellId, restore);
    if (result === 'removed') {
      this._inserted += 1;
    } else if (result === 'not-open') {
      this._reportClosed();
    }
  }

  private _reportClosed(): void {
    if (!this._reportedClosed) {
      this._reportedClosed = true;
      this._setState(
        addError(this._state, 'notebook', this._messages.notebookClosed)
      );
    }
  }

  /** Reset what is counted per followed turn. */
  private _begin(path: string): void {
    this._turnPath = path;
    this._inserted = 0;
    this._needsSave = false;
    this._reportedClosed = false;
    this._attempt = 0;
    this._displaced.clear();
  }

  /**
   * Save what the turn wrote (or, when the server saved it already, settle
   * with the file), then tell listeners the turn is over.
   *
   * @param savedByServer Set when the server wrote the cells (no page
   *   followed the turn to its end): whether this page then replayed the
   *   whole turn, or missed part of it.
   */
  private async _endTurn(
    status: FinishedStatus,
    savedByServer: 'replayed' | 'partly' | null = null
  ): Promise<void> {
    const turn = this._state.turn;
    const path = this._turnPath;
    if (savedByServer) {
      this._inserted = 0;
      this._needsSave = false;
      await this._syncFromDisk(path, savedByServer === 'replayed');
    } else {
      await this._saveIfWritten();
    }
    if (turn && !this._isDisposed) {
      let question = turn.retry?.question ?? '';
      for (const item of this._state.items) {
        if (item.kind === 'question' && item.turnId === turn.turnId) {
          question = item.text;
          break;
        }
      }
      this._turnEnded.emit({ turnId: turn.turnId, question, status, path });
    }
  }

  private async _saveIfWritten(): Promise<void> {
    if (this._inserted === 0 && !this._needsSave) {
      return;
    }
    this._inserted = 0;
    this._needsSave = false;
    try {
      await this._writer.save(this._turnPath);
    } catch (reason) {
      this._reportSaveFailure(reason);
    }
  }

  /** The events URL of the followed turn, asking for what came after `lastSeq`. */
  eventsUrl(): string {
    const turn = this._state.turn!;
    let url =
      URLExt.join(
        this._settings.wsUrl,
        API_NAMESPACE,
        'turns',
        encodeURIComponent(turn.turnId),
        'events'
      ) + `?after=${turn.lastSeq}`;
    if (this._settings.appendToken && this._settings.token !== '') {
      url += `&token=${encodeURIComponent(this._settings.token)}`;
    }
    return url;
  }

  private _connect(): void {
    if (this._isDisposed || !isRunning(this._state)) {
      return;
    }
    this._closeSocket();
    const socket = new this._settings.WebSocket(this.eventsUrl());
    this._socket = socket;
    socket.onmessage = (msg: MessageEvent) => {
      if (socket !== this._socket) {
        return;
      }
      this._attempt = 0;
      let event: TurnEvent;
      try {
        event = JSON.parse(String(msg.data)) as TurnEvent;
      } catch {
        return;
      }
      if (event && typeof event === 'object' && 'type' in event) {
        this.handleEvent(event);
      }
    };
    socket.onclose = () => {
      if (socket !== this._socket) {
        return;
      }
      this._socket = null;
      this._onDropped();
    };
  }

  /** The socket closed while the turn still runs: reconnect after a pause. */
  private _onDropped(): void {
    if (this._isDisposed || !isRunning(this._state)) {
      return;
    }
    if (this._attempt >= this._delays.length) {
      void this._giveUp();
      return;
    }
    const delay = this._delays[this._attempt];
    this._attempt += 1;
    this._timer = setTimeout(() => {
      this._timer = null;
      this._connect();
    }, delay);
  }

  /** Reconnecting failed: ask the server how the turn ended, then stop following. */
  private async _giveUp(): Promise<void> {
    const turn = this._state.turn!;
    let status: FinishedStatus = 'error';
    let savedByServer = false;
    try {
      const info = await requestAPI<ITurnInfo>(
        `turns/${encodeURIComponent(turn.turnId)}`,
        {},
        this._settings
      );
      status = info.status === 'running' ? 'error' : info.status;
      savedByServer = info.saved_by_server === true;
    } catch {
      // The server is gone too; report the lost connection below.
    }
    let state = addError(
      this._state,
      'connection',
      this._messages.connectionLost
    );
    state = finishTurn(state, status);
    this._setState(state);
    void this._endTurn(status, savedByServer ? 'partly' : null);
  }

  private _reportSaveFailure(reason: unknown): void {
    this._setState(
      addError(
        this._state,
        'notebook',
        this._messages.saveFailed.replace('{error}', errorMessage(reason))
      )
    );
  }

  /** The server saved a turn into the file at `path`: settle with it. */
  private async _syncFromDisk(path: string, complete: boolean): Promise<void> {
    let result;
    try {
      result = await this._writer.syncFromDisk?.(path, complete);
    } catch (reason) {
      this._reportSaveFailure(reason);
      return;
    }
    if (this._isDisposed) {
      return;
    }
    if (result === 'reloaded') {
      this._diskLoaded.emit();
      this.notify(this._messages.savedByServer);
    } else if (result === 'unsaved-edits') {
      this.notify(this._messages.savedByServerUnsaved);
    }
  }

  private _closeSocket(): void {
    const socket = this._socket;
    this._socket = null;
    if (socket) {
      socket.onmessage = null;
      socket.onclose = null;
      if (
        socket.readyState === socket.CONNECTING ||
        socket.readyState === socket.OPEN
      ) {
        socket.close();
      }
    }
  }

  private _setState(state: IChatState): void {
    this._state = state;
    this._emit();
  }

  private _emit(): void {
    if (!this._isDisposed) {
      this._stateChanged.emit(this._state);
    }
  }

  private readonly _notebookPath: () => string;
  private readonly _writer: INotebookWriter;
  private readonly _settings: ServerConnection.ISettings;
  private readonly _turnSettings: () => ITurnSettings;
  private readonly _delays: readonly number[];
  private readonly _messages: IChatModelMessages;
  private readonly _stateChanged = new Signal<this, IChatState>(this);
  private readonly _eventApplied = new Signal<this, TurnEvent>(this);
  private readonly _turnEnded = new Signal<this, ITurnEnded>(this);
  private readonly _diskLoaded = new Signal<this, void>(this);
  private readonly _requestFields: () => Partial<ITurnRequest>;
  private readonly _turnRecords: () => ITurnRecord[];
  private readonly _defaultExecutor: () => Executor;
  /** Proposed cell id -> the cell it took the place of (restored on Skip). */
  private readonly _displaced = new Map<string, INotebookCell>();
  private _needsSave = false;
  private _state: IChatState;
  private _sending = false;
  private _isDisposed = false;
  private _socket: WebSocket | null = null;
  private _timer: ReturnType<typeof setTimeout> | null = null;
  private _attempt = 0;
  private _turnPath = '';
  private _inserted = 0;
  private _reportedClosed = false;
  /** The last server-saved turn this chat settled with the file. */
  private _settledTurn = '';
}

/** The last turn of the notebook at `path` the server remembers, if any. */
export async function lastTurn(
  path: string,
  settings?: ServerConnection.ISettings
): Promise<ITurnInfo | null> {
  let list: ITurnList;
  try {
    list = await requestAPI<ITurnList>(
      `turns?notebook_path=${encodeURIComponent(path)}`,
      {},
      settings
    );
  } catch {
    // An older server, or none: there is nothing to follow.
    return null;
  }
  const turns = Array.isArray(list?.turns) ? list.turns : [];
  return turns[turns.length - 1] ?? null;
}

/** The turn of the notebook at `path` that still runs on the server, if any. */
export async function runningTurn(
  path: string,
  settings?: ServerConnection.ISettings
): Promise<ITurnInfo | null> {
  const last = await lastTurn(path, settings);
  return last && last.status === 'running' ? last : null;
}

/** The text to show for a failed request. */
export function errorMessage(reason: unknown): string {
  if (reason instanceof NbChatRequestError) {
    return reason.message;
  }
  if (reason instanceof Error) {
    return reason.message;
  }
  return String(reason);
}
