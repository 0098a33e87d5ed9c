/**
 * Writing a turn's cells into the open notebook, through its shared model.
 *
 * The notebook in the browser is the one that gets edited (docs/protocol.md,
 * `write: "browser"`): the server never rewrites an open notebook on disk.
 */

import type { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import type { Contents } from '@jupyterlab/services';

import type { IMetadataStore } from '../attachments/context';
import { METADATA_KEY } from './metadata';
import type { INotebookCell, TurnCell } from '../api/types';

/** What happened to a cell handed to `appendCell`. */
export type AppendResult = 'inserted' | 'replaced' | 'duplicate' | 'not-open';

/** What happened to a cell handed to `removeCell`. */
export type RemoveResult = 'removed' | 'missing' | 'not-open';

/**
 * What `syncFromDisk` did: loaded the file, wrote this copy over it, found
 * them the same, or left unsaved edits alone (the file has the turn).
 */
export type SyncResult =
  'reloaded' | 'overwritten' | 'current' | 'unsaved-edits' | 'not-open';

/** The part of the notebook writer the chat model needs (fakeable in tests). */
export interface INotebookWriter {
  /**
   * Add `cell` to the notebook open at `path`: in place of the cell whose id
   * is `replaces` when there is one, else at the end. When a cell with its
   * id is already there (a replay), nothing is added, but the `replaces`
   * cell still goes (a replay re-inserts cells later replaced).
   */
  appendCell(
    path: string,
    cell: TurnCell,
    replaces?: string | null
  ): AppendResult;
  /**
   * Remove the cell `cellId` (a skipped proposal); `restore`, when given,
   * takes its place (the cell the proposal had replaced).
   */
  removeCell(
    path: string,
    cellId: string,
    restore?: INotebookCell | null
  ): RemoveResult;
  /** The current source of one cell (the person's edits included); null when absent. */
  cellSource(path: string, cellId: string): string | null;
  /** Scroll to the cell `cellId` and make it the active cell. */
  reveal?(path: string, cellId: string): Promise<boolean>;
  /** The cells of the notebook open at `path`, edits included; null when not open. */
  cells(path: string): INotebookCell[] | null;
  /** Save the notebook open at `path`; resolves false when it is not open. */
  save(path: string): Promise<boolean>;
  /**
   * The server saved a turn into the file at `path` itself (no panel
   * followed it to the end). Without unsaved edits here, load the file.
   * With them: when `complete` (this copy replayed the whole turn, so it
   * holds the file's cells and the person's edits) write this copy over the
   * file; otherwise leave both alone.
   */
  syncFromDisk?(path: string, complete: boolean): Promise<SyncResult>;
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
    'nbchat' in (only.metadata as object);
  return source.trim() === '' && outputs.length === 0 && !tagged;
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
  constructor(
    private readonly _tracker: INotebookTracker,
    private readonly _contents?: Contents.IManager
  ) {}

  appendCell(
    path: string,
    cell: TurnCell,
    replaces?: string | null
  ): AppendResult {
    const shared = findNotebook(this._tracker, path)?.model?.sharedModel;
    if (!shared) {
      return 'not-open';
    }
    // A replay (a reconnect, a reloaded page) repeats cells already there.
    if (shared.cells.some(existing => existing.id === cell.id)) {
      const stale = replaces
        ? shared.cells.findIndex(existing => existing.id === replaces)
        : -1;
      if (stale !== -1) {
        shared.deleteCell(stale);
      }
      return 'duplicate';
    }
    const index = replaces
      ? shared.cells.findIndex(existing => existing.id === replaces)
      : -1;
    if (index === -1) {
      if (isBlankNotebook(shared.cells.map(c => c.toJSON()))) {
        // A new notebook's lone empty cell gives way to the first real one.
        shared.transact(() => {
          shared.deleteCell(0);
          shared.insertCell(0, cell);
        });
      } else {
        shared.insertCell(shared.cells.length, cell);
      }
      return 'inserted';
    }
    shared.transact(() => {
      shared.deleteCell(index);
      shared.insertCell(index, cell);
    });
    return 'replaced';
  }

  removeCell(
    path: string,
    cellId: string,
    restore?: INotebookCell | null
  ): RemoveResult {
    const shared = findNotebook(this._tracker, path)?.model?.sharedModel;
    if (!shared) {
      return 'not-open';
    }
    const index = shared.cells.findIndex(existing => existing.id === cellId);
    if (index === -1) {
      return 'missing';
    }
    const back =
      restore && !shared.cells.some(existing => existing.id === restore.id)
        ? restore
        : null;
    shared.transact(() => {
      shared.deleteCell(index);
      if (back) {
        shared.insertCell(index, back as any);
      }
    });
    return 'removed';
  }

  cellSource(path: string, cellId: string): string | null {
    const shared = findNotebook(this._tracker, path)?.model?.sharedModel;
    const cell = shared?.cells.find(existing => existing.id === cellId);
    return cell ? cell.getSource() : null;
  }

  /** Scroll the notebook at `path` to the cell `cellId` and make it active. */
  async reveal(path: string, cellId: string): Promise<boolean> {
    const panel = findNotebook(this._tracker, path);
    const notebook = panel?.content;
    if (!panel || !notebook) {
      return false;
    }
    const index = notebook.widgets.findIndex(
      widget => widget.model.id === cellId
    );
    if (index === -1) {
      return false;
    }
    notebook.activeCellIndex = index;
    await notebook.scrollToCell(notebook.widgets[index], 'smart');
    return true;
  }

  cells(path: string): INotebookCell[] | null {
    const model = findNotebook(this._tracker, path)?.model;
    if (!model) {
      return null;
    }
    return model.sharedModel.toJSON().cells as INotebookCell[];
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

  async syncFromDisk(path: string, complete: boolean): Promise<SyncResult> {
    const panel = findNotebook(this._tracker, path);
    const model = panel?.model;
    if (!panel || !model || !this._contents) {
      return 'not-open';
    }
    const context = panel.context;
    await context.ready;
    const disk = await this._contents.get(path, { content: false });
    const loaded = context.contentsModel?.last_modified;
    if (loaded && Date.parse(disk.last_modified) <= Date.parse(loaded)) {
      return 'current';
    }
    if (!model.dirty) {
      await context.revert();
      return 'reloaded';
    }
    if (!complete) {
      return 'unsaved-edits';
    }
    // The browser's copy has every cell of the turn (replayed) and the
    // person's edits: it wins. Saving through the context would stop at
    // "File changed on disk", so write it, then load what was written.
    await this._contents.save(path, {
      type: 'notebook',
      format: 'json',
      content: model.toJSON()
    });
    await context.revert();
    return 'overwritten';
  }
}

/**
 * The `metadata.nbchat` of an open notebook, through its model (so the
 * change is an ordinary, undoable, collaborative notebook edit).
 */
export function notebookMetadataStore(panel: NotebookPanel): IMetadataStore {
  const model = panel.model;
  if (!model) {
    throw new Error('The notebook is not loaded yet.');
  }
  return {
    get: () => model.getMetadata(METADATA_KEY),
    set: value => model.setMetadata(METADATA_KEY, value),
    changed: model.metadataChanged
  };
}
