import { nullTranslator } from '@jupyterlab/translation';

import type { TurnEvent } from '../api/types';
import {
  addError,
  addNotice,
  applyEvent,
  decide,
  dropTurn,
  EMPTY_STATE,
  IChatState,
  ICodeItem,
  isRunning,
  outputPreview,
  pendingProposal,
  resumeTurn,
  settleNotice,
  startTurn
} from '../chat/conversation';
import { stateFromCells } from '../chat/history';
import { runningOrdinal, statusText } from '../chat/status';
import { cell, events, numbered, TURN } from './fixtures';

const trans = nullTranslator.load('jupyter_nbchat');

function replay(state: IChatState, list: TurnEvent[]): IChatState {
  return list.reduce(applyEvent, state);
}

describe('startTurn', () => {
  it('shows the question and starts thinking', () => {
    const state = startTurn(EMPTY_STATE, TURN, 'What is six times seven?');
    expect(state.items).toEqual([
      expect.objectContaining({
        kind: 'question',
        text: 'What is six times seven?'
      })
    ]);
    expect(state.turn).toMatchObject({
      turnId: TURN,
      lastSeq: 0,
      phase: 'thinking',
      finished: null
    });
    expect(isRunning(state)).toBe(true);
  });
});

describe('applyEvent', () => {
  const started = startTurn(EMPTY_STATE, TURN, 'What is six times seven?');

  it('applies a whole turn in order', () => {
    const state = replay(started, events());
    expect(state.items.map(i => i.kind)).toEqual([
      'question',
      'text',
      'code',
      'cell',
      'answer'
    ]);
    expect(state.turn).toMatchObject({
      lastSeq: events().length,
      finished: 'done',
      phase: 'idle'
    });
    expect(isRunning(state)).toBe(false);
  });

  it('ignores replayed events (seq <= last seen)', () => {
    const all = events();
    const half = replay(started, all.slice(0, 5));
    for (const event of all.slice(0, 5)) {
      expect(applyEvent(half, event)).toBe(half);
    }
    // The rest still applies, and the outcome equals a clean run.
    expect(replay(half, all)).toEqual(replay(started, all));
  });

  it('ignores events of another turn', () => {
    const [first] = events();
    expect(applyEvent(started, { ...first, turn_id: 'other' })).toBe(started);
    expect(applyEvent(EMPTY_STATE, first)).toBe(EMPTY_STATE);
  });

  it('accumulates text deltas into one message', () => {
    const state = replay(started, [
      { seq: 1, turn_id: TURN, type: 'text_delta', text: 'Let me ' },
      { seq: 2, turn_id: TURN, type: 'text_delta', text: 'compute that.' }
    ]);
    expect(state.items[1]).toMatchObject({
      kind: 'text',
      text: 'Let me compute that.'
    });
  });

  it('keeps the latest code snapshot of a tool call', () => {
    const state = replay(started, [
      {
        seq: 1,
        turn_id: TURN,
        type: 'code_delta',
        tool_use_id: 't1',
        code: 'x ='
      },
      {
        seq: 2,
        turn_id: TURN,
        type: 'code_delta',
        tool_use_id: 't1',
        code: 'x = 6 * 7'
      },
      {
        seq: 3,
        turn_id: TURN,
        type: 'cell_running',
        tool_use_id: 't1',
        code: 'x = 6 * 7'
      }
    ]);
    const code = state.items.filter(i => i.kind === 'code');
    expect(code).toEqual([
      expect.objectContaining({ code: 'x = 6 * 7', state: 'running' })
    ]);
  });

  it('deduplicates cells by id', () => {
    const all = events();
    const cell = all.find(e => e.type === 'cell' && e.role === 'code')!;
    const once = replay(started, all.slice(0, all.indexOf(cell) + 1));
    const again = applyEvent(once, { ...cell, seq: once.turn!.lastSeq + 1 });
    expect(again.items.filter(i => i.kind === 'cell')).toHaveLength(1);
    expect(again.turn!.cellIds).toEqual(once.turn!.cellIds);
    // The sequence number still advances.
    expect(again.turn!.lastSeq).toBe(once.turn!.lastSeq + 1);
  });

  it('shows the code running from cell_started, and done once the cell is', () => {
    const all = events();
    const at = all.findIndex(e => e.type === 'cell_started');
    const running = replay(started, all.slice(0, at + 1));
    expect(running.items.find(i => i.kind === 'code')).toMatchObject({
      state: 'running'
    });
    // Live outputs change the notebook, not the conversation.
    const outputs = applyEvent(running, all[at + 1]);
    expect(outputs.items).toBe(running.items);
    expect(outputs.turn!.lastSeq).toBe(all[at + 1].seq);
  });

  it('marks the code of a finished cell as done', () => {
    const all = events();
    const at = all.findIndex(e => e.type === 'cell' && e.role === 'code');
    const state = replay(started, all.slice(0, at + 1));
    expect(state.items.find(i => i.kind === 'code')).toMatchObject({
      state: 'done'
    });
    expect(state.items.find(i => i.kind === 'cell')).toMatchObject({
      cellId: 'cell-code-1',
      executionCount: 1,
      preview: 'x is 42',
      failed: false
    });
  });

  it('replaces the streamed prose with the final answer', () => {
    const state = replay(started, [
      { seq: 1, turn_id: TURN, type: 'text_delta', text: 'The answer' },
      { seq: 2, turn_id: TURN, type: 'text_delta', text: ' is 42.' },
      { seq: 3, turn_id: TURN, type: 'answer', text: 'The answer is 42.' }
    ]);
    expect(state.items.map(i => i.kind)).toEqual(['question', 'answer']);
  });

  it('keeps the notes written while thinking apart from the prose, and the answer replaces only the prose', () => {
    const state = replay(started, [
      { seq: 1, turn_id: TURN, type: 'thinking_delta', text: 'Loading ' },
      { seq: 2, turn_id: TURN, type: 'thinking_delta', text: 'the file.' },
      { seq: 3, turn_id: TURN, type: 'text_delta', text: 'The answer' },
      { seq: 4, turn_id: TURN, type: 'answer', text: 'The answer is 42.' }
    ]);
    expect(state.items.map(i => i.kind)).toEqual([
      'question',
      'text',
      'answer'
    ]);
    expect(state.items[1]).toMatchObject({
      text: 'Loading the file.',
      thinking: true
    });
  });

  it('shows errors and a stopped turn', () => {
    const state = replay(started, [
      {
        seq: 1,
        turn_id: TURN,
        type: 'code_delta',
        tool_use_id: 't1',
        code: 'import time'
      },
      {
        seq: 2,
        turn_id: TURN,
        type: 'error',
        kind: 'rate_limited',
        message: 'Slow down'
      },
      { seq: 3, turn_id: TURN, type: 'turn_finished', status: 'cancelled' }
    ]);
    expect(state.items.map(i => i.kind)).toEqual([
      'question',
      'code',
      'error',
      'stopped'
    ]);
    expect(state.items[1]).toMatchObject({ state: 'done' });
    expect(state.items[2]).toMatchObject({
      errorKind: 'rate_limited',
      message: 'Slow down'
    });
    expect(state.turn!.finished).toBe('cancelled');
  });
});

