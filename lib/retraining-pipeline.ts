import { fileURLToPath } from 'node:url';
import { Duration, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { DETAIL_TYPE, EVENT_SOURCE } from '../lambdas/shared/contract.ts';
import {
  RETRAINING_ENV,
  type RetrainingExecutionInput,
  type RetrainingRuntimeConfig,
  retrainingNames,
} from '../lambdas/shared/retraining-contract.ts';
import type { CanaryConfig, ModelConfig } from './config/model-config.ts';
import { defaultCanaryConfig } from './config/validate.ts';
import { lambdaBundling } from './lambda-bundling.ts';
import { acknowledgeWildcardResource, XRAY_FUNCTION_ACTIONS } from './nag.ts';
import { type RetrainingFunctions, retrainingDefinition } from './retraining/retraining-states.ts';

const HANDLERS = {
  plan: 'plan.ts',
  costGate: 'cost-gate.ts',
  prepareInputs: 'prepare-inputs.ts',
  evaluate: 'evaluate.ts',
  register: 'register.ts',
  canaryDecision: 'canary-decision.ts',
} as const satisfies Record<keyof RetrainingFunctions, string>;

/** Source of a retraining Lambda shipped with driftwatch. */
export function retrainingHandlerEntry(name: keyof RetrainingFunctions): string {
  return fileURLToPath(new URL(`../lambdas/retraining/${HANDLERS[name]}`, import.meta.url));
}

/** Where a run's files go in the results bucket. */
export const RETRAINING_WORK_PREFIX = 'retraining/';

/**
 * What the retraining Lambdas of `model` need. Pure, like `driftRuntimeConfig`.
 *
 * @throws Error when the model has no retraining section, endpoint or performance section (the validator
 * already refuses such a config).
 */
export function retrainingRuntimeConfig(model: ModelConfig, stackName: string): RetrainingRuntimeConfig {
  const { retraining, performance, endpointName } = model;
  if (!retraining || !performance || !endpointName) {
    throw new Error(`model ${model.name}: retraining needs retraining, performance and endpointName`);
  }
  const canary: CanaryConfig = model.canary ?? defaultCanaryConfig(model.name);
  const declared = Object.keys(model.features);
  return {
    name: model.name,
    endpointName,
    packageGroupName: retrainingNames.packageGroup(stackName, model.name),
    goldenPrefix: model.prefixes.golden,
    holdoutKey: `${model.prefixes.golden}${retraining.holdoutDataset}`,
    workPrefix: `${RETRAINING_WORK_PREFIX}${model.name}/`,
    feedbackPrefix: canary.feedbackPrefix,
    labelColumn: performance.labelColumn,
    positiveClass: performance.positiveClass,
    threshold: performance.threshold,
    segmentColumn: performance.segmentColumn,
    featureColumns: declared.length > 0 ? declared : null,
    exclude: [...model.exclude, ...(performance.scoreColumn ? [performance.scoreColumn] : [])],
    dataWindowDays: retraining.dataWindowDays,
    cooldownHours: retraining.cooldownHours,
    monthlyBudgetUsd: retraining.monthlyBudgetUsd,
    instanceCount: retraining.instanceCount,
    instancePricePerHourUsd: retraining.instancePricePerHourUsd,
    maxRuntimeMinutes: retraining.maxRuntimeMinutes,
    inferenceImage: retraining.inferenceImage,
    primaryMetric: retraining.primaryMetric,
    minImprovement: retraining.minImprovement,
    segmentTolerance: retraining.segmentTolerance,
    floors: performance.limits
      .filter((limit) => limit.min !== undefined || limit.max !== undefined)
      .map((limit) => ({
        metric: limit.metric,
        ...(limit.segment !== undefined && limit.segment !== null && { segment: limit.segment }),
        ...(limit.min !== undefined && { min: limit.min }),
        ...(limit.max !== undefined && { max: limit.max }),
      })),
    canary: {
      steps: [...canary.steps],
      bakeMinutes: canary.bakeMinutes,
      alpha: canary.alpha,
      minSamples: canary.minSamples,
      shadow: canary.shadow,
      deadlineMinutes: canary.deadlineMinutes,
      maxErrorRate: canary.maxErrorRate,
      maxLatencyIncrease: canary.maxLatencyIncrease,
    },
  };
}

export interface RetrainingPipelineProps {
  /** A validated model with `retraining`, `performance` and `endpointName`. */
  model: ModelConfig;
  /** Names the state machine, the package group and the table by convention. */
  stackName: string;
  /** Labelled data (golden prefix) and feedback. */
  landingBucket: s3.IBucket;
  /** Training inputs, artifacts, scores under `retraining/<model>/`. */
  resultsBucket: s3.IBucket;
  stateTable: dynamodb.ITable;
  /** Notifications and pages (rejections, rollbacks, budget refusals, failures). */
  topic: sns.ITopic;
  /** @default the account's default bus */
  eventBus?: events.IEventBus;
  /** @default RetentionDays.THREE_MONTHS */
  logRetention?: logs.RetentionDays;
}

/**
 * Retraining and canary rollout of one model: a Step Functions state machine from SageMaker training to
 * promotion or rollback, its Lambdas, the SageMaker execution role, the model package group, and what starts
 * it (EventBridge rules on driftwatch's own events, an optional schedule; `driftwatch retrain` by hand).
 *
 * @example
 * ```ts
 * const pipeline = new RetrainingPipeline(this, 'Retraining-churn', {
 *   model, stackName: 'Driftwatch', landingBucket, resultsBucket, stateTable, topic: alerting.topic,
 * });
 * alerting.alarmOnFailedExecutions(pipeline.stateMachine, { model: model.name });
 * ```
 */
export class RetrainingPipeline extends Construct {
  readonly stateMachine: sfn.StateMachine;
  /** Assumed by SageMaker for training, transform and the models. */
  readonly sageMakerRole: iam.Role;
  readonly packageGroup: sagemaker.CfnModelPackageGroup;
  readonly functions: RetrainingFunctions;
  readonly rules: events.Rule[] = [];
  readonly schedule?: scheduler.Schedule;
  readonly runtimeConfig: RetrainingRuntimeConfig;

  constructor(scope: Construct, id: string, props: RetrainingPipelineProps) {
    super(scope, id);
    const { model, landingBucket, resultsBucket, stateTable, topic } = props;
    const retraining = model.retraining!;
    const canary = model.canary ?? defaultCanaryConfig(model.name);
    const config = retrainingRuntimeConfig(model, props.stackName);
    this.runtimeConfig = config;
    const stack = Stack.of(this);
    const logRetention = props.logRetention ?? logs.RetentionDays.THREE_MONTHS;
    const work = resultsBucket.arnForObjects(`${config.workPrefix}*`);

    this.packageGroup = new sagemaker.CfnModelPackageGroup(this, 'PackageGroup', {
      modelPackageGroupName: config.packageGroupName,
      modelPackageGroupDescription: `driftwatch: retrained versions of model ${model.name}`,
    });
    // SageMaker keeps the name's case in model package (group) ARNs, unlike endpoint ARNs: IAM compares
    // ARNs case-sensitively, so the grants name the group exactly as it is created.
    const packageGroupArn = stack.formatArn({
      service: 'sagemaker',
      resource: 'model-package-group',
      resourceName: config.packageGroupName,
    });
    const packagesArn = stack.formatArn({
      service: 'sagemaker',
      resource: 'model-package',
      resourceName: `${config.packageGroupName}/*`,
    });

    // --- SageMaker execution role: reads the run's inputs, writes its outputs, pulls the images -------------
    this.sageMakerRole = new iam.Role(this, 'SageMakerRole', {
      assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com'),
      description: `SageMaker training and batch transform of model ${model.name}`,
    });
    this.sageMakerRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'RunFiles',
        actions: ['s3:GetObject', 's3:PutObject'],
        resources: [work],
      }),
    );
    this.sageMakerRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ListRunFiles',
        actions: ['s3:ListBucket'],
        resources: [resultsBucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${config.workPrefix}*`] } },
      }),
    );
    const images = [...new Set([retraining.image, retraining.inferenceImage, retraining.championImage])];
    const repositories = images.map((image) => {
      const [, account, region, repository] =
        /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([^:@]+)/.exec(image)!;
      return `arn:${stack.partition}:ecr:${region}:${account}:repository/${repository}`;
    });
    this.sageMakerRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'PullImages',
        actions: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'],
        resources: repositories,
      }),
    );
    this.sageMakerRole.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'EcrToken', actions: ['ecr:GetAuthorizationToken'], resources: ['*'] }),
    );
    const sageMakerLogGroups = `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:/aws/sagemaker/*`;
    this.sageMakerRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'JobLogs',
        actions: [
          'logs:CreateLogGroup',
          'logs:CreateLogStream',
          'logs:PutLogEvents',
          'logs:DescribeLogStreams',
        ],
        resources: [sageMakerLogGroups],
      }),
    );
    this.sageMakerRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'JobMetrics',
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringLike: { 'cloudwatch:namespace': ['/aws/sagemaker/*', 'aws/sagemaker/*'] } },
      }),
    );
    for (const key of [resultsBucket.encryptionKey].filter((k): k is kms.IKey => k !== undefined)) {
      key.grant(this.sageMakerRole, 'kms:Decrypt', 'kms:GenerateDataKey');
    }

    // --- Lambdas -------------------------------------------------------------------------------------------
    const environment = {
      [RETRAINING_ENV.modelConfig]: JSON.stringify(config),
      [RETRAINING_ENV.dataBucket]: landingBucket.bucketName,
      [RETRAINING_ENV.workBucket]: resultsBucket.bucketName,
      [RETRAINING_ENV.stateTable]: stateTable.tableName,
      NODE_OPTIONS: '--enable-source-maps',
    };
    const fn = (name: keyof RetrainingFunctions, description: string, timeout = Duration.minutes(2)) => {
      const logGroup = new logs.LogGroup(this, `${name}Logs`, { retention: logRetention });
      const role = new iam.Role(this, `${name}Role`, {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: `Retraining of model ${model.name}: ${description}`,
      });
      logGroup.grantWrite(role);
      if (name !== 'canaryDecision') {
        acknowledgeWildcardResource(
          role,
          '*',
          XRAY_FUNCTION_ACTIONS,
          'X-Ray PutTraceSegments and PutTelemetryRecords (active tracing) have no resource-level permissions.',
        );
      }
      return new nodejs.NodejsFunction(this, name, {
        description: `driftwatch: ${description} (model ${model.name})`,
        entry: retrainingHandlerEntry(name),
        handler: 'handler',
        runtime: lambda.Runtime.NODEJS_24_X,
        architecture: lambda.Architecture.ARM_64,
        memorySize: name === 'evaluate' || name === 'prepareInputs' ? 1769 : 512,
        timeout,
        tracing: lambda.Tracing.ACTIVE,
        role,
        logGroup,
        environment: { ...environment, POWERTOOLS_SERVICE_NAME: `driftwatch-retraining-${name}` },
        bundling: lambdaBundling(),
      });
    };
    const functions: RetrainingFunctions = {
      plan: fn('plan', 'plan a retraining run', Duration.seconds(30)),
      costGate: fn('costGate', 'retraining cost gate', Duration.seconds(30)),
      prepareInputs: fn('prepareInputs', 'prepare training inputs', Duration.minutes(5)),
      evaluate: fn('evaluate', 'champion vs challenger evaluation', Duration.minutes(5)),
      register: fn('register', 'model registry', Duration.seconds(60)),
      canaryDecision: fn('canaryDecision', 'canary decision', Duration.seconds(60)),
    };
    this.functions = functions;
    const golden = landingBucket.arnForObjects(`${model.prefixes.golden}*`);
    const feedback = landingBucket.arnForObjects(`${canary.feedbackPrefix}*`);
    const listUnder = (prefix: string) =>
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [landingBucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${prefix}*`] } },
      });
    const grant = (f: lambda.IFunction, ...statements: iam.PolicyStatement[]) => {
      for (const statement of statements) f.addToRolePolicy(statement);
    };
    grant(
      functions.costGate,
      new iam.PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
        resources: [stateTable.tableArn],
      }),
    );
    grant(
      functions.prepareInputs,
      new iam.PolicyStatement({ actions: ['s3:GetObject', 's3:GetObjectVersion'], resources: [golden] }),
      listUnder(model.prefixes.golden),
      new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [work] }),
    );
    grant(
      functions.evaluate,
      new iam.PolicyStatement({ actions: ['s3:GetObject', 's3:PutObject'], resources: [work] }),
    );
    grant(
      functions.register,
      new iam.PolicyStatement({
        actions: ['sagemaker:CreateModelPackage'],
        resources: [packageGroupArn, packagesArn],
      }),
      new iam.PolicyStatement({ actions: ['sagemaker:UpdateModelPackage'], resources: [packagesArn] }),
      new iam.PolicyStatement({ actions: ['dynamodb:UpdateItem'], resources: [stateTable.tableArn] }),
    );
    grant(
      functions.canaryDecision,
      new iam.PolicyStatement({ actions: ['cloudwatch:GetMetricData'], resources: ['*'] }),
      new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [feedback] }),
      listUnder(canary.feedbackPrefix),
    );
    for (const key of [landingBucket.encryptionKey, resultsBucket.encryptionKey]) {
      if (!key) continue;
      key.grant(functions.prepareInputs, 'kms:Decrypt', 'kms:GenerateDataKey');
      key.grant(functions.canaryDecision, 'kms:Decrypt');
      key.grant(functions.evaluate, 'kms:Decrypt', 'kms:GenerateDataKey');
    }
    acknowledgeWildcardResource(
      functions.prepareInputs.role!,
      golden,
      ['s3:GetObject', 's3:GetObjectVersion'],
      `Reads the labelled files of model ${model.name}: new files arrive under new names in its golden prefix.`,
    );
    acknowledgeWildcardResource(
      functions.prepareInputs.role!,
      work,
      ['s3:PutObject'],
      `Writes a run's inputs under ${config.workPrefix}, one new prefix per run of model ${model.name}.`,
    );
    acknowledgeWildcardResource(
      functions.evaluate.role!,
      work,
      ['s3:GetObject', 's3:PutObject'],
      `Reads a run's transform outputs and writes its evaluation under ${config.workPrefix}, one new prefix per run.`,
    );
    acknowledgeWildcardResource(
      functions.canaryDecision.role!,
      feedback,
      ['s3:GetObject'],
      `Reads the labelled feedback files of model ${model.name}, uploaded under new names.`,
    );
    acknowledgeWildcardResource(
      functions.register.role!,
      packagesArn,
      ['sagemaker:CreateModelPackage', 'sagemaker:UpdateModelPackage'],
      `Creates and approves the versions of the package group ${config.packageGroupName}, numbered by SageMaker.`,
    );
    acknowledgeWildcardResource(
      functions.canaryDecision.role!,
      '*',
      ['cloudwatch:GetMetricData', ...XRAY_FUNCTION_ACTIONS],
      'CloudWatch GetMetricData has no resource-level permissions; X-Ray tracing neither.',
    );
    acknowledgeWildcardResource(
      this.sageMakerRole,
      work,
      ['s3:GetObject', 's3:PutObject'],
      `SageMaker reads and writes a run's files under ${config.workPrefix}, one new prefix per run.`,
    );
    acknowledgeWildcardResource(
      this.sageMakerRole,
      sageMakerLogGroups,
      ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
      'SageMaker jobs log to /aws/sagemaker/TrainingJobs and /aws/sagemaker/TransformJobs, with one stream per job.',
    );
    acknowledgeWildcardResource(
      this.sageMakerRole,
      '*',
      ['ecr:GetAuthorizationToken', 'cloudwatch:PutMetricData'],
      'The ECR token (ecr:GetAuthorizationToken) and cloudwatch:PutMetricData (limited by namespace) have no resource-level permissions.',
    );

    // --- State machine -------------------------------------------------------------------------------------
    const logGroup = new logs.LogGroup(this, 'StateMachineLogs', {
      retention: logRetention,
      logGroupName: `/aws/vendedlogs/states/${retrainingNames.stateMachine(props.stackName, model.name)}`,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName: retrainingNames.stateMachine(props.stackName, model.name),
      comment: `driftwatch: retraining and canary rollout of model ${model.name}`,
      definitionBody: sfn.DefinitionBody.fromChainable(
        retrainingDefinition(this, {
          model: model.name,
          endpointName: config.endpointName,
          retraining,
          canary,
          functions,
          stateTable,
          topic,
          sageMakerRole: this.sageMakerRole,
        }),
      ),
      // Bake periods, deadlines and training: a run takes hours, never more than a week.
      timeout: Duration.days(7),
      tracingEnabled: true,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
    // SnsPublish grants sns:Publish; the encrypted topic's key is granted here without the wildcard actions.
    topic.masterKey?.grant(this.stateMachine, 'kms:Decrypt', 'kms:GenerateDataKey');
    const machineRole = this.stateMachine.role;
    acknowledgeWildcardResource(
      machineRole,
      '*',
      [
        'logs:CreateLogDelivery',
        'logs:GetLogDelivery',
        'logs:UpdateLogDelivery',
        'logs:DeleteLogDelivery',
        'logs:ListLogDeliveries',
        'logs:PutResourcePolicy',
        'logs:DescribeResourcePolicies',
        'logs:DescribeLogGroups',
        'xray:PutTraceSegments',
        'xray:PutTelemetryRecords',
        'xray:GetSamplingRules',
        'xray:GetSamplingTargets',
        'sagemaker:ListTags',
      ],
      'Step Functions log delivery, X-Ray and sagemaker:ListTags (used by the .sync integrations) have no resource-level permissions.',
    );
    const sageMakerArn = (resource: string, resourceName: string) =>
      stack.formatArn({ service: 'sagemaker', resource, resourceName });
    const runNames: [string, string[]][] = [
      [
        'training-job',
        [
          'sagemaker:CreateTrainingJob',
          'sagemaker:DescribeTrainingJob',
          'sagemaker:StopTrainingJob',
          'sagemaker:AddTags',
        ],
      ],
      [
        'transform-job',
        [
          'sagemaker:CreateTransformJob',
          'sagemaker:DescribeTransformJob',
          'sagemaker:StopTransformJob',
          'sagemaker:AddTags',
        ],
      ],
      ['model', ['sagemaker:CreateModel']],
    ];
    for (const [resource, actions] of runNames) {
      acknowledgeWildcardResource(
        machineRole,
        sageMakerArn(resource, `${model.name}-*`),
        actions,
        `Each run creates its ${resource}s named ${model.name}-<run id>..., so the full name is not known at deploy time.`,
      );
    }
    acknowledgeWildcardResource(
      machineRole,
      sageMakerArn('model', '*'),
      ['sagemaker:DescribeModel'],
      'Reads the model the endpoint serves (to score the holdout with a copy of it), named by whoever deployed it.',
    );
    acknowledgeWildcardResource(
      machineRole,
      sageMakerArn('endpoint-config', '*'),
      ['sagemaker:DescribeEndpointConfig', 'sagemaker:updateEndpoint'],
      'Reads the endpoint config in service and restores it on rollback; it may be named by whoever deployed the endpoint.',
    );
    acknowledgeWildcardResource(
      machineRole,
      stack.formatArn({
        service: 'sagemaker',
        resource: 'endpoint-config',
        resourceName: `${config.endpointName.toLowerCase()}*`,
      }),
      ['sagemaker:CreateEndpointConfig'],
      `Creates the canary and promoted configs of endpoint ${config.endpointName}, named after the endpoint and the run id.`,
    );
    for (const f of Object.values(functions) as lambda.IFunction[]) {
      acknowledgeWildcardResource(
        machineRole,
        `${f.functionArn}:*`,
        ['lambda:InvokeFunction'],
        'LambdaInvoke tasks are granted the function and its versions and aliases, as CDK writes it.',
      );
    }

    // --- Triggers ------------------------------------------------------------------------------------------
    const eventBus = props.eventBus ?? events.EventBus.fromEventBusName(this, 'DefaultBus', 'default');
    const target = (type: string) =>
      new targets.SfnStateMachine(this.stateMachine, {
        input: events.RuleTargetInput.fromObject({
          model: model.name,
          trigger: { type, detail: events.EventField.fromPath('$.detail') },
        }),
        retryAttempts: 3,
      });
    const driftPatterns: Record<string, unknown>[] = [];
    if (retraining.triggers.includes('drift')) driftPatterns.push({ datasetDrift: [true] });
    if (retraining.triggers.includes('criticalFeatureDrift')) {
      driftPatterns.push({ criticalFeatures: [{ exists: true }] });
    }
    if (driftPatterns.length > 0) {
      const type = retraining.triggers.includes('drift') ? 'drift' : 'criticalFeatureDrift';
      this.rules.push(
        new events.Rule(this, 'OnDrift', {
          description: `Drift of model ${model.name} starts its retraining`,
          eventBus,
          eventPattern: {
            source: [EVENT_SOURCE],
            detailType: [DETAIL_TYPE.driftDetected],
            detail:
              driftPatterns.length === 1
                ? { model: [model.name], ...driftPatterns[0] }
                : { model: [model.name], $or: driftPatterns },
          },
          targets: [target(type)],
        }),
      );
    }
    if (retraining.triggers.includes('performance')) {
      this.rules.push(
        new events.Rule(this, 'OnPerformanceDegraded', {
          description: `Degraded performance of model ${model.name} starts its retraining`,
          eventBus,
          eventPattern: {
            source: [EVENT_SOURCE],
            detailType: [DETAIL_TYPE.performanceDegraded],
            detail: { model: [model.name] },
          },
          targets: [target('performance')],
        }),
      );
    }
    if (retraining.schedule) {
      const input: RetrainingExecutionInput = {
        model: model.name,
        trigger: { type: 'schedule', detail: retraining.schedule },
      };
      this.schedule = new scheduler.Schedule(this, 'Schedule', {
        description: `Scheduled retraining of model ${model.name}`,
        schedule: scheduler.ScheduleExpression.expression(retraining.schedule),
        target: new schedulerTargets.StepFunctionsStartExecution(this.stateMachine, {
          input: scheduler.ScheduleTargetInput.fromObject(input),
        }),
      });
    }
  }
}
