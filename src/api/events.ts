/**
 * Following one turn's events over `WS nbchat/turns/{turn_id}/events`: a
 * dropped socket reconnects after a pause and asks for what came after the
 * last event applied (`?after=N`), so nothing is lost or applied twice.
 */

import type { IDisposable } from '@lumino/disposable';

import type { NbChatApi } from './client';
import type { TurnEvent } from './types';

/** Default waits between reconnect attempts: about 40 s in total. */
const RECONNECT_DELAYS: readonly number[] = [
  250, 500, 1000, 2000, 4000, 8000, 8000, 8000, 8000
];

/** Construction options of TurnEvents. */
export interface ITurnEventsOptions {
  api: Pick<NbChatApi, 'eventsUrl' | 'serverSettings'>;
  turnId: string;
  /** The highest `seq` applied so far (read at each (re)connect). */
  lastSeq: () => number;
  /** Called with each event, in order. */
  onEvent: (event: TurnEvent) => void;
  /** Reconnecting failed `delays.length` times in a row. */
  onLost: () => void;
  /** Milliseconds to wait before each reconnect attempt; its length caps attempts. */
  delays?: readonly number[];
}

/** The events socket of one turn; dispose it to stop following. */
export class TurnEvents implements IDisposable {
  constructor(options: ITurnEventsOptions) {
    this._options = options;
    this._delays = options.delays ?? RECONNECT_DELAYS;
    this._connect();
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
    const socket = this._socket;
    this._socket = null;
    if (socket) {
      socket.onmessage = null;
      socket.onclose = null;
      if (
        socket.readyState === socket.CONNECTING ||
        socket.readyState === socket.OPEN
      ) {
        socket.close();
      }
    }
  }

  private _connect(): void {
    const { api, turnId, lastSeq } = this._options;
    const url = api.eventsUrl(turnId, lastSeq());
    const socket = new api.serverSettings.WebSocket(url);
    this._socket = socket;
    socket.onmessage = (msg: MessageEvent) => {
      if (socket !== this._socket) {
        return;
      }
      this._attempt = 0;
      let event: TurnEvent;
      try {
        event = JSON.parse(String(msg.data)) as TurnEvent;
      } catch {
        return;
      }
      if (event && typeof event === 'object' && 'type' in event) {
        this._options.onEvent(event);
      }
    };
    socket.onclose = () => {
      if (socket !== this._socket) {
        return;
      }
      this._socket = null;
      this._onDropped();
    };
  }

  /** The socket closed while the turn is followed: reconnect after a pause. */
  private _onDropped(): void {
    if (this._isDisposed) {
      return;
    }
    if (this._attempt >= this._delays.length) {
      this._options.onLost();
      return;
    }
    const delay = this._delays[this._attempt];
    this._attempt += 1;
    this._timer = setTimeout(() => {
      this._timer = null;
      if (!this._isDisposed) {
        this._connect();
      }
    }, delay);
  }

  private readonly _options: ITurnEventsOptions;
  private readonly _delays: readonly number[];
  private _socket: WebSocket | null = null;
  private _timer: ReturnType<typeof setTimeout> | null = null;
  private _attempt = 0;
  private _isDisposed = false;
}
