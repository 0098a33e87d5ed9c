/**
 * React hooks that bridge Lumino signals into components.
 */

import type { ISignal } from '@lumino/signaling';
import { useEffect, useReducer } from 'react';

/** Re-render the calling component whenever `signal` fires. */
export function useSignalRefresh(signal: ISignal<any, any> | null): void {
  const [, refresh] = useReducer((n: number) => n + 1, 0);
  useEffect(() => {
    if (!signal) {
      return;
    }
    const slot = () => refresh();
    signal.connect(slot);
    return () => {
      signal.disconnect(slot);
    };
  }, [signal]);
}
