import { NotebookModel } from '@jupyterlab/notebook';

import type { TurnCell } from '../api/types';
import {
  applyUndoPlan,
  insertCell,
  isBlankNotebook,
  removeCell,
  setOutputs,
  setRunning
} from '../notebook/cells';

describe('isBlankNotebook', () => {
  it('is true for a new notebook’s lone empty cell', () => {
    expect(isBlankNotebook([{ source: '', outputs: [], metadata: {} }])).toBe(
      true
    );
    expect(isBlankNotebook([{ source: ['  ', '\n'] }])).toBe(true);
  });

  it('is false as soon as there is something', () => {
    expect(isBlankNotebook([])).toBe(false);
    expect(isBlankNotebook([{ source: 'x = 1' }])).toBe(false);
    expect(isBlankNotebook([{ source: '' }, { source: '' }])).toBe(false);
    expect(
      isBlankNotebook([
        { source: '', outputs: [{ output_type: 'stream', text: 'hi' }] }
      ])
    ).toBe(false);
    expect(
      isBlankNotebook([
        { source: '', metadata: { nbchat: { role: 'answer', turn_id: 't' } } }
      ])
    ).toBe(false);
  });
});

function notebook(cells: Array<Record<string, unknown>> = []) {
  const model = new NotebookModel();
  const shared = model.sharedModel;
  shared.insertCells(0, cells as any);
  shared.clearUndoHistory();
  const ids = () => shared.cells.map(c => c.id);
  return { model, shared, ids };
}

const code = (id: string, source = 'x = 1', extra: object = {}): TurnCell =>
  ({
    id,
    cell_type: 'code',
    source,
    outputs: [],
    execution_count: null,
    metadata: {},
    ...extra
  }) as TurnCell;

const stream = (text: string) => ({
  output_type: 'stream',
  name: 'stdout',
  text
});

describe('insertCell and removeCell', () => {
  it('puts a proposed cell in the failed one’s place, then the executed one in its', () => {
    const { shared, ids } = notebook([code('mine'), code('bad')]);
    expect(insertCell(shared, code('prop'), 'bad')).toBe('replaced');
    expect(ids()).toEqual(['mine', 'prop']);
    expect(insertCell(shared, code('ran'), 'prop')).toBe('replaced');
    expect(ids()).toEqual(['mine', 'ran']);
  });

  it('a new notebook’s empty cell gives way to the first cell', () => {
    const { shared, ids } = notebook([code('blank', '')]);
    expect(insertCell(shared, code('first'))).toBe('inserted');
    expect(ids()).toEqual(['first']);
  });

  it('removes a skipped cell, restoring what it replaced', () => {
    const { shared, ids } = notebook([code('mine'), code('bad', 'boom')]);
    insertCell(shared, code('prop', 'print(1)'), 'bad');
    expect(removeCell(shared, 'prop', code('bad', 'boom') as any)).toBe(
      'removed'
    );
    expect(ids()).toEqual(['mine', 'bad']);
    expect(removeCell(shared, 'prop')).toBe('missing');
  });

  it('replays a saved turn without inserting anything twice', () => {
    // Saved before a reload: the question and the fixed cell (which had
    // replaced the failed one).
    const { shared, ids } = notebook([code('q'), code('good')]);
    const replay: Array<[string, string | null]> = [
      ['q', null],
      ['bad', null],
      ['good', 'bad'],
      ['late', null]
    ];
    const results = replay.map(([id, replaces]) =>
      insertCell(shared, code(id), replaces)
    );
    expect(results).toEqual(['duplicate', 'inserted', 'duplicate', 'inserted']);
    expect(ids()).toEqual(['q', 'good', 'late']);
  });
});

describe('live outputs', () => {
  it('updates the running cell in place: outputs, count, running state', () => {
    const { shared } = notebook([code('mine')]);
    insertCell(shared, code('live', 'for i in range(3): print(i)'));
    const live = shared.cells[1] as any;
    expect(setRunning(shared, 'live', true)).toBe(true);
    expect(live.executionState).toBe('running');

    expect(setOutputs(shared, 'live', [stream('0\n')] as any, null)).toBe(true);
    expect(setOutputs(shared, 'live', [stream('0\n1\n')] as any, null)).toBe(
      true
    );
    const plot = {
      output_type: 'display_data',
      data: { 'text/plain': 'fig' },
      metadata: {}
    };
    setOutputs(shared, 'live', [stream('0\n1\n2\n'), plot] as any, 4);
    // The same cell, never deleted and inserted again.
    expect(shared.cells[1]).toBe(live);
    expect(live.getOutputs()).toEqual([stream('0\n1\n2\n'), plot]);
    expect(live.execution_count).toBe(4);
    // An unchanged snapshot changes nothing.
    const before = JSON.stringify(live.toJSON());
    setOutputs(shared, 'live', [stream('0\n1\n2\n'), plot] as any, 4);
    expect(JSON.stringify(live.toJSON())).toBe(before);

    setRunning(shared, 'live', false);
    expect(live.executionState).toBe('idle');
    expect(setOutputs(shared, 'gone', [], null)).toBe(false);
    expect(setRunning(shared, 'gone', true)).toBe(false);
  });
});

describe('applyUndoPlan', () => {
  const tagged = (id: string, source = 'x = 1') =>
    code(id, source, { metadata: { nbchat: { turn_id: 't', role: 'code' } } });

  it('removes the turn’s cells, keeps the person’s, restores, sets the record, in one edit', () => {
    const { model, shared, ids } = notebook([
      code('mine'),
      tagged('q'),
      tagged('c1'),
      tagged('c2', 'edited by the person'),
      code('later')
    ]);
    const plan = {
      remove: ['q', 'c1', 'c2', 'gone'],
      edited: ['c2'],
      restore: [{ cell: code('old', 'what the turn replaced'), index: 1 }],
      record: { attachments: [], turns: [], usage: { turns: 1 } }
    };
    const result = applyUndoPlan(shared, plan as any, true);
    expect(result).toEqual({ removed: 2, kept: 1, restored: 1 });
    expect(ids()).toEqual(['mine', 'old', 'c2', 'later']);
    // The kept cell is the person's now: no longer tagged as the turn's.
    expect(shared.cells[2].getMetadata('nbchat')).toBeUndefined();
    expect(model.getMetadata('nbchat')).toEqual(plan.record);

    // The notebook's own undo takes the whole undo back in one step.
    shared.undo();
    expect(ids()).toEqual(['mine', 'q', 'c1', 'c2', 'later']);
  });

  it('removes edited cells too when the person says so', () => {
    const { shared, ids } = notebook([tagged('c1'), code('mine')]);
    applyUndoPlan(
      shared,
      { remove: ['c1'], edited: ['c1'], restore: [], record: {} },
      false
    );
    expect(ids()).toEqual(['mine']);
  });
});
