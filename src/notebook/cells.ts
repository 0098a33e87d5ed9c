/**
 * Edits of a notebook's shared model: the cells a turn writes, their live
 * outputs and running state, and undoing a turn. Each function is one edit
 * (one transaction where it takes several steps), so the notebook's own undo
 * (Ctrl+Z) takes it back as a whole.
 */

import type * as nbformat from '@jupyterlab/nbformat';
import type { INotebookModel } from '@jupyterlab/notebook';
import { JSONExt } from '@lumino/coreutils';

import type { INotebookCell, IUndoPlan, TurnCell } from '../api/types';
import { RECORD_KEY } from './record';

/** The shared model of a notebook. */
export type SharedNotebook = INotebookModel['sharedModel'];

type SharedCell = SharedNotebook['cells'][number];
type SharedCodeCell = Extract<SharedCell, { cell_type: 'code' }>;

/** What happened to a cell handed to `insertCell`. */
export type InsertResult = 'inserted' | 'replaced' | 'duplicate';

/** What `applyUndoPlan` changed. */
export interface IUndoResult {
  removed: number;
  /** Edited cells left in place (no longer tagged as the turn's). */
  kept: number;
  restored: number;
}

/**
 * Whether a notebook's cells are just the single empty cell JupyterLab puts
 * in a new notebook (no source, no outputs, not written by a turn).
 */
export function isBlankNotebook(
  cells: ReadonlyArray<{
    source?: unknown;
    outputs?: unknown;
    metadata?: unknown;
  }>
): boolean {
  if (cells.length !== 1) {
    return false;
  }
  const only = cells[0];
  const source = Array.isArray(only.source)
    ? only.source.join('')
    : typeof only.source === 'string'
      ? only.source
      : '';
  const outputs = Array.isArray(only.outputs) ? only.outputs : [];
  const tagged =
    !!only.metadata &&
    typeof only.metadata === 'object' &&
    RECORD_KEY in (only.metadata as object);
  return source.trim() === '' && outputs.length === 0 && !tagged;
}

function indexOf(shared: SharedNotebook, cellId: string | null | undefined) {
  return cellId ? shared.cells.findIndex(cell => cell.id === cellId) : -1;
}

/**
 * Add `cell`: in place of the cell whose id is `replaces` when there is one,
 * else at the end. When a cell with its id is already there (a replay),
 * nothing is added, but the `replaces` cell still goes (a replay re-inserts
 * cells later replaced).
 */
export function insertCell(
  shared: SharedNotebook,
  cell: TurnCell | INotebookCell,
  replaces?: string | null
): InsertResult {
  const stale = indexOf(shared, replaces);
  if (indexOf(shared, cell.id) !== -1) {
    if (stale !== -1) {
      shared.deleteCell(stale);
    }
    return 'duplicate';
  }
  const json = cell as nbformat.ICell;
  if (stale !== -1) {
    shared.transact(() => {
      shared.deleteCell(stale);
      shared.insertCell(stale, json);
    });
    return 'replaced';
  }
  if (isBlankNotebook(shared.cells.map(c => c.toJSON()))) {
    // A new notebook's lone empty cell gives way to the first real one.
    shared.transact(() => {
      shared.deleteCell(0);
      shared.insertCell(0, json);
    });
  } else {
    shared.insertCell(shared.cells.length, json);
  }
  return 'inserted';
}

/** The code cell `cellId`, if the notebook has it. */
function codeCell(
  shared: SharedNotebook,
  cellId: string
): SharedCodeCell | null {
  const cell = shared.cells.find(c => c.id === cellId);
  return cell && cell.cell_type === 'code' ? (cell as SharedCodeCell) : null;
}

/** Show code cell `cellId` as running (`[*]`) or not; false when it is gone. */
export function setRunning(
  shared: SharedNotebook,
  cellId: string,
  running: boolean
): boolean {
  const cell = codeCell(shared, cellId);
  if (!cell) {
    return false;
  }
  cell.executionState = running ? 'running' : 'idle';
  return true;
}

/** Text edits of a stream output (YCodeCell has them; the interface does not). */
interface IStreamEdits {
  appendStreamOutput(index: number, text: string): void;
  removeStreamOutput(index: number, start: number): void;
}

function streamText(output: nbformat.IOutput | undefined): string | null {
  if (output?.output_type !== 'stream') {
    return null;
  }
  const text = (output as nbformat.IStream).text;
  return Array.isArray(text) ? text.join('') : String(text ?? '');
}

