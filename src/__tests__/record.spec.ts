import {
  cellTag,
  contextId,
  readRecord,
  sandboxId,
  tokensIn,
  turnRecord
} from '../notebook/record';
import { record, summary, TURN } from './fixtures';

describe('readRecord', () => {
  it('gives an empty chat for anything that is not a record', () => {
    for (const raw of [undefined, null, 3, 'x', []]) {
      expect(readRecord(raw)).toEqual({ attachments: [], turns: [] });
    }
  });

  it('reads what the server wrote, as it is', () => {
    const read = readRecord({
      ...record(),
      attachments: [
        {
          path: 'd/shoes.csv',
          size: 103,
          sha256: 'sha-d/shoes.csv',
          summary: summary('d/shoes.csv')
        }
      ],
      executor: 'e2b',
      executor_state: {
        executor: 'e2b',
        state: { sandbox_id: 's1', context_id: 'c1' }
      }
    });
    expect(read.attachments[0].summary.tables![0].row_count).toBe(3);
    expect(read.context_level).toBe('headers');
    expect(read.usage).toMatchObject({ input_tokens: 10, turns: 1 });
    expect(sandboxId(read)).toBe('s1');
    expect(contextId(read)).toBe('c1');
    expect(turnRecord(read, TURN)).toMatchObject({
      question: 'What is six times seven?',
      answer: 'The answer is 42.',
      status: 'done',
      cells: [
        { id: 'cell-q', role: 'question' },
        { id: 'cell-code-1', role: 'code' },
        { id: 'cell-a', role: 'answer' }
      ]
    });
    expect(turnRecord(read, 'other')).toBeNull();
  });

  it('skips broken and repeated attachments and unknown values', () => {
    const read = readRecord({
      attachments: [
        { path: 'a.csv', size: 1, sha256: 'x', summary: summary('a.csv') },
        { path: 'a.csv', size: 1, sha256: 'x' },
        { size: 3 },
        'nonsense',
        { path: 'b.csv', size: 2, sha256: 'y' }
      ],
      context_level: 'everything',
      executor: 'gpu'
    });
    expect(read.attachments.map(a => a.path)).toEqual(['a.csv', 'b.csv']);
    expect(read.attachments[1].summary.name).toBe('b.csv');
    expect(read.attachments[1].summary.tables).toEqual([]);
    expect(read.context_level).toBeUndefined();
    expect(read.executor).toBeUndefined();
  });

  it('reads hand-edited turns tolerantly', () => {
    const read = readRecord({
      turns: [
        { turn_id: 't1', question: 'Q1', answer: 'A1' },
        {
          turn_id: 't2',
          question: 'Q2',
          cells: [{ id: 'c', role: 'code' }, { id: 3 }],
          skipped: 'no'
        },
        { question: 'no id' },
        'junk'
      ]
    });
    expect(read.turns.map(t => [t.turn_id, t.answer, t.status])).toEqual([
      ['t1', 'A1', 'done'],
      ['t2', null, 'done']
    ]);
    expect(read.turns[1].cells).toEqual([
      { id: 'c', role: 'code', sha256: '' }
    ]);
    expect(read.turns[1].skipped).toEqual([]);
    expect(read.turns[1].question_answer_cells).toBe(false);
  });
});

describe('cell tags and usage', () => {
  it('reads a cell’s tag', () => {
    expect(
      cellTag({ metadata: { nbchat: { role: 'code', turn_id: 't' } } })
    ).toEqual({
      role: 'code',
      turn_id: 't'
    });
    expect(cellTag({ metadata: {} })).toBeNull();
    expect(cellTag({})).toBeNull();
  });

  it('counts cache reads and writes as input', () => {
    expect(
      tokensIn({
        input_tokens: 10,
        output_tokens: 1,
        cache_read_input_tokens: 100,
        cache_creation_input_tokens: 5,
        cost_usd: null
      })
    ).toBe(115);
  });
});
