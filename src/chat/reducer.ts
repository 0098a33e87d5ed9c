/**
 * Pure chat state: what the panel shows, and how each turn event changes it.
 *
 * No DOM, no network, no JupyterLab runtime: every function here returns a new
 * state (or the very same object when the event changes nothing), so the model
 * can tell "ignored" from "applied" with `===` and unit tests need no browser.
 */

import type { TranslationBundle } from '@jupyterlab/translation';

import type {
  CellRole,
  ErrorKind,
  FinishedStatus,
  ICellTag,
  ITurnRecord,
  ITurnRequest,
  ReviewChoice,
  IUsageEvent,
  ServerPhase,
  TurnEvent
} from '../api/types';

/** What a Retry re-sends: the question and the chat fields it went with. */
export interface IRetry {
  question: string;
  fields: Pick<ITurnRequest, 'attachments' | 'context_level' | 'executor'>;
}

/** What the running turn is doing now; drives the status line. */
export type TurnPhase = 'idle' | ServerPhase;

/**
 * How far a tool call's code has got. Review mode adds `proposed` (waiting
 * for Run or Skip) and `skipped`.
 */
export type CodeState = 'writing' | 'proposed' | 'running' | 'done' | 'skipped';

/** Review mode: the unexecuted cell a tool call put in the notebook. */
export interface IProposal {
  /** Id of the proposed cell in the notebook. */
  cellId: string;
  /** Id of the failed cell the proposal took the place of, if any. */
  replaces: string | null;
  /** What the person chose (set as soon as they click); null: undecided. */
  decision: ReviewChoice | null;
}

interface IItemBase {
  /** Unique and stable within a conversation (React key). */
  key: string;
  /** The turn the item belongs to; null for errors raised before a turn existed. */
  turnId: string | null;
}

/** The question the person asked. */
export interface IQuestionItem extends IItemBase {
  kind: 'question';
  text: string;
}

/** Claude's prose, streamed. */
export interface ITextItem extends IItemBase {
  kind: 'text';
  text: string;
}

/** Code Claude is writing (snapshot), proposed for review, or running. */
export interface ICodeItem extends IItemBase {
  kind: 'code';
  toolUseId: string;
  code: string;
  state: CodeState;
  /** Review mode: the proposed cell; absent when the code ran straight away. */
  proposal?: IProposal;
}

/** A code cell that ran and was appended to the notebook. */
export interface ICellItem extends IItemBase {
  kind: 'cell';
  cellId: string;
  executionCount: number | null;
  /** First lines of the cell's text output ('' when it printed nothing). */
  preview: string;
  /** The cell's first image output (a plot), shown under the preview. */
  image?: IOutputImage | null;
  /** The cell raised an error. */
  failed: boolean;
  /** Id of the failed cell this fixed one took the place of. */
  replaces: string | null;
  /** A fixed cell took this one's place in the notebook. */
  replaced: boolean;
}

/** Claude's final answer (markdown). */
export interface IAnswerItem extends IItemBase {
  kind: 'answer';
  text: string;
}

/** Something failed: a turn error event, or an HTTP request ('request'). */
export interface IErrorItem extends IItemBase {
  kind: 'error';
  errorKind: ErrorKind | 'request' | 'connection' | 'notebook';
  message: string;
  /** The question to send again (a Retry button); null when unknown. */
  retry: IRetry | null;
}

/** Something to tell the person that is not an error. */
export interface INoticeItem extends IItemBase {
  kind: 'notice';
  text: string;
}

/** The turn was stopped by the person. */
export interface IStoppedItem extends IItemBase {
  kind: 'stopped';
}

/** One entry of the messages list. */
export type ChatItem =
  | IQuestionItem
  | ITextItem
  | ICodeItem
  | ICellItem
  | IAnswerItem
  | IErrorItem
  | INoticeItem
  | IStoppedItem;

