/**
 * The status line of a running turn: what it does, which of its cells runs
 * and for how long.
 */

import type { TranslationBundle } from '@jupyterlab/translation';

import type { IChatState, ITurnState } from './conversation';

/** Which of the turn's cells runs, and for how long (the status line). */
export interface IRunningCell {
  /** 1 for the turn's first cell, fixes included. */
  ordinal: number;
  seconds: number;
}

/** The turn's cell that runs now, counted from 1; 0 when none does. */
export function runningOrdinal(state: IChatState): number {
  const turnId = state.turn?.turnId;
  let count = 0;
  for (const item of state.items) {
    if (item.kind === 'code' && item.turnId === turnId) {
      if (item.state === 'running' || item.state === 'done') {
        count += 1;
      }
      if (item.state === 'running') {
        return count;
      }
    }
  }
  return 0;
}

/** "1:05" for 65 seconds, "7 s" under a minute. */
function elapsedText(seconds: number, trans: TranslationBundle): string {
  if (seconds < 60) {
    return trans.__('%1 s', seconds);
  }
  const rest = String(seconds % 60).padStart(2, '0');
  return `${Math.floor(seconds / 60)}:${rest}`;
}

/** The status line of a turn ('' when idle). */
export function statusText(
  turn: Pick<ITurnState, 'phase' | 'attempt'>,
  trans: TranslationBundle,
  cell?: IRunningCell
): string {
  switch (turn.phase) {
    case 'thinking':
      return trans.__('Thinking…');
    case 'writing_code':
      return trans.__('Writing code…');
    case 'reviewing':
      return trans.__('Waiting for your review…');
    case 'running':
      if (cell && cell.ordinal > 0) {
        return trans.__(
          'Running cell %1 of this turn… %2',
          cell.ordinal,
          elapsedText(cell.seconds, trans)
        );
      }
      return trans.__('Running cell…');
    case 'fixing':
      if (turn.attempt === null) {
        return trans.__('Fixing the code…');
      }
      if (turn.attempt.max === null) {
        return trans.__('Fixing the code (attempt %1)…', turn.attempt.attempt);
      }
      return trans.__(
        'Fixing the code (attempt %1 of %2)…',
        turn.attempt.attempt,
        turn.attempt.max
      );
    case 'answering':
      return trans.__('Writing the answer…');
    case 'verifying':
      return trans.__('Checking the answer’s numbers…');
    default:
      return '';
  }
}
