import { NbChatRequestError } from '../api/client';
import type {
  ContextLevel,
  IAttachment,
  IFileSummary,
  IInspectRequest,
  IManifestEvent,
  RecordChange
} from '../api/types';
import { ChatAttachments } from '../attachments/model';
import { ChatRuntime } from '../chat/runtime';
import { summary, TURN } from './fixtures';

/**
 * A server folding record changes as jupyter_nbchat/record.py does (for
 * these tests: attach, detach, level), and inspecting files.
 */
class FakeServer {
  files: IAttachment[] = [];
  level: ContextLevel | undefined;
  changes: RecordChange[] = [];
  inspected: IInspectRequest[] = [];
  maxFiles = 5;
  attached = 0;

  change = async (change: RecordChange) => {
    this.changes.push(change);
    let files = this.files;
    if ('attach' in change) {
      files = [...files, ...change.attach.map(p => attachment(p))];
    } else if ('detach' in change) {
      files = files.filter(f => f.path !== change.detach);
    } else if ('context_level' in change) {
      this.level = change.context_level;
    }
    if (files.length > this.maxFiles) {
      throw new NbChatRequestError(
        `${files.length} files attached; at most ${this.maxFiles}`,
        400,
        'record'
      );
    }
    this.files = files;
    return { record: {}, prompt: this.prompt() };
  };

  api = {
    inspect: async (body: IInspectRequest) => {
      this.inspected.push(body);
      return { files: body.paths.map(p => summary(p)), prompt: this.prompt() };
    },
    upload: async (options: any): Promise<IFileSummary> => summary('never')
  };

  prompt(): string {
    return this.files.length
      ? `${this.level ?? 'headers'}: ${this.files.map(f => f.path).join(', ')}`
      : '';
  }
}

function attachment(path: string): IAttachment {
  return { path, size: 10, sha256: `sha-${path}`, summary: summary(path) };
}

function make(upload?: (options: any) => Promise<IFileSummary>) {
  const server = new FakeServer();
  if (upload) {
    server.api.upload = upload;
  }
  const model = new ChatAttachments({
    api: server.api,
    notebookPath: () => 'work/analysis.ipynb',
    attachments: () => server.files,
    contextLevel: () => server.level ?? 'headers',
    change: server.change,
    attached: () => (server.attached += 1),
    messages: { uploadFailed: 'Failed.', uploadCancelled: 'Cancelled.' }
  });
  return { server, model };
}

const flush = () => new Promise(resolve => setTimeout(resolve, 0));

describe('ChatAttachments', () => {
  it('attaches files through a change of the record, and shows the prompt', async () => {
    const { server, model } = make();
    expect(await model.attach(['work/shoes.csv'])).toBe(true);
    expect(server.changes).toEqual([{ attach: ['work/shoes.csv'] }]);
    expect(model.files.map(a => a.path)).toEqual(['work/shoes.csv']);
    expect(model.state.prompt).toBe('headers: work/shoes.csv');
    // The executor gets ready for the new files.
    expect(server.attached).toBe(1);
  });

  it('shows the server’s refusal and loses nothing attached before', async () => {
    const { server, model } = make();
    server.maxFiles = 1;
    await model.attach(['a.csv']);
    expect(await model.attach(['b.csv'])).toBe(false);
    expect(model.files.map(a => a.path)).toEqual(['a.csv']);
    expect(model.state.errors.map(e => e.message)).toEqual([
      '2 files attached; at most 1'
    ]);
    // Once the server accepts the chat's files again the problem is gone.
    await model.detach('a.csv');
    await model.attach(['b.csv']);
    expect(model.state.errors).toEqual([]);
  });

  it('ignores files already attached', async () => {
    const { server, model } = make();
    await model.attach(['a.csv']);
    await model.attach(['a.csv', '']);
    expect(server.changes).toHaveLength(1);
  });

  it('changes the level through the record; the preview follows', async () => {
    const { server, model } = make();
    await model.attach(['a.csv']);
    await model.setContextLevel('sample');
    expect(server.changes[1]).toEqual({ context_level: 'sample' });
    expect(model.state.prompt).toBe('sample: a.csv');
    await model.setContextLevel('sample');
    expect(server.changes).toHaveLength(2);
  });

  it('detaches a file and updates the preview', async () => {
    const { model } = make();
    await model.attach(['a.csv', 'b.csv']);
    await model.detach('a.csv');
    expect(model.files.map(a => a.path)).toEqual(['b.csv']);
    expect(model.state.prompt).toBe('headers: b.csv');
    await model.detach('b.csv');
    expect(model.state.prompt).toBe('');
  });

  it('previews the recorded files without changing the record', async () => {
    const { server, model } = make();
    server.files = [attachment('a.csv')];
    server.level = 'schema';
    await model.refreshPreview();
    expect(server.inspected).toEqual([
      {
        paths: ['a.csv'],
        level: 'schema',
        notebook_path: 'work/analysis.ipynb'
      }
    ]);
    expect(server.changes).toEqual([]);
    expect(model.state.prompt).toBe('schema: a.csv');
  });

  it('takes the prompt of a manifest at the chat’s level', () => {
    const { model } = make();
    const manifest: IManifestEvent = {
      type: 'manifest',
      files: [],
      prompt: 'exactly this',
      level: 'headers',
      seq: 3,
      turn_id: TURN
    };
    model.manifest(manifest);
    expect(model.state.prompt).toBe('exactly this');
    model.manifest({ ...manifest, prompt: 'other', level: 'sample' });
    expect(model.state.prompt).toBe('exactly this');
  });

  it('uploads, shows progress, then attaches the uploaded file', async () => {
    const progress: number[] = [];
    let finish: () => void = () => undefined;
    const { model } = make(
      (options: any) =>
        new Promise(resolve => {
          expect(options.dir).toBe('work');
          expect(options.name).toBe('shoes.csv');
          options.onProgress?.(0.5);
          progress.push(model.state.uploads[0].progress);
          finish = () => resolve(summary('work/shoes.csv'));
        })
    );
    const done = model.upload([new File(['a\n1\n'], 'shoes.csv')]);
    await flush();
    expect(model.state.uploads.map(u => u.name)).toEqual(['shoes.csv']);
    expect(progress).toEqual([0.5]);
    finish();
    await done;
    expect(model.state.uploads).toEqual([]);
    expect(model.files.map(a => a.path)).toEqual(['work/shoes.csv']);
  });

  it('shows a failed upload next to the attach area', async () => {
    const { model } = make(() =>
      Promise.reject(
        new NbChatRequestError('big.csv is larger than the limit', 413, 'x')
      )
    );
    await model.upload([new File(['x'], 'big.csv')]);
    expect(model.state.errors).toEqual([
      {
        id: expect.any(Number),
        message: 'big.csv is larger than the limit',
        name: 'big.csv'
      }
    ]);
    expect(model.files).toEqual([]);
  });
});

