import { ServerConnection } from '@jupyterlab/services';

import { ChatModel, ITurnSettings, reviewFor } from '../chat/model';
import type {
  AppendResult,
  INotebookWriter,
  RemoveResult,
  SyncResult
} from '../notebook/writer';
import type { INotebookCell, TurnCell, TurnEvent } from '../api/types';
import { cell, events, PATH, TURN } from './fixtures';

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

/** Records cells like a notebook would, deduplicating by id. */
class FakeWriter implements INotebookWriter {
  inserted: TurnCell[] = [];
  saves = 0;
  open = true;
  /** The person's edits: cell id -> source. */
  edits: Record<string, string> = {};

  appendCell(
    path: string,
    cell: TurnCell,
    replaces?: string | null
  ): AppendResult {
    expect(path).toBe(PATH);
    if (!this.open) {
      return 'not-open';
    }
    if (this.inserted.some(c => c.id === cell.id)) {
      this.inserted = this.inserted.filter(c => c.id !== replaces);
      return 'duplicate';
    }
    const index = this.inserted.findIndex(c => c.id === replaces);
    if (index !== -1) {
      this.inserted[index] = cell;
      return 'replaced';
    }
    this.inserted.push(cell);
    return 'inserted';
  }

  removeCell(
    path: string,
    cellId: string,
    restore?: INotebookCell | null
  ): RemoveResult {
    const index = this.inserted.findIndex(c => c.id === cellId);
    if (index === -1) {
      return 'missing';
    }
    if (restore) {
      this.inserted[index] = restore as TurnCell;
    } else {
      this.inserted.splice(index, 1);
    }
    return 'removed';
  }

  cellSource(path: string, cellId: string): string | null {
    if (cellId in this.edits) {
      return this.edits[cellId];
    }
    const found = this.inserted.find(c => c.id === cellId);
    return found ? String(found.source) : null;
  }

  cells(path: string): INotebookCell[] | null {
    return this.open
      ? [
          { cell_type: 'code', source: 'df = load()', id: 'mine' },
          ...(this.inserted as INotebookCell[])
        ]
      : null;
  }

  async save(): Promise<boolean> {
    this.saves += 1;
    return true;
  }

  /** Calls of syncFromDisk (`complete` of each), and what it answers. */
  syncs: boolean[] = [];
  syncResult: SyncResult = 'reloaded';

  async syncFromDisk(path: string, complete: boolean): Promise<SyncResult> {
    expect(path).toBe(PATH);
    this.syncs.push(complete);
    return this.syncResult;
  }
}

interface IRecorded {
  method: string;
  url: string;
  body: any;
}

function setup(
  answer: (req: IRecorded) => Response = () =>
    new Response(JSON.stringify({ turn_id: TURN }), { status: 201 }),
  settings: ITurnSettings = { model: '', maxFixAttempts: 0 },
  requestFields: () => Record<string, unknown> = () => ({})
) {
  const requests: IRecorded[] = [];
  const fetch = async (input: Request) => {
    const text = await input.text();
    const req = {
      method: input.method,
      url: input.url,
      body: text ? JSON.parse(text) : null
    };
    requests.push(req);
    return answer(req);
  };
  const serverSettings = ServerConnection.makeSettings({
    baseUrl: 'http://localhost:8888/lab-base/',
    wsUrl: 'ws://localhost:8888/lab-base/',
    token: '',
    appendToken: false,
    fetch: fetch as any,
    WebSocket: FakeSocket as any
  });
  const writer = new FakeWriter();
  const model = new ChatModel({
    notebookPath: () => PATH,
    writer,
    serverSettings,
    turnSettings: () => settings,
    reconnectDelays: [0, 0, 0],
    requestFields
  });
  return { model, writer, requests };
}

const tick = () => new Promise(resolve => setTimeout(resolve, 0));

beforeEach(() => {
  FakeSocket.instances = [];
});

