/**
 * "Page only when drift persists": M drifted checks among a model's last N, counted per check, not per time
 * period. Files land when they land (hourly, then nothing for a week, then ten at once), so a CloudWatch
 * period would count an idle week as N quiet periods and a burst as one; counting checks does not. Pure:
 * the engine reads a model's recent check results (the history table) and asks.
 */

import { ConfigError } from '../errors.ts';

/** M of the last N checks. */
export interface PersistenceRule {
  m: number;
  n: number;
}

/** Page on the first drifted check: a rule that changes nothing. Configs may ask for more (e.g. 2 of 3). */
export const DEFAULT_PERSISTENCE: Readonly<PersistenceRule> = { m: 1, n: 1 };
/** Largest N: the engine reads this many recent checks at most. */
export const MAX_PERSISTENCE_WINDOW = 100;

/** One drift check of a model, as the history keeps it. */
export interface CheckResult {
  /** When the checked data arrived (ISO 8601): the order of the checks. */
  at: string;
  drifted: boolean;
  /** Where the check's report is (an S3 key or URL), for the page. */
  report?: string;
}

export interface PersistenceVerdict {
  /** M or more of the last N checks drifted. */
  alarm: boolean;
  /** The alarm starts with the latest check (it did not hold before it): the moment to page, once. */
  started: boolean;
  /** Drifted checks in the window, and the checks in it (fewer than N while the history is short). */
  drifted: number;
  considered: number;
  rule: PersistenceRule;
  /** The latest check, the one the verdict is about. */
  latest: CheckResult | null;
}

/** Checks a rule: whole numbers with 1 <= M <= N <= {@link MAX_PERSISTENCE_WINDOW}. */
export function checkPersistenceRule(rule: PersistenceRule, field: string): PersistenceRule {
  const { m, n } = rule;
  if (!Number.isInteger(n) || n < 1 || n > MAX_PERSISTENCE_WINDOW)
    throw new ConfigError(
      `${field}.n`,
      `expected a whole number from 1 to ${MAX_PERSISTENCE_WINDOW}, got ${n}`,
    );
  if (!Number.isInteger(m) || m < 1 || m > n)
    throw new ConfigError(`${field}.m`, `expected a whole number from 1 to n (${n}), got ${m}`);
  return rule;
}

/**
 * Whether drift persists: of the last N checks (by `at`; checks with the same time keep their input order),
 * at least M drifted. While fewer than N checks exist, the ones there are count (M drifted of fewer than N
 * still alarms: a new model is not given a free pass). `started` is true when the alarm holds with the
 * latest check and did not with the checks before it, so an engine that pages on `started` pages once per
 * incident, however many drifted checks follow.
 *
 * @example persistence([{ at: '2026-01-01T00:00:00Z', drifted: true }, { at: '2026-01-09T00:00:00Z', drifted: true }], { m: 2, n: 3 }).alarm // true
 */
export function persistence(checks: readonly CheckResult[], rule: PersistenceRule): PersistenceVerdict {
  checkPersistenceRule(rule, 'persistence');
  const ordered = checks
    .map((check, index) => ({ check, index, time: Date.parse(check.at) }))
    .map((item) => {
      if (Number.isNaN(item.time))
        throw new ConfigError(`checks[${item.index}].at`, `not a date: ${JSON.stringify(item.check.at)}`);
      return item;
    })
    .sort((a, b) => a.time - b.time || a.index - b.index)
    .map((item) => item.check);
  const window = (end: number) => ordered.slice(Math.max(0, end - rule.n), end);
  const count = (list: readonly CheckResult[]) => list.filter((check) => check.drifted).length;
  const current = window(ordered.length);
  const drifted = count(current);
  const alarm = drifted >= rule.m;
  const before = ordered.length > 1 && count(window(ordered.length - 1)) >= rule.m;
  return {
    alarm,
    started: alarm && !before,
    drifted,
    considered: current.length,
    rule,
    latest: ordered.at(-1) ?? null,
  };
}
