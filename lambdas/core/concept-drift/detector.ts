/**
 * Concept-drift detectors over a stream of numbers (a model's 0/1 errors, or a real-valued loss): ADWIN,
 * DDM and Page-Hinkley behind one interface, with their whole state a small JSON value so that a stream
 * consumer can persist it between batches and resume exactly where it stopped.
 *
 * @example
 * ```ts
 * let state = createDetector('adwin');
 * const first = updateDetector(state, [0, 1, 0, 0]);  // { state, detections: [], warnings: [] }
 * state = JSON.parse(JSON.stringify(first.state));     // persisted and loaded: nothing is lost
 * const next = updateDetector(state, errors);          // detections are positions in the whole stream
 * ```
 */
import { ConfigError, ValueError } from '../errors.ts';
import { ADWIN_DEFAULTS, type AdwinParameters, type AdwinState, adwinPush, createAdwin } from './adwin.ts';
import { createDdm, DDM_DEFAULTS, type DdmParameters, type DdmState, ddmPush } from './ddm.ts';
import {
  createPageHinkley,
  PAGE_HINKLEY_DEFAULTS,
  type PageHinkleyParameters,
  type PageHinkleyState,
  pageHinkleyPush,
} from './page-hinkley.ts';

export type DetectorMethod = 'adwin' | 'ddm' | 'page-hinkley';
export const DETECTOR_METHODS: readonly DetectorMethod[] = ['adwin', 'ddm', 'page-hinkley'];

export type DetectorState = AdwinState | DdmState | PageHinkleyState;

export interface DetectorParametersOf {
  adwin: AdwinParameters;
  ddm: DdmParameters;
  'page-hinkley': PageHinkleyParameters;
}

export type DetectorParameters = AdwinParameters | DdmParameters | PageHinkleyParameters;

/** A drift or a DDM warning, with the level of the stream before and after it (for events and alerts). */
export interface DetectorSignal {
  /** 0-based position in the whole stream. */
  position: number;
  kind: 'drift' | 'warning';
  /**
   * The level before the change: ADWIN, the mean of the values the cut dropped; DDM, p_min, the lowest error
   * rate since the last reset; Page-Hinkley, the mean since the last reset.
   */
  before: number;
  /**
   * The recent level: ADWIN, the mean of the window it kept; DDM, the error rate since the last reset;
   * Page-Hinkley keeps no recent window (null).
   */
  after: number | null;
}

/** What {@link updateDetector} returns. */
export interface DetectorUpdate {
  /** The state after the values; the state passed in is left as it was. */
  state: DetectorState;
  /** 0-based positions in the whole stream (since the detector was created) where a drift was signalled. */
  detections: number[];
  /** DDM only: positions where a warning period began (the detector entered the warning zone). */
  warnings: number[];
  /** The detections and warnings in stream order, with the levels before and after each. */
  signals: DetectorSignal[];
}

const DEFAULTS: { [M in DetectorMethod]: DetectorParametersOf[M] } = {
  adwin: ADWIN_DEFAULTS,
  ddm: DDM_DEFAULTS,
  'page-hinkley': PAGE_HINKLEY_DEFAULTS,
};

/** The parameters each method takes, with the rule each must satisfy. */
const RULES: {
  [M in DetectorMethod]: Record<keyof DetectorParametersOf[M], (value: unknown) => string | null>;
} = {
  adwin: {
    delta: openUnit,
    clock: wholeAtLeast(1),
    maxBuckets: wholeAtLeast(2),
    minWindowLength: wholeAtLeast(1),
    gracePeriod: wholeAtLeast(0),
  },
  ddm: {
    minInstances: wholeAtLeast(0),
    warningThreshold: positive,
    driftThreshold: positive,
  },
  'page-hinkley': {
    minInstances: wholeAtLeast(1),
    delta: nonNegative,
    threshold: positive,
    alpha: (value) => (typeof value === 'number' && value > 0 && value <= 1 ? null : 'a number in (0, 1]'),
    direction: (value) =>
      value === 'up' || value === 'down' || value === 'both' ? null : 'one of up, down, both',
  },
};

/**
 * A new detector with the method's defaults (River's) overridden by `parameters`.
 *
 * @throws ConfigError naming `parameters.<name>` (or the `field` prefix given) for an unknown method, an
 * unknown parameter or a value outside its range; DDM's warning threshold must be below its drift threshold.
 */