describe('statusText', () => {
  it('follows the phase events of the turn', () => {
    let state = startTurn(EMPTY_STATE, TURN, 'q');
    const lines = [statusText(state.turn!, trans)];
    for (const event of events()) {
      state = applyEvent(state, event);
      lines.push(statusText(state.turn!, trans));
    }
    expect(lines).toEqual([
      'Thinking…', // sent
      'Thinking…', // turn_started
      'Thinking…', // phase thinking
      'Thinking…', // cell (question)
      'Thinking…', // text_delta
      'Writing code…', // phase writing_code
      'Writing code…', // code_delta
      'Running cell…', // phase running
      'Running cell…', // cell_running
      'Running cell…', // cell_started
      'Running cell…', // cell_outputs
      'Running cell…', // cell (code)
      'Writing the answer…', // phase answering
      'Writing the answer…', // text_delta
      'Writing the answer…', // answer
      'Writing the answer…', // cell (answer)
      'Writing the answer…', // usage
      '' // turn_finished
    ]);
  });

  it('names the running cell of the turn and how long it has run', () => {
    let state = startTurn(EMPTY_STATE, TURN, 'q');
    for (const event of events()) {
      state = applyEvent(state, event);
      if (event.type === 'cell_running') {
        break;
      }
    }
    const ordinal = runningOrdinal(state);
    expect(ordinal).toBe(1);
    expect(statusText(state.turn!, trans, { ordinal, seconds: 7 })).toBe(
      'Running cell 1 of this turn… 7 s'
    );
    expect(statusText(state.turn!, trans, { ordinal, seconds: 65 })).toBe(
      'Running cell 1 of this turn… 1:05'
    );
  });
});

