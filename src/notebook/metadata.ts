/**
 * The chat's record in the notebook: `metadata.nbchat`.
 *
 * ```
 * metadata.nbchat = {
 *   attachments: [{path, size, sha256, summary: FileSummary}],
 *   context_level: "headers" | "schema" | "sample",
 *   executor?: "kernel" | "e2b",             // the chat's choice
 *   executor_state?: {executor, state},      // from executor_state events
 *   usage?: {input_tokens, output_tokens, cache_read_input_tokens,
 *            cache_creation_input_tokens, cost_usd, turns,
 *            last_turn_id, last_turn},       // summed over the chat's turns
 *   turns?: [{turn_id, question, answer}]    // only turns asked with
 *                                            // question/answer cells off
 * }
 * ```
 *
 * Reading is tolerant (a hand-edited notebook never breaks the panel);
 * writing drops what is unset. Pure functions only.
 */

import {
  DEFAULT_CONTEXT_LEVEL,
  isContextLevel
} from '../attachments/datafiles';
import type {
  ContextLevel,
  Executor,
  IFileSummary,
  ITurnRecord,
  IUsageEvent
} from '../api/types';

/** The key under the notebook's metadata. */
export const METADATA_KEY = 'nbchat';

/** One attached file, as recorded in the notebook. */
export interface IAttachment {
  /** Relative to the server root. */
  path: string;
  size: number;
  sha256: string;
  summary: IFileSummary;
}

/** Token counts (and cost) of one turn or of many. */
export interface IUsageTotals {
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
  /** Sum of the known costs; null when no turn had one. */
  cost_usd: number | null;
}

/** A chat's usage summed over its turns. */
export interface IChatUsage extends IUsageTotals {
  /** Turns counted. */
  turns: number;
  /** The turn counted last, and what it counted (so its later snapshots replace it). */
  last_turn_id?: string;
  last_turn?: IUsageTotals;
}

/** Where the chat's cells run, as the server last said. */
export interface IExecutorState {
  executor: Executor;
  state: Record<string, unknown>;
}

/** The whole `metadata.nbchat` record. */
export interface IChatMetadata {
  attachments: IAttachment[];
  context_level: ContextLevel;
  executor?: Executor;
  executor_state?: IExecutorState;
  usage?: IChatUsage;
  /** Questions and answers of turns asked with question/answer cells off. */
  turns?: ITurnRecord[];
}

/** A chat with nothing recorded yet. */
export function emptyMetadata(
  level: ContextLevel = DEFAULT_CONTEXT_LEVEL
): IChatMetadata {
  return { attachments: [], context_level: level };
}

function isObject(value: unknown): value is Record<string, any> {
  return !!value && typeof value === 'object' && !Array.isArray(value);
}

function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

function isExecutor(value: unknown): value is Executor {
  return value === 'kernel' || value === 'e2b';
}

/** The attachment record of a file the server summarised. */
export function attachmentFromSummary(summary: IFileSummary): IAttachment {
  return {
    path: summary.path,
    size: summary.size,
    sha256: summary.sha256,
    summary
  };
}

function readAttachment(raw: unknown): IAttachment | null {
  if (!isObject(raw) || typeof raw.path !== 'string' || raw.path === '') {
    return null;
  }
  const summary: IFileSummary = isObject(raw.summary)
    ? { ...(raw.summary as IFileSummary) }
    : {
        path: raw.path,
        name: raw.path.split('/').pop() ?? raw.path,
        size: num(raw.size),
        sha256: typeof raw.sha256 === 'string' ? raw.sha256 : '',
        type: 'other'
      };
  summary.path = raw.path;
  if (typeof summary.name !== 'string' || summary.name === '') {
    summary.name = raw.path.split('/').pop() ?? raw.path;
  }
  if (!Array.isArray(summary.tables)) {
    summary.tables = [];
  }
  if (!Array.isArray(summary.sheets)) {
    summary.sheets = [];
  }
  return {
    path: raw.path,
    size: num(raw.size ?? summary.size),
    sha256:
      typeof raw.sha256 === 'string' ? raw.sha256 : (summary.sha256 ?? ''),
    summary
  };
}

