import { ChatContext, MemoryMetadataStore } from '../attachments/context';
import { NbChatRequestError } from '../api/client';
import type { IFileSummary, IInspectRequest, TurnEvent } from '../api/types';
import { TURN } from './fixtures';

function summary(path: string, rows = 3): IFileSummary {
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

/** A server answering inspect with a prompt naming the paths and the level. */
class FakeServer {
  calls: { endpoint: string; body: any }[] = [];
  maxFiles = 5;
  failWarm = false;

  request = async <T>(endpoint: string, init: RequestInit = {}): Promise<T> => {
    const body = init.body ? JSON.parse(String(init.body)) : undefined;
    this.calls.push({ endpoint, body });
    if (endpoint === 'files/inspect') {
      const req = body as IInspectRequest;
      if (req.paths.length > this.maxFiles) {
        throw new NbChatRequestError(
          `${req.paths.length} files attached; at most ${this.maxFiles}`,
          400,
          endpoint
        );
      }
      return {
        files: req.paths.map(p => summary(p)),
        prompt: `${req.level}: ${req.paths.join(', ')}`
      } as T;
    }
    if (endpoint === 'executor/warm' && this.failWarm) {
      throw new NbChatRequestError('no sandbox', 400, endpoint);
    }
    if (endpoint.startsWith('variables')) {
      return {
        variables: [{ name: 'df', type: 'DataFrame', shape: [3, 1] }]
      } as T;
    }
    return {} as T;
  };

  endpoints(): string[] {
    return this.calls.map(c => c.endpoint);
  }
}

function make(initial?: unknown) {
  const server = new FakeServer();
  const store = new MemoryMetadataStore(initial);
  const context = new ChatContext({
    store,
    notebookPath: () => 'work/analysis.ipynb',
    request: server.request
  });
  return { server, store, context };
}

const flush = () => new Promise(resolve => setTimeout(resolve, 0));

describe('ChatContext', () => {
  it('attaches files: inspects, records them in the metadata, warms', async () => {
    const { server, store, context } = make();
    expect(await context.attachPaths(['work/shoes.csv'])).toBe(true);
    expect(context.state.prompt).toBe('headers: work/shoes.csv');
    expect((store.get() as any).attachments[0].path).toBe('work/shoes.csv');
    expect((store.get() as any).context_level).toBe('headers');
    expect(server.calls[0].body).toEqual({
      paths: ['work/shoes.csv'],
      level: 'headers',
      notebook_path: 'work/analysis.ipynb'
    });
    await flush();
    expect(server.endpoints()).toContain('executor/warm');
    const warm = server.calls.find(c => c.endpoint === 'executor/warm')!;
    expect(warm.body).toEqual({
      notebook_path: 'work/analysis.ipynb',
      attachments: ['work/shoes.csv'],
      context_level: 'headers'
    });
  });

  it('shows the server’s refusal and loses nothing attached before', async () => {
    const { server, context } = make();
    server.maxFiles = 1;
    await context.attachPaths(['a.csv']);
    expect(await context.attachPaths(['b.csv'])).toBe(false);
    expect(context.attachments.map(a => a.path)).toEqual(['a.csv']);
    expect(context.state.errors.map(e => e.message)).toEqual([
      '2 files attached; at most 1'
    ]);
    // Once the server accepts the chat's files again the problem is gone.
    await context.remove('a.csv');
    await context.attachPaths(['b.csv']);
    expect(context.state.errors).toEqual([]);
  });

  it('ignores files already attached', async () => {
    const { server, context } = make();
    await context.attachPaths(['a.csv']);
    const before = server.calls.length;
    await context.attachPaths(['a.csv']);
    expect(server.calls.length).toBe(before);
  });

  it('re-inspects when the level changes, so the preview is what is sent', async () => {
    const { store, context } = make();
    await context.attachPaths(['a.csv']);
    await context.setContextLevel('sample');
    expect(context.state.prompt).toBe('sample: a.csv');
    expect((store.get() as any).context_level).toBe('sample');
    expect(context.requestFields()).toEqual({
      attachments: ['a.csv'],
      context_level: 'sample'
    });
  });

  it('detaches a file and updates the preview', async () => {
    const { context } = make();
    await context.attachPaths(['a.csv', 'b.csv']);
    await context.remove('a.csv');
    expect(context.attachments.map(a => a.path)).toEqual(['b.csv']);
    expect(context.state.prompt).toBe('headers: b.csv');
    await context.remove('b.csv');
    expect(context.state.prompt).toBe('');
  });

  it('runs attachment changes one after the other', async () => {
    const { context } = make();
    await Promise.all([
      context.attachPaths(['a.csv']),
      context.attachPaths(['b.csv']),
      context.attachPaths(['c.csv'])
    ]);
    expect(context.attachments.map(a => a.path)).toEqual([
      'a.csv',
      'b.csv',
      'c.csv'
    ]);
  });

  it('restores the chips from the notebook and sends the chat’s choices', async () => {
    const { server, context } = make({
      attachments: [
        {
          path: 'a.csv',
          size: 10,
          sha256: 'sha-a.csv',
          summary: summary('a.csv')
        }
      ],
      context_level: 'schema',
      executor: 'e2b',
      executor_state: { executor: 'e2b', state: { sandbox_id: 'sbx-1' } }
    });
    await context.load();
    expect(context.attachments.map(a => a.path)).toEqual(['a.csv']);
    expect(context.state.prompt).toBe('schema: a.csv');
    expect(context.requestFields()).toEqual({
      attachments: ['a.csv'],
      context_level: 'schema',
      executor: 'e2b',
      sandbox_id: 'sbx-1'
    });
    await flush();
    expect(server.endpoints()).toEqual(['files/inspect', 'executor/warm']);
  });

  it('keeps the executor state as sent and sends sandbox and context back', async () => {
    const { server, store, context } = make({
      attachments: [
        {
          path: 'a.csv',
          size: 10,
          sha256: 'sha-a.csv',
          summary: summary('a.csv')
        }
      ],
      executor: 'e2b'
    });
    context.handleEvent({
      type: 'executor_state',
      executor: 'e2b',
      state: { sandbox_id: 'sbx-2', context_id: 'ctx-7', template: 'base' },
      seq: 1,
      turn_id: TURN
    });
    expect((store.get() as any).executor_state).toEqual({
      executor: 'e2b',
      state: { sandbox_id: 'sbx-2', context_id: 'ctx-7', template: 'base' }
    });
    expect(context.requestFields()).toEqual({
      attachments: ['a.csv'],
      context_level: 'headers',
      executor: 'e2b',
      sandbox_id: 'sbx-2',
      context_id: 'ctx-7'
    });
    context.warm();
    await flush();
    const warm = server.calls.find(c => c.endpoint === 'executor/warm')!;
    expect(warm.body).toEqual(
      expect.objectContaining({ sandbox_id: 'sbx-2', context_id: 'ctx-7' })
    );

    // A state without a context (the kernel, a fresh sandbox) sends none.
    context.handleEvent({
      type: 'executor_state',
      executor: 'e2b',
      state: { sandbox_id: 'sbx-3' },
      seq: 2,
      turn_id: TURN
    });
    expect(context.requestFields().sandbox_id).toBe('sbx-3');
    expect(context.requestFields()).not.toHaveProperty('context_id');
  });

  it('shows a failed warm softly', async () => {
    const { server, context } = make();
    server.failWarm = true;
    await context.attachPaths(['a.csv']);
    await flush();
    expect(context.state.executorWarning).toContain('no sandbox');
    expect(context.state.errors).toEqual([]);
  });

  it('applies manifest, executor_state, files_changed and usage events', async () => {
    const { store, context } = make();
    await context.attachPaths(['a.csv']);
    const base = { turn_id: TURN };
    const events = [
      {
        ...base,
        seq: 3,
        type: 'manifest',
        files: [summary('a.csv', 99)],
        prompt: 'exactly this',
        level: 'headers'
      },
      {
        ...base,
        seq: 4,
        type: 'executor_state',
        executor: 'e2b',
        state: { sandbox_id: 'sbx-9' }
      },
      {
        ...base,
        seq: 5,
        type: 'files_changed',
        files: [{ path: 'work/out.csv', size: 5, copied: true, reason: '' }]
      },
      {
        ...base,
        seq: 6,
        type: 'usage',
        input_tokens: 10,
        output_tokens: 2,
        cache_read_input_tokens: 0,
        cache_creation_input_tokens: 0,
        cost_usd: 0.001
      },
      {
        ...base,
        seq: 7,
        type: 'usage',
        input_tokens: 20,
        output_tokens: 4,
        cache_read_input_tokens: 0,
        cache_creation_input_tokens: 0,
        cost_usd: 0.002
      }
    ] as TurnEvent[];
    events.forEach(e => context.handleEvent(e));
    const meta = store.get() as any;
    expect(meta.attachments[0].summary.tables[0].row_count).toBe(99);
    expect(context.state.prompt).toBe('exactly this');
    expect(meta.executor_state).toEqual({
      executor: 'e2b',
      state: { sandbox_id: 'sbx-9' }
    });
    expect(context.requestFields().sandbox_id).toBe('sbx-9');
    expect(context.state.filesCreated.map(f => f.path)).toEqual([
      'work/out.csv'
    ]);
    expect(meta.usage.turns).toBe(1);
    expect(meta.usage.input_tokens).toBe(20);
  });

  it('fetches the variables after a turn', async () => {
    const { server, context } = make();
    context.handleEvent({
      type: 'turn_finished',
      status: 'done',
      seq: 9,
      turn_id: TURN
    });
    await flush();
    expect(server.endpoints()).toEqual([
      'variables?notebook_path=work%2Fanalysis.ipynb'
    ]);
    expect(context.state.variables).toEqual([
      { name: 'df', type: 'DataFrame', shape: [3, 1] }
    ]);
  });

  it('follows metadata changed elsewhere (undo, collaborators)', () => {
    const { store, context } = make();
    store.set({ attachments: [], context_level: 'sample' });
    expect(context.state.meta.context_level).toBe('sample');
  });

  it('uploads, shows progress, then attaches the uploaded file', async () => {
    const server = new FakeServer();
    const progress: number[] = [];
    let finish: () => void = () => undefined;
    const context = new ChatContext({
      store: new MemoryMetadataStore(),
      notebookPath: () => 'work/analysis.ipynb',
      request: server.request,
      serverSettings: {} as any,
      upload: options =>
        new Promise(resolve => {
          expect(options.dir).toBe('work');
          expect(options.name).toBe('shoes.csv');
          options.onProgress?.(0.5);
          progress.push(context.state.uploads[0].progress);
          finish = () => resolve(summary('work/shoes.csv'));
        })
    });
    const done = context.uploadFiles([new File(['a\n1\n'], 'shoes.csv')]);
    await flush();
    expect(context.state.uploads.map(u => u.name)).toEqual(['shoes.csv']);
    expect(progress).toEqual([0.5]);
    finish();
    await done;
    expect(context.state.uploads).toEqual([]);
    expect(context.attachments.map(a => a.path)).toEqual(['work/shoes.csv']);
  });

  it('shows a failed upload next to the attach area', async () => {
    const context = new ChatContext({
      store: new MemoryMetadataStore(),
      notebookPath: () => 'a.ipynb',
      request: new FakeServer().request,
      serverSettings: {} as any,
      upload: () =>
        Promise.reject(
          new NbChatRequestError('big.csv is larger than the limit', 413, 'x')
        )
    });
    await context.uploadFiles([new File(['x'], 'big.csv')]);
    expect(context.state.errors).toEqual([
      {
        id: expect.any(Number),
        message: 'big.csv is larger than the limit',
        name: 'big.csv'
      }
    ]);
    expect(context.attachments).toEqual([]);
  });
});
