/**
 * A model's incident: what is broken about it now, as the engine's functions report it signal by signal,
 * and whether on-call must be told. Pure; the functions keep the record in the history table (see
 * `lambdas/shared/incidents.ts`) and the notifier pages from it.
 *
 * A model has one incident at a time. It opens when a first signal opens and closes when the last one closes;
 * each signal closes the way it recovers:
 * - `drift`, `criticalFeature`: M of the last N checks (see `persistence.ts`); closed by the check after which
 *   the rule no longer holds.
 * - `performanceLimit`: the latest performance check breached a limit; closed by a check that breaches none.
 * - `performanceCheck`: a performance check could not complete; closed by the next one that does.
 * - `deadLetter`: a file of the model was sent to the dead-letter queue; closed by the next checked file.
 * - `retraining`: a retraining execution of the model failed, timed out or was aborted; closed by the next
 *   one that succeeds.
 * - `conceptDrift`: the feedback consumer detected concept drift or a cohort's rate change; closed by the
 *   next retraining that succeeds, or by the model's feedback once its quiet time passed without another.
 */
import type { FiredSignal, SignalKind } from './incident-message.ts';

/** The signals of a model's incident. */
export const SIGNALS = [
  'drift',
  'criticalFeature',
  'performanceLimit',
  'performanceCheck',
  'retraining',
  'deadLetter',
  'conceptDrift',
] as const;
export type SignalName = (typeof SIGNALS)[number];

/** How each signal is named on the page. */
export const SIGNAL_KIND: Readonly<Record<SignalName, SignalKind>> = {
  drift: 'drift',
  criticalFeature: 'critical-feature',
  performanceLimit: 'performance',
  performanceCheck: 'performance-check',
  retraining: 'retraining',
  deadLetter: 'dead-letter',
  conceptDrift: 'concept-drift',
};

/** The latest word on one signal. */
export interface SignalState {
  open: boolean;
  /** One line: what the signal saw (never data rows). */
  detail: string;
  /** When (ISO 8601). */
  at: string;
  /** Key of the latest report in the results bucket, when the signal has one. */
  report?: string;
}

/** A model's incident record: its signals, when it last opened and when on-call was last paged. */
export interface IncidentRecord {
  signals: Partial<Record<SignalName, SignalState>>;
  /** When the incident last opened (no signal open before, one open after). Kept after it closes. */
  openedAt?: string;
  /** When on-call was last paged about it. */
  notifiedAt?: string;
}

/** Whether any signal of the record is open. */
export function isOpen(record: IncidentRecord | undefined): boolean {
  return SIGNALS.some((name) => record?.signals[name]?.open === true);
}

/** What setting one signal does to the incident: opens it (the first open signal), closes it, or neither. */
export function signalChange(
  before: IncidentRecord | undefined,
  name: SignalName,
  state: SignalState,
): { opened: boolean; closed: boolean; after: IncidentRecord } {
  const after: IncidentRecord = { ...before, signals: { ...before?.signals, [name]: state } };
  const wasOpen = isOpen(before);
  const nowOpen = isOpen(after);
  if (!wasOpen && nowOpen) after.openedAt = state.at;
  return { opened: !wasOpen && nowOpen, closed: wasOpen && !nowOpen, after };
}

/** Why on-call is paged now: a new incident, or one still open past the re-notification interval. */
export type PageDue = 'opened' | 'still-open';

/**
 * Whether to page now about the record: once per incident (an opening since the last page), then again only
 * while it stays open, every `renotifyMinutes` (null: never).
 *
 * @example pageDue({ signals: {}, openedAt: '2026-01-01T00:00:00Z' }, new Date('2026-01-01T00:05:00Z'), null) // 'opened'
 */
export function pageDue(
  record: IncidentRecord | undefined,
  now: Date,
  renotifyMinutes: number | null,
): PageDue | null {
  if (record?.openedAt === undefined) return null;
  const opened = Date.parse(record.openedAt);
  const notified = record.notifiedAt === undefined ? Number.NEGATIVE_INFINITY : Date.parse(record.notifiedAt);
  if (opened > notified) return 'opened';
  if (renotifyMinutes !== null && isOpen(record) && now.getTime() - notified >= renotifyMinutes * 60_000)
    return 'still-open';
  return null;
}

/**
 * What the page lists: the open signals, or, when the incident closed before the page went out, the signals
 * that changed since it opened (marked closed). Drift first, as {@link SIGNALS} orders them.
 */
export function firedSignals(record: IncidentRecord): FiredSignal[] {
  const states = SIGNALS.flatMap((name) => {
    const state = record.signals[name];
    return state ? [{ name, state }] : [];
  });
  const open = states.filter(({ state }) => state.open);
  const listed =
    open.length > 0
      ? open
      : states.filter(({ state }) => record.openedAt !== undefined && state.at >= record.openedAt);
  return listed.map(({ name, state }) => ({
    kind: SIGNAL_KIND[name],
    detail: state.open ? state.detail : `${state.detail} (closed since)`,
  }));
}

/** The report of the most recent listed signal that has one. */
export function latestReport(record: IncidentRecord): { key: string; at: string } | undefined {
  let latest: { key: string; at: string } | undefined;
  for (const name of SIGNALS) {
    const state = record.signals[name];
    if (state?.report === undefined) continue;
    if (latest === undefined || state.at > latest.at) latest = { key: state.report, at: state.at };
  }
  return latest;
}
