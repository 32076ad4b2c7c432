import { rawConfig } from './cdk.ts';

/** The example model with every retraining section: a small canary so the scenarios stay short. */
export function retrainingRawConfig(): ReturnType<typeof rawConfig> {
  const raw = rawConfig();
  Object.assign(raw.models[0]!, {
    endpointName: 'churn-prod',
    performance: {
      schedule: 'rate(1 day)',
      goldenDataset: 'holdout.csv',
      labelColumn: 'label',
      positiveClass: '1',
      limits: [{ metric: 'accuracy', min: 0.6 }],
    },
    retraining: {
      triggers: ['drift', 'performance'],
      cooldownHours: 24,
      monthlyBudgetUsd: 50,
      instanceType: 'ml.m5.xlarge',
      instancePricePerHourUsd: 0.23,
      image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/churn-train:1.0',
      hyperparameters: { max_depth: 5 },
      schedule: 'rate(30 days)',
      primaryMetric: 'rocAuc',
      minImprovement: 0.01,
    },
    canary: { steps: [5, 25, 100], bakeMinutes: 1, minSamples: 100, deadlineMinutes: 3 },
  });
  return raw;
}
