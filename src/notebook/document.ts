/**
 * One open notebook as a chat writes it: the turn's cells, their live
 * outputs, the record in `metadata.nbchat`, saving and settling with the
 * file, all through the notebook's shared model.
 *
 * The notebook in the browser is the one that gets edited (docs/protocol.md,
 * `write: "browser"`): the server never rewrites an open notebook on disk.
 */

import type * as nbformat from '@jupyterlab/nbformat';
import { NotebookActions } from '@jupyterlab/notebook';
import type { NotebookPanel } from '@jupyterlab/notebook';
import type { Contents } from '@jupyterlab/services';
import { JSONExt } from '@lumino/coreutils';
import { ISignal, Signal } from '@lumino/signaling';

import type {
  ChatRecordJSON,
  INotebookCell,
  IUndoPlan,
  TurnCell
} from '../api/types';
import {
  applyUndoPlan,
  InsertResult,
  insertCell,
  IUndoResult,
  removeCell,
  setOutputs,
  setRunning,
  SharedNotebook
} from './cells';
import { RECORD_KEY, recordJSON } from './record';
import { ScrollFollower } from './scroll';

/** A pause this long in the person's typing lets a turn's end save the notebook. */
const TYPING_PAUSE_MS = 1000;
/** The longest a save waits for such a pause. */
const TYPING_WAIT_MS = 10_000;

/**
 * What `syncFromDisk` did: loaded the file, wrote this copy over it, found
 * them the same, or left unsaved edits alone (the file has the turn).
 */
export type SyncResult =
  'reloaded' | 'overwritten' | 'current' | 'unsaved-edits' | 'not-open';

/** The notebook as a chat needs it (a NotebookDocument; a fake in tests). */
export interface INotebookDoc {
  /** The notebook's current path (renames are followed). */
  readonly path: string;
  /** Emitted when `metadata.nbchat` changes, from anywhere. */
  readonly recordChanged: ISignal<unknown, void>;
  /** The cells, edits included; null when the notebook is gone. */
  cells(): INotebookCell[] | null;
  /** The current source of one cell (the person's edits included); null when absent. */
  cellSource(cellId: string): string | null;
  /** Add a cell (at the end, or in place of `replaces`); a replayed one is left. */
  insertCell(cell: TurnCell, replaces?: string | null): InsertResult | null;
  /** The same, then show the cell running (`[*]`). */
  startCell(cell: TurnCell, replaces?: string | null): InsertResult | null;
  /** Replace a code cell's outputs in place; false when it is gone. */
  setOutputs(
    cellId: string,
    outputs: readonly nbformat.IOutput[],
    executionCount?: number | null
  ): boolean;
  /** A cell finished: its outputs and count, in place, and no longer running. */
  finishCell(cell: TurnCell): boolean;
  /** The cell no longer shows as running (its turn is over). */
  stopRunning(cellId: string): void;
  /** Remove a cell; `restore` takes its place. */
  removeCell(
    cellId: string,
    restore?: INotebookCell | null
  ): 'removed' | 'missing' | null;
  /** Undo a turn as planned, in one edit; null when the notebook is gone. */
  applyUndo(plan: IUndoPlan, keepEdited: boolean): IUndoResult | null;
  /** `metadata.nbchat` as it is (`{}` when absent). */
  record(): ChatRecordJSON;
  /** Set `metadata.nbchat` to what the server sent, as is. */
  setRecord(record: ChatRecordJSON): void;
  /** Scroll to the cell and make it the active cell. */
  reveal(cellId: string): Promise<boolean>;
  /** Keep the cell in view unless the person scrolled elsewhere. */
  follow(cellId: string): void;
  /** A new turn: follow cells again. */
  resetFollow(): void;
  /** Save; resolves false when the notebook is gone. */
  save(): Promise<boolean>;
  /**
   * The server saved a turn into the file itself (no panel followed it to
   * the end). Without unsaved edits here, load the file. With them: when
   * `complete` (this copy replayed the whole turn, so it holds the file's
   * cells and the person's edits) write this copy over the file; otherwise
   * leave both alone.
   */
  syncFromDisk(complete: boolean): Promise<SyncResult>;
  /** Restart the notebook's kernel and run every cell; false when refused. */
  restartAndRunAll(): Promise<boolean>;
}

/** A notebook panel's document, written by its chat. */
export class NotebookDocument implements INotebookDoc {
  constructor(
    private readonly _panel: NotebookPanel,
    private readonly _contents?: Contents.IManager
  ) {
    _panel.model?.metadataChanged.connect((_, change) => {
      if (change.key === RECORD_KEY) {
        this._recordChanged.emit();
      }
    });
  }

  get path(): string {
    return this._panel.context.path;
  }

  get recordChanged(): ISignal<this, void> {
    return this._recordChanged;
  }

  cells(): INotebookCell[] | null {
    // Each cell's own JSON keeps its id even in an nbformat 4.4 notebook.
    const shared = this._shared();
    return shared
      ? shared.cells.map(cell => cell.toJSON() as INotebookCell)
      : null;
  }

  cellSource(cellId: string): string | null {
    const cell = this._shared()?.cells.find(c => c.id === cellId);
    return cell ? cell.getSource() : null;
  }