/** The turn the panel follows. */
export interface ITurnState {
  turnId: string;
  /** Highest `seq` applied; a reconnect asks for `after=lastSeq`. */
  lastSeq: number;
  phase: TurnPhase;
  /** While fixing: attempt k of at most n (from `phase` events). */
  attempt: { attempt: number; max: number | null } | null;
  /** The server sends `phase` events: stop inferring the phase from others. */
  phased: boolean;
  /** Set by `turn_finished`. */
  finished: FinishedStatus | null;
  /** Ids of the cells already received (replays are skipped). */
  cellIds: readonly string[];
  /** Whether a code cell has run in this turn (prose after it is the answer). */
  ranCode: boolean;
  usage: IUsageEvent | null;
  /** What was asked, for a Retry after an error. */
  retry: IRetry | null;
}

/** Everything the panel renders for one notebook. */
export interface IChatState {
  items: readonly ChatItem[];
  /** The latest turn, finished or not; null before the first one. */
  turn: ITurnState | null;
}

/** The state of a conversation with nothing in it. */
export const EMPTY_STATE: IChatState = Object.freeze({ items: [], turn: null });

/** Whether a turn is under way (its `turn_finished` not yet seen). */
export function isRunning(state: IChatState): boolean {
  return state.turn !== null && state.turn.finished === null;
}

/**
 * Begin following a turn the server accepted: show the question, think.
 */
export function startTurn(
  state: IChatState,
  turnId: string,
  question: string,
  retry: IRetry | null = null
): IChatState {
  return {
    items: [
      ...state.items,
      { kind: 'question', key: `${turnId}:question`, turnId, text: question }
    ],
    turn: {
      turnId,
      lastSeq: 0,
      phase: 'thinking',
      attempt: null,
      phased: false,
      finished: null,
      cellIds: [],
      ranCode: false,
      usage: null,
      retry
    }
  };
}

/**
 * Show an error that belongs to no event (HTTP failure, lost connection…).
 */
export function addError(
  state: IChatState,
  errorKind: IErrorItem['errorKind'],
  message: string,
  retry: IRetry | null = null
): IChatState {
  const turnId = state.turn?.turnId ?? null;
  const key = `error:${state.items.length}:${errorKind}`;
  return {
    ...state,
    items: [
      ...state.items,
      { kind: 'error', key, turnId, errorKind, message, retry }
    ]
  };
}

/**
 * Show a notice that belongs to no event (e.g. the executor was restarted).
 */
export function addNotice(state: IChatState, text: string): IChatState {
  const key = `notice:${state.items.length}`;
  const turnId = state.turn?.turnId ?? null;
  return {
    ...state,
    items: [...state.items, { kind: 'notice', key, turnId, text }]
  };
}

/**
 * Mark the followed turn as over without a `turn_finished` event (e.g. the
 * events socket could not be reopened and the server says the turn ended).
 */
export function finishTurn(
  state: IChatState,
  status: FinishedStatus
): IChatState {
  if (!state.turn || state.turn.finished !== null) {
    return state;
  }
  return {
    items: settleCode(state.items, state.turn.turnId),
    turn: { ...state.turn, phase: 'idle', attempt: null, finished: status }
  };
}

/**
 * Record the person's Run or Skip on a proposed cell as soon as they click
 * (the server's events confirm it); `null` takes it back (the request failed).
 */
export function decide(
  state: IChatState,
  toolUseId: string,
  decision: ReviewChoice | null
): IChatState {
  const turn = state.turn;
  const item = turn ? findCode(state.items, turn.turnId, toolUseId) : undefined;
  if (!turn || !item?.proposal || item.state !== 'proposed') {
    return state;
  }
  return {
    ...state,
    items: setProposal(state.items, turn.turnId, toolUseId, {
      ...item.proposal,
      decision
    })
  };
}

/** The proposed cell of `toolUseId` still waiting for a decision, if any. */
export function pendingProposal(
  state: IChatState,
  toolUseId: string
): ICodeItem | null {
  const turn = state.turn;
  if (!turn || turn.finished !== null) {
    return null;
  }
  const item = findCode(state.items, turn.turnId, toolUseId);
  return item?.proposal && item.state === 'proposed' ? item : null;
}

/**
 * Follow again a turn that runs on the server (the page was reloaded): what
 * the notebook's cells told about it is dropped, the replay rebuilds it.
 */
export function resumeTurn(
  state: IChatState,
  turnId: string,
  question: string
): IChatState {
  const others = {
    ...state,
    items: state.items.filter(i => i.turnId !== turnId)
  };
  return startTurn(others, turnId, question);
}

