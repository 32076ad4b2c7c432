import type {
  ContainerDefinition,
  CreateEndpointConfigInput,
  CreateModelInput,
  DescribeEndpointConfigOutput,
  DescribeModelOutput,
  ProductionVariant,
} from '@aws-sdk/client-sagemaker';
import { unpackModel } from '../trainers/artifact.ts';
import type { Model } from '../trainers/model.ts';
import type { EmulatorContext } from './context.ts';
import { requireMembers, validationError } from './protocol.ts';
import { getBytes, parseS3Uri } from './s3.ts';
import type { Operations } from './server.ts';

export interface ModelRecord {
  name: string;
  arn: string;
  request: CreateModelInput;
  /** The serving image and artifact, from the container or the model package it names. */
  image: string;
  modelDataUrl: string;
  creationTime: Date;
}

export interface EndpointConfigRecord {
  name: string;
  arn: string;
  request: CreateEndpointConfigInput;
  creationTime: Date;
}

/** A model that cannot be served: its artifact is missing or not a driftwatch model. */
export class ModelLoadError extends Error {
  override readonly name = 'ModelLoadError';
}

/**
 * Downloads and unpacks a model's artifact, with the failure reason SageMaker gives an endpoint whose model
 * data cannot be fetched.
 * @throws ModelLoadError
 */
export async function loadModel(context: EmulatorContext, record: ModelRecord): Promise<Model> {
  let artifact: Uint8Array;
  try {
    artifact = await getBytes(context.s3As(record.request.ExecutionRoleArn), parseS3Uri(record.modelDataUrl));
  } catch {
    throw new ModelLoadError(
      `Failed to download model data for container "container_1" from URL: "${record.modelDataUrl}". Please ensure that there is an object located at the URL and that the role passed to CreateModel has permissions to download the object.`,
    );
  }
  try {
    return unpackModel(artifact);
  } catch (error) {
    throw new ModelLoadError(
      `The model data at "${record.modelDataUrl}" cannot be served: ${(error as Error).message}`,
    );
  }
}

/** The model of that name, or SageMaker's error for a model that does not exist. */
export function findModel(context: EmulatorContext, name: unknown): ModelRecord {
  const model = typeof name === 'string' ? context.state.models.get(name) : undefined;
  if (model === undefined)
    throw validationError(`Could not find model "${context.arn('model', String(name))}".`);
  return model;
}

/** The endpoint configuration of that name, or SageMaker's error for one that does not exist. */
export function findEndpointConfig(context: EmulatorContext, name: unknown): EndpointConfigRecord {
  const config = typeof name === 'string' ? context.state.endpointConfigs.get(name) : undefined;
  if (config === undefined) {
    throw validationError(
      `Could not find endpoint configuration "${context.arn('endpoint-config', String(name))}".`,
    );
  }
  return config;
}

/** Models and endpoint configurations: plain records that endpoints and transform jobs deploy. */
export function modelOperations(context: EmulatorContext): Operations {
  const { state } = context;

  /** The image and model data of a container, looked up in the registry when it names a model package. */
  const resolveContainer = (container: ContainerDefinition) => {
    if (container.ModelPackageName !== undefined) {
      const modelPackage = state.modelPackages.get(container.ModelPackageName);
      if (modelPackage === undefined) {
        throw validationError(`ModelPackage ${container.ModelPackageName} does not exist.`);
      }
      const packaged = modelPackage.request.InferenceSpecification?.Containers?.[0];
      return { image: packaged?.Image, modelDataUrl: packaged?.ModelDataUrl };
    }
    return { image: container.Image, modelDataUrl: container.ModelDataUrl };
  };

  return {
    CreateModel(input) {
      const request = requireMembers<CreateModelInput>(input, 'ModelName');
      const name = request.ModelName!;
      const arn = context.arn('model', name);
      if (state.models.has(name)) throw validationError(`Cannot create already existing model "${arn}".`);
      const container = request.PrimaryContainer ?? request.Containers?.[0];
      if (container === undefined)
        throw validationError('Either PrimaryContainer or Containers must be specified.');
      const { image, modelDataUrl } = resolveContainer(container);
      if (image === undefined || modelDataUrl === undefined || !modelDataUrl.startsWith('s3://')) {
        throw validationError(
          'The container needs an Image and an s3:// ModelDataUrl: the emulator serves model artifacts only.',
        );
      }
      state.models.set(name, { name, arn, request, image, modelDataUrl, creationTime: context.now() });
      return { ModelArn: arn };
    },

    DescribeModel(input): DescribeModelOutput {
      requireMembers(input, 'ModelName');
      const model = findModel(context, input.ModelName);
      return {
        ModelName: model.name,
        ModelArn: model.arn,
        PrimaryContainer: model.request.PrimaryContainer,
        Containers: model.request.Containers,
        ExecutionRoleArn: model.request.ExecutionRoleArn,
        CreationTime: model.creationTime,
      };
    },

    DeleteModel(input) {
      requireMembers(input, 'ModelName');
      state.models.delete(findModel(context, input.ModelName).name);
      return {};
    },

    CreateEndpointConfig(input) {
      const request = requireMembers<CreateEndpointConfigInput>(
        input,
        'EndpointConfigName',
        'ProductionVariants',
      );
      const name = request.EndpointConfigName!;
      const arn = context.arn('endpoint-config', name);
      if (state.endpointConfigs.has(name)) {
        throw validationError(`Cannot create already existing endpoint configuration "${arn}".`);
      }
      const variants: ProductionVariant[] = [
        ...(request.ProductionVariants ?? []),
        ...(request.ShadowProductionVariants ?? []),
      ];
      if ((request.ProductionVariants ?? []).length === 0)
        throw validationError('ProductionVariants must not be empty.');
      const names = new Set<string>();
      for (const variant of variants) {
        if (variant.VariantName === undefined)
          throw validationError('Every production variant needs a VariantName.');
        if (names.has(variant.VariantName)) {
          throw validationError(
            `Variant names must be unique: ${JSON.stringify(variant.VariantName)} appears twice.`,
          );
        }
        names.add(variant.VariantName);
        findModel(context, variant.ModelName);
        if (variant.InitialVariantWeight !== undefined && variant.InitialVariantWeight < 0) {
          throw validationError(`InitialVariantWeight of ${variant.VariantName} must be >= 0.`);
        }
      }
      state.endpointConfigs.set(name, { name, arn, request, creationTime: context.now() });
      return { EndpointConfigArn: arn };
    },

    DescribeEndpointConfig(input): DescribeEndpointConfigOutput {
      requireMembers(input, 'EndpointConfigName');
      const config = findEndpointConfig(context, input.EndpointConfigName);
      return {
        EndpointConfigName: config.name,
        EndpointConfigArn: config.arn,
        ProductionVariants: config.request.ProductionVariants?.map((variant) => ({
          InitialVariantWeight: 1,
          ...variant,
        })),
        ShadowProductionVariants: config.request.ShadowProductionVariants,
        DataCaptureConfig: config.request.DataCaptureConfig,
        CreationTime: config.creationTime,
      };
    },

    DeleteEndpointConfig(input) {
      requireMembers(input, 'EndpointConfigName');
      state.endpointConfigs.delete(findEndpointConfig(context, input.EndpointConfigName).name);
      return {};
    },
  };
}
