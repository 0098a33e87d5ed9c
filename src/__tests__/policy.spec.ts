import type { IPolicy, IStatus } from '../api/types';
import {
  allowedExecutor,
  allowedModel,
  executorChoices,
  policyOf,
  reviewForced
} from '../chat/policy';
import { usableDefaults } from '../chat/settings';

const NONE: IPolicy = {
  allowed_models: [],
  allowed_executors: [],
  force_review: false,
  max_tokens_per_turn: 0,
  reasons: {}
};

function status(
  policy: Partial<IPolicy> | undefined,
  e2b = true
): Pick<IStatus, 'e2b_available' | 'policy'> {
  return {
    e2b_available: e2b,
    policy: policy === undefined ? undefined : { ...NONE, ...policy }
  };
}

describe('admin policy', () => {
  it('is no policy when the server sets no limit or predates policies', () => {
    expect(policyOf(status(undefined))).toBeNull();
    expect(policyOf(status({}))).toBeNull();
    expect(policyOf(null)).toBeNull();
    expect(policyOf(status({ max_tokens_per_turn: 1000 }))).not.toBeNull();
  });

  it('offers only the executors allowed and available', () => {
    expect(executorChoices(status({}))).toEqual(['kernel', 'e2b']);
    expect(executorChoices(status({}, false))).toEqual(['kernel']);
    expect(executorChoices(status({ allowed_executors: ['e2b'] }))).toEqual([
      'e2b'
    ]);
    // E2B only, but no E2B key: nothing to choose (the server says why).
    expect(
      executorChoices(status({ allowed_executors: ['e2b'] }, false))
    ).toEqual([]);
  });

  it('drops a chat’s or a setting’s executor the policy does not allow', () => {
    const e2bOnly = policyOf(status({ allowed_executors: ['e2b'] }));
    expect(allowedExecutor('kernel', e2bOnly)).toBeUndefined();
    expect(allowedExecutor('e2b', e2bOnly)).toBe('e2b');
    expect(allowedExecutor('kernel', null)).toBe('kernel');
    expect(
      usableDefaults(
        { contextLevel: 'headers', executor: 'kernel' },
        status({ allowed_executors: ['e2b'] })
      ).executor
    ).toBeUndefined();
    expect(
      usableDefaults(
        { contextLevel: 'headers', executor: 'kernel' },
        status(undefined)
      ).executor
    ).toBe('kernel');
  });

  it('sends a model only when allowed, else the server’s default', () => {
    const two = policyOf(status({ allowed_models: ['small', 'large'] }));
    expect(allowedModel(' large ', two)).toBe('large');
    expect(allowedModel('huge', two)).toBe('');
    expect(allowedModel('', two)).toBe('');
    expect(allowedModel('huge', null)).toBe('huge');
  });

  it('forces review only when the policy says so', () => {
    expect(reviewForced(policyOf(status({ force_review: true })))).toBe(true);
    expect(reviewForced(policyOf(status({})))).toBe(false);
    expect(reviewForced(null)).toBe(false);
  });
});
