import type {
  DescribeEndpointOutput,
  EndpointStatus,
  ProductionVariant,
  ProductionVariantSummary,
  UpdateEndpointInput,
  UpdateEndpointWeightsAndCapacitiesInput,
} from '@aws-sdk/client-sagemaker';
import type { Model } from '../trainers/model.ts';
import type { EmulatorContext } from './context.ts';
import {
  type EndpointConfigRecord,
  findEndpointConfig,
  findModel,
  loadModel,
  ModelLoadError,
} from './models.ts';
import { requireMembers, validationError } from './protocol.ts';
import type { Operations } from './server.ts';

/** A production or shadow variant as deployed: its model loaded and ready to score. */
export interface DeployedVariant {
  name: string;
  modelName: string;
  image: string;
  model: Model;
  currentWeight: number;
  desiredWeight: number;
  currentInstanceCount: number;
  desiredInstanceCount: number;
  deployedAt: Date;
}

export interface EndpointRecord {
  name: string;
  arn: string;
  /** The configuration being served (the old one until an update finishes). */
  configName: string;
  status: EndpointStatus;
  failureReason?: string;
  creationTime: Date;
  lastModifiedTime: Date;
  variants: DeployedVariant[];
  shadowVariants: DeployedVariant[];
  /** The configuration an UpdateEndpoint is moving to. */
  pending?: { configName: string; startTime: Date; variants: ProductionVariant[] };
}

/** The statuses in which SageMaker refuses another change with "Cannot update in-progress endpoint". */
const IN_PROGRESS: readonly EndpointStatus[] = [
  'Creating',
  'Updating',
  'SystemUpdating',
  'RollingBack',
  'Deleting',
];

/** The endpoint of that name, or SageMaker's error for one that does not exist. */
export function findEndpoint(context: EmulatorContext, name: unknown): EndpointRecord {
  const endpoint = typeof name === 'string' ? context.state.endpoints.get(name) : undefined;
  if (endpoint === undefined)
    throw validationError(`Could not find endpoint "${context.arn('endpoint', String(name))}".`);
  return endpoint;
}

/** Loads the models of every variant of a configuration (all of them, or none: the first failure throws). */
async function deploy(context: EmulatorContext, config: EndpointConfigRecord) {
  const load = (variant: ProductionVariant) => {
    const record = findModel(context, variant.ModelName);
    return loadModel(context, record).then(
      (model): DeployedVariant => ({
        name: variant.VariantName!,
        modelName: record.name,
        image: record.image,
        model,
        currentWeight: variant.InitialVariantWeight ?? 1,
        desiredWeight: variant.InitialVariantWeight ?? 1,
        currentInstanceCount: variant.InitialInstanceCount ?? 1,
        desiredInstanceCount: variant.InitialInstanceCount ?? 1,
        deployedAt: context.now(),
      }),
    );
  };
  const [variants, shadowVariants] = await Promise.all([
    Promise.all((config.request.ProductionVariants ?? []).map(load)),
    Promise.all((config.request.ShadowProductionVariants ?? []).map(load)),
  ]);
  return { variants, shadowVariants };
}

function summary(variant: DeployedVariant): ProductionVariantSummary {
  return {
    VariantName: variant.name,
    DeployedImages: [
      { SpecifiedImage: variant.image, ResolvedImage: variant.image, ResolutionTime: variant.deployedAt },
    ],
    CurrentWeight: variant.currentWeight,
    DesiredWeight: variant.desiredWeight,
    CurrentInstanceCount: variant.currentInstanceCount,
    DesiredInstanceCount: variant.desiredInstanceCount,
  };
}

function describe(endpoint: EndpointRecord): DescribeEndpointOutput {
  const pending = endpoint.pending;
  return {
    EndpointName: endpoint.name,
    EndpointArn: endpoint.arn,
    EndpointConfigName: endpoint.configName,
    // Nothing is deployed while an endpoint is being created, so SageMaker lists no variants then.
    ProductionVariants: endpoint.status === 'Creating' ? undefined : endpoint.variants.map(summary),
    ShadowProductionVariants:
      endpoint.status === 'Creating' || endpoint.shadowVariants.length === 0
        ? undefined
        : endpoint.shadowVariants.map(summary),
    EndpointStatus: endpoint.status,
    FailureReason: endpoint.failureReason,
    CreationTime: endpoint.creationTime,
    LastModifiedTime: endpoint.lastModifiedTime,
    PendingDeploymentSummary:
      pending === undefined
        ? undefined
        : {
            EndpointConfigName: pending.configName,
            StartTime: pending.startTime,
            ProductionVariants: pending.variants.map((variant) => ({
              VariantName: variant.VariantName,
              DesiredWeight: variant.InitialVariantWeight ?? 1,
            })),
          },
  };
}

/**
 * Endpoints: CreateEndpoint loads the models and goes `Creating` → `InService` (or `Failed`); UpdateEndpoint
 * and UpdateEndpointWeightsAndCapacities go through `Updating`, during which the old variants keep serving
 * and any other change is refused, as on SageMaker.
 */