describe('phase events', () => {
  const phase = (seq: number, extra: Record<string, unknown>): TurnEvent =>
    ({ seq, turn_id: TURN, type: 'phase', ...extra }) as TurnEvent;

  it('drive the status line once the server sends them', () => {
    let state = startTurn(EMPTY_STATE, TURN, 'q');
    const seen: string[] = [];
    const step = (event: TurnEvent) => {
      state = applyEvent(state, event);
      seen.push(statusText(state.turn!, trans));
    };
    step(phase(1, { phase: 'writing_code' }));
    // Other events no longer move the phase.
    step({ seq: 2, turn_id: TURN, type: 'text_delta', text: 'hm' });
    step(phase(3, { phase: 'running' }));
    step(phase(4, { phase: 'fixing', attempt: 1, max_attempts: 3 }));
    step({
      seq: 5,
      turn_id: TURN,
      type: 'code_delta',
      tool_use_id: 't2',
      code: 'x'
    });
    step(phase(6, { phase: 'fixing', attempt: 2, max_attempts: null }));
    step(phase(7, { phase: 'fixing' }));
    step(phase(8, { phase: 'answering' }));
    step({ seq: 9, turn_id: TURN, type: 'turn_finished', status: 'done' });
    expect(seen).toEqual([
      'Writing code…',
      'Writing code…',
      'Running cell…',
      'Fixing the code (attempt 1 of 3)…',
      'Fixing the code (attempt 1 of 3)…',
      'Fixing the code (attempt 2)…',
      'Fixing the code…',
      'Writing the answer…',
      ''
    ]);
  });
});

describe('replacing cells', () => {
  it('marks the failed cell replaced and shows the fix', () => {
    const failed = cell('cell-bad', 'code', {
      outputs: [
        {
          output_type: 'error',
          ename: 'NameError',
          evalue: "name 'y' is not defined",
          traceback: []
        }
      ]
    } as any);
    const fixed = cell('cell-good', 'code');
    const state = replay(startTurn(EMPTY_STATE, TURN, 'q'), [
      { seq: 1, turn_id: TURN, type: 'cell', role: 'code', cell: failed },
      {
        seq: 2,
        turn_id: TURN,
        type: 'cell',
        role: 'code',
        cell: fixed,
        replaces: 'cell-bad'
      }
    ]);
    const cells = state.items.filter(i => i.kind === 'cell');
    expect(cells).toEqual([
      expect.objectContaining({
        cellId: 'cell-bad',
        failed: true,
        replaced: true,
        preview: "NameError: name 'y' is not defined"
      }),
      expect.objectContaining({
        cellId: 'cell-good',
        failed: false,
        replaces: 'cell-bad',
        replaced: false
      })
    ]);
  });
});

