import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { DETAIL_TYPE, EVENT_SOURCE } from '../lambdas/shared/contract.ts';
import { MODELS_ENV } from '../lambdas/shared/model-catalog.ts';
import {
  RETRAINING_ENV,
  type RetrainingExecutionInput,
  retrainingNames,
} from '../lambdas/shared/retraining-contract.ts';
import { BundledFunction } from './bundled-function.ts';
import type { ModelConfig } from './config/model-config.ts';
import { RETRAINING_WORK_PREFIX } from './config/runtime.ts';
import { modelParametersArn } from './drift-detector.ts';
import { acknowledgeWildcardResource, acknowledgeXRay, XRAY_FUNCTION_ACTIONS } from './nag.ts';
import { ENGINE_TAG } from './retraining/engine-tag.ts';
import { type RetrainingFunctions, retrainingDefinition } from './retraining/retraining-states.ts';

export { RETRAINING_WORK_PREFIX, retrainingRuntimeConfig } from './config/runtime.ts';

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

export interface RetrainingPipelineProps {
  /** Names the state machine and the package groups (`<stack>-<model>`) by convention. */
  stackName: string;
  /** SSM path of the model parameters: the functions read the model of each run there. */
  modelsParameterPath: string;
  /** Labelled data (golden prefixes) and feedback. */
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
 * Retraining and canary rollout of every model of the deployment: ONE Step Functions state machine that
 * takes the model in its input (`{"model": …, "trigger": …}`), its Lambdas (which read the model's config
 * from its parameter), the SageMaker execution role, and the rules that start it on driftwatch's own events
 * (`Drift Detected`, `Performance Degraded`; the Plan step ends a run whose model is not retrained by that
 * trigger). Per model, only {@link RetrainingPipeline.addModel}: its package group and optional schedule.
 */
export class RetrainingPipeline extends Construct {
  readonly stateMachine: sfn.StateMachine;
  /** Assumed by SageMaker for training, transform and the models. */
  readonly sageMakerRole: iam.Role;
  readonly functions: RetrainingFunctions;
  readonly rules: events.Rule[] = [];
  /** Assumed by EventBridge Scheduler for the models' retraining schedules. */
  readonly scheduleRole: iam.Role;
  private readonly stackName: string;

  constructor(scope: Construct, id: string, props: RetrainingPipelineProps) {
    super(scope, id);
    const { landingBucket, resultsBucket, stateTable, topic } = props;
    this.stackName = props.stackName;
    const stack = Stack.of(this);
    const logRetention = props.logRetention ?? logs.RetentionDays.THREE_MONTHS;
    const work = resultsBucket.arnForObjects(`${RETRAINING_WORK_PREFIX}*`);
    // Package groups are named `<stack>-<model>` in the case they are created with; IAM compares ARNs
    // case-sensitively and SageMaker keeps the group's case in its ARN (only endpoint ARNs are lower-cased).
    const packageGroupsArn = stack.formatArn({
      service: 'sagemaker',
      resource: 'model-package-group',
      resourceName: `${props.stackName}-*`,
    });
    const packagesArn = stack.formatArn({
      service: 'sagemaker',
      resource: 'model-package',
      resourceName: `${props.stackName}-*/*`,
    });

    // --- SageMaker execution role: reads the run's inputs, writes its outputs, pulls the images -------------
    this.sageMakerRole = new iam.Role(this, 'SageMakerRole', {
      assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com'),
      description: 'SageMaker training and batch transform of driftwatch retraining runs',
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
        conditions: { StringLike: { 's3:prefix': [`${RETRAINING_WORK_PREFIX}*`] } },
      }),
    );
    const repositories = `arn:${stack.partition}:ecr:*:*:repository/*`;
    this.sageMakerRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'PullImages',
        actions: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'],
        resources: [repositories],
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
    if (resultsBucket.encryptionKey) {
      resultsBucket.encryptionKey.grant(this.sageMakerRole, 'kms:Decrypt', 'kms:GenerateDataKey');
    }