export function endpointOperations(context: EmulatorContext): Operations {
  const { state, timings } = context;

  const setStatus = (endpoint: EndpointRecord, status: EndpointStatus) => {
    endpoint.status = status;
    endpoint.lastModifiedTime = context.now();
    context.emit('SageMaker Endpoint State Change', endpoint.arn, { ...describe(endpoint) });
  };

  /** Refuses a change unless the endpoint is InService. */
  const requireInService = (endpoint: EndpointRecord) => {
    if (IN_PROGRESS.includes(endpoint.status))
      throw validationError(`Cannot update in-progress endpoint "${endpoint.arn}".`);
    if (endpoint.status !== 'InService')
      throw validationError(`Cannot update failed endpoint "${endpoint.arn}".`);
  };

  return {
    CreateEndpoint(input) {
      requireMembers(input, 'EndpointName', 'EndpointConfigName');
      const name = input.EndpointName as string;
      const arn = context.arn('endpoint', name);
      if (state.endpoints.has(name))
        throw validationError(`Cannot create already existing endpoint "${arn}".`);
      const config = findEndpointConfig(context, input.EndpointConfigName);
      const now = context.now();
      const endpoint: EndpointRecord = {
        name,
        arn,
        configName: config.name,
        status: 'Creating',
        creationTime: now,
        lastModifiedTime: now,
        variants: [],
        shadowVariants: [],
      };
      state.endpoints.set(name, endpoint);
      context.background(async () => {
        try {
          const [deployed] = await Promise.all([
            deploy(context, config),
            context.sleep(timings.endpointCreateSeconds),
          ]);
          Object.assign(endpoint, deployed);
          setStatus(endpoint, 'InService');
        } catch (error) {
          if (!(error instanceof ModelLoadError)) throw error;
          endpoint.failureReason = error.message;
          setStatus(endpoint, 'Failed');
        }
      });
      return { EndpointArn: arn };
    },

    DescribeEndpoint(input) {
      requireMembers(input, 'EndpointName');
      return describe(findEndpoint(context, input.EndpointName));
    },

    UpdateEndpoint(input) {
      const request = requireMembers<UpdateEndpointInput>(input, 'EndpointName', 'EndpointConfigName');
      const endpoint = findEndpoint(context, request.EndpointName);
      requireInService(endpoint);
      const config = findEndpointConfig(context, request.EndpointConfigName);
      endpoint.pending = {
        configName: config.name,
        startTime: context.now(),
        variants: config.request.ProductionVariants ?? [],
      };
      endpoint.failureReason = undefined;
      setStatus(endpoint, 'Updating');
      context.background(async () => {
        try {
          const [deployed] = await Promise.all([
            deploy(context, config),
            context.sleep(timings.endpointUpdateSeconds),
          ]);
          if (request.RetainAllVariantProperties) {
            for (const variant of deployed.variants) {
              const previous = endpoint.variants.find((old) => old.name === variant.name);
              if (previous === undefined) continue;
              variant.currentWeight = variant.desiredWeight = previous.currentWeight;
              variant.currentInstanceCount = variant.desiredInstanceCount = previous.currentInstanceCount;
            }
          }
          Object.assign(endpoint, deployed, { configName: config.name });
        } catch (error) {
          if (!(error instanceof ModelLoadError)) throw error;
          // A failed update rolls back: the old variants keep serving and the reason is reported.
          endpoint.failureReason = error.message;
        }
        endpoint.pending = undefined;
        setStatus(endpoint, 'InService');
      });
      return { EndpointArn: endpoint.arn };
    },

    UpdateEndpointWeightsAndCapacities(input) {
      const request = requireMembers<UpdateEndpointWeightsAndCapacitiesInput>(
        input,
        'EndpointName',
        'DesiredWeightsAndCapacities',
      );
      const endpoint = findEndpoint(context, request.EndpointName);
      requireInService(endpoint);
      const changes = request.DesiredWeightsAndCapacities ?? [];
      const unknown = changes.filter(
        (change) => !endpoint.variants.some((variant) => variant.name === change.VariantName),
      );
      if (unknown.length > 0) {
        const names = unknown.map((change) => change.VariantName).join(', ');
        throw validationError(
          `The variant(s) "[${names}]" is/are not present in endpoint "${endpoint.arn}".`,
        );
      }
      for (const change of changes) {
        if (change.DesiredWeight !== undefined && !(change.DesiredWeight >= 0)) {
          throw validationError(`DesiredWeight of variant ${change.VariantName} must be >= 0.`);
        }
      }
      for (const change of changes) {
        const variant = endpoint.variants.find((item) => item.name === change.VariantName)!;
        if (change.DesiredWeight !== undefined) variant.desiredWeight = change.DesiredWeight;
        if (change.DesiredInstanceCount !== undefined)
          variant.desiredInstanceCount = change.DesiredInstanceCount;
      }
      endpoint.failureReason = undefined;
      setStatus(endpoint, 'Updating');
      context.background(async () => {
        await context.sleep(timings.weightsUpdateSeconds);
        for (const variant of endpoint.variants) {
          variant.currentWeight = variant.desiredWeight;
          variant.currentInstanceCount = variant.desiredInstanceCount;
        }
        setStatus(endpoint, 'InService');
      });
      return { EndpointArn: endpoint.arn };
    },

    DeleteEndpoint(input) {
      requireMembers(input, 'EndpointName');
      const endpoint = findEndpoint(context, input.EndpointName);
      if (IN_PROGRESS.includes(endpoint.status))
        throw validationError(`Cannot update in-progress endpoint "${endpoint.arn}".`);
      state.endpoints.delete(endpoint.name);
      return {};
    },
  };
}
