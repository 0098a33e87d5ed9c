import { NotebookModel, NotebookPanel } from '@jupyterlab/notebook';
import { ServerConnection } from '@jupyterlab/services';
import { nullTranslator } from '@jupyterlab/translation';
import { Signal } from '@lumino/signaling';

import { NbChatApi } from '../api/client';
import type {
  ChatRecordJSON,
  ITurnCellRecord,
  TurnCell,
  TurnEvent
} from '../api/types';
import { EditedChoice, NotebookChat } from '../chat/chat';
import { chatMessages } from '../chat/messages';
import {
  IChatDefaults,
  ITurnSettings,
  reviewFor,
  usableDefaults
} from '../chat/settings';
import { NotebookDocument, SyncResult } from '../notebook/document';
import { cell, events, numbered, PATH, record, TURN } from './fixtures';

/** A WebSocket the test drives by hand. */
class FakeSocket {
  static instances: FakeSocket[] = [];
  readonly CONNECTING = 0;
  readonly OPEN = 1;
  readonly CLOSING = 2;
  readonly CLOSED = 3;
  readyState = 1;
  onmessage: ((msg: { data: string }) => void) | null = null;
  onclose: (() => void) | null = null;

  constructor(readonly url: string) {
    FakeSocket.instances.push(this);
  }

  send(list: TurnEvent[]): void {
    for (const event of list) {
      this.onmessage?.({ data: JSON.stringify(event) });
    }
  }

  /** The server (or the network) drops the connection. */
  drop(): void {
    this.readyState = 3;
    this.onclose?.();
  }

  close(): void {
    this.readyState = 3;
  }
}

/**
 * The open notebook: a real notebook model behind a fake panel. Saving,
 * settling with the file and the kernel are recorded, not done; every write
 * is logged with the conversation's last seq at that moment.
 */
class TestDoc extends NotebookDocument {
  constructor(
    readonly model: NotebookModel,
    readonly panel: { isDisposed: boolean }
  ) {
    super(panel as unknown as NotebookPanel);
  }

  log: string[] = [];
  /** What the log notes with each write (the chat's last seq). */
  seen: () => string = () => '';
  saves = 0;
  syncs: boolean[] = [];
  syncResult: SyncResult = 'reloaded';
  restarts = 0;

  ids(): string[] {
    return this.model.sharedModel.cells.map(c => c.id);
  }

  shared(id: string): any {
    return this.model.sharedModel.cells.find(c => c.id === id);
  }

  insertCell(...args: Parameters<NotebookDocument['insertCell']>) {
    this.log.push(`cells${this.seen()}`);
    return super.insertCell(...args);
  }

  startCell(...args: Parameters<NotebookDocument['startCell']>) {
    this.log.push(`cells${this.seen()}`);
    return super.startCell(...args);
  }

  setOutputs(...args: Parameters<NotebookDocument['setOutputs']>) {
    this.log.push(`cells${this.seen()}`);
    return super.setOutputs(...args);
  }

  finishCell(cell: TurnCell) {
    this.log.push(`cells${this.seen()}`);
    return super.finishCell(cell);
  }

  setRecord(value: ChatRecordJSON): void {
    this.log.push(`record${this.seen()}`);
    super.setRecord(value);
  }

  async save(): Promise<boolean> {
    this.saves += 1;
    return !this.panel.isDisposed;
  }

  async syncFromDisk(complete: boolean): Promise<SyncResult> {
    this.syncs.push(complete);
    return this.syncResult;
  }

  async restartAndRunAll(): Promise<boolean> {
    this.restarts += 1;
    return true;
  }

  async reveal(): Promise<boolean> {
    return true;
  }
}

interface IRecorded {
  method: string;
  url: string;
  /** The route below `nbchat/`, without the query. */
  route: string;
  body: any;
}

type Answer = (req: IRecorded) => Response | undefined;

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status });

/** Turns start (201); anything else answers `{}`. */
const defaults: Answer = req =>
  req.route === 'turns' && req.method === 'POST'
    ? json({ turn_id: TURN }, 201)
    : json({});

