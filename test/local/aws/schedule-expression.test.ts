import { describe, expect, it } from 'vitest';
import { ScheduleExpressionError } from '../../../local/aws/errors.ts';
import { nextFireTime, parseScheduleExpression } from '../../../local/aws/schedule-expression.ts';

const at = (iso: string) => Date.parse(iso);
const iso = (time: number | undefined) => (time === undefined ? undefined : new Date(time).toISOString());

/** The next `count` fire times after `after`. */
function fireTimes(
  expression: string,
  after: string,
  count: number,
  options: { timeZone?: string; start?: string } = {},
) {
  const schedule = parseScheduleExpression(expression);
  const times: (string | undefined)[] = [];
  let time = at(after);
  for (let i = 0; i < count; i += 1) {
    const next = nextFireTime(schedule, time, {
      ...(options.timeZone ? { timeZone: options.timeZone } : {}),
      ...(options.start ? { start: at(options.start) } : {}),
    });
    times.push(iso(next));
    if (next === undefined) break;
    time = next;
  }
  return times;
}

describe('rate expressions', () => {
  it('fire at the start, then every period', () => {
    expect(
      fireTimes('rate(5 minutes)', '2025-01-01T00:00:00Z', 3, { start: '2025-01-01T00:02:00Z' }),
    ).toEqual(['2025-01-01T00:02:00.000Z', '2025-01-01T00:07:00.000Z', '2025-01-01T00:12:00.000Z']);
    expect(
      fireTimes('rate(1 day)', '2025-03-29T12:00:00Z', 2, {
        start: '2025-03-01T10:00:00Z',
        timeZone: 'Europe/Paris',
      }),
    ).toEqual([
      '2025-03-30T10:00:00.000Z',
      // A day is 24 hours, even across the change to summer time.
      '2025-03-31T10:00:00.000Z',
    ]);
  });

  it('refuse units that do not agree with the value', () => {
    expect(() => parseScheduleExpression('rate(1 minutes)')).toThrow(ScheduleExpressionError);
    expect(() => parseScheduleExpression('rate(2 hour)')).toThrow(ScheduleExpressionError);
    expect(() => parseScheduleExpression('rate(0 days)')).toThrow(/positive/);
    expect(() => parseScheduleExpression('rate(5 weeks)')).toThrow(/minutes\|hours\|days/);
  });
});

