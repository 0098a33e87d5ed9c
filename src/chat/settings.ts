/**
 * The person's settings (settings registry) as a chat uses them: what goes
 * into each TurnRequest, and the defaults of a chat that has not chosen.
 */

import type { ContextLevel, Executor, IStatus } from '../api/types';
import { executorAllowed, policyOf } from './policy';

/**
 * When cells wait for the person's Run or Skip: `auto` for the local kernel
 * only (its code runs on the person's machine), `always`, or `never`.
 */
export type ReviewMode = 'auto' | 'always' | 'never';

/** Whether a turn on `executor` is reviewed under `mode`. */
export function reviewFor(mode: ReviewMode, executor: Executor): boolean {
  switch (mode) {
    case 'always':
      return true;
    case 'never':
      return false;
    default:
      return executor === 'kernel';
  }
}

/** A settings value as a ReviewMode (anything unknown: `auto`). */
export function asReviewMode(value: unknown): ReviewMode {
  return value === 'always' || value === 'never' ? value : 'auto';
}

/** Settings-registry values that go into each TurnRequest. */
export interface ITurnSettings {
  /** Model override; '' = the server's default. */
  model: string;
  /** 1..10; 0 = the server's default. */
  maxFixAttempts: number;
  /** Whether cells wait for Run/Skip (default `auto`). */
  reviewMode?: ReviewMode;
  /** false: no question/answer cells, the conversation lives in metadata (default true). */
  questionAnswerCells?: boolean;
  /** Claude sees the images its cells draw; undefined: the server's default. */
  imagesToClaude?: boolean;
}

/** What a chat uses until it chooses otherwise (the person's settings). */
export interface IChatDefaults {
  contextLevel: ContextLevel;
  /** Where code runs; undefined: the server's default. */
  executor?: Executor;
}

/**
 * `defaults` without an executor this server cannot honour (E2B without an
 * E2B key, or one the administrator does not allow): such a chat runs where
 * the server says rather than failing every turn.
 */
export function usableDefaults(
  defaults: IChatDefaults,
  status: Pick<IStatus, 'e2b_available' | 'policy'> | null
): IChatDefaults {
  const executor = defaults.executor;
  if (
    executor &&
    status &&
    ((executor === 'e2b' && !status.e2b_available) ||
      !executorAllowed(executor, policyOf(status)))
  ) {
    return { ...defaults, executor: undefined };
  }
  return defaults;
}