/**
 * Apply one server event.
 *
 * Returns the same object when the event is ignored: it belongs to another
 * turn, or it is a replay (`seq <= lastSeq`) after a reconnect.
 */
export function applyEvent(state: IChatState, event: TurnEvent): IChatState {
  const turn = state.turn;
  if (!turn || event.turn_id !== turn.turnId || event.seq <= turn.lastSeq) {
    return state;
  }
  const turnId = turn.turnId;
  const key = `${turnId}:${event.seq}`;
  let items = state.items;
  let next: ITurnState = {
    ...turn,
    lastSeq: event.seq,
    phase: nextPhase(turn, event)
  };
  if (next.phase !== 'fixing') {
    next.attempt = null;
  }

  switch (event.type) {
    case 'turn_started':
      if (!items.some(i => i.kind === 'question' && i.turnId === turnId)) {
        items = [
          ...items,
          { kind: 'question', key, turnId, text: event.question }
        ];
      }
      break;

    case 'text_delta': {
      const last = items[items.length - 1];
      if (last && last.kind === 'text' && last.turnId === turnId) {
        items = [
          ...items.slice(0, -1),
          { ...last, text: last.text + event.text }
        ];
      } else {
        items = [...items, { kind: 'text', key, turnId, text: event.text }];
      }
      break;
    }

    case 'code_delta':
    case 'cell_running': {
      // After a proposal, the code is final (maybe edited) and about to run.
      const proposed = findCode(items, turnId, event.tool_use_id)?.proposal;
      const state: CodeState =
        event.type === 'code_delta' && !proposed ? 'writing' : 'running';
      items = upsertCode(items, turnId, event.tool_use_id, event.code, state);
      if (proposed && proposed.decision !== 'run') {
        // Decided elsewhere (another window, or before a reload).
        items = setProposal(items, turnId, event.tool_use_id, {
          ...proposed,
          decision: 'run'
        });
      }
      break;
    }

    case 'cell_proposed': {
      const code = joinSource(event.cell.source);
      items = upsertCode(items, turnId, event.tool_use_id, code, 'proposed');
      items = setProposal(items, turnId, event.tool_use_id, {
        cellId: event.cell.id,
        replaces: event.replaces ?? null,
        decision: null
      });
      break;
    }

    case 'cell_skipped':
      items = items.map(i =>
        i.kind === 'code' &&
        i.turnId === turnId &&
        i.proposal?.cellId === event.cell_id
          ? {
              ...i,
              state: 'skipped' as const,
              proposal: { ...i.proposal, decision: 'skip' as const }
            }
          : i
      );
      break;

    case 'phase':
      next = {
        ...next,
        phased: true,
        attempt:
          event.phase === 'fixing' && typeof event.attempt === 'number'
            ? { attempt: event.attempt, max: event.max_attempts ?? null }
            : null
      };
      break;

    case 'cell': {
      const cellId = event.cell.id;
      if (next.cellIds.includes(cellId)) {
        break;
      }
      next = { ...next, cellIds: [...next.cellIds, cellId] };
      // A cell replacing its own proposal replaces what the proposal did.
      const proposal = items.find(
        (i): i is ICodeItem =>
          i.kind === 'code' &&
          i.turnId === turnId &&
          !!event.replaces &&
          i.proposal?.cellId === event.replaces
      )?.proposal;
      const replaces = proposal ? proposal.replaces : (event.replaces ?? null);
      if (replaces) {
        items = items.map(i =>
          i.kind === 'cell' && i.cellId === replaces
            ? { ...i, replaced: true }
            : i
        );
      }
      if (event.role === 'code') {
        next = { ...next, ranCode: true };
        const toolUseId = cellTag(event.cell)?.tool_use_id;
        if (toolUseId) {
          items = items.map(i =>
            i.kind === 'code' &&
            i.turnId === turnId &&
            i.toolUseId === toolUseId
              ? { ...i, state: 'done' as const }
              : i
          );
        }
        items = [
          ...items,
          {
            kind: 'cell',
            key: `${turnId}:cell:${cellId}`,
            turnId,
            cellId,
            executionCount: executionCount(event.cell),
            preview: outputPreview(event.cell),
            image: outputImage(event.cell),
            failed: hasError(event.cell),
            replaces,
            replaced: false
          }
        ];
      }
      break;
    }

    case 'answer': {
      // The answer usually arrived as text deltas first: replace that prose.
      const last = items[items.length - 1];
      const base =
        last && last.kind === 'text' && last.turnId === turnId
          ? items.slice(0, -1)
          : items;
      items = [...base, { kind: 'answer', key, turnId, text: event.text }];
      break;
    }

    case 'usage':
      next = { ...next, usage: event };
      break;

    case 'error':
      items = [
        ...items,
        {
          kind: 'error',
          key,
          turnId,
          errorKind: event.kind,
          message: event.message,
          retry: turn.retry ?? retryFromItems(items, turnId)
        }
      ];
      break;

    case 'notice':
      items = [...items, { kind: 'notice', key, turnId, text: event.text }];
      break;

    case 'turn_finished':
      next = { ...next, finished: event.status };
      items = settleCode(items, turnId);
      if (event.status === 'cancelled') {
        items = [...items, { kind: 'stopped', key, turnId }];
      }
      break;
  }

  return { items, turn: next };
}

