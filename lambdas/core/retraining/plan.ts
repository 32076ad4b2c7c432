import type {
  RetrainingExecutionInput,
  RetrainingRuntimeConfig,
  RunPlan,
} from '../../shared/retraining-contract.ts';
import { ConfigError } from '../errors.ts';
import { calendarMonth } from './cost.ts';

/** Longest SageMaker resource name. */
const MAX_NAME = 63;
/** ISO time after every real one: the cooldown cutoff of a forced run. */
const FAR_FUTURE = '9999-12-31T23:59:59.999Z';

/** `20250102-030405` of an instant (UTC): sortable, and valid in every SageMaker name. */
export function runIdOf(at: Date): string {
  return at.toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-');
}

/** `<base>-<suffix>`, the base cut so the whole fits SageMaker's 63 characters. */
export function sageMakerName(base: string, suffix: string): string {
  const room = MAX_NAME - suffix.length - 1;
  return `${base.slice(0, room).replace(/-+$/, '')}-${suffix}`;
}

/**
 * The segment a run trains on: the one the trigger names (`driftwatch retrain --segment`, a `Performance
 * Degraded` event for a segment), or the single drifted segment of a `Drift Detected` event whose whole
 * dataset did not drift. Otherwise null: the whole data window.
 */
export function triggerSegment(
  trigger: RetrainingExecutionInput['trigger'],
): { column: string; value: string } | null {
  if (trigger.segment) return trigger.segment;
  const detail = trigger.detail as Record<string, unknown> | undefined;
  if (!detail || typeof detail !== 'object') return null;
  const segment = detail['segment'];
  if (segment && typeof segment === 'object') {
    const { column, value } = segment as Record<string, unknown>;
    if (typeof column === 'string' && typeof value === 'string') return { column, value };
  }
  const drifted = detail['driftedSegments'];
  if (detail['datasetDrift'] === false && Array.isArray(drifted) && drifted.length === 1) {
    const { column, value } = drifted[0] as Record<string, unknown>;
    if (typeof column === 'string' && typeof value === 'string') return { column, value };
  }
  return null;
}

function triggerReason(input: RetrainingExecutionInput): string {
  const { type, detail } = input.trigger;
  const d = (detail ?? {}) as Record<string, unknown>;
  switch (type) {
    case 'drift':
      return `data drift in ${String(d['key'] ?? 'an incoming file')} (drift share ${String(d['driftShare'] ?? '?')})`;
    case 'criticalFeatureDrift':
      return `critical features drifted: ${Array.isArray(d['criticalFeatures']) ? d['criticalFeatures'].join(', ') : '?'}`;
    case 'performance':
      return `performance degraded${typeof d['reason'] === 'string' ? `: ${d['reason']}` : ''}`;
    case 'estimatedPerformance':
      return `estimated ${String(d['metric'] ?? 'performance')} ${String(d['value'] ?? '?')} breached its ${String(d['limitKind'] ?? 'limit')} ${String(d['limit'] ?? '?')} on ${String(d['endpoint'] ?? '?')}/${String(d['variant'] ?? '?')} before labels (CBPE)`;
    case 'conceptDrift': {
      const cohort = d['cohort'] as { attribute?: unknown; value?: unknown } | null | undefined;
      const where = cohort ? ` in cohort ${String(cohort.attribute)}=${String(cohort.value)}` : '';
      return `concept drift${where}: ${String(d['detector'] ?? 'a detector')} at outcome ${String(d['position'] ?? '?')} (error rate ${String(d['errorRateBefore'] ?? '?')} -> ${String(d['errorRateAfter'] ?? '?')})`;
    }
    case 'schedule':
      return 'scheduled retraining';
    case 'manual':
      return `manual start${typeof detail === 'string' ? `: ${detail}` : ''}`;
  }
}

/**
 * Whether the model retrains on this start: manual and scheduled starts always; events when the model's
 * triggers name them (a drifted dataset whose critical features drifted too counts for `criticalFeatureDrift`).
 */
