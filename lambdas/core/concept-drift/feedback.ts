/**
 * The labelled feedback loop, pure: a feedback record (one outcome of one prediction) becomes an error (the
 * prediction was wrong) and a label outcome (the label was the positive class), which update the configured
 * detectors and rate monitors of the model and of each of its cohorts. Each (model, cohort) has one state,
 * a small JSON value a stream consumer loads, applies a batch to and stores with a conditional write.
 *
 * Exactly-once application on an at-least-once stream: the state remembers, per shard, the sequence number
 * of the last record it applied; a retried or duplicated batch skips every record at or below it. Records of
 * one shard arrive in order, so this is all the memory it takes.
 *
 * @example
 * ```ts
 * const raw = parseFeedbackRecord('{"model":"fraud","label":1,"prediction":0.2}');
 * const outcome = feedbackOutcome(raw, settings);       // { error: 1, positive: 1, cohort: {}, … }
 * const { state, signals } = applyOutcomes(undefined, settings, '*', [{ shardId, sequenceNumber, outcome }]);
 * ```
 */
import { createDetector, Detector, type DetectorMethod, type DetectorState } from './detector.ts';
import { createRateMonitor, type RateMonitorState, updateRateMonitor } from './rate-monitor.ts';

/** What the feedback loop needs of a model's config (`conceptDrift`, filled with the model's defaults). */
export interface FeedbackSettings {
  /** The model's name (as the catalog keys it). */
  name: string;
  model: string;
  positiveClass: string;
  threshold: number;
  /** Record attributes whose values are cohorts. */
  cohorts: string[];
  maxCohortsPerAttribute: number;
  detectors: { method: DetectorMethod; parameters: Record<string, number | string> }[];
  rateMonitors: {
    name: string;
    outcome: 'label' | 'error';
    baselineRate: number;
    baselineTrials: number | null;
    alpha: number;
    minSamples: number;
  }[];
  /** After a signal, the same detector's signals in the same cohort within this time (event time) are quiet. */
  renotifyAfterMs: number;
  /** The model's segment column: a cohort of it is a segment to retrain on. */
  segmentColumn: string | null;
  /** Whether the model retrains on concept drift (the event then carries `retrainingTrigger`). */
  retrains: boolean;
  /** Whether a detection in a cohort of the segment column retrains on that segment only. */
  segmentRetraining: boolean;
}

/** A feedback record as sent to the stream, checked. */
export interface FeedbackRecord {
  model: string;
  label: string;
  /** The predicted class, or a probability of the positive class (`score`). */
  prediction: { kind: 'class'; value: string } | { kind: 'score'; value: number };
  predictionId: string | null;
  cohort: Record<string, string>;
  /** Event time of the outcome (ms since the epoch); null: not given (the arrival time is used). */
  eventTime: number | null;
}

/** One outcome, ready for the detectors. */
export interface FeedbackOutcome {
  /** 1: the prediction was wrong. */
  error: 0 | 1;
  /** 1: the label is the positive class. */
  positive: 0 | 1;
  cohort: Record<string, string>;
  /** Event time, ms. */
  eventTime: number;
}

/** A record that cannot be applied, with the reason (it goes to the failure queue). */
export class FeedbackRecordError extends Error {
  override readonly name = 'FeedbackRecordError';
  /** The model the record names, when it names one. */
  readonly model: string | null;
  constructor(reason: string, model: string | null = null) {
    super(reason);
    this.model = model;
  }
}

const scalar = (value: unknown): string | null =>
  typeof value === 'string'
    ? value
    : typeof value === 'number' || typeof value === 'boolean'
      ? String(value)
      : null;

/**
 * Parses one record's data (UTF-8 JSON): `model`, `label` and `prediction` (a class, or a probability of the
 * positive class with `"score": true` or any number strictly between 0 and 1), optional `predictionId`,
 * `cohort` (an object of attribute values) and `eventTime` (ISO 8601 or epoch milliseconds).
 *
 * @throws FeedbackRecordError naming the field at fault.
 */
