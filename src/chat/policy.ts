/**
 * The administrator's policy (`policy` of `GET nbchat/status`) as a chat
 * applies it: only allowed choices are offered or sent. The server refuses
 * the others anyway (403 with the reason); this keeps the panel from asking.
 */

import type { Executor, IPolicy, IStatus } from '../api/types';

/** Both executors, in the order the panel lists them. */
const EXECUTORS: readonly Executor[] = ['kernel', 'e2b'];

/** The status's policy; null when it sets no limit (or the server predates policies). */
export function policyOf(
  status: Pick<IStatus, 'policy'> | null | undefined
): IPolicy | null {
  const policy = status?.policy;
  return policy && isRestrictive(policy) ? policy : null;
}

/** Whether `policy` limits anything. */
export function isRestrictive(policy: IPolicy): boolean {
  return (
    policy.allowed_models.length > 0 ||
    policy.allowed_executors.length > 0 ||
    policy.force_review ||
    policy.max_tokens_per_turn > 0
  );
}

/** Whether a chat may run code in `executor` under `policy`. */
export function executorAllowed(
  executor: Executor,
  policy: IPolicy | null
): boolean {
  const allowed = policy?.allowed_executors ?? [];
  return allowed.length === 0 || allowed.includes(executor);
}

/**
 * The executors a chat may choose: allowed by the policy, and E2B only with
 * a server that has an E2B key.
 */
export function executorChoices(
  status: Pick<IStatus, 'e2b_available' | 'policy'> | null
): Executor[] {
  const policy = policyOf(status);
  return EXECUTORS.filter(
    e => executorAllowed(e, policy) && (e !== 'e2b' || !!status?.e2b_available)
  );
}

/** `executor` if the policy allows it; undefined (the server's default) if not. */
export function allowedExecutor(
  executor: Executor | undefined,
  policy: IPolicy | null
): Executor | undefined {
  return executor && executorAllowed(executor, policy) ? executor : undefined;
}

/** Whether the policy lets a question use `model` ('' is the server's default). */
export function modelAllowed(model: string, policy: IPolicy | null): boolean {
  const allowed = policy?.allowed_models ?? [];
  return model === '' || allowed.length === 0 || allowed.includes(model);
}

/** The model a question names: the setting if allowed, else '' (the server's default). */
export function allowedModel(setting: string, policy: IPolicy | null): string {
  const model = setting.trim();
  return modelAllowed(model, policy) ? model : '';
}

/** Every generated cell waits for Run or Skip, whatever the person's setting. */
export function reviewForced(policy: IPolicy | null): boolean {
  return !!policy?.force_review;
}
