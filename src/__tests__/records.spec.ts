/**
 * Question/answer cells off: the conversation in `metadata.nbchat.turns`,
 * and the settings' defaults for chats that have not chosen.
 */

import { ServerConnection } from '@jupyterlab/services';

import {
  ChatContext,
  IChatDefaults,
  MemoryMetadataStore,
  usableDefaults
} from '../attachments/context';
import {
  readChatMetadata,
  upsertTurnRecord,
  writeChatMetadata
} from '../notebook/metadata';
import { ChatModel } from '../chat/model';
import { stateFromCells } from '../chat/reducer';
import type { TurnEvent } from '../api/types';
import { cell, PATH, TURN } from './fixtures';

function context(initial?: unknown, defaults?: () => IChatDefaults) {
  const store = new MemoryMetadataStore(initial);
  const calls: { endpoint: string; body: any }[] = [];
  const ctx = new ChatContext({
    store,
    defaults,
    notebookPath: () => PATH,
    request: async <T>(endpoint: string, init: RequestInit = {}) => {
      calls.push({
        endpoint,
        body: init.body ? JSON.parse(String(init.body)) : null
      });
      if (endpoint === 'files/inspect') {
        return { files: [], prompt: 'p' } as T;
      }
      return {} as T;
    }
  });
  return { store, ctx, calls };
}

function event(
  raw: Record<string, unknown> & { type: TurnEvent['type'] },
  turnId = TURN
): TurnEvent {
  return { seq: 1, turn_id: turnId, ...raw } as TurnEvent;
}

describe('metadata.nbchat.turns', () => {
  it('reads tolerantly and writes back what it read', () => {
    const meta = readChatMetadata({
      turns: [
        { turn_id: 't1', question: 'Q1', answer: 'A1' },
        { turn_id: 't2', question: 'Q2' },
        { question: 'no id' },
        'junk'
      ]
    });
    expect(meta.turns).toEqual([
      { turn_id: 't1', question: 'Q1', answer: 'A1' },
      { turn_id: 't2', question: 'Q2', answer: null }
    ]);
    expect(writeChatMetadata(meta).turns).toEqual(meta.turns);
    expect('turns' in writeChatMetadata(readChatMetadata({}))).toBe(false);
  });

  it('replaces a replayed turn instead of adding it twice', () => {
    const once = upsertTurnRecord([], {
      turn_id: 't',
      question: 'Q',
      answer: null
    });
    const twice = upsertTurnRecord(once, {
      turn_id: 't',
      question: 'Q',
      answer: 'A'
    });
    expect(twice).toEqual([{ turn_id: 't', question: 'Q', answer: 'A' }]);
  });

  it('the context records a turn asked with the cells off, and only those', () => {
    const { store, ctx } = context();
    ctx.handleEvent(
      event(
        {
          type: 'turn_started',
          notebook_path: PATH,
          question: 'With cells',
          executor: 'kernel'
        },
        'on'
      )
    );
    ctx.handleEvent(event({ type: 'answer', text: 'kept in a cell' }, 'on'));
    expect((store.get() as any)?.turns).toBeUndefined();

    const started = event({
      type: 'turn_started',
      notebook_path: PATH,
      question: 'How many shoes?',
      executor: 'kernel',
      question_answer_cells: false
    });
    ctx.handleEvent(started);
    expect((store.get() as any).turns).toEqual([
      { turn_id: TURN, question: 'How many shoes?', answer: null }
    ]);
    ctx.handleEvent(event({ type: 'answer', text: '**12** shoes' }));
    // A reload replays the turn: still one record.
    ctx.handleEvent(started);
    ctx.handleEvent(event({ type: 'answer', text: '**12** shoes' }));
    expect((store.get() as any).turns).toEqual([
      { turn_id: TURN, question: 'How many shoes?', answer: '**12** shoes' }
    ]);
    expect(ctx.turnRecords()).toEqual((store.get() as any).turns);
  });
});

describe('stateFromCells with records', () => {
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
        { turn_id: 'before', question: 'No code needed?', answer: 'Right.' },
        { turn_id: TURN, question: 'What is six times seven?', answer: '42' },
        { turn_id: 'after', question: 'And then?', answer: null }
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
});

describe('settings defaults', () => {
  it('a chat without a level or executor uses the settings, its own choice wins', async () => {
    const defaults: IChatDefaults = { contextLevel: 'schema', executor: 'e2b' };
    const { ctx } = context(undefined, () => defaults);
    expect(ctx.requestFields()).toEqual(
      expect.objectContaining({ context_level: 'schema', executor: 'e2b' })
    );
    defaults.contextLevel = 'sample';
    defaults.executor = undefined;
    ctx.defaultsChanged();
    expect(ctx.state.meta.context_level).toBe('sample');
    expect(ctx.requestFields().executor).toBeUndefined();

    const chosen = context(
      { context_level: 'headers', executor: 'kernel' },
      () => defaults
    ).ctx;
    expect(chosen.requestFields()).toEqual(
      expect.objectContaining({ context_level: 'headers', executor: 'kernel' })
    );
  });

  it('an E2B default needs a server with an E2B key', () => {
    const e2b: IChatDefaults = { contextLevel: 'headers', executor: 'e2b' };
    expect(usableDefaults(e2b, { e2b_available: true }).executor).toBe('e2b');
    expect(usableDefaults(e2b, { e2b_available: false }).executor).toBe(
      undefined
    );
    // Status not known yet: keep the person's choice.
    expect(usableDefaults(e2b, null).executor).toBe('e2b');
  });

  it('the model sends question_answer_cells false with the records', async () => {
    const bodies: any[] = [];
    const serverSettings = ServerConnection.makeSettings({
      baseUrl: 'http://localhost:8888/',
      wsUrl: 'ws://localhost:8888/',
      token: '',
      appendToken: false,
      fetch: (async (input: Request) => {
        bodies.push(JSON.parse(await input.text()));
        return new Response(JSON.stringify({ turn_id: TURN }), { status: 201 });
      }) as any,
      WebSocket: class {
        readyState = 1;
        close() {}
      } as any
    });
    const settings = {
      model: '',
      maxFixAttempts: 0,
      questionAnswerCells: false
    };
    const records = [{ turn_id: 't0', question: 'Q0', answer: 'A0' }];
    const writer = {
      appendCell: () => 'inserted' as const,
      removeCell: () => 'removed' as const,
      cellSource: () => null,
      cells: () => null,
      save: async () => true
    };
    const model = new ChatModel({
      notebookPath: () => PATH,
      writer,
      serverSettings,
      turnSettings: () => settings,
      turnRecords: () => records
    });
    await model.send('Q1');
    expect(bodies[0]).toEqual(
      expect.objectContaining({ question_answer_cells: false, turns: records })
    );
    model.dispose();

    // Cells back on: earlier recorded turns still go with the question.
    settings.questionAnswerCells = true;
    const again = new ChatModel({
      notebookPath: () => PATH,
      writer,
      serverSettings,
      turnSettings: () => settings,
      turnRecords: () => records
    });
    await again.send('Q2');
    expect(bodies[1].question_answer_cells).toBeUndefined();
    expect(bodies[1].turns).toEqual(records);
    again.dispose();
  });
});