describe('ChatModel.send', () => {
  it('posts the turn request and follows its events', async () => {
    const { model, requests } = setup(undefined, {
      model: 'claude-test',
      maxFixAttempts: 2
    });
    expect(await model.send('  What is six times seven? ')).toBe(true);

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
      cells: [{ cell_type: 'code', source: 'df = load()', id: 'mine' }]
    });
    expect(FakeSocket.instances.map(s => s.url)).toEqual([
      `ws://localhost:8888/lab-base/nbchat/turns/${TURN}/events?after=0`
    ]);
    expect(model.busy).toBe(true);
  });

  it('omits the server-default settings', async () => {
    const { model, requests } = setup();
    await model.send('q');
    expect(requests[0].body).not.toHaveProperty('model');
    expect(requests[0].body).not.toHaveProperty('max_fix_attempts');
  });

  it("shows the server's message and refuses on an HTTP error", async () => {
    const { model } = setup(
      () =>
        new Response(
          JSON.stringify({ message: 'A turn is already running here.' }),
          { status: 409 }
        )
    );
    expect(await model.send('q')).toBe(false);
    expect(model.busy).toBe(false);
    expect(model.state.items).toEqual([
      expect.objectContaining({
        kind: 'error',
        errorKind: 'request',
        message: 'A turn is already running here.'
      })
    ]);
    expect(FakeSocket.instances).toHaveLength(0);
  });
});

describe('ChatModel events', () => {
  it('inserts each cell, then saves after turn_finished', async () => {
    const { model, writer } = setup();
    await model.send('What is six times seven?');
    const socket = FakeSocket.instances[0];
    socket.send(events());
    await tick();

    expect(writer.inserted.map(c => c.id)).toEqual([
      'cell-q',
      'cell-code-1',
      'cell-a'
    ]);
    expect(writer.saves).toBe(1);
    expect(model.busy).toBe(false);
    expect(socket.onmessage).toBeNull();
  });

  it('reconnects after the last seq seen, inserting nothing twice', async () => {
    const { model, writer } = setup();
    await model.send('What is six times seven?');
    const all = events();

    FakeSocket.instances[0].send(all.slice(0, 6));
    FakeSocket.instances[0].drop();
    await tick();

    expect(FakeSocket.instances).toHaveLength(2);
    expect(FakeSocket.instances[1].url).toMatch(/\/events\?after=6$/);

    // A server may replay more than asked; everything is replayed here.
    FakeSocket.instances[1].send(all);
    await tick();

    expect(writer.inserted.map(c => c.id)).toEqual([
      'cell-q',
      'cell-code-1',
      'cell-a'
    ]);
    expect(model.state.items.filter(i => i.kind === 'cell')).toHaveLength(1);
    expect(model.state.turn!.finished).toBe('done');
    expect(writer.saves).toBe(1);
  });

  it('gives up after the reconnect attempts and asks how the turn ended', async () => {
    const { model, requests } = setup(req =>
      req.method === 'GET'
        ? new Response(
            JSON.stringify({
              turn_id: TURN,
              notebook_path: PATH,
              question: 'q',
              status: 'done',
              last_seq: 11
            }),
            { status: 200 }
          )
        : new Response(JSON.stringify({ turn_id: TURN }), { status: 201 })
    );
    await model.send('q');
    for (let i = 0; i < 4; i++) {
      FakeSocket.instances[i].drop();
      await tick();
    }
    await tick();
    expect(FakeSocket.instances).toHaveLength(4);
    expect(requests[1].url).toContain(`nbchat/turns/${TURN}`);
    expect(model.busy).toBe(false);
    expect(model.state.items.map(i => i.kind)).toEqual(['question', 'error']);
  });

  it('reports cells for a notebook that was closed', async () => {
    const { model, writer } = setup();
    writer.open = false;
    await model.send('q');
    FakeSocket.instances[0].send(events());
    await tick();
    const errors = model.state.items.filter(i => i.kind === 'error');
    expect(errors).toHaveLength(1);
    expect(writer.saves).toBe(0);
  });
});

describe('ChatModel fixed cells', () => {
  it('puts a fixed cell in place of the failed one, once', async () => {
    const { model, writer } = setup();
    await model.send('q');
    const socket = FakeSocket.instances[0];
    const fix: TurnEvent[] = [
      {
        seq: 1,
        turn_id: TURN,
        type: 'cell',
        role: 'code',
        cell: cell('bad', 'code')
      },
      {
        seq: 2,
        turn_id: TURN,
        type: 'cell',
        role: 'code',
        cell: cell('good', 'code'),
        replaces: 'bad'
      },
      { seq: 3, turn_id: TURN, type: 'turn_finished', status: 'done' }
    ];
    socket.send(fix);
    await tick();
    expect(writer.inserted.map(c => c.id)).toEqual(['good']);
    expect(writer.saves).toBe(1);
  });
});

