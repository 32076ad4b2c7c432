import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ChampionRecord, PreparedInputs, RunPlan } from '../shared/retraining-contract.ts';
import {
  dynamoModelStateStore,
  type RetrainingEnvironment,
  retrainingEnvironmentFor,
  sageMakerModelRegistry,
} from './aws.ts';
import type { ModelRegistry, ModelStateStore } from './ports.ts';

/** Registers the candidate, with its lineage, as `PendingManualApproval` in the model's package group. */
export interface RegisterEvent {
  action: 'register';
  model: string;
  executionId?: string;
  plan: RunPlan;
  data: PreparedInputs;
  training: { jobName: string; jobArn: string; artifacts: string };
  evaluation: {
    accepted: boolean;
    reason: string;
    primaryMetric: string;
    champion: number | null;
    challenger: number | null;
  };
}

/** Approves the package (the challenger now serves) and records it as the champion. */
export interface ApproveEvent {
  action: 'approve';
  model: string;
  packageArn: string;
  reason: string;
  champion: Omit<ChampionRecord, 'packageArn' | 'since'>;
  now: string;
}

/** Rejects the package, with the reason. */
export interface RejectEvent {
  action: 'reject';
  model: string;
  packageArn: string;
  reason: string;
}

export type RegistryEvent = RegisterEvent | ApproveEvent | RejectEvent;

/** SageMaker's limit on a metadata value. */
const MAX_METADATA = 256;

function clip(text: string): string {
  return text.length <= MAX_METADATA ? text : `${text.slice(0, MAX_METADATA - 1)}…`;
}

/** The lineage stored with a package (CustomerMetadataProperties); `driftwatch history` prints it. */
export function lineageMetadata(event: RegisterEvent): Record<string, string> {
  const { plan, data, training, evaluation } = event;
  const metadata: Record<string, string> = {
    runId: plan.runId,
    trigger: plan.trigger.type,
    triggerReason: plan.trigger.reason,
    trainingJob: training.jobName,
    trainingJobArn: training.jobArn,
    modelName: plan.names.challengerModel,
    modelData: training.artifacts,
    trainingData: plan.s3.trainUri,
    dataFiles: String(data.files.length),
    dataEtags: data.files
      .map((file) => `${file.key.slice(file.key.lastIndexOf('/') + 1)}=${file.etag ?? '?'}`)
      .join(' '),
    dataManifest: data.manifestUri,
    holdout: `${data.holdout.key}=${data.holdout.etag ?? '?'}`,
    primaryMetric: evaluation.primaryMetric,
    challengerScore: String(evaluation.challenger),
    championScore: String(evaluation.champion),
    evaluation: evaluation.accepted ? 'accepted' : 'rejected',
    evaluationReason: evaluation.reason,
    metrics: plan.s3.metricsUri,
  };
  if (data.segment) metadata['segment'] = `${data.segment.column}=${data.segment.value}`;
  if (event.executionId) metadata['execution'] = event.executionId;
  return Object.fromEntries(Object.entries(metadata).map(([key, value]) => [key, clip(value)]));
}

export async function handleRegistry(
  event: RegistryEvent,
  environment: RetrainingEnvironment,
  registry: ModelRegistry,
  state: ModelStateStore,
): Promise<{ packageArn: string; version: number | null; status: string }> {
  const { config } = environment;
  switch (event.action) {
    case 'register': {
      const { arn, version } = await registry.createPackage({
        groupName: config.packageGroupName,
        description: `${config.name} ${event.plan.runId}: ${event.plan.trigger.reason}`,
        image: config.inferenceImage,
        modelDataUrl: event.training.artifacts,
        metricsUri: event.plan.s3.metricsUri,
        metadata: lineageMetadata(event),
      });
      return { packageArn: arn, version, status: 'PendingManualApproval' };
    }
    case 'approve': {
      await registry.setStatus(event.packageArn, 'Approved', event.reason);
      await state.setChampion(config.name, {
        ...event.champion,
        packageArn: event.packageArn,
        since: event.now,
      });
      return { packageArn: event.packageArn, version: null, status: 'Approved' };
    }
    case 'reject': {
      await registry.setStatus(event.packageArn, 'Rejected', event.reason);
      return { packageArn: event.packageArn, version: null, status: 'Rejected' };
    }
  }
}

let clients: { registry: ModelRegistry; state: ModelStateStore } | undefined;

export const handler = async (event: RegistryEvent) => {
  const environment = await retrainingEnvironmentFor(event.model);
  clients ??= {
    registry: sageMakerModelRegistry(new SageMakerClient({})),
    state: dynamoModelStateStore(DynamoDBDocumentClient.from(new DynamoDBClient({})), environment.stateTable),
  };
  return handleRegistry(event, environment, clients.registry, clients.state);
};
