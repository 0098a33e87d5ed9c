/**
 * Reading the chat's record in the notebook, `metadata.nbchat`, and the tags
 * of the cells turns wrote (`cell.metadata.nbchat`).
 *
 * The server is the one author of the record (jupyter_nbchat/record.py): the
 * browser sets what it is sent as is and only reads it here. Reading is
 * tolerant: a hand-edited notebook never breaks the panel.
 */

import type {
  CellRole,
  ChatRecordJSON,
  ContextLevel,
  Executor,
  IAttachment,
  ICellTag,
  IChatRecord,
  IChatUsage,
  IFileSummary,
  INotebookCell,
  ITurnRecord,
  IUsageTotals,
  TurnStatus
} from '../api/types';

/** The key of the record, in the notebook's and in each cell's metadata. */
export const RECORD_KEY = 'nbchat';

type Raw = Record<string, any>;

function isObject(value: unknown): value is Raw {
  return !!value && typeof value === 'object' && !Array.isArray(value);
}

function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

function text(value: unknown, otherwise = ''): string {
  return typeof value === 'string' ? value : otherwise;
}

function list<T>(value: unknown, read: (raw: unknown) => T | null): T[] {
  if (!Array.isArray(value)) {
    return [];
  }
  return value.map(read).filter((item): item is T => item !== null);
}

function isExecutor(value: unknown): value is Executor {
  return value === 'kernel' || value === 'e2b';
}

const LEVELS: readonly unknown[] = ['headers', 'schema', 'sample'];
const STATUSES: readonly unknown[] = ['running', 'done', 'error', 'cancelled'];
const ROLES: readonly unknown[] = ['question', 'code', 'answer'];

function readAttachment(raw: unknown): IAttachment | null {
  if (!isObject(raw) || typeof raw.path !== 'string' || raw.path === '') {
    return null;
  }
  const name = raw.path.split('/').pop() ?? raw.path;
  const given = isObject(raw.summary) ? raw.summary : {};
  const summary: IFileSummary = {
    type: 'other',
    size: num(raw.size),
    sha256: text(raw.sha256),
    ...(given as Partial<IFileSummary>),
    path: raw.path,
    name: typeof given.name === 'string' && given.name ? given.name : name,
    tables: Array.isArray(given.tables) ? given.tables : [],
    sheets: Array.isArray(given.sheets) ? given.sheets : []
  };
  return {
    path: raw.path,
    size: num(raw.size ?? summary.size),
    sha256: text(raw.sha256, summary.sha256 ?? ''),
    summary
  };
}

function readTotals(raw: Raw): IUsageTotals {
  return {
    input_tokens: num(raw.input_tokens),
    output_tokens: num(raw.output_tokens),
    cache_read_input_tokens: num(raw.cache_read_input_tokens),
    cache_creation_input_tokens: num(raw.cache_creation_input_tokens),
    cost_usd: typeof raw.cost_usd === 'number' ? raw.cost_usd : null
  };
}

function readUsage(raw: unknown): IChatUsage | undefined {
  if (!isObject(raw)) {
    return undefined;
  }
  const usage: IChatUsage = { ...readTotals(raw), turns: num(raw.turns) };
  if (typeof raw.last_turn_id === 'string' && isObject(raw.last_turn)) {
    usage.last_turn_id = raw.last_turn_id;
    usage.last_turn = readTotals(raw.last_turn);
  }
  return usage;
}

