/**
 * A recorded-looking turn: the events the server sends for "What is six
 * times seven?" answered with one code cell.
 */

import type { TurnCell, TurnEvent } from '../api/types';

export const TURN = '0123456789abcdef0123456789abcdef';
export const PATH = 'analysis.ipynb';

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
          outputs: [
            { output_type: 'stream', name: 'stdout', text: 'x is 42\n' }
          ]
        }
      : {
          cell_type: 'markdown',
          source:
            role === 'question'
              ? 'What is six times seven?'
              : 'The answer is 42.'
        };
  return {
    id,
    metadata: {
      nbchat: {
        turn_id: TURN,
        role,
        ...(role === 'code' ? { tool_use_id: 'toolu_1' } : {}),
        ...(role === 'question' ? { text: 'What is six times seven?' } : {})
      }
    },
    ...base,
    ...extra
  } as TurnCell;
}

/** The whole turn, seq 1..11. */
export function events(): TurnEvent[] {
  const raw: Omit<TurnEvent, 'seq' | 'turn_id'>[] = [
    {
      type: 'turn_started',
      notebook_path: PATH,
      question: 'What is six times seven?',
      executor: 'kernel'
    },
    { type: 'cell', role: 'question', cell: cell('cell-q', 'question') },
    { type: 'text_delta', text: 'Let me compute that.' },
    { type: 'code_delta', tool_use_id: 'toolu_1', code: 'x = 6 * 7' },
    {
      type: 'cell_running',
      tool_use_id: 'toolu_1',
      code: 'x = 6 * 7\nprint(f"x is {x}")'
    },
    { type: 'cell', role: 'code', cell: cell('cell-code-1', 'code') },
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
    { type: 'turn_finished', status: 'done' }
  ] as any;
  return raw.map((e, i) => ({ ...e, seq: i + 1, turn_id: TURN }) as TurnEvent);
}