describe('cron expressions', () => {
  it('fire at the local time of their zone, following daylight saving time', () => {
    // Paris: CET (UTC+1) in winter, CEST (UTC+2) from 30 March 2025.
    expect(fireTimes('cron(0 6 * * ? *)', '2025-03-28T12:00:00Z', 4, { timeZone: 'Europe/Paris' })).toEqual([
      '2025-03-29T05:00:00.000Z',
      '2025-03-30T04:00:00.000Z',
      '2025-03-31T04:00:00.000Z',
      '2025-04-01T04:00:00.000Z',
    ]);
    expect(fireTimes('cron(0 6 * * ? *)', '2025-06-01T00:00:00Z', 1)).toEqual(['2025-06-01T06:00:00.000Z']);
    expect(
      fireTimes('cron(30 9 * * ? *)', '2025-11-01T00:00:00Z', 2, { timeZone: 'America/New_York' }),
    ).toEqual(['2025-11-01T13:30:00.000Z', '2025-11-02T14:30:00.000Z']);
  });

  it('skip a time that does not exist and fire once at a time that happens twice', () => {
    // 02:30 does not exist in Paris on 30 March 2025.
    expect(fireTimes('cron(30 2 * * ? *)', '2025-03-29T12:00:00Z', 2, { timeZone: 'Europe/Paris' })).toEqual([
      '2025-03-31T00:30:00.000Z',
      '2025-04-01T00:30:00.000Z',
    ]);
    // 02:30 happens twice on 26 October 2025 (CEST, then CET): once.
    expect(fireTimes('cron(30 2 * * ? *)', '2025-10-25T12:00:00Z', 2, { timeZone: 'Europe/Paris' })).toEqual([
      '2025-10-26T00:30:00.000Z',
      '2025-10-27T01:30:00.000Z',
    ]);
  });

  it('read steps, ranges, lists and names', () => {
    expect(fireTimes('cron(0/15 * * * ? *)', '2025-01-01T10:07:00Z', 3)).toEqual([
      '2025-01-01T10:15:00.000Z',
      '2025-01-01T10:30:00.000Z',
      '2025-01-01T10:45:00.000Z',
    ]);
    expect(fireTimes('cron(10-50/20 8,17 * * ? *)', '2025-01-01T00:00:00Z', 4)).toEqual([
      '2025-01-01T08:10:00.000Z',
      '2025-01-01T08:30:00.000Z',
      '2025-01-01T08:50:00.000Z',
      '2025-01-01T17:10:00.000Z',
    ]);
    // Friday 3 January 2025, then Monday 6 January.
    expect(fireTimes('cron(0 18 ? * MON-FRI *)', '2025-01-03T19:00:00Z', 1)).toEqual([
      '2025-01-06T18:00:00.000Z',
    ]);
    expect(fireTimes('cron(0 0 1 JAN,jul ? *)', '2025-02-01T00:00:00Z', 2)).toEqual([
      '2025-07-01T00:00:00.000Z',
      '2026-01-01T00:00:00.000Z',
    ]);
    expect(fireTimes('cron(0 12 ? * 1 *)', '2025-01-01T00:00:00Z', 1)).toEqual(['2025-01-05T12:00:00.000Z']);
  });

  it('read L, W and #', () => {
    expect(fireTimes('cron(0 10 L * ? *)', '2024-02-01T00:00:00Z', 2)).toEqual([
      '2024-02-29T10:00:00.000Z',
      '2024-03-31T10:00:00.000Z',
    ]);
    // Last Friday of January 2025 is the 31st; second Tuesday of February is the 11th.
    expect(fireTimes('cron(0 9 ? * 6L *)', '2025-01-01T00:00:00Z', 1)).toEqual(['2025-01-31T09:00:00.000Z']);
    expect(fireTimes('cron(0 9 ? * 3#2 *)', '2025-02-01T00:00:00Z', 1)).toEqual(['2025-02-11T09:00:00.000Z']);
    // 15 March 2025 is a Saturday: the nearest weekday is Friday the 14th; 1 June 2025 is a Sunday: Monday the 2nd.
    expect(fireTimes('cron(0 9 15W * ? *)', '2025-03-01T00:00:00Z', 1)).toEqual(['2025-03-14T09:00:00.000Z']);
    expect(fireTimes('cron(0 9 1W * ? *)', '2025-05-31T00:00:00Z', 1)).toEqual(['2025-06-02T09:00:00.000Z']);
    expect(fireTimes('cron(0 9 LW * ? *)', '2025-05-01T00:00:00Z', 1)).toEqual(['2025-05-30T09:00:00.000Z']);
  });

  it('stop after the years listed', () => {
    expect(fireTimes('cron(0 0 1 1 ? 2030)', '2025-06-01T00:00:00Z', 2)).toEqual([
      '2030-01-01T00:00:00.000Z',
      undefined,
    ]);
  });

  it('refuse malformed expressions with a reason', () => {
    expect(() => parseScheduleExpression('cron(0 6 * * *)')).toThrow(/6 fields, got 5/);
    expect(() => parseScheduleExpression('cron(0 6 1 * MON *)')).toThrow(
      /exactly one of day-of-month and day-of-week/,
    );
    expect(() => parseScheduleExpression('cron(61 6 * * ? *)')).toThrow(/minutes: "61" is not in 0-59/);
    expect(() => parseScheduleExpression('cron(0 6 ? * FUNDAY *)')).toThrow(/day-of-week/);
    expect(() =>
      nextFireTime(parseScheduleExpression('cron(0 6 * * ? *)'), 0, { timeZone: 'Mars/Olympus' }),
    ).toThrow(/not a time zone/);
  });
});

describe('at expressions', () => {
  it('fire once, at the local time of their zone', () => {
    expect(
      fireTimes('at(2025-06-01T12:00:00)', '2025-01-01T00:00:00Z', 2, { timeZone: 'America/New_York' }),
    ).toEqual(['2025-06-01T16:00:00.000Z', undefined]);
  });
});
