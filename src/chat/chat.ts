/**
 * The chat of one notebook: it owns the conversation, its attachments, the
 * executor side and the notebook's record, follows turns over the events
 * socket and applies each event through one `dispatch`. No React here;
 * views listen to `stateChanged`.
 */

import type { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { errorMessage, NbChatApi } from '../api/client';
import { TurnEvents } from '../api/events';
import type {
  Executor,
  FinishedStatus,
  ICellFocus,
  IChatRecord,
  IDatabaseList,
  INotebookCell,
  IRecordChanged,
  IPolicy,
  ITurnRequest,
  IUndoPlan,
  RecordChange,
  ReviewChoice,
  TurnEvent
} from '../api/types';
import { ChatAttachments } from '../attachments/model';
import { ChatDatabases } from '../databases/model';
import { fill } from '../attachments/datafiles';
import type { INotebookDoc } from '../notebook/document';
import { contextId, readRecord, sandboxId } from '../notebook/record';
import {
  addError,
  addNotice,
  applyEvent,
  decide,
  dropTurn,
  EMPTY_STATE,
  finishTurn,
  IChatState,
  IRetry,
  isRunning,
  joinSource,
  pendingProposal,
  resumeTurn,
  settleNotice,
  startTurn
} from './conversation';
import { stateFromCells } from './history';
import type { IChatMessages } from './messages';
import { allowedExecutor, allowedModel, reviewForced } from './policy';
import { ChatRuntime } from './runtime';
import { ChatVerification } from './verification';
import { IChatDefaults, ITurnSettings, reviewFor } from './settings';

/** What the person chose about edited cells of a turn being undone. */
export type EditedChoice = 'remove' | 'keep' | 'cancel';

/** Construction options of a NotebookChat. */
export interface INotebookChatOptions {
  /** The open notebook the chat writes. */
  doc: INotebookDoc;
  api: NbChatApi;
  /** The person's settings, read at send time. */
  settings?: () => ITurnSettings;
  /** What the chat uses until it chooses (settings); read whenever needed. */
  defaults?: () => IChatDefaults;
  /** Where code runs when nobody chose (the server's default). */
  serverExecutor?: () => Executor;
  /** The administrator's limits (server status); null: none. */
  policy?: () => IPolicy | null;
  /** Asks whether cells the person edited go too when a turn is undone. */
  confirmEdited?: (count: number) => Promise<EditedChoice>;
  /** The server's named database connections; null while unknown. */
  databases?: () => IDatabaseList | null;
  /** Milliseconds to wait before each reconnect attempt; its length caps attempts. */
  reconnectDelays?: readonly number[];
  messages: IChatMessages;
}

/** How a followed turn ended (`turnEnded`), once the notebook is saved. */
export interface ITurnEnded {
  turnId: string;
  question: string;
  status: FinishedStatus;
}

/** The chat of one notebook. */
export class NotebookChat implements IDisposable {
  constructor(options: INotebookChatOptions) {
    this._doc = options.doc;
    this._api = options.api;
    this._settings =
      options.settings ?? (() => ({ model: '', maxFixAttempts: 0 }));
    this._defaults = options.defaults ?? (() => ({ contextLevel: 'headers' }));
    this._serverExecutor = options.serverExecutor ?? (() => 'kernel');
    this._policy = options.policy ?? (() => null);
    this._confirmEdited = options.confirmEdited ?? (async () => 'remove');
    this._delays = options.reconnectDelays;
    const messages = options.messages;
    this._messages = messages;

    const path = () => this._doc.path;
    this.attachments = new ChatAttachments({
      api: this._api,
      notebookPath: path,
      attachments: () => this.record.attachments,
      contextLevel: () =>
        this.record.context_level ?? this._defaults().contextLevel,
      change: change => this._changeRecord(change),
      attached: () => this.runtime.warm(),
      messages
    });
    this.databases = new ChatDatabases({
      api: this._api,
      available: options.databases ?? (() => null),
      chosen: () => this.record.databases ?? [],
      contextLevel: () => this.attachments.contextLevel,
      change: change => this._changeRecord(change)
    });
    this.runtime = new ChatRuntime({
      api: this._api,
      notebookPath: path,
      warmFields: () => this.requestFields(),
      warmFailed: messages.warmFailed
    });
    this.verification = new ChatVerification({
      api: this._api,
      request: () => ({
        notebook_path: this._doc.path,
        executor: this.effectiveExecutor,
        cells: this._doc.cells() ?? undefined,
        record: this._doc.record()
      })
    });
    this._doc.recordChanged.connect(this._onRecordChanged, this);
  }

  /** The attached files, their preview and uploads. */
  readonly attachments: ChatAttachments;

  /** The server's database connections this chat uses. */
  readonly databases: ChatDatabases;

  /** Where code runs: variables, restart, files created. */
  readonly runtime: ChatRuntime;

  /** "Verify notebook": a fresh run of the notebook compared with its outputs. */
  readonly verification: ChatVerification;

  /** The unsent text of the question box (kept across notebook switches). */
  draft = '';

  /** Emitted whenever `state`, `sending`, `busy` or the record change. */
  get stateChanged(): ISignal<this, IChatState> {
    return this._stateChanged;
  }

  /** Emitted when a followed turn is over and its notebook saved. */
  get turnEnded(): ISignal<this, ITurnEnded> {
    return this._turnEnded;
  }

  /** What the panel renders. */
  get state(): IChatState {
    return this._state;
  }

  /** The notebook's record (`metadata.nbchat`), read-only. */
  get record(): IChatRecord {
    if (!this._record) {
      this._record = readRecord(this._doc.record());
    }
    return this._record;
  }

  /** A `POST nbchat/turns` is in flight. */
  get sending(): boolean {
    return this._sending;
  }

  /** A question cannot be sent now (one is being sent, a turn runs, an undo). */
  get busy(): boolean {
    return this._sending || this._undoing || isRunning(this._state);
  }

  /** The chat's executor choice, else the setting's; undefined: the server's default. */
  get executor(): Executor | undefined {
    // A choice the administrator no longer allows falls back, never sent to be refused.
    const policy = this._policy();
    return (
      allowedExecutor(this.record.executor, policy) ??
      allowedExecutor(this._defaults().executor, policy)
    );
  }

  /** Where the chat's code runs (its choice, the setting, or the server's default). */
  get effectiveExecutor(): Executor {
    return this.executor ?? this._serverExecutor();
  }

  /** The model the next question names: the setting if allowed; '' = the server's default. */
  get model(): string {
    return allowedModel(this._settings().model, this._policy());
  }

  /** Whether the next question's cells will wait for Run or Skip. */
  get reviews(): boolean {
    return (
      reviewForced(this._policy()) ||
      reviewFor(this._settings().reviewMode ?? 'auto', this.effectiveExecutor)
    );
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** The fields every TurnRequest (and warm request) of this chat carries. */
  requestFields(): Pick<
    ITurnRequest,
    'attachments' | 'context_level' | 'executor' | 'sandbox_id' | 'context_id'
  > {
    const record = this.record;
    const fields: ReturnType<NotebookChat['requestFields']> = {
      attachments: record.attachments.map(a => a.path),
      context_level: this.attachments.contextLevel
    };
    const executor = this.executor;
    if (executor) {
      fields.executor = executor;
    }
    // Where the cells ran last, so the server can reconnect to it.
    const sandbox = sandboxId(record);
    if (sandbox) {
      fields.sandbox_id = sandbox;
    }
    const context = contextId(record);
    if (context) {
      fields.context_id = context;
    }
    return fields;
  }

  /**
   * The notebook is loaded: show the conversation its cells and record
   * keep, what Claude will see of its files, and follow a turn that still
   * runs for it (the page was reloaded).
   */
  async load(): Promise<void> {
    this.restore();
    if (this.record.attachments.length > 0) {
      void this.attachments.refreshPreview();
      this.runtime.warm();
    }
    await this.resume();
  }

  /**
   * Show the conversation the notebook records, unless this chat already
   * has something to show (or `replace`: the notebook was loaded again).
   */
  restore(replace = false): void {
    const cells = this._doc.cells();
    if (!cells || this.busy) {
      return;
    }
    const state = stateFromCells(cells, this.record.turns);
    if ((this._state.items.length === 0 || replace) && state.items.length) {
      this._setState(state);
    }
  }

  /** The settings changed: a chat that has not chosen follows them. */
  settingsChanged(): void {
    this._emit();
    this.attachments.recordChanged();
    if (this.record.attachments.length > 0 && !this.record.context_level) {
      void this.attachments.refreshPreview();
    }
  }

  /**
   * The cell the next question in the question box is about ("Ask about this
   * cell"); null: none. `label` names it for the person ("Cell [3]").
   */
  get about(): { cellId: string; label: string } | null {
    return this._about;
  }

  set about(value: { cellId: string; label: string } | null) {
    this._about = value;
    this._emit();
  }

  /** "Verify notebook" (INbChat): the report lands in `verification`. */
  verify(): Promise<void> {
    return this.verification.start();
  }

  /** `send` with only the cell the question is about (INbChat). */
  ask(question: string, focus?: ICellFocus): Promise<boolean> {
    return this.send(question, focus ? { focus } : {});
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
    const body: ITurnRequest = {
      ...this.requestFields(),
      ...fields,
      notebook_path: this._doc.path,
      question: text,
      write: 'browser',
      // The server folds the turn onto the record as the browser has it.
      record: this._doc.record()
    };
    const retry: IRetry = { question: text, fields: {} };
    for (const key of [
      'attachments',
      'context_level',
      'executor',
      'focus'
    ] as const) {
      if (body[key] !== undefined) {
        (retry.fields as Record<string, unknown>)[key] = body[key];
      }
    }
    const settings = this._settings();
    const policy = this._policy();
    const model = this.model;
    if (model !== '') {
      body.model = model;
    }
    if (settings.maxFixAttempts >= 1 && settings.maxFixAttempts <= 10) {
      body.max_fix_attempts = Math.floor(settings.maxFixAttempts);
    }
    body.review =
      reviewForced(policy) ||
      reviewFor(
        settings.reviewMode ?? 'auto',
        body.executor ?? this._serverExecutor()
      );
    if (settings.questionAnswerCells === false) {
      body.question_answer_cells = false;
    }
    if (settings.imagesToClaude !== undefined) {
      body.images_to_claude = settings.imagesToClaude;
    }
    // The server reads the notebook as the browser has it, unsaved edits included.
    const cells = this._doc.cells();
    if (cells) {
      body.cells = cells;
    }

    this._sending = true;
    this._emit();
    let turnId: string;
    try {
      turnId = (await this._api.startTurn(body)).turn_id;
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
    this._follow(startTurn(this._state, turnId, text, retry));
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
    const path = this._doc.path;
    let latest;
    try {
      const turns = await this._api.turns(path);
      latest = turns[turns.length - 1];
    } catch {
      // The server did not answer: there is nothing to follow.
      return false;
    }
    if (!latest || this.busy || this._isDisposed || this._doc.path !== path) {
      return false;
    }
    if (latest.status !== 'running') {
      if (latest.saved_by_server && latest.turn_id !== this._settledTurn) {
        // It ended while no page followed it: the file has its cells. Once
        // per turn: switching back to the notebook must not say it again.
        this._settledTurn = latest.turn_id;
        await this._syncFromDisk(false);
      }
      return false;
    }
    if (this._state.turn?.turnId === latest.turn_id) {
      return false;
    }
    this._follow(resumeTurn(this._state, latest.turn_id, latest.question));
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
    const code =
      decision === 'run'
        ? (this._doc.cellSource(item.proposal!.cellId) ?? item.code)
        : undefined;
    this._setState(decide(this._state, toolUseId, decision));
    try {
      await this._api.review(turnId, {
        tool_use_id: toolUseId,
        decision,
        ...(code === undefined ? {} : { code })
      });
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

  /** Ask the server to stop the running turn (its `turn_finished` follows). */
  async cancel(): Promise<void> {
    const turn = this._state.turn;
    if (!turn || turn.finished !== null) {
      return;
    }
    try {
      await this._api.cancel(turn.turnId);
    } catch (reason) {
      this._setState(addError(this._state, 'request', errorMessage(reason)));
    }
  }

  /** Show a cell in the notebook (a proposed one, a cell of an answer). */
  reveal(cellId: string): Promise<boolean> {
    return this._doc.reveal(cellId);
  }

  /** Choose where this chat's code runs. */
  async setExecutor(executor: Executor): Promise<void> {
    if (executor === this.record.executor) {
      return;
    }
    try {
      await this._changeRecord({ executor });
    } catch (reason) {
      this.runtime.warn(errorMessage(reason));
      return;
    }
    this.runtime.executorChanged();
    if (this.record.attachments.length > 0) {
      this.runtime.warm();
    }
  }

  /**
   * Apply one server event, in a fixed order: the conversation state (an
   * event of another turn, or one already applied, stops there), the
   * notebook's cells, the record, then the views.
   */
  dispatch(event: TurnEvent): void {
    const before = this._state;
    const after = applyEvent(before, event);
    if (after === before) {
      return;
    }
    this._state = after;
    this._dispatching = true;
    try {
      this._writeCells(event);
      if (event.record) {
        this._doc.setRecord(event.record);
        this._needsSave = true;
      }
    } finally {
      this._dispatching = false;
    }
    this._showEvent(event);
  }

  /** The latest turn that can be undone now, if any. */
  latestTurn(): string | null {
    if (this.busy) {
      return null;
    }
    const items = this._state.items;
    for (let i = items.length - 1; i >= 0; i--) {
      const turnId = items[i].turnId;
      if (turnId) {
        return turnId;
      }
    }
    return null;
  }

  /**
   * Undo turn `turnId`: the server plans it from the notebook as it is here;
   * cells the person edited since go only when they confirm; the notebook is
   * changed in one edit and saved, and the conversation drops the turn.
   *
   * @returns true when the turn was undone.
   */
  async undo(turnId: string): Promise<boolean> {
    const cells = this._doc.cells();
    if (this.busy || this._isDisposed || !cells) {
      return false;
    }
    this._undoing = true;
    this._emit();
    try {
      const plan = await this._undoPlan(turnId, cells);
      if (!plan) {
        return false;
      }
      let keepEdited = false;
      if (plan.edited.length > 0) {
        const choice = await this._confirmEdited(plan.edited.length);
        if (choice === 'cancel' || this._isDisposed) {
          return false;
        }
        keepEdited = choice === 'keep';
      }
      // Where the removed cells ran, as recorded before the undo.
      const undone =
        this._executorInUse() === 'e2b'
          ? this._messages.undoneSandbox
          : this._messages.undoneKernel;
      if (!this._doc.applyUndo(plan, keepEdited)) {
        this._reportClosed();
        return false;
      }
      this._setState(
        addNotice(dropTurn(this._state, turnId), undone, {
          action: 'rerun',
          warn: true,
          turnId: null
        })
      );
      await this._save();
      return true;
    } finally {
      this._undoing = false;
      this._emit();
    }
  }

  /**
   * After an undo: restart where the cells ran and run the remaining cells
   * there (the kernel: JupyterLab's own restart and Run All; a sandbox: the
   * server re-runs the notebook's code cells).
   *
   * @param noticeKey The notice that offered it; it no longer does.
   */
  async rerun(noticeKey: string): Promise<void> {
    if (this.busy || this.runtime.state.restarting) {
      return;
    }
    this._setState(settleNotice(this._state, noticeKey));
    const messages = this._messages;
    try {
      if (this._executorInUse() === 'e2b') {
        const codes = (this._doc.cells() ?? [])
          .filter(cell => cell.cell_type === 'code')
          .map(cell => joinSource(cell.source));
        const result = await this.runtime.rerun(codes);
        const failed = result.failed[0];
        this.notify(
          failed
            ? fill(
                messages.rerunFailed,
                failed.index + 1,
                `${failed.ename}: ${failed.evalue}`
              )
            : fill(messages.rerunSandboxDone, result.ran)
        );
      } else {
        const ran = await this._doc.restartAndRunAll();
        this.notify(ran ? messages.rerunDone : messages.rerunRefused);
        void this.runtime.refreshVariables();
      }
    } catch (reason) {
      this._setState(addError(this._state, 'request', errorMessage(reason)));
    }
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._closeEvents();
    this._doc.recordChanged.disconnect(this._onRecordChanged, this);
    this.attachments.dispose();
    this.databases.dispose();
    this.runtime.dispose();
    this.verification.dispose();
    Signal.clearData(this);
  }

  /** Begin following a turn: reset what is counted per turn, open its events. */
  private _follow(state: IChatState): void {
    this._needsSave = false;
    this._reportedClosed = false;
    this._displaced.clear();
    this._running.clear();
    this._started.clear();
    this._doc.resetFollow();
    this._setState(state);
    this._closeEvents();
    this._events = new TurnEvents({
      api: this._api,
      turnId: state.turn!.turnId,
      lastSeq: () => this._state.turn?.lastSeq ?? 0,
      onEvent: event => this.dispatch(event),
      onLost: () => void this._giveUp(),
      delays: this._delays
    });
  }

  /** Step 2 of `dispatch`: the notebook's cells. */
  private _writeCells(event: TurnEvent): void {
    const doc = this._doc;
    let done: boolean | null = true;
    switch (event.type) {
      case 'cell_started': {
        const id = event.cell.id;
        this._started.add(id);
        this._running.add(id);
        done = doc.startCell(event.cell, event.replaces) !== null;
        doc.follow(id);
        break;
      }
      case 'cell_outputs':
        // The count waits for the end of the cell: once a cell has one,
        // JupyterLab no longer shows it running ([*]).
        if (doc.setOutputs(event.cell_id, event.outputs)) {
          doc.follow(event.cell_id);
        }
        break;
      case 'cell': {
        const id = event.cell.id;
        this._running.delete(id);
        if (event.role === 'code' && doc.finishCell(event.cell)) {
          doc.follow(id);
        } else if (!this._started.has(id)) {
          // Question and answer cells (and code that did not start here).
          done = doc.insertCell(event.cell, event.replaces) !== null;
        }
        // A started cell that is gone was deleted by the person: left out.
        break;
      }
      case 'cell_proposed': {
        const replaced = event.replaces
          ? doc.cells()?.find(c => c.id === event.replaces)
          : undefined;
        if (replaced) {
          this._displaced.set(event.cell.id, replaced);
        }
        done = doc.insertCell(event.cell, event.replaces) !== null;
        break;
      }
      case 'cell_skipped': {
        // A skipped proposal leaves; a cell it displaced comes back.
        const restore = this._displaced.get(event.cell_id) ?? null;
        this._displaced.delete(event.cell_id);
        done = doc.removeCell(event.cell_id, restore) !== null;
        break;
      }
      default:
        return;
    }
    if (done) {
      this._needsSave = true;
    } else {
      this._reportClosed();
    }
  }

  /** Step 4 of `dispatch`: the views, and what follows the end of a turn. */
  private _showEvent(event: TurnEvent): void {
    if (this._recordShown === false) {
      this._recordShown = true;
      this.attachments.recordChanged();
      this.databases.recordChanged();
    }
    switch (event.type) {
      case 'manifest':
        this.attachments.manifest(event);
        break;
      case 'files_changed':
        this.runtime.filesChanged(event.files);
        break;
      default:
        break;
    }
    this._emit();
    if (event.type === 'turn_finished') {
      this._closeEvents();
      // Saved by the server: this page has just replayed the whole turn.
      void this._endTurn(
        event.status,
        event.saved_by_server ? 'replayed' : null
      );
    }
  }

  /** Send one change of the record (one at a time, so none is lost) and set the answer. */
  private _changeRecord(change: RecordChange): Promise<IRecordChanged> {
    const run = async () => {
      let record = this._doc.record();
      if (!this.record.context_level) {
        // A chat that has not chosen a level goes on with the settings' one
        // (the server would otherwise record its own default).
        record = { ...record, context_level: this.attachments.contextLevel };
      }
      const answer = await this._api.changeRecord({
        notebook_path: this._doc.path,
        record,
        change
      });
      if (!this._isDisposed) {
        this._doc.setRecord(answer.record);
        if (isRunning(this._state)) {
          this._needsSave = true;
        }
      }
      return answer;
    };
    const next = this._changes.then(run, run);
    this._changes = next.catch(() => undefined);
    return next;
  }

  /** The server's plan to undo `turnId`, or null (the reason is shown). */
  private async _undoPlan(
    turnId: string,
    cells: INotebookCell[]
  ): Promise<IUndoPlan | null> {
    try {
      return await this._api.undo({
        notebook_path: this._doc.path,
        turn_id: turnId,
        record: this._doc.record(),
        cells
      });
    } catch (reason) {
      this._setState(addError(this._state, 'request', errorMessage(reason)));
      return null;
    }
  }

  /** Where the chat's cells ran last (else where they would run). */
  private _executorInUse(): Executor {
    return this.record.executor_state?.executor ?? this.effectiveExecutor;
  }

  private _reportClosed(): void {
    if (!this._reportedClosed) {
      this._reportedClosed = true;
      this._setState(
        addError(this._state, 'notebook', this._messages.notebookClosed)
      );
    }
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
    // A cell left running (the connection was lost) runs no more here.
    this._running.forEach(cellId => this._doc.stopRunning(cellId));
    this._running.clear();
    if (savedByServer) {
      this._needsSave = false;
      await this._syncFromDisk(savedByServer === 'replayed');
    } else if (this._needsSave) {
      this._needsSave = false;
      await this._save();
    }
    void this.runtime.refreshVariables();
    if (turn && !this._isDisposed) {
      const asked = this._state.items.find(
        item => item.kind === 'question' && item.turnId === turn.turnId
      );
      const question =
        asked && asked.kind === 'question'
          ? asked.text
          : (turn.retry?.question ?? '');
      this._turnEnded.emit({ turnId: turn.turnId, question, status });
    }
  }

  private async _save(): Promise<void> {
    try {
      await this._doc.save();
    } catch (reason) {
      this._reportSaveFailure(reason);
    }
  }

  /** Reconnecting failed: ask the server how the turn ended, then stop following. */
  private async _giveUp(): Promise<void> {
    const turn = this._state.turn!;
    let status: FinishedStatus = 'error';
    let savedByServer = false;
    try {
      const info = await this._api.turn(turn.turnId);
      status = info.status === 'running' ? 'error' : info.status;
      savedByServer = info.saved_by_server === true;
    } catch {
      // The server is gone too; report the lost connection below.
    }
    this._closeEvents();
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
        fill(this._messages.saveFailed, errorMessage(reason))
      )
    );
  }

  /** The server saved a turn into the file: settle with it. */
  private async _syncFromDisk(complete: boolean): Promise<void> {
    let result;
    try {
      result = await this._doc.syncFromDisk(complete);
    } catch (reason) {
      this._reportSaveFailure(reason);
      return;
    }
    if (this._isDisposed) {
      return;
    }
    if (result === 'reloaded') {
      // Show what the server wrote.
      this.restore(true);
      this.notify(this._messages.savedByServer);
    } else if (result === 'unsaved-edits') {
      this.notify(this._messages.savedByServerUnsaved);
    }
  }

  private _onRecordChanged(): void {
    this._record = null;
    if (this._dispatching) {
      // Shown with the rest of the event (step 4).
      this._recordShown = false;
      return;
    }
    this.attachments.recordChanged();
    this.databases.recordChanged();
    this._emit();
  }

  private _closeEvents(): void {
    this._events?.dispose();
    this._events = null;
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

  private readonly _doc: INotebookDoc;
  private readonly _api: NbChatApi;
  private readonly _settings: () => ITurnSettings;
  private readonly _policy: () => IPolicy | null;
  private readonly _defaults: () => IChatDefaults;
  private readonly _serverExecutor: () => Executor;
  private readonly _confirmEdited: (count: number) => Promise<EditedChoice>;
  private readonly _delays: readonly number[] | undefined;
  private readonly _messages: IChatMessages;
  private readonly _stateChanged = new Signal<this, IChatState>(this);
  private readonly _turnEnded = new Signal<this, ITurnEnded>(this);
  private _about: { cellId: string; label: string } | null = null;
  /** Proposed cell id -> the cell it took the place of (restored on Skip). */
  private readonly _displaced = new Map<string, INotebookCell>();
  /** Cells of the followed turn that started here, and those still running. */
  private readonly _started = new Set<string>();
  private readonly _running = new Set<string>();
  private _state: IChatState = EMPTY_STATE;
  private _record: IChatRecord | null = null;
  private _events: TurnEvents | null = null;
  private _changes: Promise<unknown> = Promise.resolve();
  private _needsSave = false;
  private _sending = false;
  private _undoing = false;
  /** An event is being applied (its views are told at the end). */
  private _dispatching = false;
  /** The record changed during `dispatch` and its views are not told yet. */
  private _recordShown = true;
  private _reportedClosed = false;
  private _isDisposed = false;
  /** The last server-saved turn this chat settled with the file. */
  private _settledTurn = '';
}
