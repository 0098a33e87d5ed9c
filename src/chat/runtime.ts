/**
 * Where a chat's code runs, as the panel shows it: getting the executor
 * ready, its live variables, restarting it, re-running the notebook's code
 * in it, and the files its cells created. No React here; views listen to
 * `changed`.
 */

import type { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { errorMessage, NbChatApi } from '../api/client';
import type {
  IChangedFile,
  IRerunResult,
  IVariable,
  IWarmRequest
} from '../api/types';

/** Everything the footer and the sections render. */
export interface IRuntimeState {
  /** A soft warning about the executor (warm failed), or ''. */
  executorWarning: string;
  /** Live variables; null before the first look. */
  variables: readonly IVariable[] | null;
  variablesLoading: boolean;
  variablesError: string;
  /** Files the chat's cells created or changed, newest last. */
  filesCreated: readonly IChangedFile[];
  /** A restart (or a restart and re-run) is under way. */
  restarting: boolean;
}

/** Construction options of ChatRuntime. */
export interface IChatRuntimeOptions {
  api: Pick<NbChatApi, 'warm' | 'variables' | 'restart' | 'rerun'>;
  /** The notebook's current path (renames are followed). */
  notebookPath: () => string;
  /** What a warm request carries besides the path (attachments, executor…). */
  warmFields: () => Omit<IWarmRequest, 'notebook_path'>;
  /** Warming failed; `%1` is the server's message (translated). */
  warmFailed: string;
}

/** The executor side of one notebook's chat. */
export class ChatRuntime implements IDisposable {
  constructor(options: IChatRuntimeOptions) {
    this._options = options;
  }

  /** Emitted whenever `state` changes. */
  get changed(): ISignal<this, IRuntimeState> {
    return this._changed;
  }

  get state(): IRuntimeState {
    return this._state;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** Start the executor and send it the attachments now (fire and forget). */
  warm(): void {
    const body: IWarmRequest = {
      notebook_path: this._options.notebookPath(),
      ...this._options.warmFields()
    };
    this._options.api.warm(body).then(
      () => this.warn(''),
      reason =>
        this.warn(this._options.warmFailed.replace('%1', errorMessage(reason)))
    );
  }

  /** Fetch the executor's live variables. */
  async refreshVariables(): Promise<void> {
    this._setState({ variablesLoading: true });
    try {
      const answer = await this._options.api.variables(
        this._options.notebookPath()
      );
      this._setState({
        variables: Array.isArray(answer.variables) ? answer.variables : [],
        variablesLoading: false,
        variablesError: ''
      });
    } catch (reason) {
      this._setState({
        variablesLoading: false,
        variablesError: errorMessage(reason)
      });
    }
  }

  /**
   * Restart the executor (variables are lost, files stay).
   *
   * @throws NbChatRequestError with the server's message.
   */
  async restart(): Promise<void> {
    await this._restarting(() =>
      this._options.api.restart(this._options.notebookPath())
    );
  }

  /**
   * Restart the executor and run `codes` in order (it stops at the first
   * error).
   *
   * @throws NbChatRequestError with the server's message.
   */
  rerun(codes: string[]): Promise<IRerunResult> {
    return this._restarting(() =>
      this._options.api.rerun({
        notebook_path: this._options.notebookPath(),
        codes
      })
    );
  }

  /** Run `task` showing a restart under way; the variables are fetched after. */
  private async _restarting<T>(task: () => Promise<T>): Promise<T> {
    this._setState({ restarting: true });
    try {
      return await task();
    } finally {
      this._setState({ restarting: false });
      void this.refreshVariables();
    }
  }

  /** Where code runs changed: what was known about the old one goes. */
  executorChanged(): void {
    this._setState({ variables: null, executorWarning: '' });
  }

  /** Show a soft warning about the executor in the footer ('' clears it). */
  warn(message: string): void {
    if (message !== this._state.executorWarning) {
      this._setState({ executorWarning: message });
    }
  }

  /** A cell created or changed these files. */
  filesChanged(files: readonly IChangedFile[]): void {
    const paths = new Set(files.map(f => f.path));
    this._setState({
      filesCreated: [
        ...this._state.filesCreated.filter(f => !paths.has(f.path)),
        ...files
      ]
    });
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    Signal.clearData(this);
  }

  private _setState(patch: Partial<IRuntimeState>): void {
    if (this._isDisposed) {
      return;
    }
    this._state = { ...this._state, ...patch };
    this._changed.emit(this._state);
  }

  private readonly _options: IChatRuntimeOptions;
  private readonly _changed = new Signal<this, IRuntimeState>(this);
  private _state: IRuntimeState = {
    executorWarning: '',
    variables: null,
    variablesLoading: false,
    variablesError: '',
    filesCreated: [],
    restarting: false
  };
  private _isDisposed = false;
}