function readTotals(raw: Record<string, any>): IUsageTotals {
  return {
    input_tokens: num(raw.input_tokens),
    output_tokens: num(raw.output_tokens),
    cache_read_input_tokens: num(raw.cache_read_input_tokens),
    cache_creation_input_tokens: num(raw.cache_creation_input_tokens),
    cost_usd: typeof raw.cost_usd === 'number' ? raw.cost_usd : null
  };
}

function readRecord(raw: unknown): ITurnRecord | null {
  if (!isObject(raw) || typeof raw.turn_id !== 'string' || !raw.turn_id) {
    return null;
  }
  return {
    turn_id: raw.turn_id,
    question: typeof raw.question === 'string' ? raw.question : '',
    answer: typeof raw.answer === 'string' ? raw.answer : null
  };
}

/**
 * Parse `metadata.nbchat` as found in a notebook (anything at all).
 *
 * @param level The context level of a chat that has not recorded one
 *   (the person's setting).
 */
export function readChatMetadata(
  raw: unknown,
  level: ContextLevel = DEFAULT_CONTEXT_LEVEL
): IChatMetadata {
  const meta = emptyMetadata(level);
  if (!isObject(raw)) {
    return meta;
  }
  if (Array.isArray(raw.attachments)) {
    const seen = new Set<string>();
    for (const item of raw.attachments) {
      const attachment = readAttachment(item);
      if (attachment && !seen.has(attachment.path)) {
        seen.add(attachment.path);
        meta.attachments.push(attachment);
      }
    }
  }
  if (isContextLevel(raw.context_level)) {
    meta.context_level = raw.context_level;
  }
  if (isExecutor(raw.executor)) {
    meta.executor = raw.executor;
  }
  const state = raw.executor_state;
  if (isObject(state) && isExecutor(state.executor)) {
    meta.executor_state = {
      executor: state.executor,
      state: isObject(state.state) ? { ...state.state } : {}
    };
  }
  if (isObject(raw.usage)) {
    const usage: IChatUsage = {
      ...readTotals(raw.usage),
      turns: num(raw.usage.turns)
    };
    if (
      typeof raw.usage.last_turn_id === 'string' &&
      isObject(raw.usage.last_turn)
    ) {
      usage.last_turn_id = raw.usage.last_turn_id;
      usage.last_turn = readTotals(raw.usage.last_turn);
    }
    meta.usage = usage;
  }
  if (Array.isArray(raw.turns)) {
    const records = raw.turns
      .map(readRecord)
      .filter((r: ITurnRecord | null): r is ITurnRecord => r !== null);
    if (records.length > 0) {
      meta.turns = records;
    }
  }
  return meta;
}

/**
 * The turn records after turn `record.turn_id` started or answered: its
 * record is replaced (a replayed turn is never recorded twice) or appended.
 */
export function upsertTurnRecord(
  records: readonly ITurnRecord[] | undefined,
  record: ITurnRecord
): ITurnRecord[] {
  const list = [...(records ?? [])];
  const index = list.findIndex(r => r.turn_id === record.turn_id);
  if (index === -1) {
    list.push({ ...record });
  } else {
    list[index] = { ...record };
  }
  return list;
}

/** `meta` as JSON for `model.setMetadata('nbchat', …)` (unset keys left out). */
export function writeChatMetadata(meta: IChatMetadata): Record<string, any> {
  const out: Record<string, any> = {
    attachments: meta.attachments.map(a => ({
      path: a.path,
      size: a.size,
      sha256: a.sha256,
      summary: a.summary
    })),
    context_level: meta.context_level
  };
  if (meta.executor) {
    out.executor = meta.executor;
  }
  if (meta.executor_state) {
    out.executor_state = {
      executor: meta.executor_state.executor,
      state: { ...meta.executor_state.state }
    };
  }
  if (meta.usage) {
    out.usage = { ...meta.usage };
    if (meta.usage.last_turn) {
      out.usage.last_turn = { ...meta.usage.last_turn };
    }
  }
  if (meta.turns && meta.turns.length > 0) {
    out.turns = meta.turns.map(r => ({ ...r }));
  }
  // Plain JSON only: no undefined, no shared references into the model.
  return JSON.parse(JSON.stringify(out));
}

