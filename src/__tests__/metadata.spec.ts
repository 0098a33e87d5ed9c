import {
  addTurnUsage,
  applyManifest,
  attachmentFromSummary,
  readChatMetadata,
  sandboxId,
  tokensIn,
  turnTotals,
  writeChatMetadata
} from '../notebook/metadata';
import type { IFileSummary } from '../api/types';

function summary(path: string, rows = 3): IFileSummary {
  return {
    path,
    name: path.split('/').pop()!,
    size: 100 + rows,
    sha256: `sha-${path}-${rows}`,
    type: 'csv',
    sheets: [],
    tables: [{ columns: ['a', 'b'], column_count: 2, row_count: rows }]
  };
}

describe('readChatMetadata', () => {
  it('gives an empty chat for anything that is not a record', () => {
    for (const raw of [undefined, null, 3, 'x', []]) {
      expect(readChatMetadata(raw)).toEqual({
        attachments: [],
        context_level: 'headers'
      });
    }
  });

  it('round-trips what it writes', () => {
    const meta = {
      attachments: [attachmentFromSummary(summary('d/shoes.csv'))],
      context_level: 'sample' as const,
      executor: 'e2b' as const,
      executor_state: { executor: 'e2b' as const, state: { sandbox_id: 's1' } },
      usage: addTurnUsage(undefined, 't1', turnTotals(usage(10, 5, 0.01)))
    };
    const written = writeChatMetadata(meta);
    expect(readChatMetadata(JSON.parse(JSON.stringify(written)))).toEqual(meta);
  });

  it('leaves unset keys out when writing', () => {
    const written = writeChatMetadata({
      attachments: [],
      context_level: 'headers'
    });
    expect(written).toEqual({ attachments: [], context_level: 'headers' });
  });

  it('skips broken and repeated attachments and unknown values', () => {
    const meta = readChatMetadata({
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
    expect(meta.attachments.map(a => a.path)).toEqual(['a.csv', 'b.csv']);
    expect(meta.attachments[1].summary.name).toBe('b.csv');
    expect(meta.attachments[1].summary.tables).toEqual([]);
    expect(meta.context_level).toBe('headers');
    expect(meta.executor).toBeUndefined();
  });

  it('finds the sandbox to reconnect to', () => {
    expect(
      sandboxId(
        readChatMetadata({
          executor_state: { executor: 'e2b', state: { sandbox_id: 'sbx' } }
        })
      )
    ).toBe('sbx');
    expect(sandboxId(readChatMetadata({}))).toBeUndefined();
  });
});

describe('applyManifest', () => {
  it('refreshes recorded files and appends new ones, in order', () => {
    const before = [
      attachmentFromSummary(summary('a.csv', 3)),
      attachmentFromSummary(summary('b.csv', 4))
    ];
    const after = applyManifest(before, [
      summary('b.csv', 40),
      summary('c.csv', 1)
    ]);
    expect(after.map(a => a.path)).toEqual(['a.csv', 'b.csv', 'c.csv']);
    expect(after[0]).toBe(before[0]);
    expect(after[1].summary.tables![0].row_count).toBe(40);
    expect(after[1].sha256).toBe('sha-b.csv-40');
  });
});

function usage(input: number, output: number, cost: number | null) {
  return {
    input_tokens: input,
    output_tokens: output,
    cache_read_input_tokens: 0,
    cache_creation_input_tokens: 0,
    cost_usd: cost
  };
}

describe('usage sums', () => {
  it('adds turns', () => {
    let chat = addTurnUsage(undefined, 't1', usage(100, 10, 0.01));
    chat = addTurnUsage(chat, 't2', usage(50, 5, 0.02));
    expect(chat.turns).toBe(2);
    expect(chat.input_tokens).toBe(150);
    expect(chat.output_tokens).toBe(15);
    expect(chat.cost_usd).toBeCloseTo(0.03);
  });

  it('replaces a turn’s earlier snapshot instead of adding it again', () => {
    let chat = addTurnUsage(undefined, 't1', usage(100, 10, 0.01));
    chat = addTurnUsage(chat, 't2', usage(50, 5, 0.02));
    chat = addTurnUsage(chat, 't2', usage(80, 9, 0.03));
    // A replay of the same figures changes nothing.
    chat = addTurnUsage(chat, 't2', usage(80, 9, 0.03));
    expect(chat.turns).toBe(2);
    expect(chat.input_tokens).toBe(180);
    expect(chat.output_tokens).toBe(19);
    expect(chat.cost_usd).toBeCloseTo(0.04);
  });

  it('keeps the cost unknown until a turn has one', () => {
    let chat = addTurnUsage(undefined, 't1', usage(1, 1, null));
    expect(chat.cost_usd).toBeNull();
    chat = addTurnUsage(chat, 't2', usage(1, 1, 0.5));
    expect(chat.cost_usd).toBeCloseTo(0.5);
  });

  it('counts cache reads and writes as input', () => {
    expect(
      tokensIn({
        ...usage(10, 1, null),
        cache_read_input_tokens: 100,
        cache_creation_input_tokens: 5
      })
    ).toBe(115);
  });
});
