/**
 * The database connections of one chat: which of the server's named
 * connections it uses (kept in the notebook's record, by name only), and what
 * Claude is told about each (the server reads the schema; never a row at the
 * default level, never a URL in the browser).
 */

import type { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { errorMessage, NbChatApi } from '../api/client';
import type {
  ContextLevel,
  IDatabaseInfo,
  IDatabaseInspectResult,
  IDatabaseList,
  RecordChange
} from '../api/types';

/** What the panel shows of one chosen connection's schema. */
export type DatabaseDetails =
  | { kind: 'loading' }
  | { kind: 'ready'; result: IDatabaseInspectResult }
  | { kind: 'failed'; message: string };

/** Construction options of ChatDatabases. */
export interface IChatDatabasesOptions {
  api: NbChatApi;
  /** The server's connections; null until known (or when it has none to say). */
  available: () => IDatabaseList | null;
  /** The names the notebook's record holds. */
  chosen: () => string[];
  /** What the files' context level is: the schema text follows it. */
  contextLevel: () => ContextLevel;
  /** Sends one change of the record (the chat serialises them). */
  change: (change: RecordChange) => Promise<unknown>;
}

export class ChatDatabases implements IDisposable {
  constructor(options: IChatDatabasesOptions) {
    this._options = options;
  }

  /** Emitted when the chosen connections, the list or some details change. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** The server's connections (empty while unknown). */
  get available(): IDatabaseInfo[] {
    return this._options.available()?.databases ?? [];
  }

  /** The server's plain sentence about what code can do with a connection. */
  get notice(): string {
    return this._options.available()?.notice ?? '';
  }

  /** The names this chat uses, in the order chosen. */
  get chosen(): string[] {
    return this._options.chosen();
  }

  /** The last problem changing the choice; '' when none. */
  get error(): string {
    return this._error;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** The schema of `name` as Claude is told it, fetched once per level. */
  details(name: string): DatabaseDetails {
    const key = this._key(name);
    const known = this._details.get(key);
    if (known) {
      return known;
    }
    this._details.set(key, { kind: 'loading' });
    void this._options.api.inspectDatabase(name, this._level()).then(
      result => this._setDetails(key, { kind: 'ready', result }),
      reason =>
        this._setDetails(key, {
          kind: 'failed',
          message: errorMessage(reason)
        })
    );
    return { kind: 'loading' };
  }

  /** Read the schema of `name` again (it may have changed, or failed). */
  refresh(name: string): void {
    this._details.delete(this._key(name));
    this._emit();
  }

  /** Use exactly `names` from the next question on. */
  async set(names: string[]): Promise<boolean> {
    const unique = names.filter((n, i) => names.indexOf(n) === i);
    try {
      await this._options.change({ databases: unique });
      this._error = '';
      return true;
    } catch (reason) {
      this._error = errorMessage(reason);
      return false;
    } finally {
      this._emit();
    }
  }

  /** Stop using `name` (the connection itself stays on the server). */
  remove(name: string): Promise<boolean> {
    return this.set(this.chosen.filter(n => n !== name));
  }

  /** The record or the server's list changed: views read them again. */
  recordChanged(): void {
    this._emit();
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    Signal.clearData(this);
  }

  private _level(): ContextLevel {
    return this._options.contextLevel();
  }

  private _key(name: string): string {
    return `${this._level()}\u0000${name}`;
  }

  private _setDetails(key: string, details: DatabaseDetails): void {
    if (this._isDisposed) {
      return;
    }
    this._details.set(key, details);
    this._emit();
  }

  private _emit(): void {
    if (!this._isDisposed) {
      this._changed.emit();
    }
  }

  private readonly _options: IChatDatabasesOptions;
  private readonly _details = new Map<string, DatabaseDetails>();
  private readonly _changed = new Signal<this, void>(this);
  private _error = '';
  private _isDisposed = false;
}