describe('ChatModel.cancel', () => {
  it('posts to the cancel route of the running turn', async () => {
    const { model, requests } = setup(req =>
      req.url.includes('/cancel')
        ? new Response('{}', { status: 202 })
        : new Response(JSON.stringify({ turn_id: TURN }), { status: 201 })
    );
    await model.send('q');
    await model.cancel();
    expect(requests[1].method).toBe('POST');
    expect(requests[1].url).toMatch(
      new RegExp(`/lab-base/nbchat/turns/${TURN}/cancel(\\?|$)`)
    );
    FakeSocket.instances[0].send([
      { seq: 1, turn_id: TURN, type: 'turn_finished', status: 'cancelled' }
    ]);
    expect(model.state.items.map(i => i.kind)).toEqual(['question', 'stopped']);
    expect(model.busy).toBe(false);
  });
});

describe('ChatModel with attachments', () => {
  const fields = {
    attachments: ['data/shoes.csv'],
    context_level: 'schema',
    sandbox_id: 'sbx-1'
  };

  it('sends the chat’s fields with every question', async () => {
    const { model, requests } = setup(undefined, undefined, () => fields);
    await model.send('How many shoes?');
    expect(requests[0].body).toEqual(
      expect.objectContaining({
        attachments: ['data/shoes.csv'],
        context_level: 'schema',
        sandbox_id: 'sbx-1'
      })
    );
  });

  it('offers a Retry re-sending the same question and attachments', async () => {
    let refuse = true;
    let current: Record<string, unknown> = fields;
    const { model, requests } = setup(
      () =>
        refuse
          ? new Response(JSON.stringify({ message: 'Overloaded.' }), {
              status: 409
            })
          : new Response(JSON.stringify({ turn_id: TURN }), { status: 201 }),
      undefined,
      () => current
    );
    expect(await model.send('How many shoes?')).toBe(false);
    const error = model.state.items[0];
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
    current = { attachments: [], context_level: 'headers' };
    refuse = false;
    expect(await model.retry((error as any).retry)).toBe(true);
    expect(requests[1].body).toEqual(
      expect.objectContaining({
        question: 'How many shoes?',
        attachments: ['data/shoes.csv'],
        context_level: 'schema'
      })
    );
  });

  it('gives a turn’s error event a Retry for its question', async () => {
    const { model } = setup();
    await model.send('What is six times seven?');
    FakeSocket.instances[0].send([
      {
        seq: 1,
        turn_id: TURN,
        type: 'turn_started',
        notebook_path: PATH,
        question: 'What is six times seven?',
        executor: 'kernel'
      },
      {
        seq: 2,
        turn_id: TURN,
        type: 'error',
        kind: 'overloaded',
        message: 'Claude is overloaded.'
      },
      { seq: 3, turn_id: TURN, type: 'turn_finished', status: 'error' }
    ] as TurnEvent[]);
    const error = model.state.items.find(i => i.kind === 'error') as any;
    expect(error.retry.question).toBe('What is six times seven?');
  });

  it('reports applied events and the end of the turn after saving', async () => {
    const { model, writer } = setup();
    const applied: string[] = [];
    const ended: any[] = [];
    model.eventApplied.connect((_, e) => applied.push(e.type));
    model.turnEnded.connect((_, e) =>
      ended.push({ ...e, saves: writer.saves })
    );
    await model.send('What is six times seven?');
    const all = events();
    FakeSocket.instances[0].send(all);
    // A replay is not applied again.
    FakeSocket.instances[0].send(all.slice(0, 2));
    await tick();
    expect(applied).toEqual(all.map(e => e.type));
    expect(ended).toEqual([
      {
        turnId: TURN,
        question: 'What is six times seven?',
        status: 'done',
        path: PATH,
        saves: 1
      }
    ]);
  });

  it('shows notices from the server and from the panel', async () => {
    const { model } = setup();
    await model.send('q');
    FakeSocket.instances[0].send([
      {
        seq: 1,
        turn_id: TURN,
        type: 'notice',
        text: 'The sandbox expired; a new one was started.'
      }
    ] as TurnEvent[]);
    model.notify('The Local kernel was restarted.');
    expect(
      model.state.items
        .filter(i => i.kind === 'notice')
        .map(i => (i as any).text)
    ).toEqual([
      'The sandbox expired; a new one was started.',
      'The Local kernel was restarted.'
    ]);
  });
});