function setup(
  answer: Answer = () => undefined,
  options: {
    settings?: ITurnSettings;
    defaults?: IChatDefaults;
    record?: ChatRecordJSON;
    cells?: object[];
    confirm?: EditedChoice;
  } = {}
) {
  const requests: IRecorded[] = [];
  const fetch = async (input: Request) => {
    const text = await input.text();
    const req = {
      method: input.method,
      url: input.url,
      route: new URL(input.url).pathname.replace(/^.*?\/nbchat\//, ''),
      body: text ? JSON.parse(text) : null
    };
    requests.push(req);
    return answer(req) ?? defaults(req)!;
  };
  const serverSettings = ServerConnection.makeSettings({
    baseUrl: 'http://localhost:8888/lab-base/',
    wsUrl: 'ws://localhost:8888/lab-base/',
    token: '',
    appendToken: false,
    fetch: fetch as any,
    WebSocket: FakeSocket as any
  });
  const model = new NotebookModel();
  model.sharedModel.insertCells(
    0,
    (options.cells ?? [
      { cell_type: 'code', source: 'df = load()', id: 'mine' }
    ]) as any
  );
  if (options.record) {
    model.setMetadata('nbchat', options.record);
  }
  // What the notebook had before the chat: not part of its undo history.
  model.sharedModel.clearUndoHistory();
  const panel = {
    isDisposed: false,
    model,
    context: { path: PATH },
    disposed: new Signal<any, void>({})
  };
  const doc = new TestDoc(model, panel);
  const settings = options.settings ?? { model: '', maxFixAttempts: 0 };
  const chatDefaults = options.defaults;
  const confirmed: number[] = [];
  const chat = new NotebookChat({
    doc,
    api: new NbChatApi(serverSettings),
    settings: () => settings,
    defaults: chatDefaults ? () => chatDefaults : undefined,
    reconnectDelays: [0, 0, 0],
    messages: chatMessages(nullTranslator.load('jupyter_nbchat')),
    confirmEdited: async count => {
      confirmed.push(count);
      return options.confirm ?? 'remove';
    }
  });
  doc.seen = () => `@${chat.state.turn?.lastSeq ?? 0}`;
  return { chat, doc, model, panel, requests, confirmed };
}

const tick = () => new Promise(resolve => setTimeout(resolve, 0));

const socket = () => FakeSocket.instances[FakeSocket.instances.length - 1];

beforeEach(() => {
  FakeSocket.instances = [];
});

describe('NotebookChat.send', () => {
  it('posts the turn request with the record and follows its events', async () => {
    const { chat, requests } = setup(undefined, {
      settings: { model: 'claude-test', maxFixAttempts: 2 }
    });
    expect(await chat.send('  What is six times seven? ')).toBe(true);

    expect(requests).toHaveLength(1);
    expect(requests[0].method).toBe('POST');
    expect(requests[0].url).toMatch(
      /^http:\/\/localhost:8888\/lab-base\/nbchat\/turns(\?|$)/
    );
    expect(requests[0].body).toEqual({
      notebook_path: PATH,
      question: 'What is six times seven?',
      write: 'browser',
      model: 'claude-test',
      max_fix_attempts: 2,
      review: true,
      attachments: [],
      context_level: 'headers',
      record: {},
      cells: [
        expect.objectContaining({
          cell_type: 'code',
          source: 'df = load()',
          id: 'mine'
        })
      ]
    });
    expect(FakeSocket.instances.map(s => s.url)).toEqual([
      `ws://localhost:8888/lab-base/nbchat/turns/${TURN}/events?after=0`
    ]);
    expect(chat.busy).toBe(true);
  });

  it('omits the server-default settings', async () => {
    const { chat, requests } = setup();
    await chat.send('q');
    expect(requests[0].body).not.toHaveProperty('model');
    expect(requests[0].body).not.toHaveProperty('max_fix_attempts');
    expect(requests[0].body).not.toHaveProperty('turns');
    expect(requests[0].body).not.toHaveProperty('images_to_claude');
  });

  it('sends images_to_claude as the person set it', async () => {
    for (const imagesToClaude of [false, true]) {
      const { chat, requests } = setup(undefined, {
        settings: { model: '', maxFixAttempts: 0, imagesToClaude }
      });
      await chat.send('Plot it');
      expect(requests[0].body.images_to_claude).toBe(imagesToClaude);
    }
  });

  it('sends question_answer_cells false, and the record as the notebook has it', async () => {
    const kept = record({ custom: 'a key this browser does not know' });
    const { chat, requests } = setup(undefined, {
      settings: { model: '', maxFixAttempts: 0, questionAnswerCells: false },
      record: kept
    });
    await chat.send('Q1');
    expect(requests[0].body.question_answer_cells).toBe(false);
    expect(requests[0].body.record).toEqual(kept);
  });

  it("shows the server's message and refuses on an HTTP error", async () => {
    const { chat } = setup(() =>
      json({ message: 'A turn is already running here.' }, 409)
    );
    expect(await chat.send('q')).toBe(false);
    expect(chat.busy).toBe(false);
    expect(chat.state.items).toEqual([
      expect.objectContaining({
        kind: 'error',
        errorKind: 'request',
        message: 'A turn is already running here.'
      })
    ]);
    expect(FakeSocket.instances).toHaveLength(0);
  });
});

describe('NotebookChat events', () => {
  it('inserts each cell, runs the code cell live, sets the record, saves at the end', async () => {
    const { chat, doc, model } = setup();
    await chat.send('What is six times seven?');
    const events$ = socket();
    events$.send(events());
    await tick();

    expect(doc.ids()).toEqual(['mine', 'cell-q', 'cell-code-1', 'cell-a']);
    const code = doc.shared('cell-code-1');
    expect(code.getOutputs()).toEqual([
      { output_type: 'stream', name: 'stdout', text: 'x is 42\n' }
    ]);
    expect(code.execution_count).toBe(1);
    expect(code.executionState).toBe('idle');
    // The server's record, as it sent it.
    expect(model.getMetadata('nbchat')).toEqual(record());
    expect(doc.saves).toBe(1);
    expect(chat.busy).toBe(false);
    expect(events$.onmessage).toBeNull();
  });

  it('reconnects after the last seq seen, inserting nothing twice', async () => {
    const { chat, doc } = setup();
    await chat.send('What is six times seven?');
    const all = events();
    const started = all.findIndex(e => e.type === 'cell_started');

    FakeSocket.instances[0].send(all.slice(0, started + 1));
    FakeSocket.instances[0].drop();
    await tick();

    expect(FakeSocket.instances).toHaveLength(2);
    expect(FakeSocket.instances[1].url).toMatch(
      new RegExp(`/events\\?after=${all[started].seq}$`)
    );

    // A server may replay more than asked; everything is replayed here.
    FakeSocket.instances[1].send(all);
    await tick();

    expect(doc.ids()).toEqual(['mine', 'cell-q', 'cell-code-1', 'cell-a']);
    expect(chat.state.items.filter(i => i.kind === 'cell')).toHaveLength(1);
    expect(chat.state.turn!.finished).toBe('done');
    expect(doc.saves).toBe(1);
  });

  it('gives up after the reconnect attempts and asks how the turn ended', async () => {
    const { chat, requests } = setup(req =>
      req.method === 'GET'
        ? json({
            turn_id: TURN,
            notebook_path: PATH,
            question: 'q',
            status: 'done',
            last_seq: 11
          })
        : undefined
    );
    await chat.send('q');
    for (let i = 0; i < 4; i++) {
      FakeSocket.instances[i].drop();
      await tick();
    }
    await tick();
    expect(FakeSocket.instances).toHaveLength(4);
    expect(requests[1].url).toContain(`nbchat/turns/${TURN}`);
    expect(chat.busy).toBe(false);
    expect(chat.state.items.map(i => i.kind)).toEqual(['question', 'error']);
  });

  it('reports cells for a notebook that was closed', async () => {
    const { chat, doc, panel } = setup();
    await chat.send('q');
    panel.isDisposed = true;
    socket().send(events());
    await tick();
    const errors = chat.state.items.filter(i => i.kind === 'error');
    expect(errors).toHaveLength(1);
    expect(doc.ids()).toEqual(['mine']);
  });
});

describe('NotebookChat.dispatch', () => {
  it('applies an event in a fixed order: state, notebook cells, record, view', async () => {
    const { chat, doc } = setup();
    await chat.send('q');
    chat.stateChanged.connect(() => doc.log.push(`view${doc.seen()}`));
    doc.log = [];
    const [started] = numbered([
      {
        type: 'cell_started',
        cell: cell('c1', 'code', { outputs: [], execution_count: null }),
        replaces: null,
        record: record()
      }
    ]);
    chat.dispatch(started);
    // Each step sees the state already at this event's seq.
    expect(doc.log).toEqual(['cells@1', 'record@1', 'view@1']);

    // An event already applied (a replay) stops at the state.
    doc.log = [];
    chat.dispatch(started);
    expect(doc.log).toEqual([]);
  });

  it('sets the record exactly as the server sent it, and only when sent', async () => {
    const { chat, model } = setup(undefined, {
      record: { attachments: [], turns: [] }
    });
    await chat.send('q');
    const odd = {
      attachments: [],
      usage: { turns: 7, input_tokens: 1 },
      turns: [],
      future_key: { kept: true }
    };
    chat.dispatch(
      numbered([
        {
          type: 'usage',
          input_tokens: 999,
          output_tokens: 1,
          cache_read_input_tokens: 0,
          cache_creation_input_tokens: 0,
          record: odd
        }
      ])[0]
    );
    expect(model.getMetadata('nbchat')).toEqual(odd);
    // A usage event without a record is not folded into it here.
    chat.dispatch(
      numbered(
        [
          {
            type: 'usage',
            input_tokens: 5,
            output_tokens: 5,
            cache_read_input_tokens: 0,
            cache_creation_input_tokens: 0
          }
        ],
        2
      )[0]
    );
    expect(model.getMetadata('nbchat')).toEqual(odd);
    expect(chat.record.usage).toMatchObject({ turns: 7, input_tokens: 1 });
    // The `record` event carries a change made outside the turn.
    const attached = { ...odd, context_level: 'sample' };
    chat.dispatch(
      numbered([{ type: 'record', change: {}, record: attached }], 3)[0]
    );
    expect(model.getMetadata('nbchat')).toEqual(attached);
  });

  it('live outputs update the same running cell in place', async () => {
    const { chat, doc } = setup();
    await chat.send('q');
    const running = cell('live', 'code', {
      source: 'for i in range(3): print(i)',
      outputs: [],
      execution_count: null
    });
    chat.dispatch(
      numbered([{ type: 'cell_started', cell: running, replaces: null }])[0]
    );
    const shared = doc.shared('live');
    expect(shared.executionState).toBe('running');
    expect(shared.getOutputs()).toEqual([]);

    const out = (text: string) => [
      { output_type: 'stream', name: 'stdout', text }
    ];
    chat.dispatch(
      numbered(
        [
          { type: 'cell_outputs', cell_id: 'live', outputs: out('0\n') },
          { type: 'cell_outputs', cell_id: 'live', outputs: out('0\n1\n') }
        ],
        2
      )[0]
    );
    expect(doc.shared('live')).toBe(shared);
    expect(shared.getOutputs()).toEqual(out('0\n'));
    // The person edits the running cell meanwhile: the edit stays.
    shared.setSource('for i in range(3): print(i)  # mine');
    chat.dispatch(
      numbered(
        [{ type: 'cell_outputs', cell_id: 'live', outputs: out('0\n1\n') }],
        3
      )[0]
    );
    chat.dispatch(
      numbered(
        [
          {
            type: 'cell',
            role: 'code',
            cell: { ...running, outputs: out('0\n1\n2\n'), execution_count: 5 }
          }
        ],
        4
      )[0]
    );
    expect(doc.shared('live')).toBe(shared);
    expect(doc.ids()).toEqual(['mine', 'live']);
    expect(shared.getOutputs()).toEqual(out('0\n1\n2\n'));
    expect(shared.execution_count).toBe(5);
    expect(shared.executionState).toBe('idle');
    expect(shared.getSource()).toBe('for i in range(3): print(i)  # mine');
  });

  it('a replayed cell_started is not inserted twice; the replay brings its outputs', async () => {
    const saved = cell('cell-code-1', 'code', {
      outputs: [{ output_type: 'stream', name: 'stdout', text: 'x is' }],
      execution_count: null
    });
    const { chat, doc } = setup(
      req =>
        req.method === 'GET'
          ? json({
              turns: [
                {
                  turn_id: TURN,
                  notebook_path: PATH,
                  question: 'What is six times seven?',
                  status: 'running',
                  last_seq: 10
                }
              ]
            })
          : undefined,
      // Saved before the reload, mid-cell.
      { cells: [cell('cell-q', 'question'), saved] }
    );
    expect(await chat.resume()).toBe(true);
    const all = events();
    const outputsAt = all.findIndex(e => e.type === 'cell_outputs');
    socket().send(all.slice(0, outputsAt + 1));
    expect(doc.ids()).toEqual(['cell-q', 'cell-code-1']);
    const shared = doc.shared('cell-code-1');
    expect(shared.executionState).toBe('running');
    expect(shared.getOutputs()).toEqual([
      { output_type: 'stream', name: 'stdout', text: 'x is 42\n' }
    ]);
    socket().send(all.slice(outputsAt + 1));
    await tick();
    expect(doc.ids()).toEqual(['cell-q', 'cell-code-1', 'cell-a']);
    expect(shared.executionState).toBe('idle');
  });

  it('puts a fix in place of the failed cell when the fix starts, once', async () => {
    const { chat, doc } = setup();
    await chat.send('q');
    const bad = cell('bad', 'code', {
      outputs: [
        { output_type: 'error', ename: 'E', evalue: 'x', traceback: [] }
      ]
    } as any);
    const fresh = (id: string) =>
      cell(id, 'code', { outputs: [], execution_count: null });
    socket().send(
      numbered([
        { type: 'cell_started', cell: fresh('bad'), replaces: null },
        { type: 'cell', role: 'code', cell: bad },
        { type: 'cell_started', cell: fresh('good'), replaces: 'bad' },
        { type: 'cell', role: 'code', cell: cell('good', 'code') },
        { type: 'turn_finished', status: 'done' }
      ])
    );
    await tick();
    expect(doc.ids()).toEqual(['mine', 'good']);
    expect(doc.saves).toBe(1);
  });
});

describe('NotebookChat.cancel', () => {
  it('posts to the cancel route of the running turn', async () => {
    const { chat, requests } = setup();
    await chat.send('q');
    await chat.cancel();
    expect(requests[1].method).toBe('POST');
    expect(requests[1].url).toMatch(
      new RegExp(`/lab-base/nbchat/turns/${TURN}/cancel(\\?|$)`)
    );
    socket().send(numbered([{ type: 'turn_finished', status: 'cancelled' }]));
    expect(chat.state.items.map(i => i.kind)).toEqual(['question', 'stopped']);
    expect(chat.busy).toBe(false);
  });
});

describe('NotebookChat with attachments', () => {
  const attached = {
    attachments: [
      { path: 'data/shoes.csv', size: 1, sha256: 's', summary: {} }
    ],
    context_level: 'schema',
    executor_state: {
      executor: 'e2b',
      state: { sandbox_id: 'sbx-1', context_id: 'ctx-7' }
    },
    turns: []
  };

  it('sends the chat’s fields, read from the record, with every question', async () => {
    const { chat, requests } = setup(undefined, { record: attached });
    await chat.send('How many shoes?');
    expect(requests[0].body).toEqual(
      expect.objectContaining({
        attachments: ['data/shoes.csv'],
        context_level: 'schema',
        sandbox_id: 'sbx-1',
        context_id: 'ctx-7'
      })
    );
  });

  it('changes the record through the server, one change at a time, and sets its answer as is', async () => {
    let folded: ChatRecordJSON = { attachments: [], turns: [] };
    const { chat, model, requests } = setup(req => {
      if (req.route !== 'record') {
        return undefined;
      }
      // The server folds the change onto the record it was sent.
      const sent = req.body.record as any;
      folded = {
        ...sent,
        attachments: [
          ...(sent.attachments ?? []),
          ...req.body.change.attach.map((path: string) => ({
            path,
            size: 1,
            sha256: path,
            summary: {}
          }))
        ]
      };
      return json({
        record: folded,
        prompt: `told: ${req.body.change.attach}`
      });
    });
    await Promise.all([
      chat.attachments.attach(['a.csv']),
      chat.attachments.attach(['b.csv'])
    ]);
    expect(requests.map(r => r.body.change)).toEqual([
      { attach: ['a.csv'] },
      { attach: ['b.csv'] }
    ]);
    // The second change was sent the record the first one answered.
    // The settings' level goes with a record that has none yet.
    expect(requests[0].body.record).toEqual({ context_level: 'headers' });
    expect(requests[1].body.record.attachments.map((a: any) => a.path)).toEqual(
      ['a.csv']
    );
    expect(model.getMetadata('nbchat')).toEqual(folded);
    expect(chat.record.attachments.map(a => a.path)).toEqual([
      'a.csv',
      'b.csv'
    ]);
    expect(chat.attachments.state.prompt).toBe('told: b.csv');
  });

  it('a chat without a level or executor uses the settings; its own choice wins', async () => {
    const chatDefaults: IChatDefaults = {
      contextLevel: 'schema',
      executor: 'e2b'
    };
    const { chat } = setup(undefined, { defaults: chatDefaults });
    expect(chat.requestFields()).toEqual(
      expect.objectContaining({ context_level: 'schema', executor: 'e2b' })
    );
    chatDefaults.contextLevel = 'sample';
    chatDefaults.executor = undefined;
    chat.settingsChanged();
    expect(chat.requestFields().context_level).toBe('sample');
    expect(chat.requestFields().executor).toBeUndefined();

    const chosen = setup(undefined, {
      defaults: chatDefaults,
      record: { context_level: 'headers', executor: 'kernel' }
    }).chat;
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

  it('offers a Retry re-sending the same question and attachments', async () => {
    let refuse = true;
    const { chat, model, requests } = setup(
      req =>
        req.route === 'turns' && refuse
          ? json({ message: 'Overloaded.' }, 409)
          : undefined,
      { record: attached }
    );
    expect(await chat.send('How many shoes?')).toBe(false);
    const error = chat.state.items[0];
    expect(error).toEqual(
      expect.objectContaining({
        kind: 'error',
        retry: {
          question: 'How many shoes?',
          fields: { attachments: ['data/shoes.csv'], context_level: 'schema' }
        }
      })
    );
    // The person removed the file meanwhile: Retry still sends it.
    model.setMetadata('nbchat', { attachments: [], context_level: 'headers' });
    refuse = false;
    expect(await chat.retry((error as any).retry)).toBe(true);
    expect(requests[1].body).toEqual(
      expect.objectContaining({
        question: 'How many shoes?',
        attachments: ['data/shoes.csv'],
        context_level: 'schema'
      })
    );
  });

  it('gives a turn’s error event a Retry for its question', async () => {
    const { chat } = setup();
    await chat.send('What is six times seven?');
    socket().send(
      numbered([
        {
          type: 'turn_started',
          notebook_path: PATH,
          question: 'What is six times seven?',
          executor: 'kernel'
        },
        { type: 'error', kind: 'overloaded', message: 'Claude is overloaded.' },
        { type: 'turn_finished', status: 'error' }
      ])
    );
    const error = chat.state.items.find(i => i.kind === 'error') as any;
    expect(error.retry.question).toBe('What is six times seven?');
  });

  it('reports the end of the turn after saving', async () => {
    const { chat, doc } = setup();
    const ended: any[] = [];
    chat.turnEnded.connect((_, e) => ended.push({ ...e, saves: doc.saves }));
    await chat.send('What is six times seven?');
    socket().send(events());
    await tick();
    expect(ended).toEqual([
      {
        turnId: TURN,
        question: 'What is six times seven?',
        status: 'done',
        saves: 1
      }
    ]);
  });

  it('shows notices from the server and from the panel', async () => {
    const { chat } = setup();
    await chat.send('q');
    socket().send(
      numbered([
        { type: 'notice', text: 'The sandbox expired; a new one was started.' }
      ])
    );
    chat.notify('The Local kernel was restarted.');
    expect(
      chat.state.items
        .filter(i => i.kind === 'notice')
        .map(i => (i as any).text)
    ).toEqual([
      'The sandbox expired; a new one was started.',
      'The Local kernel was restarted.'
    ]);
  });
});

describe('review mode', () => {
  const proposal = (id: string, tool: string, replaces: string | null) => ({
    type: 'cell_proposed',
    tool_use_id: tool,
    cell: cell(id, 'code', {
      source: 'print(1)',
      outputs: [],
      execution_count: null
    }),
    replaces
  });

  it('resolves the setting per executor', () => {
    expect(reviewFor('auto', 'kernel')).toBe(true);
    expect(reviewFor('auto', 'e2b')).toBe(false);
    expect(reviewFor('always', 'e2b')).toBe(true);
    expect(reviewFor('never', 'kernel')).toBe(false);
  });

  it('sends review from the chat’s executor, else the server’s', async () => {
    const { chat, model, requests } = setup(undefined, {
      settings: { model: '', maxFixAttempts: 0, reviewMode: 'auto' },
      record: { executor: 'e2b' }
    });
    expect(chat.reviews).toBe(false);
    const turns = () => requests.filter(r => r.route === 'turns');
    await chat.send('q');
    expect(turns()[0].body.review).toBe(false);
    socket().send(numbered([{ type: 'turn_finished', status: 'done' }]));
    model.setMetadata('nbchat', {}); // the server's default: 'kernel' here
    await chat.send('q2');
    expect(turns()[1].body.review).toBe(true);
  });

  it('inserts a proposal; Run sends the cell as edited; it then runs live in its place', async () => {
    const { chat, doc, requests } = setup();
    await chat.send('q');
    socket().send(
      numbered([
        proposal('prop', 'toolu_1', null),
        { type: 'phase', phase: 'reviewing' }
      ])
    );
    expect(doc.ids()).toEqual(['mine', 'prop']);
    doc.shared('prop').setSource('print(2)  # mine');

    expect(await chat.review('toolu_1', 'run')).toBe(true);
    expect(requests[1].method).toBe('POST');
    expect(requests[1].url).toMatch(
      new RegExp(`/lab-base/nbchat/turns/${TURN}/review(\\?|$)`)
    );
    expect(requests[1].body).toEqual({
      tool_use_id: 'toolu_1',
      decision: 'run',
      code: 'print(2)  # mine'
    });
    // A second click does nothing.
    expect(await chat.review('toolu_1', 'run')).toBe(false);

    const ran = cell('ran', 'code', { source: 'print(2)  # mine' });
    socket().send(
      numbered(
        [
          { type: 'phase', phase: 'running' },
          {
            type: 'cell_started',
            cell: { ...ran, outputs: [], execution_count: null },
            replaces: 'prop'
          },
          { type: 'cell', role: 'code', cell: ran },
          { type: 'turn_finished', status: 'done' }
        ],
        3
      )
    );
    await tick();
    expect(doc.ids()).toEqual(['mine', 'ran']);
    expect(doc.saves).toBe(1);
  });

  it('Skip removes the proposal and brings back the cell it replaced', async () => {
    const { chat, doc, requests } = setup();
    await chat.send('q');
    socket().send(
      numbered([
        { type: 'cell', role: 'code', cell: cell('bad', 'code') },
        proposal('prop', 'toolu_2', 'bad')
      ])
    );
    expect(doc.ids()).toEqual(['mine', 'prop']);
    await chat.review('toolu_2', 'skip');
    expect(requests[1].body).toEqual({
      tool_use_id: 'toolu_2',
      decision: 'skip'
    });
    socket().send(numbered([{ type: 'cell_skipped', cell_id: 'prop' }], 3));
    expect(doc.ids()).toEqual(['mine', 'bad']);
    const code = chat.state.items.find(i => i.kind === 'code') as any;
    expect(code.state).toBe('skipped');
  });

  it('takes the click back and says why when the server refuses', async () => {
    const { chat } = setup(req =>
      req.route.endsWith('/review')
        ? json(
            { message: 'No cell of this turn is waiting for that decision.' },
            409
          )
        : undefined
    );
    await chat.send('q');
    socket().send(numbered([proposal('prop', 'toolu_1', null)]));
    expect(await chat.review('toolu_1', 'run')).toBe(false);
    const code = chat.state.items.find(i => i.kind === 'code') as any;
    expect(code.proposal.decision).toBeNull();
    expect(chat.state.items[chat.state.items.length - 1]).toMatchObject({
      kind: 'error',
      message: 'No cell of this turn is waiting for that decision.'
    });
  });
});

describe('NotebookChat.resume', () => {
  const info = (status: string) => ({
    turn_id: TURN,
    notebook_path: PATH,
    question: 'What is six times seven?',
    status,
    last_seq: 5
  });
  const list = (turns: unknown[]) => () => json({ turns });

  it('follows the notebook’s running turn from the start, inserting nothing twice', async () => {
    const { chat, doc, requests } = setup(
      list([{ ...info('done'), turn_id: 'f'.repeat(32) }, info('running')]),
      // Saved before the reload: the question cell.
      { cells: [cell('cell-q', 'question')] }
    );
    expect(await chat.resume()).toBe(true);
    expect(requests[0].method).toBe('GET');
    expect(requests[0].url).toContain(
      `/lab-base/nbchat/turns?notebook_path=${PATH}`
    );
    expect(FakeSocket.instances.map(s => s.url)).toEqual([
      `ws://localhost:8888/lab-base/nbchat/turns/${TURN}/events?after=0`
    ]);
    expect(chat.busy).toBe(true);
    socket().send(events());
    await tick();
    expect(doc.ids()).toEqual(['cell-q', 'cell-code-1', 'cell-a']);
    expect(chat.state.items.filter(i => i.kind === 'question')).toHaveLength(1);
    expect(doc.saves).toBe(1);
    // Following it again is a no-op.
    expect(await chat.resume()).toBe(false);
  });

  it('does nothing when the last turn is over, or the server does not answer', async () => {
    const { chat } = setup(list([info('done')]));
    expect(await chat.resume()).toBe(false);
    const silent = setup(() => new Response('', { status: 500 }));
    expect(await silent.chat.resume()).toBe(false);
    expect(FakeSocket.instances).toHaveLength(0);
  });
});

describe('turns the server saved (no page followed them)', () => {
  const info = (status: string, saved: boolean) => ({
    turn_id: TURN,
    notebook_path: PATH,
    question: 'What is six times seven?',
    status,
    last_seq: 17,
    saved_by_server: saved
  });

  it('a replayed turn the server saved is not saved again: this copy settles with the file', async () => {
    const { chat, doc } = setup();
    await chat.send('q');
    const all = events();
    (all[all.length - 1] as any).saved_by_server = true;
    socket().send(all);
    await tick();
    expect(doc.ids()).toContain('cell-code-1');
    expect(doc.saves).toBe(0);
    expect(doc.syncs).toEqual([true]);
  });

  it('giving up on a turn the server saved: the file is loaded, not overwritten', async () => {
    const { chat, doc } = setup(req =>
      req.method === 'GET' ? json(info('done', true)) : undefined
    );
    doc.syncResult = 'unsaved-edits';
    await chat.send('q');
    for (let i = 0; i < 4; i++) {
      FakeSocket.instances[i].drop();
      await tick();
    }
    await tick();
    await tick();
    expect(doc.syncs).toEqual([false]);
    expect(doc.saves).toBe(0);
    const notices = chat.state.items.filter(i => i.kind === 'notice');
    expect(notices).toHaveLength(1);
    expect((notices[0] as any).text).toContain('Reload Notebook from Disk');
  });

  it('on reopening, a finished turn the server saved is loaded from the file, once', async () => {
    const { chat, doc } = setup(() => json({ turns: [info('done', true)] }), {
      cells: [cell('cell-q', 'question'), cell('cell-code-1', 'code')]
    });
    expect(await chat.resume()).toBe(false);
    expect(doc.syncs).toEqual([false]);
    // The conversation shows what the file has.
    expect(chat.state.items.map(i => i.kind)).toContain('cell');
    expect(FakeSocket.instances).toHaveLength(0);
    // Coming back to the notebook settles nothing twice.
    await chat.resume();
    expect(doc.syncs).toEqual([false]);

    // A turn a page followed to its end is left alone.
    const followed = setup(() => json({ turns: [info('done', false)] }));
    await followed.chat.resume();
    expect(followed.doc.syncs).toEqual([]);
  });
});

describe('undo', () => {
  const tagged = (id: string, role: 'question' | 'code' | 'answer') =>
    cell(id, role);
  const turnCells: ITurnCellRecord[] = [
    { id: 'cell-q', role: 'question', sha256: 'q' },
    { id: 'cell-code-1', role: 'code', sha256: 'c' },
    { id: 'cell-a', role: 'answer', sha256: 'a' }
  ];
  const planned = (edited: string[] = [], executor = 'kernel') => ({
    turn_id: TURN,
    remove: turnCells.map(c => c.id),
    edited,
    restore: [
      {
        cell: {
          id: 'old',
          cell_type: 'code',
          source: 'old = 1',
          metadata: {},
          outputs: [],
          execution_count: null
        },
        index: 1
      }
    ],
    record: {
      attachments: [],
      turns: [],
      usage: { turns: 1 },
      executor_state: { executor, state: {} }
    },
    summary: { added: 3, replaced: 0, skipped: 0 }
  });
  const notebook = () => [
    { cell_type: 'code', source: 'df = load()', id: 'mine' },
    tagged('cell-q', 'question'),
    tagged('cell-code-1', 'code'),
    tagged('cell-a', 'answer'),
    { cell_type: 'markdown', source: 'my notes', id: 'notes' }
  ];

  function undoable(
    plan: object | Response = planned(),
    confirm?: EditedChoice,
    executor = 'kernel'
  ) {
    const made = setup(
      req => {
        if (req.route === 'undo') {
          return plan instanceof Response ? plan : json(plan);
        }
        if (req.route === 'executor/rerun') {
          return json({ ran: 2, failed: [] });
        }
        return undefined;
      },
      {
        cells: notebook(),
        record: {
          ...record(),
          executor_state: { executor, state: {} }
        },
        confirm
      }
    );
    made.chat.restore();
    return made;
  }

  it('applies the server’s plan, saves, drops the turn and offers to restart the kernel', async () => {
    const { chat, doc, model, requests, confirmed } = undoable();
    expect(chat.latestTurn()).toBe(TURN);
    expect(await chat.undo(TURN)).toBe(true);

    expect(requests[0].body).toEqual({
      notebook_path: PATH,
      turn_id: TURN,
      record: expect.objectContaining({ turns: expect.any(Array) }),
      cells: expect.arrayContaining([expect.objectContaining({ id: 'cell-a' })])
    });
    expect(confirmed).toEqual([]);
    expect(doc.ids()).toEqual(['mine', 'old', 'notes']);
    expect(model.getMetadata('nbchat')).toEqual(planned().record);
    expect(doc.saves).toBe(1);
    // The conversation drops the turn and says what may linger.
    const items = chat.state.items;
    expect(items.map(i => i.kind)).toEqual(['notice']);
    expect(items[0]).toMatchObject({ action: 'rerun' });
    expect((items[0] as any).text).toContain('may still exist');
    expect(chat.latestTurn()).toBeNull();

    // One step back in the notebook's own undo history brings the cells back.
    model.sharedModel.undo();
    expect(doc.ids()).toEqual(notebook().map(c => c.id));

    await chat.rerun(items[0].key);
    expect(doc.restarts).toBe(1);
    expect(chat.state.items[0]).toMatchObject({ action: null });
  });

  it('asks about edited cells: keep them as the person’s, or cancel', async () => {
    const kept = undoable(planned(['cell-code-1']), 'keep');
    expect(await kept.chat.undo(TURN)).toBe(true);
    expect(kept.confirmed).toEqual([1]);
    expect(kept.doc.ids()).toEqual(['mine', 'old', 'cell-code-1', 'notes']);
    expect(
      kept.doc.shared('cell-code-1').getMetadata('nbchat')
    ).toBeUndefined();

    const cancelled = undoable(planned(['cell-code-1']), 'cancel');
    expect(await cancelled.chat.undo(TURN)).toBe(false);
    expect(cancelled.doc.ids()).toEqual(notebook().map(c => c.id));
    expect(cancelled.doc.saves).toBe(0);
    expect(cancelled.chat.latestTurn()).toBe(TURN);
  });

  it('in an E2B sandbox the server re-runs the remaining code cells', async () => {
    const { chat, requests } = undoable(planned([], 'e2b'), undefined, 'e2b');
    await chat.undo(TURN);
    const notice = chat.state.items[0] as any;
    expect(notice.text).toContain('sandbox');
    await chat.rerun(notice.key);
    const rerun = requests.find(r => r.route === 'executor/rerun')!;
    expect(rerun.body).toEqual({
      notebook_path: PATH,
      codes: ['df = load()', 'old = 1']
    });
  });

  it('shows the server’s refusal and changes nothing', async () => {
    const { chat, doc } = undoable(
      json({ message: 'That turn is still running.' }, 409)
    );
    expect(await chat.undo(TURN)).toBe(false);
    expect(doc.ids()).toEqual(notebook().map(c => c.id));
    expect(chat.state.items[chat.state.items.length - 1]).toMatchObject({
      kind: 'error',
      message: 'That turn is still running.'
    });
  });
});