/**
 * Replace the outputs of code cell `cellId` with `outputs`, in place: the
 * outputs that did not change stay, and a stream that grew (or was rewritten
 * from some point on) is edited as text, the way JupyterLab's own outputs
 * are.
 *
 * @param executionCount Set when given (null clears it).
 * @returns false when the cell is gone.
 */
export function setOutputs(
  shared: SharedNotebook,
  cellId: string,
  outputs: readonly nbformat.IOutput[],
  executionCount?: number | null
): boolean {
  const cell = codeCell(shared, cellId);
  if (!cell) {
    return false;
  }
  const current = cell.getOutputs();
  let same = 0;
  while (
    same < current.length &&
    same < outputs.length &&
    JSONExt.deepEqual(current[same] as any, outputs[same] as any)
  ) {
    same += 1;
  }
  const edits = cell as unknown as Partial<IStreamEdits>;
  shared.transact(() => {
    let from = same;
    const before = streamText(current[same]);
    const after = streamText(outputs[same]);
    if (
      before !== null &&
      after !== null &&
      (current[same] as nbformat.IStream).name ===
        (outputs[same] as nbformat.IStream).name &&
      edits.appendStreamOutput &&
      edits.removeStreamOutput
    ) {
      let kept = 0;
      while (kept < before.length && before[kept] === after[kept]) {
        kept += 1;
      }
      if (kept < before.length) {
        edits.removeStreamOutput(same, kept);
      }
      if (kept < after.length) {
        edits.appendStreamOutput(same, after.slice(kept));
      }
      from = same + 1;
    }
    if (from < current.length || from < outputs.length) {
      cell.updateOutputs(from, current.length, outputs.slice(from));
    }
    if (
      executionCount !== undefined &&
      cell.execution_count !== executionCount
    ) {
      cell.execution_count = executionCount;
    }
  });
  return true;
}

/**
 * Remove the cell `cellId` (a skipped proposal); `restore`, when given and
 * not in the notebook already, takes its place (the cell the proposal had
 * replaced).
 */
export function removeCell(
  shared: SharedNotebook,
  cellId: string,
  restore?: INotebookCell | null
): 'removed' | 'missing' {
  const index = indexOf(shared, cellId);
  if (index === -1) {
    return 'missing';
  }
  const back = restore && indexOf(shared, restore.id) === -1 ? restore : null;
  shared.transact(() => {
    shared.deleteCell(index);
    if (back) {
      shared.insertCell(index, back as nbformat.ICell);
    }
  });
  return 'removed';
}

/**
 * Undo a turn as the server planned it, in one transaction: remove the cells
 * it added (an edited one stays when `keepEdited`, as the person's own cell),
 * put back the cells it had replaced, and set the record without the turn.
 */
export function applyUndoPlan(
  shared: SharedNotebook,
  plan: Pick<IUndoPlan, 'remove' | 'edited' | 'restore' | 'record'>,
  keepEdited: boolean
): IUndoResult {
  // `shared.cells` follows the document only once a transaction is over:
  // every position is worked out before it starts.
  const ids = shared.cells.map(cell => cell.id);
  const kept = new Set(keepEdited ? plan.edited : []);
  const doomed = new Set(plan.remove.filter(id => !kept.has(id)));
  const untag = shared.cells.filter(
    cell => kept.has(cell.id) && plan.remove.includes(cell.id)
  );
  const removed = ids
    .map((id, index) => (doomed.has(id) ? index : -1))
    .filter(index => index !== -1)
    .reverse();
  const restore = plan.restore
    .filter(
      ({ cell }) => !cell.id || !ids.includes(cell.id) || doomed.has(cell.id)
    )
    .sort((a, b) => a.index - b.index);
  shared.transact(() => {
    untag.forEach(cell => cell.deleteMetadata(RECORD_KEY));
    removed.forEach(index => shared.deleteCell(index));
    let length = ids.length - removed.length;
    for (const { cell, index } of restore) {
      shared.insertCell(
        Math.max(0, Math.min(index, length)),
        cell as nbformat.ICell
      );
      length += 1;
    }
    shared.setMetadata(RECORD_KEY, plan.record as any);
  });
  return {
    removed: removed.length,
    kept: untag.length,
    restored: restore.length
  };
}