/** The phase after `event`, given the turn before it. */
export function nextPhase(turn: ITurnState, event: TurnEvent): TurnPhase {
  if (event.type === 'phase') {
    return event.phase;
  }
  if (event.type === 'turn_finished') {
    return 'idle';
  }
  if (turn.phased) {
    // The server says what it does; other events do not change the phase.
    return turn.phase;
  }
  // Older servers: infer the phase from the stream.
  switch (event.type) {
    case 'turn_started':
      return 'thinking';
    case 'text_delta':
      return turn.ranCode ? 'answering' : 'thinking';
    case 'code_delta':
      return 'writing_code';
    case 'cell_running':
      return 'running';
    case 'cell_proposed':
      return 'reviewing';
    case 'cell':
      // Claude reads the outputs next.
      return event.role === 'code' ? 'thinking' : turn.phase;
    case 'answer':
      return 'answering';
    default:
      return turn.phase;
  }
}

/** Which of the turn's cells runs, and for how long (the status line). */
export interface IRunningCell {
  /** 1 for the turn's first cell, fixes included. */
  ordinal: number;
  seconds: number;
}

/** The turn's cell that runs now, counted from 1; 0 when none does. */
export function runningOrdinal(state: IChatState): number {
  const turnId = state.turn?.turnId;
  let count = 0;
  for (const item of state.items) {
    if (item.kind === 'code' && item.turnId === turnId) {
      if (item.state === 'running' || item.state === 'done') {
        count += 1;
      }
      if (item.state === 'running') {
        return count;
      }
    }
  }
  return 0;
}

/** "1:05" for 65 seconds, "7 s" under a minute. */
export function elapsedText(seconds: number, trans: TranslationBundle): string {
  if (seconds < 60) {
    return trans.__('%1 s', seconds);
  }
  const rest = String(seconds % 60).padStart(2, '0');
  return `${Math.floor(seconds / 60)}:${rest}`;
}

/** The status line of a turn ('' when idle). */
export function statusText(
  turn: Pick<ITurnState, 'phase' | 'attempt'>,
  trans: TranslationBundle,
  cell?: IRunningCell
): string {
  switch (turn.phase) {
    case 'thinking':
      return trans.__('Thinking…');
    case 'writing_code':
      return trans.__('Writing code…');
    case 'reviewing':
      return trans.__('Waiting for your review…');
    case 'running':
      if (cell && cell.ordinal > 0) {
        return trans.__(
          'Running cell %1 of this turn… %2',
          cell.ordinal,
          elapsedText(cell.seconds, trans)
        );
      }
      return trans.__('Running cell…');
    case 'fixing':
      if (turn.attempt === null) {
        return trans.__('Fixing the code…');
      }
      if (turn.attempt.max === null) {
        return trans.__('Fixing the code (attempt %1)…', turn.attempt.attempt);
      }
      return trans.__(
        'Fixing the code (attempt %1 of %2)…',
        turn.attempt.attempt,
        turn.attempt.max
      );
    case 'answering':
      return trans.__('Writing the answer…');
    default:
      return '';
  }
}

