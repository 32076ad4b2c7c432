import { planRun } from '../core/retraining/plan.ts';
import type { RetrainingExecutionInput, RunPlan } from '../shared/retraining-contract.ts';
import { type RetrainingEnvironment, retrainingEnvironmentFor } from './aws.ts';

/** Input of the Plan state: the execution input and its start time (`$$.Execution.StartTime`). */
export interface PlanEvent {
  input: RetrainingExecutionInput;
  startTime?: string;
}

/** Names, paths, cooldown cutoff and canary weights of the run; see {@link planRun}. */
export function handlePlan(event: PlanEvent, environment: RetrainingEnvironment): RunPlan {
  const now = event.startTime ? new Date(event.startTime) : new Date();
  return planRun(environment.config, event.input, now, environment.workBucket);
}

export const handler = async (event: PlanEvent): Promise<RunPlan> =>
  handlePlan(event, await retrainingEnvironmentFor(event.input?.model));
