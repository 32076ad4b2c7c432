import {
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  type SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import type { AwsClientStub } from 'aws-sdk-client-mock';

/**
 * Answers the SageMaker calls by which the drift handler learns the model serving each variant of an
 * endpoint: DescribeEndpoint (its endpoint config and the variants' weights), then DescribeEndpointConfig
 * (the variants' models). `variants`: name -> [model, weight]; the champion is the model of the variant
 * with the most weight.
 */
export function stubServingModels(
  sagemaker: AwsClientStub<SageMakerClient>,
  variants: Readonly<Record<string, readonly [model: string, weight: number]>>,
  config: { name?: string; createdAt?: Date } = {},
): void {
  const name = config.name ?? 'churn-config';
  const entries = Object.entries(variants);
  sagemaker.on(DescribeEndpointCommand).resolves({
    EndpointName: 'churn-endpoint',
    EndpointConfigName: name,
    ProductionVariants: entries.map(([variant, [, weight]]) => ({
      VariantName: variant,
      CurrentWeight: weight,
    })),
  });
  sagemaker.on(DescribeEndpointConfigCommand).resolves({
    EndpointConfigName: name,
    ...(config.createdAt && { CreationTime: config.createdAt }),
    ProductionVariants: entries.map(([variant, [model]]) => ({ VariantName: variant, ModelName: model })),
  });
}