export function parseFeedbackRecord(text: string): FeedbackRecord {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new FeedbackRecordError(`not JSON: ${(error as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new FeedbackRecordError('expected a JSON object with model, label and prediction');
  const record = json as Record<string, unknown>;
  const model = record['model'];
  if (typeof model !== 'string' || model === '')
    throw new FeedbackRecordError('model: expected a model name');
  const fail = (reason: string) => new FeedbackRecordError(reason, model);
  const label = scalar(record['label']);
  if (label === null)
    throw fail(`label: expected a string, number or boolean, got ${JSON.stringify(record['label'])}`);
  const rawPrediction = record['prediction'];
  let prediction: FeedbackRecord['prediction'];
  if (rawPrediction === undefined || rawPrediction === null) {
    throw fail(
      record['predictionId'] === undefined
        ? 'prediction: missing'
        : 'prediction: missing (a record joined by predictionId alone needs the captured prediction: send it in the record)',
    );
  }
  const asScore =
    record['score'] === true || (typeof rawPrediction === 'number' && rawPrediction > 0 && rawPrediction < 1);
  if (asScore) {
    if (typeof rawPrediction !== 'number' || !(rawPrediction >= 0 && rawPrediction <= 1))
      throw fail(`prediction: a score is a probability in [0, 1], got ${JSON.stringify(rawPrediction)}`);
    prediction = { kind: 'score', value: rawPrediction };
  } else {
    const value = scalar(rawPrediction);
    if (value === null)
      throw fail(`prediction: expected a class or a probability, got ${JSON.stringify(rawPrediction)}`);
    prediction = { kind: 'class', value };
  }
  const cohort: Record<string, string> = {};
  const rawCohort = record['cohort'];
  if (rawCohort !== undefined && rawCohort !== null) {
    if (typeof rawCohort !== 'object' || Array.isArray(rawCohort))
      throw fail('cohort: expected an object of attribute values');
    for (const [attribute, value] of Object.entries(rawCohort)) {
      const text = scalar(value);
      if (text === null)
        throw fail(`cohort.${attribute}: expected a string or number, got ${JSON.stringify(value)}`);
      cohort[attribute] = text;
    }
  }
  let eventTime: number | null = null;
  const rawTime = record['eventTime'];
  if (rawTime !== undefined && rawTime !== null) {
    eventTime =
      typeof rawTime === 'number' ? rawTime : typeof rawTime === 'string' ? Date.parse(rawTime) : Number.NaN;
    if (!Number.isFinite(eventTime))
      throw fail(`eventTime: expected ISO 8601 or epoch milliseconds, got ${JSON.stringify(rawTime)}`);
  }
  const predictionId = record['predictionId'];
  return {
    model,
    label,
    prediction,
    predictionId: typeof predictionId === 'string' ? predictionId : null,
    cohort,
    eventTime,
  };
}

/** The outcome of a record for its model: a score is thresholded, a class compared with the label. */
export function feedbackOutcome(
  record: FeedbackRecord,
  settings: FeedbackSettings,
  arrivedAt: number,
): FeedbackOutcome {
  const positive = record.label === settings.positiveClass ? 1 : 0;
  const wrong =
    record.prediction.kind === 'score'
      ? (record.prediction.value >= settings.threshold ? 1 : 0) !== positive
      : record.prediction.value !== record.label;
  return { error: wrong ? 1 : 0, positive, cohort: record.cohort, eventTime: record.eventTime ?? arrivedAt };
}

/** Cohort key of the whole model. */
export const WHOLE_MODEL = '*';

/** Cohort key of an attribute value: `attribute=value`. */
export const cohortKey = (attribute: string, value: string): string => `${attribute}=${value}`;

/** The attribute and value of a cohort key, or null for the whole model. */
export function parseCohortKey(key: string): { attribute: string; value: string } | null {
  if (key === WHOLE_MODEL) return null;
  const at = key.indexOf('=');
  return { attribute: key.slice(0, at), value: key.slice(at + 1) };
}

/** How many (position, event time) marks a state keeps to date the start of a detector's window. */
const MAX_MARKS = 256;
/** A mark every this many outcomes (and at the start of every batch). */
const MARK_EVERY = 64;

/** The state of one (model, cohort). */
export interface CohortState {
  model: string;
  cohort: string;
  /** Outcomes applied. */
  n: number;
  /** By method. */
  detectors: Partial<Record<DetectorMethod, DetectorState>>;
  /** By monitor name. */
  monitors: Record<string, RateMonitorState>;
  /** Last sequence number applied, by shard id. */
  shards: Record<string, string>;
  /** (position, event time ms), oldest first: when the outcome at a position happened, roughly. */
  marks: [number, number][];
  /** Whole model only: the values admitted as cohorts, per attribute (at most `maxCohortsPerAttribute`). */
  cohortValues?: Record<string, string[]>;
  /** Event time (ms) of the last signal that was reported, by detector: later ones within the quiet time are not. */
  lastSignals?: Record<string, number>;
  /** Signals not reported (within the quiet time of an earlier one). */
  quieted?: number;
}

/** An outcome with where it came from. */
export interface StreamOutcome {
  shardId: string;
  sequenceNumber: string;
  /** When the record entered the stream, ms. */
  arrivedAt: number;
  outcome: FeedbackOutcome;
}

/** A detection of one detector or monitor in one cohort. */
export interface CohortSignal {
  detector: string;
  kind: 'detector' | 'rate';
  position: number;
  before: number;
  after: number | null;
  windowLength: number | null;
  /** Event time of the first outcome of the kept window (ms), or null. */
  windowStart: number | null;
  eventTime: number;
  arrivedAt: number;
  sequenceNumber: string;
  shardId: string;
}

export interface ApplyResult {
  state: CohortState;
  /** The signals to report (those within the quiet time of an earlier one are left out and counted). */
  signals: CohortSignal[];
  /** Signals left out. */
  quieted: number;
  applied: number;
  duplicates: number;
}

/** A new state with the settings' detectors and monitors. */
export function createCohortState(settings: FeedbackSettings, cohort: string): CohortState {
  return {
    model: settings.model,
    cohort,
    n: 0,
    detectors: {},
    monitors: {},
    shards: {},
    marks: [],
    ...(cohort === WHOLE_MODEL ? { cohortValues: {} } : {}),
  };
}

/** Detectors and monitors as configured: new ones created, changed ones started again, removed ones dropped. */
function reconcile(state: CohortState, settings: FeedbackSettings): void {
  const detectors: CohortState['detectors'] = {};
  for (const { method, parameters } of settings.detectors) {
    const fresh = createDetector(method, parameters as never);
    const current = state.detectors[method];
    detectors[method] =
      current && JSON.stringify(current.parameters) === JSON.stringify(fresh.parameters) ? current : fresh;
  }
  state.detectors = detectors;
  const monitors: CohortState['monitors'] = {};
  for (const monitor of settings.rateMonitors) {
    const fresh = createRateMonitor({
      baselineRate: monitor.baselineRate,
      baselineTrials: monitor.baselineTrials,
      alpha: monitor.alpha,
      minSamples: monitor.minSamples,
    });
    const current = state.monitors[monitor.name];
    monitors[monitor.name] =
      current && JSON.stringify(current.settings) === JSON.stringify(fresh.settings) ? current : fresh;
  }
  state.monitors = monitors;
}

/** Whether sequence number `a` is after `b` (decimal strings of up to 128 bits). */
export function sequenceAfter(a: string, b: string | undefined): boolean {
  return b === undefined || BigInt(a) > BigInt(b);
}

/**
 * Applies `outcomes` (in stream order per shard) to a copy of `state` (undefined: a new one), skipping those
 * already applied. The whole model's state also admits new cohort values (first come, up to the limit).
 */
export function applyOutcomes(
  state: CohortState | undefined,
  settings: FeedbackSettings,
  cohort: string,
  outcomes: readonly StreamOutcome[],
): ApplyResult {
  const next = state ? structuredClone(state) : createCohortState(settings, cohort);
  reconcile(next, settings);
  const live = Object.entries(next.detectors).map(([method, detectorState]) => ({
    method,
    detector: new Detector(detectorState),
  }));
  const signals: CohortSignal[] = [];
  let applied = 0;
  let duplicates = 0;
  for (const item of outcomes) {
    if (!sequenceAfter(item.sequenceNumber, next.shards[item.shardId])) {
      duplicates++;
      continue;
    }
    next.shards[item.shardId] = item.sequenceNumber;
    const { outcome } = item;
    const position = next.n++;
    if (applied === 0 || position % MARK_EVERY === 0) {
      next.marks.push([position, outcome.eventTime]);
      if (next.marks.length > MAX_MARKS) next.marks.splice(0, next.marks.length - MAX_MARKS);
    }
    applied++;
    if (next.cohortValues) admitCohorts(next.cohortValues, settings, outcome.cohort);
    for (const { method, detector } of live) {
      const signal = detector.update(outcome.error);
      if (signal === null || signal.kind !== 'drift') continue;
      const windowLength = detector.windowLength;
      signals.push({
        detector: method,
        kind: 'detector',
        position,
        before: signal.before,
        after: signal.after,
        windowLength,
        windowStart: windowLength === null ? null : timeAt(next.marks, position - windowLength + 1),
        eventTime: outcome.eventTime,
        arrivedAt: item.arrivedAt,
        sequenceNumber: item.sequenceNumber,
        shardId: item.shardId,
      });
    }
    for (const monitor of settings.rateMonitors) {
      const value = monitor.outcome === 'label' ? outcome.positive : outcome.error;
      const update = updateRateMonitor(next.monitors[monitor.name]!, [value]);
      next.monitors[monitor.name] = update.state;
      for (const detection of update.detections) {
        signals.push({
          detector: `rate:${monitor.name}`,
          kind: 'rate',
          position,
          before: detection.baselineRate,
          after: detection.rate,
          windowLength: detection.trials,
          windowStart: timeAt(next.marks, position - detection.trials + 1),
          eventTime: outcome.eventTime,
          arrivedAt: item.arrivedAt,
          sequenceNumber: item.sequenceNumber,
          shardId: item.shardId,
        });
      }
    }
  }
  for (const { method, detector } of live) next.detectors[method as DetectorMethod] = detector.snapshot();
  // ADWIN cuts its window several times while one change settles: one report per quiet time.
  const last = { ...next.lastSignals };
  const reported = signals.filter((signal) => {
    const previous = last[signal.detector];
    if (previous !== undefined && signal.eventTime - previous < settings.renotifyAfterMs) return false;
    last[signal.detector] = signal.eventTime;
    return true;
  });
  const quieted = signals.length - reported.length;
  next.lastSignals = last;
  next.quieted = (next.quieted ?? 0) + quieted;
  return { state: next, signals: reported, quieted, applied, duplicates };
}

/** The event time of the latest mark at or before `position` (the oldest mark when none is). */
function timeAt(marks: readonly [number, number][], position: number): number | null {
  if (marks.length === 0) return null;
  let found = marks[0]![1];
  for (const [at, time] of marks) {
    if (at > position) break;
    found = time;
  }
  return found;
}

function admitCohorts(
  values: Record<string, string[]>,
  settings: FeedbackSettings,
  cohort: Record<string, string>,
): void {
  for (const attribute of settings.cohorts) {
    const value = cohort[attribute];
    if (value === undefined) continue;
    const known = values[attribute] ?? [];
    values[attribute] = known;
    if (!known.includes(value) && known.length < settings.maxCohortsPerAttribute) known.push(value);
  }
}

/**
 * The cohorts an outcome counts for besides the whole model: each configured attribute whose value the
 * whole model's state admitted. Values beyond the limit count for the whole model only.
 */
export function cohortsOf(
  outcome: FeedbackOutcome,
  settings: FeedbackSettings,
  admitted: Record<string, string[]>,
): { cohorts: string[]; overflow: number } {
  const cohorts: string[] = [];
  let overflow = 0;
  for (const attribute of settings.cohorts) {
    const value = outcome.cohort[attribute];
    if (value === undefined) continue;
    if (admitted[attribute]?.includes(value)) cohorts.push(cohortKey(attribute, value));
    else overflow++;
  }
  return { cohorts, overflow };
}
