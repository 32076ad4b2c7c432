/**
 * EventBridge Scheduler expressions and their fire times: `rate(value unit)`, the six-field
 * `cron(minutes hours day-of-month month day-of-week year)` and one-time `at(yyyy-mm-ddThh:mm:ss)`, in a
 * time zone. Cron fields take `*`, `?`, values, ranges, lists and steps (`0/15`, `10-50/5`), month and day
 * names, and `L`, `W`, `#` as AWS documents them (`L` last day, `15W` nearest weekday, `5L` last Thursday,
 * `3#2` second Tuesday; day-of-week 1 is Sunday).
 *
 * Daylight saving time, as EventBridge Scheduler handles it: a cron time that does not exist (the hour
 * skipped in spring) is skipped; a time that happens twice (the hour repeated in autumn) fires once, at
 * its first occurrence. A rate is a fixed duration (a day is 24 hours).
 */
import { ScheduleExpressionError } from './errors.ts';

/** A parsed schedule expression. */
export type ScheduleExpression =
  | { kind: 'rate'; expression: string; everyMs: number }
  | { kind: 'cron'; expression: string; fields: CronFields }
  | { kind: 'at'; expression: string; local: LocalDateTime };

interface LocalDateTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** Day-of-month and day-of-week rules beyond plain values. */
type DayRule =
  | { kind: 'any' }
  | { kind: 'values'; values: Set<number> }
  | { kind: 'last' }
  | { kind: 'lastWeekday' }
  | { kind: 'nearestWeekday'; day: number }
  | { kind: 'lastOfWeek'; weekday: number }
  | { kind: 'nthOfWeek'; weekday: number; nth: number };

export interface CronFields {
  minutes: number[];
  hours: number[];
  months: Set<number>;
  years: Set<number>;
  dayOfMonth: DayRule;
  dayOfWeek: DayRule;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
const RATE_UNITS: Record<string, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };
const MIN_YEAR = 1970;
const MAX_YEAR = 2199;

/**
 * Parses a schedule expression.
 *
 * @throws ScheduleExpressionError naming what is wrong
 *
 * @example
 * ```ts
 * parseScheduleExpression('cron(0 6 * * ? *)'); // { kind: 'cron', ... }
 * parseScheduleExpression('rate(30 days)');     // { kind: 'rate', everyMs: 2_592_000_000, ... }
 * ```
 */
export function parseScheduleExpression(expression: string): ScheduleExpression {
  const match = /^\s*(rate|cron|at)\((.*)\)\s*$/.exec(expression);
  if (!match) throw new ScheduleExpressionError(expression, 'expected rate(...), cron(...) or at(...)');
  const [, kind, body] = match as unknown as [string, string, string];
  if (kind === 'rate') {
    const rate = /^\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*$/.exec(body);
    if (!rate)
      throw new ScheduleExpressionError(expression, 'expected rate(<positive integer> minutes|hours|days)');
    const value = Number(rate[1]);
    const unit = rate[2]!.replace(/s$/, '');
    if (value <= 0) throw new ScheduleExpressionError(expression, 'the rate must be positive');
    if ((value === 1) !== (rate[2] === unit)) {
      throw new ScheduleExpressionError(
        expression,
        `write "1 ${unit}" and "${value === 1 ? 2 : value} ${unit}s"`,
      );
    }
    return { kind, expression, everyMs: value * RATE_UNITS[unit]! };
  }
  if (kind === 'at') {
    const at = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/.exec(body.trim());
    if (!at) throw new ScheduleExpressionError(expression, 'expected at(yyyy-mm-ddThh:mm:ss)');
    const [year, month, day, hour, minute, second] = at.slice(1).map(Number) as [
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    return { kind, expression, local: { year, month, day, hour, minute, second } };
  }
  return { kind: 'cron', expression, fields: parseCron(expression, body) };
}

function parseCron(expression: string, body: string): CronFields {
  const parts = body.trim().split(/\s+/);
  if (parts.length !== 6) {
    throw new ScheduleExpressionError(expression, `a cron expression has 6 fields, got ${parts.length}`);
  }
  const [minutes, hours, dayOfMonth, month, dayOfWeek, year] = parts as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const fail = (reason: string): never => {
    throw new ScheduleExpressionError(expression, reason);
  };
  if ((dayOfMonth === '?') === (dayOfWeek === '?')) {
    fail('exactly one of day-of-month and day-of-week must be "?"');
  }
  return {
    minutes: [...parseField(minutes, 0, 59, 'minutes', fail)].sort((a, b) => a - b),
    hours: [...parseField(hours, 0, 23, 'hours', fail)].sort((a, b) => a - b),
    months: parseField(month, 1, 12, 'month', fail, MONTHS),
    years: parseField(year, MIN_YEAR, MAX_YEAR, 'year', fail),
    dayOfMonth: parseDayOfMonth(dayOfMonth, fail),
    dayOfWeek: parseDayOfWeek(dayOfWeek, fail),
  };
}

function parseField(
  text: string,
  min: number,
  max: number,
  name: string,
  fail: (reason: string) => never,
  names?: string[],
): Set<number> {
  const value = (token: string): number => {
    const index = names?.indexOf(token.toUpperCase()) ?? -1;
    const number = index >= 0 ? index + 1 : /^\d+$/.test(token) ? Number(token) : Number.NaN;
    if (!(number >= min && number <= max)) fail(`${name}: ${JSON.stringify(token)} is not in ${min}-${max}`);
    return number;
  };
  const values = new Set<number>();
  for (const item of text.split(',')) {
    const [range = '', stepText] = item.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step <= 0) fail(`${name}: bad step in ${JSON.stringify(item)}`);
    let start: number;
    let end: number;
    if (range === '*') [start, end] = [min, max];
    else if (range.includes('-')) {
      const [from = '', to = ''] = range.split('-');
      [start, end] = [value(from), value(to)];
      if (start > end) fail(`${name}: the range ${JSON.stringify(range)} runs backwards`);
    } else {
      start = value(range);
      end = stepText === undefined ? start : max;
    }
    for (let v = start; v <= end; v += step) values.add(v);
  }
  return values;
}

