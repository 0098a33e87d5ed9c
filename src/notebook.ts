/**
 * Writing a turn's cells into the open notebook, through its shared model.
 *
 * The notebook in the browser is the one that gets edited (docs/protocol.md,
 * `write: "browser"`): the server never rewrites an open notebook on disk.
 */

import type { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';

import type { TurnCell } from './types';

/** What happened to a cell handed to `appendCell`. */
export type AppendResult = 'inserted' | 'duplicate' | 'not-open';

/** The part of the notebook writer the chat model needs (fakeable in tests). */
export interface INotebookWriter {
  /** Append `cell` to the notebook open at `path`, unless a cell with its id is there. */
  appendCell(path: string, cell: TurnCell): AppendResult;
  /** Save the notebook open at `path`; resolves false when it is not open. */
  save(path: string): Promise<boolean>;
}

/** Find the open notebook panel showing `path`, if any. */
export function findNotebook(
  tracker: INotebookTracker,
  path: string
): NotebookPanel | null {
  return (
    tracker.find(panel => !panel.isDisposed && panel.context.path === path) ??
    null
  );
}

/** Writes cells into notebooks open in this browser window. */
export class NotebookWriter implements INotebookWriter {
  constructor(private readonly _tracker: INotebookTracker) {}

  appendCell(path: string, cell: TurnCell): AppendResult {
    const panel = findNotebook(this._tracker, path);
    const shared = panel?.model?.sharedModel;
    if (!panel || !shared) {
      return 'not-open';
    }
    // A replay after a reconnect repeats cells already inserted.
    if (shared.cells.some(existing => existing.id === cell.id)) {
      return 'duplicate';
    }
    shared.insertCell(shared.cells.length, cell);
    return 'inserted';
  }

  async save(path: string): Promise<boolean> {
    const panel = findNotebook(this._tracker, path);
    if (!panel) {
      return false;
    }
    await panel.context.ready;
    await panel.context.save();
    return true;
  }
}