function readTurn(raw: unknown): ITurnRecord | null {
  if (!isObject(raw) || typeof raw.turn_id !== 'string' || !raw.turn_id) {
    return null;
  }
  return {
    turn_id: raw.turn_id,
    question: text(raw.question),
    answer: typeof raw.answer === 'string' ? raw.answer : null,
    status: STATUSES.includes(raw.status) ? (raw.status as TurnStatus) : 'done',
    question_answer_cells: raw.question_answer_cells === true,
    cells: list(raw.cells, c =>
      isObject(c) && typeof c.id === 'string' && ROLES.includes(c.role)
        ? { id: c.id, role: c.role as CellRole, sha256: text(c.sha256) }
        : null
    ),
    replaced: list(raw.replaced, r =>
      isObject(r) && typeof r.by === 'string'
        ? { by: r.by, source: text(r.source) }
        : null
    ),
    restore: list(raw.restore, r =>
      isObject(r) && isObject(r.cell) && typeof r.index === 'number'
        ? { cell: r.cell as INotebookCell, index: r.index }
        : null
    ),
    skipped: list(raw.skipped, s =>
      isObject(s)
        ? { tool_use_id: text(s.tool_use_id), source: text(s.source) }
        : null
    ),
    numbers:
      isObject(raw.numbers) &&
      typeof raw.numbers.checked === 'number' &&
      typeof raw.numbers.unverified === 'number'
        ? { checked: raw.numbers.checked, unverified: raw.numbers.unverified }
        : null
  };
}

/** `metadata.nbchat` as found in a notebook (anything at all), typed. */
export function readRecord(raw: unknown): IChatRecord {
  const record: IChatRecord = { attachments: [], turns: [] };
  if (!isObject(raw)) {
    return record;
  }
  const seen = new Set<string>();
  for (const attachment of list(raw.attachments, readAttachment)) {
    if (!seen.has(attachment.path)) {
      seen.add(attachment.path);
      record.attachments.push(attachment);
    }
  }
  if (LEVELS.includes(raw.context_level)) {
    record.context_level = raw.context_level as ContextLevel;
  }
  if (isExecutor(raw.executor)) {
    record.executor = raw.executor;
  }
  if (Array.isArray(raw.databases)) {
    record.databases = raw.databases.filter(
      (name): name is string => typeof name === 'string'
    );
  }
  const state = raw.executor_state;
  if (isObject(state) && isExecutor(state.executor)) {
    record.executor_state = {
      executor: state.executor,
      state: isObject(state.state) ? { ...state.state } : {}
    };
  }
  const usage = readUsage(raw.usage);
  if (usage) {
    record.usage = usage;
  }
  record.turns = list(raw.turns, readTurn);
  return record;
}

/** The record of turn `turnId`, if the notebook has one. */
export function turnRecord(
  record: IChatRecord,
  turnId: string
): ITurnRecord | null {
  return record.turns.find(t => t.turn_id === turnId) ?? null;
}

/** The sandbox to reconnect to, from what the server last recorded. */
export function sandboxId(record: IChatRecord): string | undefined {
  return stateString(record, 'sandbox_id');
}

/** The sandbox's code context to reconnect to, from what the server last recorded. */
export function contextId(record: IChatRecord): string | undefined {
  return stateString(record, 'context_id');
}

function stateString(record: IChatRecord, key: string): string | undefined {
  const value = record.executor_state?.state[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The figures of a usage event (or of any object carrying them). */
export function turnTotals(usage: object): IUsageTotals {
  return readTotals(usage as Raw);
}

/** Every input token of a usage: plain, cache reads and cache writes. */
export function tokensIn(usage: IUsageTotals): number {
  return (
    usage.input_tokens +
    usage.cache_read_input_tokens +
    usage.cache_creation_input_tokens
  );
}

/** The `metadata.nbchat` tag of a cell, if any. */
export function cellTag(cell: {
  metadata?: unknown;
}): Partial<ICellTag> | null {
  const metadata = cell.metadata as { [RECORD_KEY]?: unknown } | undefined;
  const tag = metadata?.[RECORD_KEY];
  return isObject(tag) ? (tag as Partial<ICellTag>) : null;
}

/** A record to send when the notebook has none yet. */
export function recordJSON(raw: unknown): ChatRecordJSON {
  return isObject(raw) ? raw : {};
}
