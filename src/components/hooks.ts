/**
 * React hooks that bridge Lumino signals (and the clock) into components.
 */

import type { ISignal } from '@lumino/signaling';
import { useEffect, useReducer, useState } from 'react';

/** Re-render the calling component whenever `signal` fires. */
export function useSignalRefresh(signal: ISignal<any, any> | null): void {
  const [, refresh] = useReducer((n: number) => n + 1, 0);
  useEffect(() => {
    if (!signal) {
      return;
    }
    const slot = () => refresh();
    signal.connect(slot);
    // React runs effects after the render, later still on a busy page: what the
    // signal said in between (the server's status arriving just as the panel first
    // showed) would be lost, leaving e.g. Send disabled for good. Render once more.
    refresh();
    return () => {
      signal.disconnect(slot);
    };
  }, [signal]);
}

/**
 * Whole seconds since `key` last changed to a non-empty value, ticking once a
 * second; 0 while `key` is ''.
 */
export function useElapsedSeconds(key: string): number {
  const [seconds, setSeconds] = useState(0);
  useEffect(() => {
    setSeconds(0);
    if (key === '') {
      return;
    }
    const start = Date.now();
    const timer = setInterval(() => {
      setSeconds(Math.floor((Date.now() - start) / 1000));
    }, 1000);
    return () => clearInterval(timer);
  }, [key]);
  return seconds;
}