/** The `metadata.nbchat` tag of a cell, if any. */
export function cellTag(cell: {
  metadata?: unknown;
}): Partial<ICellTag> | null {
  const metadata = cell.metadata as { nbchat?: unknown } | undefined;
  const tag = metadata?.nbchat;
  return tag && typeof tag === 'object' ? (tag as Partial<ICellTag>) : null;
}

/**
 * Rebuild a conversation from the notebook's own cells (their
 * `metadata.nbchat` tags), so reopening a notebook shows its history.
 *
 * Turns asked with question/answer cells off take their question and answer
 * from `records` (`metadata.nbchat.turns`), around their code cells; a
 * recorded turn that ran no cell comes right after the recorded turn before it.
 */
export function stateFromCells(
  cells: ReadonlyArray<{
    id?: string;
    cell_type: string;
    source: string | string[];
    metadata?: unknown;
    outputs?: unknown;
    execution_count?: unknown;
  }>,
  records: readonly ITurnRecord[] = []
): IChatState {
  const items: ChatItem[] = [];
  const recorded = new Map(records.map((r, i) => [r.turn_id, i]));
  const withCells = new Set<string>();
  for (const cell of cells) {
    const tag = cellTag(cell);
    if (typeof tag?.turn_id === 'string') {
      withCells.add(tag.turn_id);
    }
  }
  const shown = new Set<string>();
  /** The recorded turn whose code cells are being listed. */
  let open: ITurnRecord | null = null;

  const question = (r: ITurnRecord) => {
    shown.add(r.turn_id);
    items.push({
      kind: 'question',
      key: `record:${r.turn_id}:question`,
      turnId: r.turn_id,
      text: r.question
    });
  };
  const answer = (r: ITurnRecord) => {
    if (r.answer !== null) {
      items.push({
        kind: 'answer',
        key: `record:${r.turn_id}:answer`,
        turnId: r.turn_id,
        text: r.answer
      });
    }
  };
  const close = () => {
    if (open) {
      answer(open);
      open = null;
    }
  };
  /** Recorded turns without cells that come before records[index]. */
  const catchUp = (index: number) => {
    for (const r of records.slice(0, index)) {
      if (!shown.has(r.turn_id) && !withCells.has(r.turn_id)) {
        question(r);
        answer(r);
      }
    }
  };

  cells.forEach((cell, index) => {
    const tag = cellTag(cell);
    if (!tag || typeof tag.role !== 'string') {
      return;
    }
    const turnId = typeof tag.turn_id === 'string' ? tag.turn_id : null;
    if (open && open.turn_id !== turnId) {
      close();
    }
    const at = turnId === null ? undefined : recorded.get(turnId);
    if (at !== undefined && !shown.has(turnId!)) {
      catchUp(at);
      question(records[at]);
      open = records[at];
    }
    const key = `history:${index}`;
    const text = joinSource(cell.source);
    const role = tag.role as CellRole;
    if (role === 'question') {
      const asked = typeof tag.text === 'string' ? tag.text : text;
      items.push({ kind: 'question', key, turnId, text: asked });
    } else if (role === 'answer') {
      items.push({ kind: 'answer', key, turnId, text });
    } else if (role === 'code') {
      items.push({
        kind: 'code',
        key: `${key}:code`,
        turnId,
        toolUseId: tag.tool_use_id ?? '',
        code: text,
        state: 'done'
      });
      items.push({
        kind: 'cell',
        key,
        turnId,
        cellId: cell.id ?? key,
        executionCount: executionCount(cell),
        preview: outputPreview(cell),
        image: outputImage(cell),
        failed: hasError(cell),
        replaces: null,
        replaced: false
      });
    }
  });
  close();
  catchUp(records.length);
  return { items, turn: null };
}

/** A bitmap output of a cell, as in its nbformat `data`. */
export interface IOutputImage {
  mime: 'image/png' | 'image/jpeg';
  /** Base64, as nbformat stores it. */
  data: string;
}

