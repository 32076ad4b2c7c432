/**
 * The cost gate of a retraining run: the worst-case cost of its training job against what is left of the
 * model's monthly budget. Pure: the month-to-date spend comes from the model-state record.
 */

/** What a training run may cost, from the model's retraining config. */
export interface TrainingCostInput {
  instancePricePerHourUsd: number;
  instanceCount: number;
  /** The stopping condition: the job is stopped at this runtime, so it can cost no more. */
  maxRuntimeMinutes: number;
}

/**
 * Worst-case cost of one training job, USD: hourly price × instance count × max runtime / 60.
 *
 * @example estimateTrainingCostUsd({ instancePricePerHourUsd: 0.23, instanceCount: 1, maxRuntimeMinutes: 60 }) // 0.23
 */
export function estimateTrainingCostUsd(input: TrainingCostInput): number {
  return (input.instancePricePerHourUsd * input.instanceCount * input.maxRuntimeMinutes) / 60;
}

/** Spend recorded in the model-state record: the calendar month (`YYYY-MM`, UTC) and its total. */
export interface RecordedSpend {
  month: string | null;
  usd: number;
}

/** The decision of {@link costGate}. */
export interface CostDecision {
  allowed: boolean;
  estimateUsd: number;
  /** Spend recorded this month before this run. */
  monthToDateUsd: number;
  budgetUsd: number;
  month: string;
  /** One line for the notification and the execution output. */
  reason: string;
}

/** `YYYY-MM` of an instant, in UTC. */
export function calendarMonth(at: Date): string {
  return at.toISOString().slice(0, 7);
}

/** Rounds to cents for messages (the decision itself uses the exact values). */
const usd = (value: number) => `$${value.toFixed(2)}`;

/**
 * Allows a run when the month-to-date spend plus its worst-case cost stays within the budget. Spend recorded
 * for another month counts as 0 (a new month starts a new budget).
 *
 * @example
 * ```ts
 * costGate({ instancePricePerHourUsd: 1, instanceCount: 2, maxRuntimeMinutes: 60 }, 10, { month: '2025-01', usd: 9 }, new Date('2025-01-20'));
 * // { allowed: false, estimateUsd: 2, monthToDateUsd: 9, ... }
 * ```
 */
export function costGate(
  cost: TrainingCostInput,
  monthlyBudgetUsd: number,
  spend: RecordedSpend,
  now: Date,
): CostDecision {
  const month = calendarMonth(now);
  const estimateUsd = estimateTrainingCostUsd(cost);
  const monthToDateUsd = spend.month === month ? spend.usd : 0;
  // A cent of slack: prices like 0.23 x 60 / 60 do not add up exactly in binary.
  const allowed = monthToDateUsd + estimateUsd <= monthlyBudgetUsd + 1e-9;
  const reason = allowed
    ? `estimated ${usd(estimateUsd)} fits the ${month} budget: ${usd(monthToDateUsd)} spent of ${usd(monthlyBudgetUsd)}`
    : `estimated ${usd(estimateUsd)} (${cost.instanceCount} x ${usd(cost.instancePricePerHourUsd)}/h x ` +
      `${cost.maxRuntimeMinutes} min) would exceed the ${month} budget of ${usd(monthlyBudgetUsd)}: ` +
      `${usd(monthToDateUsd)} already spent`;
  return { allowed, estimateUsd, monthToDateUsd, budgetUsd: monthlyBudgetUsd, month, reason };
}