describe('review mode', () => {
  const answer = (req: IRecorded) =>
    req.url.includes('/review')
      ? new Response('{}', { status: 202 })
      : new Response(JSON.stringify({ turn_id: TURN }), { status: 201 });
  const proposal = (id: string, tool: string, replaces: string | null) =>
    ({
      type: 'cell_proposed',
      tool_use_id: tool,
      cell: cell(id, 'code', {
        source: 'print(1)',
        outputs: [],
        execution_count: null
      }),
      replaces
    }) as const;

  it('resolves the setting per executor', () => {
    expect(reviewFor('auto', 'kernel')).toBe(true);
    expect(reviewFor('auto', 'e2b')).toBe(false);
    expect(reviewFor('always', 'e2b')).toBe(true);
    expect(reviewFor('never', 'kernel')).toBe(false);
  });

  it('sends review from the chat’s executor, else the server’s', async () => {
    let executor: string | undefined = 'e2b';
    const { model, requests } = setup(
      undefined,
      { model: '', maxFixAttempts: 0, reviewMode: 'auto' },
      () => (executor ? { executor } : {})
    );
    expect(model.reviews).toBe(false);
    await model.send('q');
    expect(requests[0].body.review).toBe(false);
    FakeSocket.instances[0].send([
      { seq: 1, turn_id: TURN, type: 'turn_finished', status: 'done' }
    ]);
    executor = undefined; // the server's default: 'kernel' here
    await model.send('q2');
    expect(requests[1].body.review).toBe(true);
  });

  it('inserts a proposal; Run sends the cell as edited in the notebook', async () => {
    const { model, writer, requests } = setup(answer);
    await model.send('q');
    FakeSocket.instances[0].send([
      { seq: 1, turn_id: TURN, ...proposal('prop', 'toolu_1', null) },
      { seq: 2, turn_id: TURN, type: 'phase', phase: 'reviewing' }
    ] as TurnEvent[]);
    expect(writer.inserted.map(c => c.id)).toEqual(['prop']);
    writer.edits.prop = 'print(2)  # mine';

    expect(await model.review('toolu_1', 'run')).toBe(true);
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
    expect(await model.review('toolu_1', 'run')).toBe(false);

    FakeSocket.instances[0].send([
      { seq: 3, turn_id: TURN, type: 'phase', phase: 'running' },
      {
        seq: 4,
        turn_id: TURN,
        type: 'cell',
        role: 'code',
        cell: cell('ran', 'code', { source: 'print(2)  # mine' }),
        replaces: 'prop'
      },
      { seq: 5, turn_id: TURN, type: 'turn_finished', status: 'done' }
    ] as TurnEvent[]);
    await tick();
    expect(writer.inserted.map(c => c.id)).toEqual(['ran']);
    expect(writer.saves).toBe(1);
  });

  it('Skip removes the proposal and brings back the cell it replaced', async () => {
    const { model, writer, requests } = setup(answer);
    await model.send('q');
    const bad = cell('bad', 'code');
    FakeSocket.instances[0].send([
      { seq: 1, turn_id: TURN, type: 'cell', role: 'code', cell: bad },
      { seq: 2, turn_id: TURN, ...proposal('prop', 'toolu_2', 'bad') }
    ] as TurnEvent[]);
    expect(writer.inserted.map(c => c.id)).toEqual(['prop']);
    await model.review('toolu_2', 'skip');
    expect(requests[1].body).toEqual({
      tool_use_id: 'toolu_2',
      decision: 'skip'
    });
    FakeSocket.instances[0].send([
      { seq: 3, turn_id: TURN, type: 'cell_skipped', cell_id: 'prop' }
    ] as TurnEvent[]);
    expect(writer.inserted.map(c => c.id)).toEqual(['bad']);
    const code = model.state.items.find(i => i.kind === 'code') as any;
    expect(code.state).toBe('skipped');
  });

  it('takes the click back and says why when the server refuses', async () => {
    const { model } = setup(req =>
      req.url.includes('/review')
        ? new Response(
            JSON.stringify({
              message: 'No cell of this turn is waiting for that decision.'
            }),
            { status: 409 }
          )
        : new Response(JSON.stringify({ turn_id: TURN }), { status: 201 })
    );
    await model.send('q');
    FakeSocket.instances[0].send([
      { seq: 1, turn_id: TURN, ...proposal('prop', 'toolu_1', null) }
    ] as TurnEvent[]);
    expect(await model.review('toolu_1', 'run')).toBe(false);
    const code = model.state.items.find(i => i.kind === 'code') as any;
    expect(code.proposal.decision).toBeNull();
    expect(model.state.items[model.state.items.length - 1]).toMatchObject({
      kind: 'error',
      message: 'No cell of this turn is waiting for that decision.'
    });
  });
});

