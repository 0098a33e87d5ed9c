/**
 * The conversation as the panel shows it (view state only), and how each
 * turn event changes it.
 *
 * No DOM, no network, no notebook: every function here returns a new state
 * (or the very same object when the event changes nothing), so the chat can
 * tell "ignored" from "applied" with `===` and unit tests need no browser.
 * The notebook's record is not folded here: the server authors it.
 */

import type {
  ErrorKind,
  FinishedStatus,
  ITurnRequest,
  IUnverifiedNumber,
  ReviewChoice,
  IUsageEvent,
  ServerPhase,
  TurnEvent
} from '../api/types';
import { cellTag } from '../notebook/record';

/** What a Retry re-sends: the question and the chat fields it went with. */
export interface IRetry {
  question: string;
  fields: Pick<
    ITurnRequest,
    'attachments' | 'context_level' | 'executor' | 'focus'
  >;
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

/** Claude's prose, streamed; `thinking`: what it wrote while thinking or between tool calls. */
export interface ITextItem extends IItemBase {
  kind: 'text';
  text: string;
  thinking?: boolean;
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
  /** Numbers the turn's outputs do not show, marked in the rendered answer. */
  unverified?: IUnverifiedNumber[];
  /**
   * How many numbers could not be checked against the outputs (after a
   * reload only this count is known, from the turn's record).
   */
  unverifiedCount?: number;
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
  /**
   * `rerun`: a turn was undone, and its variables may still exist; the
   * notice offers to restart and run the remaining cells (until it is done).
   */
  action?: 'rerun' | null;
  /** Something the person should act on (shown as a warning). */
  warn?: boolean;
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
  /** Set by `turn_finished`. */
  finished: FinishedStatus | null;
  /** Ids of the cells already received (replays are skipped). */
  cellIds: readonly string[];
  /** Cells started (`cell_started`) -> the cell each takes the place of. */
  started: Readonly<Record<string, string | null>>;
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

/** Numbers the items no event names (errors and notices), for unique keys. */
let serial = 0;

/** The state of a conversation with nothing in it. */
export const EMPTY_STATE: IChatState = Object.freeze({ items: [], turn: null });

/** Whether a turn is under way (its `turn_finished` not yet seen). */
export function isRunning(state: IChatState): boolean {
  return state.turn !== null && state.turn.finished === null;
}

/** The turn under way, whose items errors and notices join; null when none runs. */
function runningTurnId(state: IChatState): string | null {
  return isRunning(state) ? state.turn!.turnId : null;
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
      finished: null,
      cellIds: [],
      started: {},
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
  const turnId = runningTurnId(state);
  const key = `error:${++serial}:${errorKind}`;
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
export function addNotice(
  state: IChatState,
  text: string,
  options: Pick<INoticeItem, 'action' | 'warn'> & {
    turnId?: string | null;
  } = {}
): IChatState {
  const key = `notice:${++serial}`;
  const turnId =
    options.turnId === undefined ? runningTurnId(state) : options.turnId;
  const action = options.action ?? null;
  const item: INoticeItem = { kind: 'notice', key, turnId, text, action };
  if (options.warn) {
    item.warn = true;
  }
  return { ...state, items: [...state.items, item] };
}

/** The notice's action is done (or no longer applies): it stays as text. */
export function settleNotice(state: IChatState, key: string): IChatState {
  return {
    ...state,
    items: state.items.map(i =>
      i.kind === 'notice' && i.key === key ? { ...i, action: null } : i
    )
  };
}

/** The conversation without turn `turnId` (it was undone). */
export function dropTurn(state: IChatState, turnId: string): IChatState {
  return {
    items: state.items.filter(i => i.turnId !== turnId),
    turn: state.turn?.turnId === turnId ? null : state.turn
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
  let next: ITurnState = { ...turn, lastSeq: event.seq };

  switch (event.type) {
    case 'turn_started':
      if (!items.some(i => i.kind === 'question' && i.turnId === turnId)) {
        items = [
          ...items,
          { kind: 'question', key, turnId, text: event.question }
        ];
      }
      break;

    case 'text_delta':
    case 'thinking_delta': {
      const thinking = event.type === 'thinking_delta';
      const last = items[items.length - 1];
      if (
        last &&
        last.kind === 'text' &&
        last.turnId === turnId &&
        !!last.thinking === thinking
      ) {
        items = [
          ...items.slice(0, -1),
          { ...last, text: last.text + event.text }
        ];
      } else {
        const item: ITextItem = { kind: 'text', key, turnId, text: event.text };
        items = [...items, thinking ? { ...item, thinking } : item];
      }
      break;
    }

    case 'cell_started': {
      next = {
        ...next,
        started: { ...next.started, [event.cell.id]: event.replaces ?? null }
      };
      const toolUseId = cellTag(event.cell)?.tool_use_id;
      if (toolUseId) {
        const code = joinSource(event.cell.source);
        items = upsertCode(items, turnId, toolUseId, code, 'running');
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
        phase: event.phase,
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
      // The cell it took the place of, when it ran or when it started.
      const named = event.replaces ?? next.started[cellId] ?? null;
      // A cell replacing its own proposal replaces what the proposal did.
      const proposal = items.find(
        (i): i is ICodeItem =>
          i.kind === 'code' &&
          i.turnId === turnId &&
          !!named &&
          i.proposal?.cellId === named
      )?.proposal;
      const replaces = proposal ? proposal.replaces : named;
      if (replaces) {
        items = items.map(i =>
          i.kind === 'cell' && i.cellId === replaces
            ? { ...i, replaced: true }
            : i
        );
      }
      if (event.role === 'code') {
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
          cellItem(event.cell, turnId, `${turnId}:cell:${cellId}`, replaces)
        ];
      }
      break;
    }

    case 'answer': {
      // The answer usually arrived as text deltas first: replace that prose.
      const last = items[items.length - 1];
      const base =
        last && last.kind === 'text' && !last.thinking && last.turnId === turnId
          ? items.slice(0, -1)
          : items;
      const unverified = event.unverified ?? [];
      items = [
        ...base,
        {
          kind: 'answer',
          key,
          turnId,
          text: event.text,
          unverified,
          unverifiedCount: unverified.length
        }
      ];
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
      next = { ...next, phase: 'idle', attempt: null, finished: event.status };
      items = settleCode(items, turnId);
      if (event.status === 'cancelled') {
        items = [...items, { kind: 'stopped', key, turnId }];
      }
      break;
  }

  return { items, turn: next };
}

/** A "cell executed" item for `cell` of turn `turnId`. */
export function cellItem(
  cell: object & { id?: string },
  turnId: string | null,
  key: string,
  replaces: string | null = null
): ICellItem {
  return {
    kind: 'cell',
    key,
    turnId,
    cellId: cell.id ?? key,
    executionCount: executionCount(cell),
    preview: outputPreview(cell),
    image: outputImage(cell),
    failed: hasError(cell),
    replaces,
    replaced: false
  };
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
const PREVIEW_LINES = 4;

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

/** A cell's (or an output's) text, joined when nbformat split it in lines. */
export function joinSource(source: unknown): string {
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