function parseDayOfMonth(text: string, fail: (reason: string) => never): DayRule {
  if (text === '?') return { kind: 'any' };
  if (text === 'L') return { kind: 'last' };
  if (text === 'LW') return { kind: 'lastWeekday' };
  const weekday = /^(\d{1,2})W$/.exec(text);
  if (weekday) {
    const day = Number(weekday[1]);
    if (day < 1 || day > 31) fail(`day-of-month: ${text} is not in 1-31`);
    return { kind: 'nearestWeekday', day };
  }
  return { kind: 'values', values: parseField(text, 1, 31, 'day-of-month', fail) };
}

function parseDayOfWeek(text: string, fail: (reason: string) => never): DayRule {
  if (text === '?') return { kind: 'any' };
  const day = (token: string): number => {
    const index = WEEKDAYS.indexOf(token.toUpperCase());
    const number = index >= 0 ? index + 1 : Number(token);
    if (!(number >= 1 && number <= 7)) fail(`day-of-week: ${JSON.stringify(token)} is not in 1-7 or SUN-SAT`);
    return number;
  };
  const last = /^(\w+)L$/.exec(text);
  if (last && text !== 'L') return { kind: 'lastOfWeek', weekday: day(last[1]!) };
  if (text === 'L') return { kind: 'values', values: new Set([7]) };
  const nth = /^(\w+)#([1-5])$/.exec(text);
  if (nth) return { kind: 'nthOfWeek', weekday: day(nth[1]!), nth: Number(nth[2]) };
  return { kind: 'values', values: parseField(text, 1, 7, 'day-of-week', fail, WEEKDAYS) };
}

const daysInMonth = (year: number, month: number) => new Date(Date.UTC(year, month, 0)).getUTCDate();
/** 1 = Sunday ... 7 = Saturday, as AWS cron counts. */
const weekdayOf = (year: number, month: number, day: number) =>
  new Date(Date.UTC(year, month - 1, day)).getUTCDay() + 1;