describe('ChatModel.resume', () => {
  const info = (status: string) => ({
    turn_id: TURN,
    notebook_path: PATH,
    question: 'What is six times seven?',
    status,
    last_seq: 5
  });
  const list = (turns: unknown[]) => (req: IRecorded) =>
    new Response(JSON.stringify({ turns }), { status: 200 });

  it('follows the notebook’s running turn from the start, inserting nothing twice', async () => {
    const { model, writer, requests } = setup(
      list([{ ...info('done'), turn_id: 'f'.repeat(32) }, info('running')])
    );
    // Saved before the reload: the question cell.
    writer.inserted.push(cell('cell-q', 'question'));
    expect(await model.resume()).toBe(true);
    expect(requests[0].method).toBe('GET');
    expect(requests[0].url).toContain(
      `/lab-base/nbchat/turns?notebook_path=${PATH}`
    );
    expect(FakeSocket.instances.map(s => s.url)).toEqual([
      `ws://localhost:8888/lab-base/nbchat/turns/${TURN}/events?after=0`
    ]);
    expect(model.busy).toBe(true);
    FakeSocket.instances[0].send(events());
    await tick();
    expect(writer.inserted.map(c => c.id)).toEqual([
      'cell-q',
      'cell-code-1',
      'cell-a'
    ]);
    expect(model.state.items.filter(i => i.kind === 'question')).toHaveLength(
      1
    );
    expect(writer.saves).toBe(1);
    // Following it again is a no-op.
    expect(await model.resume()).toBe(false);
  });

  it('does nothing when the last turn is over, or the server is older', async () => {
    const { model } = setup(list([info('done')]));
    expect(await model.resume()).toBe(false);
    const older = setup(() => new Response('', { status: 405 }));
    expect(await older.model.resume()).toBe(false);
    expect(FakeSocket.instances).toHaveLength(0);
  });
});

describe('turns the server saved (no page followed them)', () => {
  const info = (status: string, saved: boolean) => ({
    turn_id: TURN,
    notebook_path: PATH,
    question: 'What is six times seven?',
    status,
    last_seq: 11,
    saved_by_server: saved
  });

  it('a replayed turn the server saved is not saved again: this copy settles with the file', async () => {
    const { model, writer } = setup();
    await model.send('q');
    const all = events();
    const finished = all[all.length - 1] as any;
    finished.saved_by_server = true;
    FakeSocket.instances[0].send(all);
    await tick();
    expect(writer.inserted.map(c => c.id)).toContain('cell-code-1');
    expect(writer.saves).toBe(0);
    expect(writer.syncs).toEqual([true]);
  });

  it('giving up on a turn the server saved: the file is loaded, not overwritten', async () => {
    const { model, writer } = setup(req =>
      req.method === 'GET'
        ? new Response(JSON.stringify(info('done', true)), { status: 200 })
        : new Response(JSON.stringify({ turn_id: TURN }), { status: 201 })
    );
    writer.syncResult = 'unsaved-edits';
    await model.send('q');
    for (let i = 0; i < 4; i++) {
      FakeSocket.instances[i].drop();
      await tick();
    }
    await tick();
    await tick();
    expect(writer.syncs).toEqual([false]);
    expect(writer.saves).toBe(0);
    const notices = model.state.items.filter(i => i.kind === 'notice');
    expect(notices).toHaveLength(1);
    expect((notices[0] as any).text).toContain('Reload Notebook from Disk');
  });

  it('on reopening, a finished turn the server saved is loaded from the file', async () => {
    const { model, writer } = setup(
      () =>
        new Response(JSON.stringify({ turns: [info('done', true)] }), {
          status: 200
        })
    );
    let loaded = 0;
    model.diskLoaded.connect(() => (loaded += 1));
    expect(await model.resume()).toBe(false);
    expect(writer.syncs).toEqual([false]);
    expect(loaded).toBe(1);
    expect(FakeSocket.instances).toHaveLength(0);
    // Coming back to the notebook settles nothing twice.
    await model.resume();
    expect(writer.syncs).toEqual([false]);

    // A turn a page followed to its end is left alone.
    const followed = setup(
      () =>
        new Response(JSON.stringify({ turns: [info('done', false)] }), {
          status: 200
        })
    );
    await followed.model.resume();
    expect(followed.writer.syncs).toEqual([]);
  });
});
