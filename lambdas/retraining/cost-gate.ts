import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type CostDecision, costGate } from '../core/retraining/cost.ts';
import type { RunPlan } from '../shared/retraining-contract.ts';
import { dynamoModelStateStore, type RetrainingEnvironment, retrainingEnvironmentFor } from './aws.ts';
import type { ModelStateStore } from './ports.ts';

export interface CostGateEvent {
  model: string;
  plan: RunPlan;
}

/**
 * Estimates the run's worst-case training cost and compares it with the month's budget; when it fits, the
 * estimate is added to the month's spend at once (a reservation: a run that ends early still counts its
 * worst case, which keeps the gate conservative and needs no accounting at the end).
 */
export async function handleCostGate(
  event: CostGateEvent,
  environment: RetrainingEnvironment,
  state: ModelStateStore,
): Promise<CostDecision> {
  const { config } = environment;
  const item = await state.get(config.name);
  const decision = costGate(
    config,
    config.monthlyBudgetUsd,
    { month: item?.spendMonth ?? null, usd: item?.spendUsd ?? 0 },
    new Date(event.plan.now),
  );
  if (decision.allowed) await state.addSpend(config.name, decision.month, decision.estimateUsd);
  return decision;
}

let store: ModelStateStore | undefined;

export const handler = async (event: CostGateEvent): Promise<CostDecision> => {
  const environment = await retrainingEnvironmentFor(event.model);
  store ??= dynamoModelStateStore(
    DynamoDBDocumentClient.from(new DynamoDBClient({})),
    environment.stateTable,
  );
  return handleCostGate(event, environment, store);
};