  insertCell(cell: TurnCell, replaces?: string | null): InsertResult | null {
    const shared = this._shared();
    return shared ? insertCell(shared, cell, replaces) : null;
  }

  startCell(cell: TurnCell, replaces?: string | null): InsertResult | null {
    const shared = this._shared();
    if (!shared) {
      return null;
    }
    const result = insertCell(shared, cell, replaces);
    setRunning(shared, cell.id, true);
    return result;
  }

  setOutputs(
    cellId: string,
    outputs: readonly nbformat.IOutput[],
    executionCount?: number | null
  ): boolean {
    const shared = this._shared();
    return !!shared && setOutputs(shared, cellId, outputs, executionCount);
  }

  finishCell(cell: TurnCell): boolean {
    const shared = this._shared();
    if (!shared) {
      return false;
    }
    const code = cell as nbformat.ICodeCell;
    const found = setOutputs(
      shared,
      cell.id,
      code.outputs ?? [],
      code.execution_count ?? null
    );
    setRunning(shared, cell.id, false);
    return found;
  }

  stopRunning(cellId: string): void {
    const shared = this._shared();
    if (shared) {
      setRunning(shared, cellId, false);
    }
  }

  removeCell(
    cellId: string,
    restore?: INotebookCell | null
  ): 'removed' | 'missing' | null {
    const shared = this._shared();
    return shared ? removeCell(shared, cellId, restore) : null;
  }

  applyUndo(plan: IUndoPlan, keepEdited: boolean): IUndoResult | null {
    const shared = this._shared();
    return shared ? applyUndoPlan(shared, plan, keepEdited) : null;
  }

  record(): ChatRecordJSON {
    return recordJSON(this._panel.model?.getMetadata(RECORD_KEY));
  }

  setRecord(record: ChatRecordJSON): void {
    const model = this._panel.model;
    if (model && !JSONExt.deepEqual(this.record() as any, record as any)) {
      model.setMetadata(RECORD_KEY, record);
    }
  }

  async reveal(cellId: string): Promise<boolean> {
    const notebook = this._panel.content;
    const index =
      notebook?.widgets.findIndex(widget => widget.model.id === cellId) ?? -1;
    if (!notebook || index === -1) {
      return false;
    }
    notebook.activeCellIndex = index;
    await notebook.scrollToCell(notebook.widgets[index], 'smart');
    return true;
  }

  follow(cellId: string): void {
    this._follower()?.follow(cellId);
  }

  resetFollow(): void {
    this._follower()?.reset();
  }

  /**
   * Save the notebook. While the person is typing in one of its cells the
   * save waits for a pause in their typing (at most TYPING_WAIT_MS), so the
   * file never keeps a cell cut off mid-word, or empty, when the turn ends.
   */
  async save(): Promise<boolean> {
    if (this._panel.isDisposed) {
      return false;
    }
    await this._panel.context.ready;
    await this._typingPause();
    if (this._panel.isDisposed) {
      return false;
    }
    await this._panel.context.save();
    return true;
  }

  /** Resolves when nobody types in the notebook: at once, or after a pause. */
  private _typingPause(): Promise<void> {
    const notebook = this._panel.content;
    const model = this._panel.model;
    const editing = () =>
      notebook.mode === 'edit' && !!notebook.activeCell?.editor?.hasFocus();
    if (!model || !editing()) {
      return Promise.resolve();
    }
    return new Promise(resolve => {
      const deadline = Date.now() + TYPING_WAIT_MS;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const done = () => {
        clearTimeout(timer);
        model.contentChanged.disconnect(arm);
        resolve();
      };
      function arm() {
        clearTimeout(timer);
        const left = deadline - Date.now();
        timer = setTimeout(done, Math.max(0, Math.min(TYPING_PAUSE_MS, left)));
      }
      model.contentChanged.connect(arm);
      arm();
    });
  }

  async syncFromDisk(complete: boolean): Promise<SyncResult> {
    const panel = this._panel;
    const model = panel.model;
    if (panel.isDisposed || !model || !this._contents) {
      return 'not-open';
    }
    const context = panel.context;
    await context.ready;
    const disk = await this._contents.get(context.path, { content: false });
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
    await this._contents.save(context.path, {
      type: 'notebook',
      format: 'json',
      content: model.toJSON()
    });
    await context.revert();
    return 'overwritten';
  }

  async restartAndRunAll(): Promise<boolean> {
    const panel = this._panel;
    if (panel.isDisposed || !panel.sessionContext.session?.kernel) {
      return false;
    }
    await panel.sessionContext.restartKernel();
    return NotebookActions.runAll(panel.content, panel.sessionContext);
  }

  private _shared(): SharedNotebook | null {
    return this._panel.isDisposed
      ? null
      : (this._panel.model?.sharedModel ?? null);
  }

  private _follower(): ScrollFollower | null {
    const notebook = this._panel.content;
    if (!notebook || this._panel.isDisposed) {
      return null;
    }
    if (!this._scroll) {
      this._scroll = new ScrollFollower(notebook);
      this._panel.disposed.connect(() => this._scroll?.dispose());
    }
    return this._scroll;
  }

  private readonly _recordChanged = new Signal<this, void>(this);
  private _scroll: ScrollFollower | null = null;
}