/**
 * The attachments after a `manifest` event: the files the server read
 * replace the recorded ones at the same path (fresh size, hash, headers);
 * files only the manifest names are appended.
 */
export function applyManifest(
  attachments: readonly IAttachment[],
  files: readonly IFileSummary[]
): IAttachment[] {
  const byPath = new Map(files.map(f => [f.path, f]));
  const next = attachments.map(a => {
    const fresh = byPath.get(a.path);
    return fresh ? attachmentFromSummary(fresh) : a;
  });
  const known = new Set(attachments.map(a => a.path));
  for (const file of files) {
    if (!known.has(file.path)) {
      next.push(attachmentFromSummary(file));
    }
  }
  return next;
}

/** The sandbox to reconnect to, from what the server last said. */
export function sandboxId(meta: IChatMetadata): string | undefined {
  return stateString(meta, 'sandbox_id');
}

/** The sandbox's code context to reconnect to, from what the server last said. */
export function contextId(meta: IChatMetadata): string | undefined {
  return stateString(meta, 'context_id');
}

function stateString(meta: IChatMetadata, key: string): string | undefined {
  const value = meta.executor_state?.state[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** A usage event's figures. */
export function turnTotals(
  usage: Pick<
    IUsageEvent,
    | 'input_tokens'
    | 'output_tokens'
    | 'cache_read_input_tokens'
    | 'cache_creation_input_tokens'
    | 'cost_usd'
  >
): IUsageTotals {
  return {
    input_tokens: num(usage.input_tokens),
    output_tokens: num(usage.output_tokens),
    cache_read_input_tokens: num(usage.cache_read_input_tokens),
    cache_creation_input_tokens: num(usage.cache_creation_input_tokens),
    cost_usd: typeof usage.cost_usd === 'number' ? usage.cost_usd : null
  };
}

function addCost(a: number | null, b: number | null): number | null {
  if (a === null && b === null) {
    return null;
  }
  return (a ?? 0) + (b ?? 0);
}

function combine(a: IUsageTotals, b: IUsageTotals, sign: 1 | -1): IUsageTotals {
  const cost =
    sign === 1
      ? addCost(a.cost_usd, b.cost_usd)
      : b.cost_usd === null
        ? a.cost_usd
        : (a.cost_usd ?? 0) - b.cost_usd;
  return {
    input_tokens: Math.max(0, a.input_tokens + sign * b.input_tokens),
    output_tokens: Math.max(0, a.output_tokens + sign * b.output_tokens),
    cache_read_input_tokens: Math.max(
      0,
      a.cache_read_input_tokens + sign * b.cache_read_input_tokens
    ),
    cache_creation_input_tokens: Math.max(
      0,
      a.cache_creation_input_tokens + sign * b.cache_creation_input_tokens
    ),
    cost_usd: cost === null ? null : Math.max(0, cost)
  };
}

const ZERO: IUsageTotals = {
  input_tokens: 0,
  output_tokens: 0,
  cache_read_input_tokens: 0,
  cache_creation_input_tokens: 0,
  cost_usd: null
};

/**
 * The chat's usage after a `usage` event of turn `turnId`.
 *
 * A turn's usage events are running totals of that turn, so a later one
 * replaces what an earlier one of the same turn added: replaying a turn's
 * events (a reconnect, a reloaded page) never counts it twice.
 */
export function addTurnUsage(
  chat: IChatUsage | undefined,
  turnId: string,
  usage: IUsageTotals
): IChatUsage {
  const base = chat ?? { ...ZERO, turns: 0 };
  let totals: IUsageTotals = base;
  let turns = base.turns;
  if (base.last_turn_id === turnId && base.last_turn) {
    totals = combine(totals, base.last_turn, -1);
  } else {
    turns += 1;
  }
  totals = combine(totals, usage, 1);
  return {
    ...totals,
    turns,
    last_turn_id: turnId,
    last_turn: { ...usage }
  };
}

/** Every input token of a usage: plain, cache reads and cache writes. */
export function tokensIn(usage: IUsageTotals): number {
  return (
    usage.input_tokens +
    usage.cache_read_input_tokens +
    usage.cache_creation_input_tokens
  );
}