export function triggerEnabled(config: RetrainingRuntimeConfig, input: RetrainingExecutionInput): boolean {
  const { type, detail } = input.trigger;
  if (type === 'manual' || type === 'schedule') return true;
  if (config.triggers.includes(type)) return true;
  const critical = (detail as Record<string, unknown> | undefined)?.['criticalFeatures'];
  return (
    type === 'drift' &&
    config.triggers.includes('criticalFeatureDrift') &&
    Array.isArray(critical) &&
    critical.length > 0
  );
}

/** Hours an emergency run trains on when neither the config nor the detector gives a window. */
export const DEFAULT_EMERGENCY_WINDOW_HOURS = 24;

/**
 * Start of an emergency run's training window: `windowHours` before now when configured, else the start of
 * the window the detector kept (`windowStart` of the `Concept Drift Detected` event), else 24 hours.
 */
export function emergencyWindowStart(
  emergency: NonNullable<RetrainingRuntimeConfig['emergency']>,
  detail: unknown,
  now: Date,
): string {
  if (emergency.windowHours !== null)
    return new Date(now.getTime() - emergency.windowHours * 3_600_000).toISOString();
  const start = (detail as { windowStart?: unknown } | undefined)?.windowStart;
  if (typeof start === 'string' && !Number.isNaN(Date.parse(start))) return new Date(start).toISOString();
  return new Date(now.getTime() - DEFAULT_EMERGENCY_WINDOW_HOURS * 3_600_000).toISOString();
}

/**
 * Everything a run decides up front: its id, the names of what it creates, where its files go, the cooldown
 * cutoff and the canary weights. Pure: the same input at the same instant gives the same plan.
 *
 * @throws ConfigError when the execution is for another model than the config's.
 */
export function planRun(
  config: RetrainingRuntimeConfig,
  input: RetrainingExecutionInput,
  now: Date,
  workBucket: string,
): RunPlan {
  if (input.model !== config.name) {
    throw new ConfigError(
      'model',
      `this pipeline retrains ${config.name}, not ${JSON.stringify(input.model)}`,
    );
  }
  const runId = runIdOf(now);
  const base = `${config.name}-${runId}`;
  const work = `s3://${workBucket}/${config.workPrefix}${runId}/`;
  const emergency = input.trigger.type === 'conceptDrift' ? config.emergency : null;
  const cooldownCutoff =
    input.trigger.force || emergency?.skipCooldown
      ? FAR_FUTURE
      : new Date(now.getTime() - config.cooldownHours * 3_600_000).toISOString();
  const segment = triggerSegment(input.trigger);
  const steps = config.canary.shadow ? [100] : config.canary.steps;
  return {
    runId,
    now: now.toISOString(),
    month: calendarMonth(now),
    cooldownCutoff,
    trainingSince: emergency ? emergencyWindowStart(emergency, input.trigger.detail, now) : null,
    eventTimeColumn: emergency?.eventTimeColumn ?? null,
    trigger: {
      type: input.trigger.type,
      reason: triggerReason(input),
      segment: emergency && !emergency.segmentRetraining ? null : segment,
    },
    names: {
      trainingJob: base,
      challengerModel: base,
      championModel: sageMakerName(base, 'champion'),
      championTransformJob: sageMakerName(base, 'champion'),
      challengerTransformJob: sageMakerName(base, 'challenger'),
      canaryEndpointConfig: sageMakerName(config.endpointName, `${runId}-canary`),
      promotedEndpointConfig: sageMakerName(config.endpointName, runId),
      challengerVariant: `v${runId}`,
    },
    s3: {
      trainUri: `${work}train/`,
      outputUri: `${work}output/`,
      holdoutFeaturesUri: `${work}holdout/features.csv`,
      championScoresUri: `${work}scores/champion/`,
      challengerScoresUri: `${work}scores/challenger/`,
      metricsUri: `${work}evaluation.json`,
    },
    canarySteps: steps.map((challenger) => ({ challenger, champion: 100 - challenger })),
    lastStepIndex: steps.length - 1,
    shadow: config.canary.shadow,
    endpointName: config.endpointName,
    cooldownHours: config.cooldownHours,
    sageMaker: config.sageMaker,
    triggerEnabled: triggerEnabled(config, input),
    bakeSeconds: config.canary.bakeMinutes * 60,
  };
}
