/**
 * A recorded-looking turn: the events the server sends for "What is six
 * times seven?" answered with one code cell that runs live.
 */

import type {
  ChatRecordJSON,
  IFileSummary,
  TurnCell,
  TurnEvent
} from '../api/types';

export const TURN = '0123456789abcdef0123456789abcdef';
export const PATH = 'analysis.ipynb';

const STDOUT = [{ output_type: 'stream', name: 'stdout', text: 'x is 42\n' }];

export function cell(
  id: string,
  role: 'question' | 'code' | 'answer',
  extra: Partial<TurnCell> = {}
): TurnCell {
  const base =
    role === 'code'
      ? {
          cell_type: 'code',
          source: 'x = 6 * 7\nprint(f"x is {x}")',
          execution_count: 1,
          outputs: STDOUT
        }
      : {
          cell_type: 'markdown',
          source:
            role === 'question'
              ? '**Question**\n\nWhat is six times seven?'
              : '**Answer**\n\nThe answer is 42.'
        };
  return {
    id,
    metadata: {
      nbchat: {
        turn_id: TURN,
        role,
        ...(role === 'code' ? { tool_use_id: 'toolu_1' } : {}),
        ...(role === 'question' ? { text: 'What is six times seven?' } : {}),
        ...(role === 'answer' ? { text: 'The answer is 42.' } : {})
      }
    },
    ...base,
    ...extra
  } as TurnCell;
}

/** The record the server folds for the turn once it is over. */
export function record(extra: Record<string, unknown> = {}): ChatRecordJSON {
  return {
    attachments: [],
    context_level: 'headers',
    usage: {
      input_tokens: 10,
      output_tokens: 5,
      cache_read_input_tokens: 0,
      cache_creation_input_tokens: 0,
      cost_usd: null,
      turns: 1,
      last_turn_id: TURN
    },
    turns: [
      {
        turn_id: TURN,
        question: 'What is six times seven?',
        answer: 'The answer is 42.',
        status: 'done',
        question_answer_cells: true,
        cells: [
          { id: 'cell-q', role: 'question', sha256: 'q' },
          { id: 'cell-code-1', role: 'code', sha256: 'c' },
          { id: 'cell-a', role: 'answer', sha256: 'a' }
        ],
        replaced: [],
        restore: [],
        skipped: []
      }
    ],
    ...extra
  };
}

/** The whole turn, seq 1..17. */
export function events(): TurnEvent[] {
  const started = cell('cell-code-1', 'code', {
    outputs: [],
    execution_count: null
  });
  const raw: Omit<TurnEvent, 'seq' | 'turn_id'>[] = [
    {
      type: 'turn_started',
      notebook_path: PATH,
      question: 'What is six times seven?',
      executor: 'kernel',
      record: { attachments: [], turns: [] }
    },
    { type: 'phase', phase: 'thinking' },
    { type: 'cell', role: 'question', cell: cell('cell-q', 'question') },
    { type: 'text_delta', text: 'Let me compute that.' },
    { type: 'phase', phase: 'writing_code' },
    { type: 'code_delta', tool_use_id: 'toolu_1', code: 'x = 6 * 7' },
    { type: 'phase', phase: 'running' },
    {
      type: 'cell_running',
      tool_use_id: 'toolu_1',
      code: 'x = 6 * 7\nprint(f"x is {x}")'
    },
    { type: 'cell_started', cell: started, replaces: null },
    {
      type: 'cell_outputs',
      cell_id: 'cell-code-1',
      outputs: STDOUT,
      execution_count: 1
    },
    { type: 'cell', role: 'code', cell: cell('cell-code-1', 'code') },
    { type: 'phase', phase: 'answering' },
    { type: 'text_delta', text: 'The answer is 42.' },
    { type: 'answer', text: 'The answer is 42.' },
    { type: 'cell', role: 'answer', cell: cell('cell-a', 'answer') },
    {
      type: 'usage',
      input_tokens: 10,
      output_tokens: 5,
      cache_read_input_tokens: 0,
      cache_creation_input_tokens: 0
    },
    { type: 'turn_finished', status: 'done', record: record() }
  ] as any;
  return raw.map((e, i) => ({ ...e, seq: i + 1, turn_id: TURN }) as TurnEvent);
}

/** `list` numbered from 1 as events of TURN. */
export function numbered(list: object[], from = 1): TurnEvent[] {
  return list.map(
    (e, i) => ({ ...e, seq: from + i, turn_id: TURN }) as TurnEvent
  );
}

/** What the server says of a CSV file with one column. */
export function summary(path: string, rows = 3): IFileSummary {
  return {
    path,
    name: path.split('/').pop()!,
    size: 10,
    sha256: `sha-${path}`,
    type: 'csv',
    sheets: [],
    tables: [{ columns: ['a'], column_count: 1, row_count: rows }]
  };
}