export function createDetector<M extends DetectorMethod>(
  method: M,
  parameters: Partial<DetectorParametersOf[M]> = {},
  field = 'parameters',
): DetectorState & { method: M } {
  if (!DETECTOR_METHODS.includes(method))
    throw new ConfigError(
      'method',
      `expected one of ${DETECTOR_METHODS.join(', ')}, got ${JSON.stringify(method)}`,
    );
  const rules = RULES[method] as Record<string, (value: unknown) => string | null>;
  for (const [name, value] of Object.entries(parameters)) {
    if (value === undefined) continue;
    const rule = rules[name];
    if (rule === undefined)
      throw new ConfigError(
        `${field}.${name}`,
        `${method} has no such parameter (it takes ${Object.keys(rules).join(', ')})`,
      );
    const problem = rule(value);
    if (problem !== null)
      throw new ConfigError(`${field}.${name}`, `expected ${problem}, got ${JSON.stringify(value)}`);
  }
  const defined = Object.fromEntries(Object.entries(parameters).filter(([, value]) => value !== undefined));
  const merged = { ...DEFAULTS[method], ...defined };
  switch (method) {
    case 'adwin':
      return createAdwin(merged as AdwinParameters) as DetectorState & { method: M };
    case 'ddm': {
      const ddm = merged as DdmParameters;
      if (ddm.warningThreshold >= ddm.driftThreshold)
        throw new ConfigError(
          `${field}.warningThreshold`,
          `must be below the drift threshold (${ddm.driftThreshold}), got ${ddm.warningThreshold}`,
        );
      return createDdm(ddm) as DetectorState & { method: M };
    }
    default:
      return createPageHinkley(merged as PageHinkleyParameters) as DetectorState & { method: M };
  }
}

/**
 * A detector that takes values one at a time, for readers that stream a file. It owns (and mutates) its
 * state: {@link Detector.snapshot} gives a copy to persist.
 */
export class Detector {
  private readonly current: DetectorState;
  private readonly push: (value: number) => Omit<DetectorSignal, 'position'> | null;

  /** @param state taken over by the detector (copy it first to keep the original). */
  constructor(state: DetectorState) {
    this.current = state;
    const current = state;
    switch (current.method) {
      case 'adwin':
        this.push = (value) => {
          const width = current.width + 1;
          const total = current.total + value;
          if (!adwinPush(current, value)) return null;
          const before = (total - current.total) / (width - current.width);
          return { kind: 'drift', before, after: current.total / current.width };
        };
        break;
      case 'ddm': {
        this.push = (value) => {
          const wasWarning = current.warning;
          const signal = ddmPush(current, value);
          // A warning is reported where a warning period begins, not at every value within it.
          if (signal === null || (signal.kind === 'warning' && wasWarning)) return null;
          return { kind: signal.kind, before: signal.pMin, after: signal.p };
        };
        break;
      }
      default:
        this.push = (value) => {
          const mean = pageHinkleyPush(current, value);
          return mean === null ? null : { kind: 'drift', before: mean, after: null };
        };
    }
  }

  get method(): DetectorMethod {
    return this.current.method;
  }

  /** ADWIN: values in the window it keeps (the recent, stationary data); the other methods keep none (null). */
  get windowLength(): number | null {
    return this.current.method === 'adwin' ? this.current.width : null;
  }

  /** Values seen so far: the position the next value gets. */
  get position(): number {
    return this.current.n;
  }

  /**
   * Adds one value: a drift, a DDM warning (where a warning period begins) or null.
   * @throws ValueError for a value the method cannot take (not finite; not 0 or 1 for DDM).
   */
  update(value: number): DetectorSignal | null {
    checkValue(this.current.method, value);
    const position = this.current.n;
    const signal = this.push(value);
    return signal === null ? null : { position, ...signal };
  }

  /** A copy of the state, safe to persist while this detector goes on. */
  snapshot(): DetectorState {
    return structuredClone(this.current);
  }
}

/** Why `value` cannot go into a `method` detector, or null. */
export function valueProblem(method: DetectorMethod, value: number): string | null {
  if (!Number.isFinite(value)) return 'the value is not a finite number';
  if (method === 'ddm' && value !== 0 && value !== 1) return 'DDM takes 0 (right) or 1 (wrong) only';
  return null;
}

function checkValue(method: DetectorMethod, value: number): void {
  const problem = valueProblem(method, value);
  if (problem !== null) throw new ValueError(problem);
}

/**
 * Feeds `values` to a copy of `state`: the pure form of {@link Detector}, for a consumer that loads the state,
 * applies a batch and stores the result. Feeding a stream in one call or in any number of calls, with the
 * state serialised between them, gives the same detections.
 *
 * @throws ValueError for a value the method cannot take; the state passed in is unchanged.
 */
export function updateDetector(state: DetectorState, values: Iterable<number>): DetectorUpdate {
  const detector = new Detector(structuredClone(state));
  const detections: number[] = [];
  const warnings: number[] = [];
  const signals: DetectorSignal[] = [];
  for (const value of values) {
    const signal = detector.update(value);
    if (signal === null) continue;
    signals.push(signal);
    (signal.kind === 'drift' ? detections : warnings).push(signal.position);
  }
  return { state: detector.snapshot(), detections, warnings, signals };
}

/** The parameters of a state, for reports. */
export function detectorParameters(state: DetectorState): DetectorParameters {
  return { ...state.parameters };
}

function openUnit(value: unknown): string | null {
  return typeof value === 'number' && value > 0 && value < 1 ? null : 'a number in (0, 1)';
}

function positive(value: unknown): string | null {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? null : 'a number > 0';
}

function nonNegative(value: unknown): string | null {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? null : 'a number >= 0';
}

function wholeAtLeast(min: number): (value: unknown) => string | null {
  return (value) => (Number.isInteger(value) && (value as number) >= min ? null : `a whole number >= ${min}`);
}
