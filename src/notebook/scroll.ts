/**
 * Keeping the running cell in view while a turn writes the notebook, unless
 * the person has scrolled elsewhere (then it waits until they come back to
 * that cell, or the next turn starts).
 */

import type { Notebook } from '@jupyterlab/notebook';
import type { IDisposable } from '@lumino/disposable';

/** How long after the person's own input a scroll counts as theirs (ms). */
const INTENT_MS = 1000;

/** Keys that scroll the notebook. */
const SCROLL_KEYS = new Set([
  'PageUp',
  'PageDown',
  'Home',
  'End',
  'ArrowUp',
  'ArrowDown',
  ' '
]);

/** Input that means the person is moving the notebook themselves. */
const INTENT_EVENTS = ['wheel', 'touchmove', 'keydown', 'pointerdown'];

/** Follows cells in one notebook view. */
export class ScrollFollower implements IDisposable {
  constructor(notebook: Notebook) {
    this._notebook = notebook;
    for (const type of INTENT_EVENTS) {
      notebook.node.addEventListener(type, this, { capture: true });
    }
    notebook.outerNode.addEventListener('scroll', this);
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** A new turn: follow again, wherever the person scrolled before. */
  reset(): void {
    this._away = false;
  }

  /** Scroll (as little as needed) so that the cell `cellId` shows. */
  follow(cellId: string): void {
    const notebook = this._notebook;
    const index = notebook.widgets.findIndex(w => w.model.id === cellId);
    if (index === -1 || this._isDisposed) {
      return;
    }
    if (this._away) {
      if (!this._inView(index)) {
        return;
      }
      // The person came back to the running cell: follow it again.
      this._away = false;
    }
    void notebook.scrollToItem(index, 'auto', 0);
  }

  handleEvent(event: Event): void {
    switch (event.type) {
      case 'scroll':
        if (Date.now() - this._intent < INTENT_MS) {
          this._away = true;
        }
        return;
      case 'keydown':
        if (!SCROLL_KEYS.has((event as KeyboardEvent).key)) {
          return;
        }
        break;
      case 'pointerdown':
        // Only on the scroll bar (the scrolling element itself), not a cell.
        if (event.target !== this._notebook.outerNode) {
          return;
        }
        break;
      default:
        break;
    }
    this._intent = Date.now();
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    const notebook = this._notebook;
    for (const type of INTENT_EVENTS) {
      notebook.node.removeEventListener(type, this, { capture: true });
    }
    notebook.outerNode.removeEventListener('scroll', this);
  }

  /** Whether part of the cell at `index` is in the notebook's viewport. */
  private _inView(index: number): boolean {
    const node = this._notebook.widgets[index]?.node;
    if (!node || !node.isConnected) {
      return false;
    }
    const cell = node.getBoundingClientRect();
    const view = this._notebook.outerNode.getBoundingClientRect();
    return cell.bottom > view.top && cell.top < view.bottom;
  }

  private readonly _notebook: Notebook;
  private _intent = 0;
  private _away = false;
  private _isDisposed = false;
}
