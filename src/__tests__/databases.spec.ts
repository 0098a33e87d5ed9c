import { NbChatApi, NbChatRequestError } from '../api/client';
import type {
  ContextLevel,
  IDatabaseInspectResult,
  IDatabaseList,
  RecordChange
} from '../api/types';
import { ChatDatabases } from '../databases/model';

const LIST: IDatabaseList = {
  databases: [
    { name: 'sales', dialect: 'postgresql', description: 'Orders' },
    { name: 'shop', dialect: 'sqlite', description: '' }
  ],
  notice: 'Code in the local kernel can use these connections as you could.'
};

function inspected(name: string, level: ContextLevel): IDatabaseInspectResult {
  return {
    database: {
      name,
      dialect: 'postgresql',
      description: '',
      level,
      env_var: `NBCHAT_DB_${name.toUpperCase()}`,
      schemas: ['public'],
      tables: [],
      more_tables: 0,
      notes: []
    },
    prompt: `<attached_databases> ${name} at ${level}`
  };
}

function setup(
  options: {
    inspect?: (name: string, level?: ContextLevel) => Promise<any>;
    change?: (change: RecordChange) => Promise<unknown>;
  } = {}
) {
  const record: { databases: string[] } = { databases: [] };
  const changes: RecordChange[] = [];
  const inspections: string[] = [];
  let level: ContextLevel = 'headers';
  const api = {
    inspectDatabase: (name: string, l?: ContextLevel) => {
      inspections.push(`${name}@${l}`);
      return options.inspect
        ? options.inspect(name, l)
        : Promise.resolve(inspected(name, l ?? 'headers'));
    }
  } as unknown as NbChatApi;
  const model = new ChatDatabases({
    api,
    available: () => LIST,
    chosen: () => record.databases,
    contextLevel: () => level,
    change: async change => {
      changes.push(change);
      if (options.change) {
        await options.change(change);
      }
      record.databases = (change as { databases: string[] }).databases;
    }
  });
  return {
    model,
    record,
    changes,
    inspections,
    setLevel: (l: ContextLevel) => (level = l)
  };
}

const settle = () => new Promise(resolve => setTimeout(resolve, 0));

describe('ChatDatabases', () => {
  it('offers the server connections by name, with its notice', () => {
    const { model } = setup();
    expect(model.available.map(d => d.name)).toEqual(['sales', 'shop']);
    expect(model.notice).toMatch(/local kernel/);
    expect(model.chosen).toEqual([]);
  });

  it('records the whole choice as one change, without duplicates', async () => {
    const { model, changes } = setup();
    let emitted = 0;
    model.changed.connect(() => (emitted += 1));
    expect(await model.set(['sales', 'shop', 'sales'])).toBe(true);
    expect(changes).toEqual([{ databases: ['sales', 'shop'] }]);
    expect(model.chosen).toEqual(['sales', 'shop']);
    expect(await model.remove('sales')).toBe(true);
    expect(changes[1]).toEqual({ databases: ['shop'] });
    expect(emitted).toBe(2);
  });

  it("keeps the choice and shows the server's reason when it refuses", async () => {
    const { model } = setup({
      change: () =>
        Promise.reject(
          new NbChatRequestError(
            "There is no database connection named 'nope'.",
            400,
            'record'
          )
        )
    });
    expect(await model.set(['nope'])).toBe(false);
    expect(model.chosen).toEqual([]);
    expect(model.error).toBe("There is no database connection named 'nope'.");
  });

  it('reads a schema once per context level, and again on refresh', async () => {
    const { model, inspections, setLevel } = setup();
    expect(model.details('sales').kind).toBe('loading');
    await settle();
    const ready = model.details('sales');
    expect(ready.kind).toBe('ready');
    expect(ready.kind === 'ready' && ready.result.prompt).toBe(
      '<attached_databases> sales at headers'
    );
    setLevel('schema');
    model.details('sales');
    await settle();
    model.refresh('sales');
    model.details('sales');
    await settle();
    expect(inspections).toEqual([
      'sales@headers',
      'sales@schema',
      'sales@schema'
    ]);
  });

  it('says why a schema could not be read (a dead server)', async () => {
    const { model } = setup({
      inspect: () =>
        Promise.reject(
          new NbChatRequestError(
            "The database 'sales' did not answer: connection refused.",
            502,
            'databases/inspect'
          )
        )
    });
    model.details('sales');
    await settle();
    expect(model.details('sales')).toEqual({
      kind: 'failed',
      message: "The database 'sales' did not answer: connection refused."
    });
  });
});
