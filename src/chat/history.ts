/**
 * The conversation rebuilt from a notebook: its tagged cells and the turns
 * its record keeps, so reopening a notebook shows its history.
 */

import type { ITurnRecord } from '../api/types';
import { cellTag } from '../notebook/record';
import {
  ChatItem,
  cellItem,
  EMPTY_STATE,
  IChatState,
  joinSource
} from './conversation';

/** A notebook cell as read from the shared model. */
interface ICellJSON {
  id?: string;
  cell_type: string;
  source: string | string[];
  metadata?: unknown;
  outputs?: unknown;
  execution_count?: unknown;
}

/** The tagged cells of one turn, in notebook order. */
interface ITurnCells {
  questions: string[];
  code: { cell: ICellJSON; index: number; toolUseId: string }[];
  answers: string[];
}

/**
 * The conversation the notebook records: one group per turn, in the order of
 * its first cell (a turn that left no cell, e.g. asked with question/answer
 * cells off and without code, comes right after the turn recorded before it).
 * A turn's question and answer come from its cells' `metadata.nbchat.text`
 * (or their source), else from its record.
 */
export function stateFromCells(
  cells: readonly ICellJSON[],
  turns: readonly ITurnRecord[] = []
): IChatState {
  const groups = new Map<string, ITurnCells>();
  const order: string[] = [];
  const loose: ChatItem[] = [];
  cells.forEach((cell, index) => {
    const tag = cellTag(cell);
    if (!tag || typeof tag.role !== 'string') {
      return;
    }
    const text =
      typeof tag.text === 'string' ? tag.text : joinSource(cell.source);
    if (typeof tag.turn_id !== 'string') {
      // A hand-made tag without a turn: shown, never undone.
      if (tag.role === 'code') {
        loose.push(...cellItems(cell, index, null, tag.tool_use_id));
      } else if (tag.role === 'question' || tag.role === 'answer') {
        loose.push({
          kind: tag.role,
          key: `history:${index}`,
          turnId: null,
          text
        });
      }
      return;
    }
    let group = groups.get(tag.turn_id);
    if (!group) {
      group = { questions: [], code: [], answers: [] };
      groups.set(tag.turn_id, group);
      order.push(tag.turn_id);
    }
    if (tag.role === 'question') {
      group.questions.push(text);
    } else if (tag.role === 'answer') {
      group.answers.push(text);
    } else if (tag.role === 'code') {
      group.code.push({ cell, index, toolUseId: tag.tool_use_id ?? '' });
    }
  });
  turns.forEach((turn, i) => {
    if (order.includes(turn.turn_id)) {
      return;
    }
    const before = i > 0 ? order.indexOf(turns[i - 1].turn_id) : -1;
    const next = turns
      .slice(i + 1)
      .map(t => order.indexOf(t.turn_id))
      .find(at => at !== -1);
    const at = before !== -1 ? before + 1 : (next ?? order.length);
    order.splice(at, 0, turn.turn_id);
  });

  const items: ChatItem[] = [...loose];
  const records = new Map(turns.map(t => [t.turn_id, t]));
  for (const turnId of order) {
    const group = groups.get(turnId);
    const record = records.get(turnId);
    const key = `history:${turnId}`;
    const questions = group?.questions.length
      ? group.questions
      : record && record.question !== ''
        ? [record.question]
        : [];
    questions.forEach((text, i) =>
      items.push({ kind: 'question', key: `${key}:q${i}`, turnId, text })
    );
    for (const { cell, index, toolUseId } of group?.code ?? []) {
      items.push(...cellItems(cell, index, turnId, toolUseId));
    }
    const answers = group?.answers.length
      ? group.answers
      : record?.answer
        ? [record.answer]
        : [];
    // Only the count of unverified numbers is kept (the record's `numbers`).
    const unverifiedCount = record?.numbers?.unverified ?? 0;
    answers.forEach((text, i) =>
      items.push({
        kind: 'answer',
        key: `${key}:a${i}`,
        turnId,
        text,
        ...(unverifiedCount > 0 ? { unverifiedCount } : {})
      })
    );
  }
  return items.length ? { items, turn: null } : EMPTY_STATE;
}

/** The code item and the "cell executed" item of a code cell. */
function cellItems(
  cell: ICellJSON,
  index: number,
  turnId: string | null,
  toolUseId: string | undefined
): ChatItem[] {
  const key = `history:${index}`;
  return [
    {
      kind: 'code',
      key: `${key}:code`,
      turnId,
      toolUseId: toolUseId ?? '',
      code: joinSource(cell.source),
      state: 'done'
    },
    cellItem(cell, turnId, key)
  ];
}
