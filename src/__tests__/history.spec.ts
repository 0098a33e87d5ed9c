import type { ITurnRecord, TurnEvent } from '../api/types';
import { stateFromCells } from '../chat/history';
import { readRecord } from '../notebook/record';
import { cell, events, record, TURN } from './fixtures';

/** A recorded turn without cells in the notebook. */
function turn(turnId: string, question: string, answer: string | null) {
  return readRecord({ turns: [{ turn_id: turnId, question, answer }] })
    .turns[0] as ITurnRecord;
}

describe('stateFromCells', () => {
  it('rebuilds the conversation from tagged cells only', () => {
    const cells = events()
      .filter(e => e.type === 'cell')
      .map(e => (e as Extract<TurnEvent, { type: 'cell' }>).cell);
    const state = stateFromCells([
      { cell_type: 'code', source: 'print(1)', metadata: {}, outputs: [] },
      ...cells
    ]);
    expect(state.turn).toBeNull();
    expect(state.items.map(i => i.kind)).toEqual([
      'question',
      'code',
      'cell',
      'answer'
    ]);
    // The question and the answer come from metadata.nbchat.text, not the
    // markdown heading them.
    expect(state.items[0]).toMatchObject({ text: 'What is six times seven?' });
    expect(state.items[3]).toMatchObject({ text: 'The answer is 42.' });
  });

  it('an answer cell without text in its tag shows its source', () => {
    const old = cell('a', 'answer', {
      source: 'Older answer.',
      metadata: { nbchat: { turn_id: TURN, role: 'answer' } }
    } as any);
    expect(stateFromCells([old]).items).toEqual([
      expect.objectContaining({ kind: 'answer', text: 'Older answer.' })
    ]);
  });

  it('does not repeat a recorded question and answer that have cells', () => {
    const cells = events()
      .filter(e => e.type === 'cell')
      .map(e => (e as Extract<TurnEvent, { type: 'cell' }>).cell);
    const state = stateFromCells(cells, readRecord(record()).turns);
    expect(state.items.map(i => i.kind)).toEqual([
      'question',
      'code',
      'cell',
      'answer'
    ]);
  });

  it('puts each recorded question and answer around its code cells', () => {
    const code = cell('c1', 'code');
    const questionCell = {
      ...cell('q0', 'question'),
      metadata: {
        nbchat: { turn_id: 'cells', role: 'question', text: 'Old way' }
      }
    };
    const state = stateFromCells(
      [questionCell, code],
      [
        turn('before', 'No code needed?', 'Right.'),
        turn(TURN, 'What is six times seven?', '42'),
        turn('after', 'And then?', null)
      ]
    );
    expect(state.items.map(i => `${i.kind}:${i.turnId}`)).toEqual([
      'question:cells',
      'question:before',
      'answer:before',
      `question:${TURN}`,
      `code:${TURN}`,
      `cell:${TURN}`,
      `answer:${TURN}`,
      'question:after'
    ]);
    const answer = state.items.find(
      i => i.kind === 'answer' && i.turnId === TURN
    );
    expect(answer && 'text' in answer && answer.text).toBe('42');
  });

  it('keeps a turn together even when its cells were moved apart', () => {
    const other = cell('o', 'code', {
      metadata: { nbchat: { turn_id: 'other', role: 'code' } }
    } as any);
    const state = stateFromCells([
      cell('q', 'question'),
      other,
      cell('c', 'code'),
      cell('a', 'answer')
    ]);
    expect(state.items.map(i => `${i.kind}:${i.turnId}`)).toEqual([
      `question:${TURN}`,
      `code:${TURN}`,
      `cell:${TURN}`,
      `answer:${TURN}`,
      'code:other',
      'cell:other'
    ]);
  });
});