function dayMatches(rule: DayRule, year: number, month: number, day: number, ofWeek: boolean): boolean {
  const last = daysInMonth(year, month);
  switch (rule.kind) {
    case 'any':
      return true;
    case 'values':
      return rule.values.has(ofWeek ? weekdayOf(year, month, day) : day);
    case 'last':
      return day === last;
    case 'lastWeekday': {
      let target = last;
      while ([1, 7].includes(weekdayOf(year, month, target))) target -= 1;
      return day === target;
    }
    case 'nearestWeekday': {
      if (rule.day > last) return false;
      const weekday = weekdayOf(year, month, rule.day);
      let target = rule.day;
      if (weekday === 7) target = rule.day === 1 ? 3 : rule.day - 1;
      else if (weekday === 1) target = rule.day === last ? rule.day - 2 : rule.day + 1;
      return day === target;
    }
    case 'lastOfWeek':
      return weekdayOf(year, month, day) === rule.weekday && day + 7 > last;
    case 'nthOfWeek':
      return weekdayOf(year, month, day) === rule.weekday && Math.ceil(day / 7) === rule.nth;
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterOf(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    try {
      formatter = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch {
      throw new ScheduleExpressionError(timeZone, 'is not a time zone Intl knows (use an IANA name)');
    }
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** The wall-clock time at `time` in `timeZone`. */
export function localTimeOf(time: number, timeZone: string): LocalDateTime {
  const parts = Object.fromEntries(
    formatterOf(timeZone)
      .formatToParts(new Date(time))
      .map((part) => [part.type, Number(part.value)]),
  ) as Record<string, number>;
  return {
    year: parts['year']!,
    month: parts['month']!,
    day: parts['day']!,
    hour: parts['hour']!,
    minute: parts['minute']!,
    second: parts['second']!,
  };
}

/**
 * The instants at which `local` happens in `timeZone`: none when it falls in a skipped hour, two when it
 * falls in a repeated one (earliest first).
 */
export function instantsOf(local: LocalDateTime, timeZone: string): number[] {
  const wall = Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute, local.second);
  const found = new Set<number>();
  // Offsets are at most ±14 h; try the offsets in force a day either side.
  for (const probe of [wall - 86_400_000, wall, wall + 86_400_000]) {
    const at = localTimeOf(probe, timeZone);
    const offset = Date.UTC(at.year, at.month - 1, at.day, at.hour, at.minute, at.second) - probe;
    const candidate = wall - offset;
    const back = localTimeOf(candidate, timeZone);
    if (
      back.year === local.year &&
      back.month === local.month &&
      back.day === local.day &&
      back.hour === local.hour &&
      back.minute === local.minute &&
      back.second === local.second
    ) {
      found.add(candidate);
    }
  }
  return [...found].sort((a, b) => a - b);
}

/** Options of {@link nextFireTime}. */
export interface FireTimeOptions {
  /** IANA time zone the expression is evaluated in. @default "UTC" */
  timeZone?: string;
  /** First time a rate schedule fires (its `StartDate`, else when it was created). */
  start?: number;
  /** No fire time after this. */
  end?: number;
}

/**
 * The first time strictly after `after` that the schedule fires, or undefined when it never will again.
 *
 * @example
 * ```ts
 * nextFireTime(parseScheduleExpression('cron(0 6 * * ? *)'), Date.parse('2025-03-30T00:00:00Z'),
 *   { timeZone: 'Europe/Paris' }); // Date.parse('2025-03-30T04:00:00Z'): 06:00 CEST
 * ```
 */
export function nextFireTime(
  schedule: ScheduleExpression,
  after: number,
  options: FireTimeOptions = {},
): number | undefined {
  const timeZone = options.timeZone ?? 'UTC';
  formatterOf(timeZone);
  let next: number | undefined;
  if (schedule.kind === 'rate') {
    const start = options.start ?? after;
    next =
      after < start ? start : start + (Math.floor((after - start) / schedule.everyMs) + 1) * schedule.everyMs;
  } else if (schedule.kind === 'at') {
    next = instantsOf(schedule.local, timeZone).find((time) => time > after);
  } else next = nextCronTime(schedule.fields, Math.max(after, (options.start ?? after) - 1), timeZone);
  return next !== undefined && (options.end === undefined || next <= options.end) ? next : undefined;
}

function nextCronTime(fields: CronFields, after: number, timeZone: string): number | undefined {
  const start = localTimeOf(after, timeZone);
  // Walk calendar days in the zone from the local date of `after` (a day back covers offset changes).
  let day = Date.UTC(start.year, start.month - 1, start.day) - 86_400_000;
  const lastYear = Math.min(MAX_YEAR, Math.max(...fields.years));
  for (;;) {
    const date = new Date(day);
    const year = date.getUTCFullYear();
    if (year > lastYear) return undefined;
    const month = date.getUTCMonth() + 1;
    const dayOfMonth = date.getUTCDate();
    day += 86_400_000;
    if (!fields.years.has(year) || !fields.months.has(month)) continue;
    if (!dayMatches(fields.dayOfMonth, year, month, dayOfMonth, false)) continue;
    if (!dayMatches(fields.dayOfWeek, year, month, dayOfMonth, true)) continue;
    for (const hour of fields.hours) {
      for (const minute of fields.minutes) {
        const [first] = instantsOf({ year, month, day: dayOfMonth, hour, minute, second: 0 }, timeZone);
        if (first !== undefined && first > after) return first;
      }
    }
  }
}
