import { describe, expect, it } from 'vitest';
import {
  firedSignals,
  type IncidentRecord,
  isOpen,
  latestReport,
  pageDue,
  signalChange,
} from '../../../lambdas/core/alerting/incident.ts';

const at = (minute: number) => new Date(Date.UTC(2026, 11, 7, 3, minute)).toISOString();

describe('signalChange: one incident per model, opened by the first open signal, closed by the last', () => {
  it('opens on the first open signal, not on a second one, and closes when the last one closes', () => {
    const first = signalChange(undefined, 'drift', { open: true, detail: 'd', at: at(0) });
    expect(first).toMatchObject({ opened: true, closed: false });
    expect(first.after.openedAt).toBe(at(0));
    const second = signalChange(first.after, 'performanceLimit', { open: true, detail: 'p', at: at(5) });
    expect(second).toMatchObject({ opened: false, closed: false });
    expect(second.after.openedAt).toBe(at(0));
    const driftClosed = signalChange(second.after, 'drift', { open: false, detail: 'd', at: at(9) });
    expect(driftClosed).toMatchObject({ opened: false, closed: false });
    const allClosed = signalChange(driftClosed.after, 'performanceLimit', {
      open: false,
      detail: 'p',
      at: at(12),
    });
    expect(allClosed).toMatchObject({ opened: false, closed: true });
    expect(isOpen(allClosed.after)).toBe(false);
    // Closing what was never open changes nothing.
    expect(signalChange(undefined, 'deadLetter', { open: false, detail: 'x', at: at(1) })).toMatchObject({
      opened: false,
      closed: false,
    });
  });
});

describe('pageDue: once per incident, then every renotifyMinutes while it stays open', () => {
  const open: IncidentRecord = {
    signals: { drift: { open: true, detail: 'd', at: at(0) } },
    openedAt: at(0),
  };
  it('pages an incident opened since the last page, and only that', () => {
    expect(pageDue(undefined, new Date(at(1)), null)).toBeNull();
    expect(pageDue(open, new Date(at(1)), null)).toBe('opened');
    const paged = { ...open, notifiedAt: at(1) };
    expect(pageDue(paged, new Date(at(50)), null)).toBeNull();
    // A new incident after the page (it closed and opened again).
    expect(pageDue({ ...paged, openedAt: at(40) }, new Date(at(41)), null)).toBe('opened');
  });
  it('re-notifies an open incident after renotifyMinutes, never a closed one', () => {
    const paged = { ...open, notifiedAt: at(1) };
    expect(pageDue(paged, new Date(at(30)), 30)).toBeNull();
    expect(pageDue(paged, new Date(at(31)), 30)).toBe('still-open');
    const closed: IncidentRecord = {
      ...paged,
      signals: { drift: { open: false, detail: 'd', at: at(20) } },
    };
    expect(pageDue(closed, new Date(at(59)), 30)).toBeNull();
  });
});

describe('firedSignals and latestReport: what the page says', () => {
  it('lists the open signals, drift first, and links the most recent report', () => {
    const record: IncidentRecord = {
      openedAt: at(0),
      signals: {
        performanceLimit: { open: true, detail: 'accuracy 0.78 < 0.85', at: at(9), report: 'r/perf.json' },
        drift: { open: true, detail: '2 of 3', at: at(2), report: 'r/drift.html' },
        deadLetter: { open: false, detail: 'checked again', at: at(5) },
      },
    };
    expect(firedSignals(record)).toEqual([
      { kind: 'drift', detail: '2 of 3' },
      { kind: 'performance', detail: 'accuracy 0.78 < 0.85' },
    ]);
    expect(latestReport(record)).toEqual({ key: 'r/perf.json', at: at(9) });
  });
  it('lists what changed since the incident opened when it closed before the page went out', () => {
    const record: IncidentRecord = {
      openedAt: at(10),
      signals: {
        performanceCheck: { open: false, detail: 'ObjectNotFoundError', at: at(11) },
        drift: { open: false, detail: 'old', at: at(2) },
      },
    };
    expect(firedSignals(record)).toEqual([
      { kind: 'performance-check', detail: 'ObjectNotFoundError (closed since)' },
    ]);
  });
});