    // --- Lambdas -------------------------------------------------------------------------------------------
    const environment = {
      [MODELS_ENV.parameterPath]: props.modelsParameterPath,
      [MODELS_ENV.stackName]: props.stackName,
      [RETRAINING_ENV.dataBucket]: landingBucket.bucketName,
      [RETRAINING_ENV.workBucket]: resultsBucket.bucketName,
      [RETRAINING_ENV.stateTable]: stateTable.tableName,
      NODE_OPTIONS: '--enable-source-maps',
    };
    const parameters = new iam.PolicyStatement({
      actions: ['ssm:GetParametersByPath'],
      resources: [modelParametersArn(this, props.modelsParameterPath).path],
    });
    const fn = (name: keyof RetrainingFunctions, description: string, timeout = Duration.minutes(2)) => {
      const logGroup = new logs.LogGroup(this, `${name}Logs`, { retention: logRetention });
      const role = new iam.Role(this, `${name}Role`, {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: `driftwatch retraining: ${description}`,
      });
      logGroup.grantWrite(role);
      role.addToPrincipalPolicy(parameters);
      // The canary decision's acknowledgement of `*` names GetMetricData beside X-Ray (one finding, one id).
      if (name !== 'canaryDecision') {
        acknowledgeXRay(role);
      }
      return new BundledFunction(this, name, {
        description: `driftwatch: ${description} (every model)`,
        entry: retrainingHandlerEntry(name),
        architecture: lambda.Architecture.ARM_64,
        memorySize: name === 'evaluate' || name === 'prepareInputs' ? 1769 : 512,
        timeout,
        tracing: lambda.Tracing.ACTIVE,
        role,
        logGroup,
        environment: { ...environment, POWERTOOLS_SERVICE_NAME: `driftwatch-retraining-${name}` },
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
    const landingObjects = landingBucket.arnForObjects('*');
    const grant = (f: lambda.IFunction, ...statements: iam.PolicyStatement[]) => {
      for (const statement of statements) f.addToRolePolicy(statement);
    };
    const listLanding = new iam.PolicyStatement({
      actions: ['s3:ListBucket'],
      resources: [landingBucket.bucketArn],
    });
    grant(
      functions.costGate,
      new iam.PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
        resources: [stateTable.tableArn],
      }),
    );
    grant(
      functions.prepareInputs,
      new iam.PolicyStatement({
        actions: ['s3:GetObject', 's3:GetObjectVersion'],
        resources: [landingObjects],
      }),
      listLanding,
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
        resources: [packageGroupsArn, packagesArn],
      }),
      new iam.PolicyStatement({ actions: ['sagemaker:UpdateModelPackage'], resources: [packagesArn] }),
      new iam.PolicyStatement({ actions: ['dynamodb:UpdateItem'], resources: [stateTable.tableArn] }),
    );
    grant(
      functions.canaryDecision,
      new iam.PolicyStatement({ actions: ['cloudwatch:GetMetricData'], resources: ['*'] }),
      new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [landingObjects] }),
      listLanding,
    );
    for (const key of [landingBucket.encryptionKey, resultsBucket.encryptionKey]) {
      if (!key) continue;
      key.grant(functions.prepareInputs, 'kms:Decrypt', 'kms:GenerateDataKey');
      key.grant(functions.canaryDecision, 'kms:Decrypt');
      key.grant(functions.evaluate, 'kms:Decrypt', 'kms:GenerateDataKey');
    }
    const landingReason =
      "Reads labelled files under each model's golden and feedback prefixes: the prefixes are data (the model's " +
      'parameter), so adding a model changes no policy; the landing bucket holds only model data.';
    acknowledgeWildcardResource(
      functions.prepareInputs.role!,
      landingObjects,
      ['s3:GetObject', 's3:GetObjectVersion'],
      landingReason,
    );
    acknowledgeWildcardResource(
      functions.canaryDecision.role!,
      landingObjects,
      ['s3:GetObject'],
      landingReason,
    );
    acknowledgeWildcardResource(
      functions.prepareInputs.role!,
      work,
      ['s3:PutObject'],
      `Writes a run's inputs under ${RETRAINING_WORK_PREFIX}<model>/<run>/, one new prefix per run.`,
    );
    acknowledgeWildcardResource(
      functions.evaluate.role!,
      work,
      ['s3:GetObject', 's3:PutObject'],
      `Reads a run's transform outputs and writes its evaluation under ${RETRAINING_WORK_PREFIX}<model>/<run>/.`,
    );
    acknowledgeWildcardResource(
      functions.register.role!,
      packageGroupsArn,
      ['sagemaker:CreateModelPackage'],
      `Registers versions in the package groups of this deployment, named ${props.stackName}-<model> in this case.`,
    );
    acknowledgeWildcardResource(
      functions.register.role!,
      packagesArn,
      ['sagemaker:CreateModelPackage', 'sagemaker:UpdateModelPackage'],
      `Creates and approves the versions of the package groups ${props.stackName}-<model>, numbered by SageMaker.`,
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
      `SageMaker reads and writes a run's files under ${RETRAINING_WORK_PREFIX}<model>/<run>/, one new prefix per run.`,
    );
    acknowledgeWildcardResource(
      this.sageMakerRole,
      sageMakerLogGroups,
      ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
      'SageMaker jobs log to /aws/sagemaker/TrainingJobs and /aws/sagemaker/TransformJobs, with one stream per job.',
    );
    acknowledgeWildcardResource(
      this.sageMakerRole,
      repositories,
      ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'],
      "Pulls the training and inference images each model's config names (data); a repository of another " +
        'account must also allow this role in its repository policy.',
    );
    acknowledgeWildcardResource(
      this.sageMakerRole,
      '*',
      ['ecr:GetAuthorizationToken', 'cloudwatch:PutMetricData'],
      'The ECR token (ecr:GetAuthorizationToken) and cloudwatch:PutMetricData (limited to the SageMaker namespaces) have no resource-level permissions.',
    );

    // --- State machine -------------------------------------------------------------------------------------
    const machineName = retrainingNames.stateMachine(props.stackName);
    const logGroup = new logs.LogGroup(this, 'StateMachineLogs', {
      retention: logRetention,
      logGroupName: `/aws/vendedlogs/states/${machineName}`,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName: machineName,
      comment: 'driftwatch: retraining and canary rollout of the model named in the input',
      definitionBody: sfn.DefinitionBody.fromChainable(
        retrainingDefinition(this, { functions, stateTable, topic, sageMakerRole: this.sageMakerRole }),
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
    const sageMakerActions: [string, string[]][] = [
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
      ['model', ['sagemaker:CreateModel', 'sagemaker:AddTags', 'sagemaker:DescribeModel']],
      // The rollback's UpdateEndpoint (a CallAwsService task) is granted on the endpoint config too, as CDK
      // writes it (lower-case action name: IAM compares action names case-insensitively).
      [
        'endpoint-config',
        ['sagemaker:CreateEndpointConfig', 'sagemaker:DescribeEndpointConfig', 'sagemaker:updateEndpoint'],
      ],
      [
        'endpoint',
        [
          'sagemaker:DescribeEndpoint',
          'sagemaker:updateEndpoint',
          'sagemaker:UpdateEndpointWeightsAndCapacities',
        ],
      ],
    ];
    for (const [resource, actions] of sageMakerActions) {
      acknowledgeWildcardResource(
        machineRole,
        stack.formatArn({ service: 'sagemaker', resource, resourceName: '*' }),
        actions,
        (resource === 'training-job' || resource === 'transform-job' || resource === 'model'
          ? `Each run creates its ${resource} under a name made of its model's name (data) and the run id; every action but DescribeModel holds only for resources tagged ${ENGINE_TAG}=<this stack> (aws:RequestTag on create, aws:ResourceTag after), so the engine cannot touch another's`
          : `Each run creates or changes its ${resource} under a name that starts with its model's endpoint (data, named in the config) and the run id`) +
          (resource === 'model'
            ? '; DescribeModel reads the model the endpoint serves (copied to score the champion), named and tagged by whoever deployed it.'
            : '.'),
      );
    }
    for (const f of Object.values(functions) as lambda.IFunction[]) {
      acknowledgeWildcardResource(
        machineRole,
        `${f.functionArn}:*`,
        ['lambda:InvokeFunction'],
        'LambdaInvoke tasks are granted the function and its versions and aliases, as CDK writes it.',
      );
    }

    // --- Triggers: one rule per event type, for every model ---------------------------------------------------
    const eventBus = props.eventBus ?? events.EventBus.fromEventBusName(this, 'DefaultBus', 'default');
    // The functions put `retrainingTrigger` in an event only when the event's model retrains on it (its
    // triggers are data): one rule for every model, and models that do not retrain start no execution.
    this.rules.push(
      new events.Rule(this, 'OnRetrainingTrigger', {
        description:
          'Drift Detected, Performance (Estimated) Degraded and Concept Drift Detected events that start a retraining of their model',
        eventBus,
        eventPattern: {
          source: [EVENT_SOURCE],
          detailType: [
            DETAIL_TYPE.driftDetected,
            DETAIL_TYPE.performanceDegraded,
            DETAIL_TYPE.conceptDriftDetected,
            DETAIL_TYPE.performanceEstimatedDegraded,
          ],
          detail: { retrainingTrigger: [{ exists: true }] },
        },
        targets: [
          new targets.SfnStateMachine(this.stateMachine, {
            input: events.RuleTargetInput.fromObject({
              model: events.EventField.fromPath('$.detail.model'),
              trigger: {
                type: events.EventField.fromPath('$.detail.retrainingTrigger'),
                detail: events.EventField.fromPath('$.detail'),
              },
            }),
            retryAttempts: 3,
          }),
        ],
      }),
    );

    // EventBridge Scheduler starts the models' scheduled runs as this role (confused-deputy guard).
    this.scheduleRole = new iam.Role(this, 'ScheduleRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
      description: 'EventBridge Scheduler: starts the scheduled retraining runs of every model',
    });
    this.scheduleRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'StartRetraining',
        actions: ['states:StartExecution'],
        resources: [this.stateMachine.stateMachineArn],
      }),
    );
  }

  /**
   * What one model needs of its own (in `scope`, e.g. its shard stack): its model package group (named
   * `<stack>-<model>`, kept when the model is removed: it holds the registered versions) and, with
   * `retraining.schedule`, the schedule that starts its runs. L1 resources: nothing shared changes.
   */
  addModel(
    scope: Construct,
    model: ModelConfig,
  ): { packageGroup: sagemaker.CfnModelPackageGroup; schedule?: scheduler.CfnSchedule } {
    const packageGroup = new sagemaker.CfnModelPackageGroup(scope, 'PackageGroup', {
      modelPackageGroupName: retrainingNames.packageGroup(this.stackName, model.name),
      modelPackageGroupDescription: `driftwatch: retrained versions of model ${model.name}`,
    });
    // The registry outlives the model's configuration: removing a model keeps its versions.
    packageGroup.applyRemovalPolicy(RemovalPolicy.RETAIN);
    const expression = model.retraining?.schedule;
    if (!expression) return { packageGroup };
    const input: RetrainingExecutionInput = {
      model: model.name,
      trigger: { type: 'schedule', detail: expression },
    };
    const schedule = new scheduler.CfnSchedule(scope, 'RetrainingSchedule', {
      description: `driftwatch: scheduled retraining of model ${model.name}`,
      scheduleExpression: expression,
      flexibleTimeWindow: { mode: 'OFF' },
      target: {
        arn: this.stateMachine.stateMachineArn,
        roleArn: this.scheduleRole.roleArn,
        input: JSON.stringify(input),
        retryPolicy: { maximumEventAgeInSeconds: 3600, maximumRetryAttempts: 3 },
      },
    });
    return { packageGroup, schedule };
  }
}