/** The first PNG or JPEG a cell displayed (SVG needs a trusted notebook: left out). */
export function outputImage(cell: object): IOutputImage | null {
  const outputs = (cell as { outputs?: unknown }).outputs;
  for (const output of Array.isArray(outputs) ? outputs : []) {
    const data = (output as { data?: Record<string, unknown> } | null)?.data;
    for (const mime of ['image/png', 'image/jpeg'] as const) {
      const value = data?.[mime];
      const text = Array.isArray(value) ? value.join('') : value;
      if (typeof text === 'string' && text !== '') {
        return { mime, data: text.replace(/\n/g, '') };
      }
    }
  }
  return null;
}

/** Maximum lines shown in a "cell executed" item. */
export const PREVIEW_LINES = 4;

/**
 * The first lines of a cell's text output: streams, `text/plain` results and
 * error names, in output order.
 */
export function outputPreview(
  cell: object,
  maxLines: number = PREVIEW_LINES
): string {
  const outputs = (cell as { outputs?: unknown }).outputs;
  const list = Array.isArray(outputs) ? outputs : [];
  const lines: string[] = [];
  for (const output of list) {
    if (!output || typeof output !== 'object') {
      continue;
    }
    const o = output as Record<string, any>;
    let text = '';
    if (o.output_type === 'stream') {
      text = joinSource(o.text);
    } else if (
      o.output_type === 'execute_result' ||
      o.output_type === 'display_data'
    ) {
      text = joinSource(o.data?.['text/plain'] ?? '');
    } else if (o.output_type === 'error') {
      text = `${o.ename}: ${o.evalue}`;
    }
    const trimmed = text.replace(/\n+$/, '');
    if (trimmed !== '') {
      lines.push(...trimmed.split('\n'));
    }
    if (lines.length > maxLines) {
      break;
    }
  }
  const shown = lines.slice(0, maxLines);
  return shown.join('\n') + (lines.length > maxLines ? '\n…' : '');
}

function hasError(cell: object): boolean {
  const outputs = (cell as { outputs?: unknown }).outputs;
  return (
    Array.isArray(outputs) &&
    outputs.some(
      o => o && typeof o === 'object' && (o as any).output_type === 'error'
    )
  );
}

function executionCount(cell: object): number | null {
  const count = (cell as { execution_count?: unknown }).execution_count;
  return typeof count === 'number' ? count : null;
}

function joinSource(source: unknown): string {
  if (Array.isArray(source)) {
    return source.join('');
  }
  return typeof source === 'string' ? source : '';
}

function upsertCode(
  items: readonly ChatItem[],
  turnId: string,
  toolUseId: string,
  code: string,
  state: CodeState
): readonly ChatItem[] {
  const index = items.findIndex(
    i => i.kind === 'code' && i.turnId === turnId && i.toolUseId === toolUseId
  );
  if (index === -1) {
    return [
      ...items,
      {
        kind: 'code',
        key: `${turnId}:code:${toolUseId}`,
        turnId,
        toolUseId,
        code,
        state
      }
    ];
  }
  const copy = items.slice();
  copy[index] = { ...(items[index] as ICodeItem), code, state };
  return copy;
}

/** A Retry for a turn whose request is not known: its question, as shown. */
function retryFromItems(
  items: readonly ChatItem[],
  turnId: string
): IRetry | null {
  const question = items.find(
    (i): i is IQuestionItem => i.kind === 'question' && i.turnId === turnId
  );
  return question ? { question: question.text, fields: {} } : null;
}

/** Code still marked writing/running once the turn is over is settled. */
function settleCode(
  items: readonly ChatItem[],
  turnId: string
): readonly ChatItem[] {
  return items.map(i =>
    i.kind === 'code' &&
    i.turnId === turnId &&
    i.state !== 'done' &&
    i.state !== 'skipped'
      ? { ...i, state: 'done' as const }
      : i
  );
}

/** The code item of one tool call, if any. */
function findCode(
  items: readonly ChatItem[],
  turnId: string,
  toolUseId: string
): ICodeItem | undefined {
  return items.find(
    (i): i is ICodeItem =>
      i.kind === 'code' && i.turnId === turnId && i.toolUseId === toolUseId
  );
}

function setProposal(
  items: readonly ChatItem[],
  turnId: string,
  toolUseId: string,
  proposal: IProposal
): readonly ChatItem[] {
  return items.map(i =>
    i.kind === 'code' && i.turnId === turnId && i.toolUseId === toolUseId
      ? { ...i, proposal }
      : i
  );
}
