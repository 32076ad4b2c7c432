import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CheckResult, persistence } from '../../../lambdas/core/alerting/persistence.ts';
import { ConfigError } from '../../../lambdas/core/errors.ts';

/** Checks at irregular times: minutes apart, then a week of nothing, then a burst. */
function checks(pattern: string, start = Date.parse('2026-12-01T00:00:00Z')): CheckResult[] {
  const gaps = [60_000, 7 * 86_400_000, 1000, 1000, 3_600_000, 5 * 60_000];
  let time = start;
  return [...pattern].map((mark, i) => {
    time += gaps[i % gaps.length]!;
    return { at: new Date(time).toISOString(), drifted: mark === 'x', report: `reports/${i}.html` };
  });
}

describe('persistence: M of the last N checks', () => {
  it('counts checks, not time: a week without files is not N quiet checks', () => {
    // x . x over a week and seconds: 2 of the last 3 drifted.
    expect(persistence(checks('x.x'), { m: 2, n: 3 }).alarm).toBe(true);
    expect(persistence(checks('x..x'), { m: 2, n: 3 }).alarm).toBe(false);
    expect(persistence(checks('xx'), { m: 2, n: 3 })).toMatchObject({
      alarm: true,
      drifted: 2,
      considered: 2,
    });
  });

  it('orders by arrival time, not by list order', () => {
    const list = checks('..xx');
    const shuffled = [list[2]!, list[0]!, list[3]!, list[1]!];
    const verdict = persistence(shuffled, { m: 2, n: 2 });
    expect(verdict.alarm).toBe(true);
    expect(verdict.latest).toBe(list[3]);
  });

  it('starts once per incident: only the check that makes the alarm hold', () => {
    const history = checks('.x.xxxx.x..');
    const started = history.map((_, i) => persistence(history.slice(0, i + 1), { m: 2, n: 3 }).started);
    const alarm = history.map((_, i) => persistence(history.slice(0, i + 1), { m: 2, n: 3 }).alarm);
    expect(alarm).toEqual([false, false, false, true, true, true, true, true, true, false, false]);
    expect(started).toEqual([false, false, false, true, false, false, false, false, false, false, false]);
  });

  it('1 of 1 pages on every drifted check after a clean one, like no rule', () => {
    const history = checks('x.xx');
    expect(history.map((_, i) => persistence(history.slice(0, i + 1), { m: 1, n: 1 }).started)).toEqual([
      true,
      false,
      true,
      false,
    ]);
  });

  it('agrees with a direct count for any history and rule', () => {
    fc.assert(
      fc.property(
        fc.array(fc.boolean(), { maxLength: 40 }),
        fc.integer({ min: 1, max: 10 }),
        fc.integer({ min: 0, max: 9 }),
        (marks, n, mLess) => {
          const m = Math.max(1, n - mLess);
          const history = checks(marks.map((d) => (d ? 'x' : '.')).join(''));
          const verdict = persistence(history, { m, n });
          const expected = marks.slice(-n).filter(Boolean).length;
          expect(verdict.drifted).toBe(expected);
          expect(verdict.alarm).toBe(expected >= m);
        },
      ),
    );
  });

  it('has no alarm without checks, and rejects bad rules and dates', () => {
    expect(persistence([], { m: 1, n: 3 })).toMatchObject({ alarm: false, started: false, latest: null });
    expect(() => persistence([], { m: 4, n: 3 })).toThrow(ConfigError);
    expect(() => persistence([], { m: 0, n: 3 })).toThrow(/persistence\.m/);
    expect(() => persistence([], { m: 1, n: 101 })).toThrow(/persistence\.n/);
    expect(() => persistence([{ at: 'yesterday', drifted: true }], { m: 1, n: 1 })).toThrow(
      /checks\[0\]\.at/,
    );
  });
});