describe('live fixes', () => {
  it('a fix started in place of the failed cell marks it replaced', () => {
    const failed = cell('bad', 'code', {
      outputs: [
        { output_type: 'error', ename: 'E', evalue: 'x', traceback: [] }
      ]
    } as any);
    const fixed = cell('good', 'code', { outputs: [], execution_count: null });
    const state = replay(
      startTurn(EMPTY_STATE, TURN, 'q'),
      numbered([
        {
          type: 'cell_started',
          cell: { ...failed, outputs: [] },
          replaces: null
        },
        { type: 'cell', role: 'code', cell: failed },
        { type: 'cell_started', cell: fixed, replaces: 'bad' },
        // The finished fix need not repeat what it replaced.
        { type: 'cell', role: 'code', cell: cell('good', 'code') }
      ])
    );
    const cells = state.items.filter(i => i.kind === 'cell') as any[];
    expect(cells.map(c => [c.cellId, c.replaced, c.replaces])).toEqual([
      ['bad', true, null],
      ['good', false, 'bad']
    ]);
  });
});

describe('review mode', () => {
  const started = startTurn(EMPTY_STATE, TURN, 'q');
  const seqd = (list: any[]): TurnEvent[] =>
    list.map((e, i) => ({ ...e, seq: i + 1, turn_id: TURN }) as TurnEvent);
  const proposed = cell('prop-1', 'code', {
    source: 'print(1)',
    outputs: [],
    execution_count: null
  });
  const head = [
    { type: 'code_delta', tool_use_id: 'toolu_1', code: 'print(1)' },
    {
      type: 'cell_proposed',
      tool_use_id: 'toolu_1',
      cell: proposed,
      replaces: null
    },
    { type: 'phase', phase: 'reviewing' }
  ];
  const code = (state: IChatState) =>
    state.items.find(i => i.kind === 'code') as ICodeItem;

  it('shows a proposal waiting for the person', () => {
    const state = replay(started, seqd(head));
    expect(code(state)).toMatchObject({
      state: 'proposed',
      code: 'print(1)',
      proposal: { cellId: 'prop-1', replaces: null, decision: null }
    });
    expect(statusText(state.turn!, trans)).toBe('Waiting for your review…');
    expect(pendingProposal(state, 'toolu_1')).not.toBeNull();
  });

  it('records a click at once and can take it back', () => {
    const state = replay(started, seqd(head));
    const clicked = decide(state, 'toolu_1', 'run');
    expect(code(clicked).proposal!.decision).toBe('run');
    expect(code(decide(clicked, 'toolu_1', null)).proposal!.decision).toBe(
      null
    );
    expect(decide(state, 'toolu_other', 'run')).toBe(state);
  });

  it('runs the edited code; the executed cell is not a "fix"', () => {
    const state = replay(
      started,
      seqd([
        ...head,
        { type: 'phase', phase: 'running' },
        { type: 'code_delta', tool_use_id: 'toolu_1', code: 'print(2)' },
        { type: 'cell_running', tool_use_id: 'toolu_1', code: 'print(2)' },
        {
          type: 'cell',
          role: 'code',
          cell: cell('ran-1', 'code', { source: 'print(2)' }),
          replaces: 'prop-1'
        }
      ])
    );
    expect(code(state)).toMatchObject({
      state: 'done',
      code: 'print(2)',
      proposal: { decision: 'run' }
    });
    const ran = state.items.find(i => i.kind === 'cell');
    expect(ran).toMatchObject({ cellId: 'ran-1', replaces: null });
    expect(pendingProposal(state, 'toolu_1')).toBeNull();
  });

  it('a proposed fix replaces the failed cell once it ran', () => {
    const state = replay(
      started,
      seqd([
        {
          type: 'cell',
          role: 'code',
          cell: cell('bad', 'code', {
            outputs: [{ output_type: 'error', ename: 'E', evalue: 'x' }]
          } as any)
        },
        {
          type: 'cell_proposed',
          tool_use_id: 'toolu_2',
          cell: { ...proposed, id: 'prop-2' },
          replaces: 'bad'
        },
        { type: 'code_delta', tool_use_id: 'toolu_2', code: 'fixed' },
        {
          type: 'cell',
          role: 'code',
          cell: cell('good', 'code', {
            metadata: {
              nbchat: { turn_id: TURN, role: 'code', tool_use_id: 'toolu_2' }
            }
          } as any),
          replaces: 'prop-2'
        }
      ])
    );
    const cells = state.items.filter(i => i.kind === 'cell') as any[];
    expect(cells.map(c => [c.cellId, c.replaced, c.replaces])).toEqual([
      ['bad', true, null],
      ['good', false, 'bad']
    ]);
  });

  it('marks a skipped proposal; it stays skipped when the turn ends', () => {
    const state = replay(
      started,
      seqd([
        ...head,
        { type: 'cell_skipped', cell_id: 'prop-1' },
        { type: 'turn_finished', status: 'done' }
      ])
    );
    expect(code(state)).toMatchObject({
      state: 'skipped',
      proposal: { decision: 'skip' }
    });
  });

  it('a proposal run live keeps what the proposal replaced', () => {
    const state = replay(
      started,
      seqd([
        ...head,
        {
          type: 'cell_started',
          cell: cell('ran-1', 'code', { outputs: [], execution_count: null }),
          replaces: 'prop-1'
        },
        { type: 'cell', role: 'code', cell: cell('ran-1', 'code') }
      ])
    );
    expect(state.items.find(i => i.kind === 'cell')).toMatchObject({
      cellId: 'ran-1',
      replaces: null
    });
  });
});

