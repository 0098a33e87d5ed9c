/**
 * "Verify notebook": the notebook's code run top to bottom in a fresh
 * kernel (or sandbox) on the server, beside the live one, its outputs
 * compared with the saved ones. This follows one verification at a time per
 * chat: start, progress (polled), the report, stop. No React here; views
 * listen to `changed`.
 */

import type { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { errorMessage, NbChatApi } from '../api/client';
import type { IVerifyRequest, IVerifyStatus } from '../api/types';

/** How often a running verification's progress is asked for, in ms. */
export const VERIFY_POLL_MS = 500;

/** What the panel shows: nothing, progress, the report, or why it failed. */
export type VerifyState =
  null | (Omit<IVerifyStatus, 'verify_id'> & { verify_id: string | null });

/** Construction options of ChatVerification. */
export interface IChatVerificationOptions {
  api: Pick<NbChatApi, 'startVerify' | 'verification' | 'cancelVerify'>;
  /** The body of the request as the notebook is now (cells, record, executor). */
  request: () => IVerifyRequest;
  pollMs?: number;
}

/** One chat's verification. */
export class ChatVerification implements IDisposable {
  constructor(options: IChatVerificationOptions) {
    this._options = options;
  }

  /** Emitted whenever `state` changes. */
  get changed(): ISignal<this, VerifyState> {
    return this._changed;
  }

  get state(): VerifyState {
    return this._state;
  }

  get running(): boolean {
    return this._state?.status === 'running';
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /**
   * Verify the notebook as it is now; resolves when the report (or the
   * reason it failed) is in `state`. Does nothing while one runs.
   */
  async start(): Promise<void> {
    if (this.running || this._isDisposed) {
      return;
    }
    const body = this._options.request();
    this._set({
      verify_id: null,
      notebook_path: body.notebook_path,
      status: 'running',
      ran: 0,
      total: 0,
      report: null,
      message: null
    });
    try {
      const { verify_id } = await this._options.api.startVerify(body);
      if (this._state === null || this._isDisposed) {
        // Dismissed while the request was on its way: stop what it started.
        await this._options.api.cancelVerify(verify_id);
        return;
      }
      this._set({ ...this._state, verify_id });
      while (!this._isDisposed) {
        await new Promise(resolve =>
          setTimeout(resolve, this._options.pollMs ?? VERIFY_POLL_MS)
        );
        const status = await this._options.api.verification(verify_id);
        if (this._state?.verify_id !== verify_id) {
          return; // dismissed meanwhile
        }
        this._set(status);
        if (status.status !== 'running') {
          return;
        }
      }
    } catch (reason) {
      if (this._state?.status === 'running') {
        this._set({
          ...this._state,
          status: 'error',
          message: errorMessage(reason)
        });
      }
    }
  }

  /** Stop the running verification (its fresh runtime is shut down). */
  async stop(): Promise<void> {
    const id = this._state?.verify_id;
    if (this.running && id) {
      await this._options.api.cancelVerify(id);
    }
  }

  /** Forget the report (a running verification is stopped first). */
  dismiss(): void {
    void this.stop().catch(() => undefined);
    this._set(null);
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    void this.stop().catch(() => undefined);
    this._isDisposed = true;
    Signal.clearData(this);
  }

  private _set(state: VerifyState): void {
    this._state = state;
    this._changed.emit(state);
  }

  private _options: IChatVerificationOptions;
  private _state: VerifyState = null;
  private _isDisposed = false;
  private _changed = new Signal<this, VerifyState>(this);
}