describe('ChatRuntime', () => {
  function runtime(failWarm = false) {
    const calls: { route: string; body: unknown }[] = [];
    const api = {
      warm: async (body: unknown) => {
        calls.push({ route: 'warm', body });
        if (failWarm) {
          throw new NbChatRequestError('no sandbox', 400, 'executor/warm');
        }
      },
      variables: async (path: string) => {
        calls.push({ route: 'variables', body: path });
        return {
          variables: [{ name: 'df', type: 'DataFrame', shape: [3, 1] }]
        };
      },
      restart: async (path: string) => {
        calls.push({ route: 'restart', body: path });
      },
      rerun: async (body: unknown) => {
        calls.push({ route: 'rerun', body });
        return { ran: 2, failed: [] };
      }
    };
    const model = new ChatRuntime({
      api,
      notebookPath: () => 'work/analysis.ipynb',
      warmFields: () => ({ attachments: ['a.csv'], sandbox_id: 'sbx-1' }),
      warmFailed: 'Could not prepare the executor: %1'
    });
    return { model, calls };
  }

  it('warms with the chat’s fields, and shows a failure softly', async () => {
    const { model, calls } = runtime(true);
    model.warm();
    await flush();
    expect(calls[0]).toEqual({
      route: 'warm',
      body: {
        notebook_path: 'work/analysis.ipynb',
        attachments: ['a.csv'],
        sandbox_id: 'sbx-1'
      }
    });
    expect(model.state.executorWarning).toContain('no sandbox');
  });

  it('restarts and re-runs code, then fetches the variables', async () => {
    const { model, calls } = runtime();
    expect(await model.rerun(['x = 1', 'print(x)'])).toEqual({
      ran: 2,
      failed: []
    });
    await flush();
    expect(calls.map(c => c.route)).toEqual(['rerun', 'variables']);
    expect(calls[0].body).toEqual({
      notebook_path: 'work/analysis.ipynb',
      codes: ['x = 1', 'print(x)']
    });
    expect(model.state.variables).toEqual([
      { name: 'df', type: 'DataFrame', shape: [3, 1] }
    ]);
    expect(model.state.restarting).toBe(false);
  });

  it('lists each created file once, newest last', () => {
    const { model } = runtime();
    const file = (path: string, size: number) => ({ path, size, copied: true });
    model.filesChanged([file('a.png', 1), file('b.csv', 2)]);
    model.filesChanged([file('a.png', 3)]);
    expect(model.state.filesCreated).toEqual([
      file('b.csv', 2),
      file('a.png', 3)
    ]);
  });
});
