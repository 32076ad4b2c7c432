import { describe, expect, it } from 'vitest';
import { chooseMethod, isDrifted, parseMethodSetting } from '../../../lambdas/core/drift/decision.ts';
import { ConfigError } from '../../../lambdas/core/errors.ts';

describe('chooseMethod', () => {
  it('follows the spec for auto: a test up to 1,000 baseline values, a distance above', () => {
    expect(chooseMethod('x', 'numeric', 1000, undefined, undefined)).toEqual({
      method: 'ks',
      threshold: 0.05,
    });
    expect(chooseMethod('x', 'numeric', 1001, undefined, undefined)).toEqual({
      method: 'wasserstein',
      threshold: 0.1,
    });
    expect(chooseMethod('x', 'categorical', 1000, undefined, undefined)).toEqual({
      method: 'chi2',
      threshold: 0.05,
    });
    expect(chooseMethod('x', 'categorical', 1001, undefined, undefined)).toEqual({
      method: 'jensenShannon',
      threshold: 0.1,
    });
  });

  it('applies a method for all features only where it fits the type', () => {
    const ks = { method: 'ks' as const };
    expect(chooseMethod('x', 'numeric', 5000, ks, undefined)).toEqual({ method: 'ks', threshold: 0.05 });
    expect(chooseMethod('x', 'categorical', 5000, ks, undefined).method).toBe('jensenShannon');
    expect(chooseMethod('x', 'categorical', 5, { method: 'psi', threshold: 0.2 }, undefined)).toEqual({
      method: 'psi',
      threshold: 0.2,
    });
  });

  it('lets a per-feature setting win, and rejects one that does not fit', () => {
    expect(
      chooseMethod('x', 'numeric', 5, { method: 'psi' }, { method: 'wasserstein', threshold: 0.3 }),
    ).toEqual({
      method: 'wasserstein',
      threshold: 0.3,
    });
    expect(chooseMethod('x', 'numeric', 5, { method: 'psi' }, { method: 'auto' })).toEqual({
      method: 'ks',
      threshold: 0.05,
    });
    expect(() => chooseMethod('plan', 'categorical', 5, undefined, { method: 'ks' })).toThrow(
      /ks does not apply to "plan", a categorical feature/,
    );
  });
});

describe('isDrifted', () => {
  it('reads p-values as drifted below the threshold and distances at or above it', () => {
    expect(isDrifted('ks', 0.049, 0.05)).toBe(true);
    expect(isDrifted('ks', 0.05, 0.05)).toBe(false);
    expect(isDrifted('chi2', 0.01, 0.05)).toBe(true);
    expect(isDrifted('psi', 0.1, 0.1)).toBe(true);
    expect(isDrifted('wasserstein', 0.099, 0.1)).toBe(false);
  });
});

describe('parseMethodSetting', () => {
  it('parses names case-insensitively with optional thresholds', () => {
    expect(parseMethodSetting('psi:0.2', '--method')).toEqual({ method: 'psi', threshold: 0.2 });
    expect(parseMethodSetting('JensenShannon', '--method')).toEqual({ method: 'jensenShannon' });
    expect(parseMethodSetting('auto', '--method')).toEqual({ method: 'auto' });
  });
  it.each([
    ['bogus', /unknown method "bogus"/],
    ['psi:x', /threshold "x" is not a number/],
    ['psi:-1', /not a number >= 0/],
    ['ks:2', /p-value threshold/],
    ['auto:0.1', /auto takes no threshold/],
    ['psi:0.1:2', /expected METHOD\[:THRESHOLD\]/],
  ])('rejects %j', (text, message) => {
    expect(() => parseMethodSetting(text, '--method')).toThrow(ConfigError);
    expect(() => parseMethodSetting(text, '--method')).toThrow(message);
  });
});