describe('resumeTurn', () => {
  it('drops what the cells told about the turn; the replay rebuilds it', () => {
    const history = stateFromCells([
      cell('q-old', 'question', {
        metadata: { nbchat: { turn_id: 'old', role: 'question', text: 'old?' } }
      } as any),
      cell('cell-q', 'question'),
      cell('cell-code-1', 'code')
    ]);
    const resumed = resumeTurn(history, TURN, 'What is six times seven?');
    expect(resumed.items.map(i => [i.kind, i.turnId])).toEqual([
      ['question', 'old'],
      ['question', TURN]
    ]);
    const state = replay(resumed, events());
    expect(state.items.filter(i => i.kind === 'question')).toHaveLength(2);
    expect(state.items.filter(i => i.kind === 'cell')).toHaveLength(1);
    expect(state.turn!.finished).toBe('done');
  });
});

describe('outputPreview', () => {
  it('takes the first lines of streams, results and errors', () => {
    const cell = {
      outputs: [
        { output_type: 'stream', name: 'stdout', text: ['a\n', 'b\n'] },
        {
          output_type: 'execute_result',
          data: { 'text/plain': '42', 'text/html': '<b>42</b>' },
          metadata: {},
          execution_count: 3
        },
        {
          output_type: 'error',
          ename: 'ValueError',
          evalue: 'bad',
          traceback: []
        }
      ]
    };
    expect(outputPreview(cell)).toBe('a\nb\n42\nValueError: bad');
    expect(outputPreview(cell, 2)).toBe('a\nb\n…');
    expect(outputPreview({ outputs: [] })).toBe('');
    expect(outputPreview({})).toBe('');
  });
});

describe('undone turns and notices', () => {
  it('drops an undone turn from the conversation', () => {
    const done = replay(startTurn(EMPTY_STATE, TURN, 'q'), events());
    const other = { ...done, items: [...done.items] };
    const state = dropTurn(other, TURN);
    expect(state.items).toEqual([]);
    expect(state.turn).toBeNull();
    expect(dropTurn(done, 'another').items).toEqual(done.items);
  });

  it('offers a re-run once; errors and notices outside a turn belong to none', () => {
    const done = replay(startTurn(EMPTY_STATE, TURN, 'q'), events());
    let state = addNotice(done, 'Undone.', { action: 'rerun', turnId: null });
    const notice = state.items[state.items.length - 1];
    expect(notice).toMatchObject({
      kind: 'notice',
      action: 'rerun',
      turnId: null
    });
    state = settleNotice(state, notice.key);
    expect(state.items[state.items.length - 1]).toMatchObject({ action: null });
    const error = addError(state, 'request', 'No.');
    expect(error.items[error.items.length - 1].turnId).toBeNull();
    const during = addError(
      startTurn(EMPTY_STATE, TURN, 'q'),
      'request',
      'No.'
    );
    expect(during.items[during.items.length - 1].turnId).toBe(TURN);
  });
});
