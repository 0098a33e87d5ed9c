import { INotebookTracker, NotebookModel } from '@jupyterlab/notebook';

import { isBlankNotebook, NotebookWriter } from '../notebook/writer';
import type { TurnCell } from '../api/types';

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

describe('NotebookWriter', () => {
  function setup(cells: Array<Record<string, unknown>> = []) {
    const model = new NotebookModel();
    model.sharedModel.insertCells(0, cells as any);
    const panel = { isDisposed: false, context: { path: 'a.ipynb' }, model };
    const tracker = {
      find: (fn: (p: any) => boolean) => (fn(panel) ? panel : undefined)
    } as unknown as INotebookTracker;
    const writer = new NotebookWriter(tracker);
    const ids = () => model.sharedModel.cells.map(c => c.id);
    return { model, writer, ids };
  }
  const code = (id: string, source = 'x = 1'): TurnCell =>
    ({
      id,
      cell_type: 'code',
      source,
      outputs: [],
      execution_count: null,
      metadata: {}
    }) as TurnCell;

  it('puts a proposed cell in the failed one’s place, then the executed one in its', () => {
    const { writer, ids } = setup([code('mine'), code('bad')]);
    expect(writer.appendCell('a.ipynb', code('prop'), 'bad')).toBe('replaced');
    expect(ids()).toEqual(['mine', 'prop']);
    expect(writer.appendCell('a.ipynb', code('ran'), 'prop')).toBe('replaced');
    expect(ids()).toEqual(['mine', 'ran']);
  });

  it('reads a cell’s current source and removes a skipped one, restoring what it replaced', () => {
    const { model, writer, ids } = setup([code('mine'), code('bad', 'boom')]);
    writer.appendCell('a.ipynb', code('prop', 'print(1)'), 'bad');
    model.sharedModel.cells[1].setSource('print(2)  # edited');
    expect(writer.cellSource('a.ipynb', 'prop')).toBe('print(2)  # edited');
    expect(writer.cellSource('a.ipynb', 'nope')).toBeNull();
    expect(
      writer.removeCell('a.ipynb', 'prop', code('bad', 'boom') as any)
    ).toBe('removed');
    expect(ids()).toEqual(['mine', 'bad']);
    expect(writer.removeCell('a.ipynb', 'prop')).toBe('missing');
    expect(writer.removeCell('b.ipynb', 'bad')).toBe('not-open');
  });

  it('replays a saved turn without inserting anything twice', () => {
    // Saved before a reload: the question and the fixed cell (which had
    // replaced the failed one).
    const { writer, ids } = setup([code('q'), code('good')]);
    const replay: Array<[string, string | null]> = [
      ['q', null],
      ['bad', null],
      ['good', 'bad'],
      ['late', null]
    ];
    const results = replay.map(([id, replaces]) =>
      writer.appendCell('a.ipynb', code(id), replaces)
    );
    expect(results).toEqual(['duplicate', 'inserted', 'duplicate', 'inserted']);
    expect(ids()).toEqual(['q', 'good', 'late']);
  });
});
