/**
 * The one page of an incident: which model, what fired, and a link to the latest report, as an SNS
 * notification (subject and body). Pure; the engine publishes it.
 */

/** A signal that rolls up into a model's incident. */
export type SignalKind =
  | 'drift'
  | 'critical-feature'
  | 'performance'
  | 'performance-check'
  | 'retraining'
  | 'dead-letter'
  | 'concept-drift';

export interface FiredSignal {
  kind: SignalKind;
  /** One line: e.g. `drift in 3 of the last 4 checks (rule 2 of 3)`, `AUC 0.71 < 0.80`. */
  detail: string;
}

export interface Incident {
  model: string;
  /** What fired, most important first as given. */
  fired: readonly FiredSignal[];
  /** When the incident opened (ISO 8601). */
  at: string;
  /** Link to the latest report (HTML or JSON), if there is one. */
  reportUrl?: string;
  /** The report's key (`s3://bucket/key`), printed beside the link. */
  reportKey?: string;
  /** Link to the model's dashboard. */
  dashboardUrl?: string;
  /** A re-notification: the incident is still open (since `at`). @default false */
  stillOpen?: boolean;
  /** Minutes between re-notifications while the incident stays open; null or absent: none. */
  renotifyMinutes?: number | null;
}

export interface IncidentMessage {
  /** At most 100 printable ASCII characters, one line (SNS's limits on an email subject). */
  subject: string;
  body: string;
}

/** SNS rejects a subject over 100 characters, or with control characters or non-ASCII ones. */
export const MAX_SUBJECT_LENGTH = 100;

const LABELS: Readonly<Record<SignalKind, string>> = {
  drift: 'data drift',
  'critical-feature': 'critical feature',
  performance: 'performance',
  'performance-check': 'performance check failed',
  retraining: 'retraining failed',
  'dead-letter': 'dead-lettered file',
  'concept-drift': 'concept drift',
};

/**
 * The page of an incident: subject `driftwatch: <model>: data drift, performance`, then a body naming the
 * model, every signal that fired with its detail, when, and the links.
 *
 * @example composeIncidentMessage({ model: 'churn', fired: [{ kind: 'drift', detail: '2 of the last 3 checks drifted' }], at: '2026-12-07T03:00:00Z', reportUrl: 'https://…/report.html' })
 */
export function composeIncidentMessage(incident: Incident): IncidentMessage {
  const kinds = [...new Set(incident.fired.map((signal) => LABELS[signal.kind]))];
  const what = kinds.length > 0 ? kinds.join(', ') : 'alarm';
  const still = incident.stillOpen === true ? 'still open: ' : '';
  const subject = asciiSubject(`driftwatch: ${incident.model}: ${still}${what}`);
  const lines = [
    `Model: ${oneLine(incident.model)}`,
    `${incident.stillOpen === true ? 'Open since' : 'Opened'}: ${incident.at}`,
    '',
    'What fired:',
    ...(incident.fired.length > 0
      ? incident.fired.map((signal) => `- ${LABELS[signal.kind]}: ${oneLine(signal.detail)}`)
      : ['- (no signal detail)']),
    '',
    `Latest report: ${incident.reportUrl ?? 'none yet'}`,
  ];
  if (incident.reportKey) lines.push(`Report key: ${oneLine(incident.reportKey)}`);
  if (incident.dashboardUrl) lines.push(`Dashboard: ${incident.dashboardUrl}`);
  const every = incident.renotifyMinutes ?? null;
  lines.push(
    '',
    every === null
      ? 'One page per incident: no further page until it closes.'
      : `One page per incident, repeated every ${every} minutes while it stays open (on the model's next signal).`,
  );
  return { subject, body: `${lines.join('\n')}\n` };
}

/** Control characters (line breaks included) become spaces, so a value cannot add lines to the page. */
function oneLine(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point.
  return text.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ');
}

/** Printable ASCII only (others become `?`), cut to {@link MAX_SUBJECT_LENGTH} with `...`. */
function asciiSubject(text: string): string {
  const ascii = oneLine(text).replace(/[^\x20-\x7e]/g, '?');
  return ascii.length <= MAX_SUBJECT_LENGTH ? ascii : `${ascii.slice(0, MAX_SUBJECT_LENGTH - 3)}...`;
}
