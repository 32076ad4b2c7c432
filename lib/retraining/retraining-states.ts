import { Duration, Size, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { guardedEndpointChange } from './endpoint-states.ts';
import { engineTags, scopeToEngineTag } from './engine-tag.ts';

/** The Lambdas of a run, one per step that needs code. */
export interface RetrainingFunctions {
  plan: lambda.IFunction;
  costGate: lambda.IFunction;
  prepareInputs: lambda.IFunction;
  evaluate: lambda.IFunction;
  register: lambda.IFunction;
  canaryDecision: lambda.IFunction;
}

/**
 * The one retraining state machine of a deployment: every per-model value (endpoint, images, instance
 * types, hyperparameters, limits) comes from the plan (`$.plan`), which the Plan Lambda derives from the
 * model's configuration; nothing model-specific is in the definition.
 */
export interface RetrainingStatesProps {
  functions: RetrainingFunctions;
  stateTable: dynamodb.ITable;
  topic: sns.ITopic;
  sageMakerRole: iam.IRole;
}

/** SageMaker errors worth retrying: throttling, quotas and capacity (SageMaker's names and SFN's). */
export const SAGEMAKER_RETRY_ERRORS = [
  'SageMaker.ThrottlingException',
  'SageMaker.ResourceLimitExceeded',
  'SageMaker.ResourceLimitExceededException',
  'SageMaker.CapacityError',
  'SageMaker.InsufficientCapacityError',
  'ThrottlingException',
];

const LAMBDA_TIMEOUT = Duration.minutes(5);
const SAGEMAKER_CALL_TIMEOUT = Duration.minutes(2);
const TRANSFORM_TIMEOUT = Duration.hours(2);
/** SageMaker's longest training stopping condition is 28 days; the machine itself stops at 7. */
const TRAINING_TASK_TIMEOUT = Duration.days(6);

/** An instance type read from the plan (`ml.m5.xlarge`), rendered as the JSONPath it is. */
const planInstanceType = (field: string) =>
  new ec2.InstanceType(sfn.JsonPath.stringAt(`$.plan.sageMaker.${field}`));

/**
 * A conditional update of the model's lock record, keyed by the model and bound to this execution
 * (`:execution`), retried while DynamoDB throttles or fails internally.
 */
function modelLockUpdate(
  scope: Construct,
  id: string,
  table: dynamodb.ITable,
  update: {
    updateExpression: string;
    conditionExpression: string;
    values?: Record<string, tasks.DynamoAttributeValue>;
  },
): tasks.DynamoUpdateItem {
  const path = sfn.JsonPath.stringAt;
  const task = new tasks.DynamoUpdateItem(scope, id, {
    table,
    key: { model: tasks.DynamoAttributeValue.fromString(path('$.model')) },
    updateExpression: update.updateExpression,
    conditionExpression: update.conditionExpression,
    expressionAttributeValues: {
      ':execution': tasks.DynamoAttributeValue.fromString(path('$$.Execution.Id')),
      ...update.values,
    },
    resultPath: sfn.JsonPath.DISCARD,
    taskTimeout: sfn.Timeout.duration(Duration.seconds(30)),
  });
  task.addRetry({
    errors: [
      'DynamoDB.ProvisionedThroughputExceededException',
      'DynamoDB.ThrottlingException',
      'DynamoDB.InternalServerErrorException',
    ],
    maxAttempts: 5,
    interval: Duration.seconds(2),
    backoffRate: 2,
  });
  return task;
}

/**
 * The retraining state machine's definition: lock, cost gate, training, evaluation, registry, canary (or
 * shadow) rollout, promotion or rollback, notification and lock release. See the README ("Retraining") for
 * the outline; every Task has a Retry, a Catch and a timeout.
 */
export function retrainingDefinition(scope: Construct, props: RetrainingStatesProps): sfn.IChainable {
  const { functions } = props;
  // The tasks must not add grants to the SageMaker role: S3Location.fromJsonExpression would grant S3 on "*".
  // Its own prefix-scoped statements cover what the jobs read and write.
  const sageMakerRole = iam.Role.fromRoleArn(scope, 'SageMakerRoleAsPassed', props.sageMakerRole.roleArn, {
    mutable: false,
  });
  const stack = Stack.of(scope);
  // Every job and model the machine creates is tagged with the engine; its grants hold only for those.
  const engine = stack.stackName;
  const engineTagList = Object.entries(engineTags(engine)).map(([Key, Value]) => ({ Key, Value }));
  // The endpoints are named in each model's config (data): the machine may act on the account's endpoints
  // of this region; the plan names the one of the execution's model.
  const endpointArn = stack.formatArn({ service: 'sagemaker', resource: 'endpoint', resourceName: '*' });
  const endpointConfigArn = stack.formatArn({
    service: 'sagemaker',
    resource: 'endpoint-config',
    resourceName: '*',
  });
  const anyEndpointConfigArn = endpointConfigArn;
  const maxPolls = '$.plan.sageMaker.endpointMaxPolls';
  const path = sfn.JsonPath.stringAt;
  const endpointName = path('$.plan.endpointName');

  const sageMakerRetry = (task: sfn.TaskStateBase) =>
    task.addRetry({
      errors: SAGEMAKER_RETRY_ERRORS,
      interval: Duration.seconds(10),
      maxAttempts: 5,
      backoffRate: 2,
      jitterStrategy: sfn.JitterType.FULL,
    });

  const invoke = (id: string, fn: lambda.IFunction, payload: Record<string, unknown>, resultPath: string) => {
    const task = new tasks.LambdaInvoke(scope, id, {
      lambdaFunction: fn,
      payload: sfn.TaskInput.fromObject(payload),
      payloadResponseOnly: true,
      retryOnServiceExceptions: true,
      resultPath,
      taskTimeout: sfn.Timeout.duration(LAMBDA_TIMEOUT),
    });
    task.addRetry({
      errors: ['Lambda.TooManyRequestsException'],
      interval: Duration.seconds(2),
      maxAttempts: 6,
      backoffRate: 2,
    });
    return task;
  };

  const describeEndpoint = (id: string) =>
    sageMakerRetry(
      new tasks.CallAwsService(scope, id, {
        service: 'sagemaker',
        action: 'describeEndpoint',
        iamAction: 'sagemaker:DescribeEndpoint',
        iamResources: [endpointArn],
        parameters: { EndpointName: endpointName },
        resultSelector: { 'status.$': '$.EndpointStatus', 'configName.$': '$.EndpointConfigName' },
        resultPath: '$.endpoint',
        taskTimeout: sfn.Timeout.duration(SAGEMAKER_CALL_TIMEOUT),
      }),
    );

  const updateEndpoint = (id: string, configPath: string) =>
    sageMakerRetry(
      new tasks.SageMakerUpdateEndpoint(scope, id, {
        endpointName,
        endpointConfigName: path(configPath),
        resultPath: sfn.JsonPath.DISCARD,
        taskTimeout: sfn.Timeout.duration(SAGEMAKER_CALL_TIMEOUT),
      }),
    );

  const setWeights = (id: string, champion: string | number, challenger: string | number) =>
    sageMakerRetry(
      new tasks.CallAwsService(scope, id, {
        service: 'sagemaker',
        action: 'updateEndpointWeightsAndCapacities',
        iamAction: 'sagemaker:UpdateEndpointWeightsAndCapacities',
        iamResources: [endpointArn],
        parameters: {
          EndpointName: endpointName,
          DesiredWeightsAndCapacities: [
            {
              VariantName: path('$.champion.variantName'),
              DesiredWeight: typeof champion === 'number' ? champion : sfn.JsonPath.numberAt(champion),
            },
            {
              VariantName: path('$.plan.names.challengerVariant'),
              DesiredWeight: typeof challenger === 'number' ? challenger : sfn.JsonPath.numberAt(challenger),
            },
          ],
        },
        resultPath: sfn.JsonPath.DISCARD,
        taskTimeout: sfn.Timeout.duration(SAGEMAKER_CALL_TIMEOUT),
      }),
    );

  const createEndpointConfig = (id: string, parameters: Record<string, unknown>) =>
    sageMakerRetry(
      new tasks.CallAwsService(scope, id, {
        service: 'sagemaker',
        action: 'createEndpointConfig',
        iamAction: 'sagemaker:CreateEndpointConfig',
        iamResources: [endpointConfigArn],
        parameters,
        resultPath: sfn.JsonPath.DISCARD,
        taskTimeout: sfn.Timeout.duration(SAGEMAKER_CALL_TIMEOUT),
      }),
    );

  const variant = (name: string, model: string, weight: number) => ({
    VariantName: path(name),
    ModelName: path(model),
    InstanceType: path('$.champion.instanceType'),
    InitialInstanceCount: sfn.JsonPath.numberAt('$.champion.instanceCount'),
    InitialVariantWeight: weight,
  });

  // --- Endings: every run that took the lock notifies, releases it, then ends by its outcome -------------
  const succeeded = (id: string, comment: string) =>
    new sfn.Succeed(scope, id, { comment, outputPath: '$.outcome' });
  const skipped = succeeded('RetrainingSkipped', 'Not run: another run in progress, cooldown, or the budget');
  const promoted = succeeded(
    'ChallengerPromoted',
    'The challenger serves all traffic; its package is Approved',
  );
  const rejected = succeeded(
    'ChallengerRejected',
    'The challenger did not beat the champion; package Rejected',
  );
  const rolledBack = succeeded(
    'CanaryRolledBack',
    'The canary was worse or inconclusive; the champion serves again',
  );
  const failed = new sfn.Fail(scope, 'RetrainingFailed', {
    error: 'RetrainingFailed',
    causePath: '$.outcome.message',
  });
  const route = new sfn.Choice(scope, 'RouteOutcome')
    .when(sfn.Condition.stringEquals('$.outcome.status', 'promoted'), promoted)
    .when(sfn.Condition.stringEquals('$.outcome.status', 'rejected'), rejected)
    .when(sfn.Condition.stringEquals('$.outcome.status', 'rolled-back'), rolledBack)
    .when(sfn.Condition.stringEquals('$.outcome.status', 'refused'), skipped)
    .otherwise(failed);
  const releaseLock = modelLockUpdate(scope, 'ReleaseLock', props.stateTable, {
    updateExpression: 'REMOVE runningExecution, lockedAt',
    conditionExpression: 'runningExecution = :execution',
  });
  // A lock that cannot be released (already gone) must not turn the outcome into a loop.
  releaseLock.addCatch(route, { errors: [sfn.Errors.ALL], resultPath: '$.releaseError' });
  releaseLock.next(route);
  const notify = new tasks.SnsPublish(scope, 'Notify', {
    topic: props.topic,
    subject: path('$.outcome.subject'),
    message: sfn.TaskInput.fromJsonPathAt('$.outcome.message'),
    resultPath: sfn.JsonPath.DISCARD,
    taskTimeout: sfn.Timeout.duration(Duration.seconds(30)),
  });
  notify.addRetry({
    errors: ['SNS.ThrottledException', 'SNS.InternalErrorException', 'SNS.KMSThrottlingException'],
    maxAttempts: 4,
    interval: Duration.seconds(2),
    backoffRate: 2,
  });
  notify.addCatch(releaseLock, { errors: [sfn.Errors.ALL], resultPath: '$.notifyError' });
  notify.next(releaseLock);

  const outcome = (id: string, status: string, subject: string, message: string, ...args: string[]) =>
    new sfn.Pass(scope, id, {
      parameters: {
        status,
        subject: sfn.JsonPath.format(subject, path('$.model')),
        message: sfn.JsonPath.format(message, ...args.map((arg) => path(arg))),
      },
      resultPath: '$.outcome',
    });

  const recordFailure = outcome(
    'RecordFailure',
    'failed',
    'driftwatch: retraining of {} failed',
    'Model {}: retraining run {} failed before the endpoint was changed: {} {}',
    '$.model',
    '$.plan.runId',
    '$.error.Error',
    '$.error.Cause',
  ).next(notify);
  const catchBefore = (task: sfn.TaskStateBase) => {
    task.addCatch(recordFailure, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
    return task;
  };
  // A job or model whose images are in another account fails when that repository's policy does not let the
  // SageMaker role pull: the stack cannot check a foreign policy, so such a failure names the fix.
  const recordForeignImageFailure = outcome(
    'RecordForeignImageFailure',
    'failed',
    'driftwatch: retraining of {} failed',
    "Model {}: retraining run {} failed before the endpoint was changed: {} {}. The model's images are in ECR of account {}, not this stack's ({}): if SageMaker could not pull them, allow ecr:BatchGetImage, ecr:GetDownloadUrlForLayer and ecr:BatchCheckLayerAvailability to this stack's SageMaker role ({}) in that repository's policy, or copy the images to this account",
    '$.model',
    '$.plan.runId',
    '$.error.Error',
    '$.error.Cause',
    '$.plan.sageMaker.imageAccount',
    '$.where.account',
    '$.sageMakerRoleArn',
  ).next(notify);
  const sageMakerRoleArnNote = new sfn.Pass(scope, 'NameSageMakerRole', {
    result: sfn.Result.fromString(props.sageMakerRole.roleArn),
    resultPath: '$.sageMakerRoleArn',
  });
  const imageFailure = new sfn.Choice(scope, 'ImagesInAccount?')
    .when(
      sfn.Condition.stringEqualsJsonPath('$.where.account', '$.plan.sageMaker.imageAccount'),
      recordFailure,
    )
    .otherwise(sageMakerRoleArnNote.next(recordForeignImageFailure));
  /** catchBefore for the states that pull the model's images (after ReadRegion has set `$.where`). */
  const catchPulling = (task: sfn.TaskStateBase) => {
    task.addCatch(imageFailure, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
    return task;
  };

  // --- Rollback: champion weights back to 100, then the champion's own config, then package Rejected -----
  const rollbackFailed = outcome(
    'RecordRollbackFailure',
    'failed',
    'driftwatch: ROLLBACK of {} FAILED',
    'Model {}: the rollback of run {} failed ({} {}); the endpoint may still serve the challenger: restore it with `driftwatch rollback`',
    '$.model',
    '$.plan.runId',
    '$.error.Error',
    '$.error.Cause',
  ).next(notify);
  const rejectAfterRollback = catchToNotify(
    invoke(
      'RejectAfterRollback',
      functions.register,
      {
        action: 'reject',
        'model.$': '$.model',
        'packageArn.$': '$.package.packageArn',
        'reason.$': '$.outcome.message',
      },
      '$.rejection',
    ),
  ).next(notify);
  function catchToNotify(task: sfn.TaskStateBase) {
    task.addCatch(notify, { errors: [sfn.Errors.ALL], resultPath: '$.rejectError' });
    return task;
  }
  const restoreConfig = guardedEndpointChange(scope, {
    prefix: 'RestoreChampionConfig',
    describe: describeEndpoint,
    change: updateEndpoint('RestoreChampionEndpoint', '$.champion.endpointConfigName'),
    maxPolls,
    settle: true,
    expectConfigPath: '$.champion.endpointConfigName',
    onError: rollbackFailed,
    next: rejectAfterRollback,
  });
  const restoreWeights = guardedEndpointChange(scope, {
    prefix: 'RestoreWeights',
    describe: describeEndpoint,
    change: setWeights('RestoreChampionWeights', 1, 0),
    maxPolls,
    settle: true,
    onError: restoreConfig,
    next: restoreConfig,
  });
  const inspect = new sfn.Choice(scope, 'RollbackNeeded?')
    .when(
      sfn.Condition.stringEqualsJsonPath('$.endpoint.configName', '$.champion.endpointConfigName'),
      rejectAfterRollback,
    )
    .when(
      sfn.Condition.and(
        sfn.Condition.stringEqualsJsonPath('$.endpoint.configName', '$.plan.names.canaryEndpointConfig'),
        sfn.Condition.booleanEquals('$.plan.shadow', false),
      ),
      restoreWeights,
    )
    .otherwise(restoreConfig);
  const rollback = guardedEndpointChange(scope, {
    prefix: 'Rollback',
    describe: describeEndpoint,
    change: null,
    maxPolls,
    settle: false,
    onError: rollbackFailed,
    next: inspect,
  });
  const recordEndpointFailure = outcome(
    'RecordEndpointFailure',
    'failed',
    'driftwatch: retraining of {} failed during rollout',
    'Model {}: retraining run {} failed after the endpoint was changed ({} {}); the champion is being restored',
    '$.model',
    '$.plan.runId',
    '$.error.Error',
    '$.error.Cause',
  ).next(rollback);
  const catchAfter = (task: sfn.TaskStateBase) => {
    task.addCatch(recordEndpointFailure, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
    return task;
  };

  // --- Promotion: a config with the challenger alone, the endpoint updated to it, package Approved -------
  const recordPromotion = outcome(
    'RecordPromotion',
    'promoted',
    'driftwatch: new model of {} promoted',
    'Model {}: {} now serves all traffic of {} (package {}): {}',
    '$.model',
    '$.plan.names.challengerModel',
    '$.plan.endpointName',
    '$.package.packageArn',
    '$.evaluation.reason',
  ).next(notify);
  const approve = catchAfter(
    invoke(
      'ApproveCandidate',
      functions.register,
      {
        action: 'approve',
        'model.$': '$.model',
        'packageArn.$': '$.package.packageArn',
        'reason.$': '$.decision.reason',
        champion: {
          'modelName.$': '$.plan.names.challengerModel',
          'variantName.$': '$.plan.names.challengerVariant',
          'endpointConfigName.$': '$.plan.names.promotedEndpointConfig',
        },
        'now.$': '$.plan.now',
      },
      '$.approval',
    ),
  ).next(recordPromotion);
  const promote = catchAfter(
    createEndpointConfig('CreatePromotedEndpointConfig', {
      EndpointConfigName: path('$.plan.names.promotedEndpointConfig'),
      ProductionVariants: [variant('$.plan.names.challengerVariant', '$.plan.names.challengerModel', 1)],
    }),
  ).next(
    guardedEndpointChange(scope, {
      prefix: 'Promote',
      describe: describeEndpoint,
      change: updateEndpoint('UpdateEndpointToChallenger', '$.plan.names.promotedEndpointConfig'),
      maxPolls,
      settle: true,
      expectConfigPath: '$.plan.names.promotedEndpointConfig',
      onError: recordEndpointFailure,
      next: approve,
    }),
  );

  // --- Canary steps: shift, bake, judge; shadow mode bakes once on mirrored traffic ----------------------
  const recordRollback = outcome(
    'RecordCanaryRollback',
    'rolled-back',
    'driftwatch: canary of {} rolled back',
    'Model {}: the canary of {} was rolled back at {}% of traffic: {}',
    '$.model',
    '$.plan.names.challengerModel',
    '$.canary.weights.challenger',
    '$.decision.reason',
  ).next(rollback);
  const bake = new sfn.Wait(scope, 'Bake', { time: sfn.WaitTime.secondsPath('$.plan.bakeSeconds') });
  const judge = catchAfter(
    invoke(
      'JudgeCanary',
      functions.canaryDecision,
      {
        'model.$': '$.model',
        'plan.$': '$.plan',
        'championVariant.$': '$.champion.variantName',
        'challengerVariant.$': '$.plan.names.challengerVariant',
        'round.$': '$.canary.round',
      },
      '$.decision',
    ),
  );
  const nextRound = new sfn.Pass(scope, 'NextRound', {
    parameters: {
      'index.$': '$.canary.index',
      'round.$': 'States.MathAdd($.canary.round, 1)',
      'weights.$': '$.canary.weights',
    },
    resultPath: '$.canary',
  }).next(bake);
  const selectStep = new sfn.Pass(scope, 'SelectStep', {
    parameters: {
      'index.$': '$.canary.index',
      round: 0,
      'weights.$': 'States.ArrayGetItem($.plan.canarySteps, $.canary.index)',
    },
    resultPath: '$.canary',
  });
  const nextStep = new sfn.Pass(scope, 'NextStep', {
    parameters: { 'index.$': 'States.MathAdd($.canary.index, 1)' },
    resultPath: '$.canary',
  }).next(selectStep);
  const verdict = new sfn.Choice(scope, 'CanaryVerdict')
    .when(sfn.Condition.stringEquals('$.decision.decision', 'rollback'), recordRollback)
    .when(sfn.Condition.stringEquals('$.decision.decision', 'wait'), nextRound)
    .when(sfn.Condition.numberEqualsJsonPath('$.canary.index', '$.plan.lastStepIndex'), promote)
    .otherwise(nextStep);
  bake.next(judge).next(verdict);
  selectStep.next(
    guardedEndpointChange(scope, {
      prefix: 'Shift',
      describe: describeEndpoint,
      change: setWeights('ShiftTraffic', '$.canary.weights.champion', '$.canary.weights.challenger'),
      maxPolls,
      settle: true,
      onError: recordEndpointFailure,
      next: bake,
    }),
  );
  const startCanary = new sfn.Choice(scope, 'ShadowMode?')
    .when(
      sfn.Condition.booleanEquals('$.plan.shadow', true),
      new sfn.Pass(scope, 'StartShadow', {
        parameters: { index: 0, round: 0, 'weights.$': 'States.ArrayGetItem($.plan.canarySteps, 0)' },
        resultPath: '$.canary',
      }).next(bake),
    )
    .otherwise(
      new sfn.Pass(scope, 'StartCanary', { parameters: { index: 0 }, resultPath: '$.canary' }).next(
        selectStep,
      ),
    );
  const toCanaryConfig = guardedEndpointChange(scope, {
    prefix: 'Canary',
    describe: describeEndpoint,
    change: updateEndpoint('UpdateEndpointToCanary', '$.plan.names.canaryEndpointConfig'),
    maxPolls,
    settle: true,
    expectConfigPath: '$.plan.names.canaryEndpointConfig',
    onError: recordEndpointFailure,
    next: startCanary,
  });
  const canaryConfig = catchBefore(
    createEndpointConfig('CreateCanaryEndpointConfig', {
      EndpointConfigName: path('$.plan.names.canaryEndpointConfig'),
      ProductionVariants: [
        variant('$.champion.variantName', '$.champion.modelName', 1),
        variant('$.plan.names.challengerVariant', '$.plan.names.challengerModel', 0),
      ],
    }),
  ).next(toCanaryConfig);
  const shadowConfig = catchBefore(
    createEndpointConfig('CreateShadowEndpointConfig', {
      EndpointConfigName: path('$.plan.names.canaryEndpointConfig'),
      ProductionVariants: [variant('$.champion.variantName', '$.champion.modelName', 1)],
      ShadowProductionVariants: [
        variant('$.plan.names.challengerVariant', '$.plan.names.challengerModel', 1),
      ],
    }),
  ).next(toCanaryConfig);

  // --- Evaluation and registry ---------------------------------------------------------------------------
  const recordRejection = outcome(
    'RecordRejection',
    'rejected',
    'driftwatch: retrained model of {} rejected',
    'Model {}: the retrained model {} was rejected at evaluation (package {}): {}',
    '$.model',
    '$.plan.names.challengerModel',
    '$.package.packageArn',
    '$.evaluation.reason',
  ).next(notify);
  const rejectCandidate = catchBefore(
    invoke(
      'RejectCandidate',
      functions.register,
      {
        action: 'reject',
        'model.$': '$.model',
        'packageArn.$': '$.package.packageArn',
        'reason.$': '$.evaluation.reason',
      },
      '$.rejection',
    ),
  ).next(recordRejection);
  const accepted = new sfn.Choice(scope, 'ChallengerAccepted?')
    .when(
      sfn.Condition.booleanEquals('$.evaluation.accepted', true),
      new sfn.Choice(scope, 'RolloutMode?')
        .when(sfn.Condition.booleanEquals('$.plan.shadow', true), shadowConfig)
        .otherwise(canaryConfig),
    )
    .otherwise(rejectCandidate);
  const register = catchBefore(
    invoke(
      'RegisterCandidate',
      functions.register,
      {
        action: 'register',
        'model.$': '$.model',
        'executionId.$': '$$.Execution.Id',
        'plan.$': '$.plan',
        'data.$': '$.data',
        'training.$': '$.training',
        evaluation: {
          'accepted.$': '$.evaluation.accepted',
          'reason.$': '$.evaluation.reason',
          'primaryMetric.$': '$.evaluation.primaryMetric',
          'champion.$': '$.evaluation.champion',
          'challenger.$': '$.evaluation.challenger',
        },
      },
      '$.package',
    ),
  ).next(accepted);
  const evaluate = catchBefore(
    invoke(
      'EvaluateChallenger',
      functions.evaluate,
      { 'model.$': '$.model', 'plan.$': '$.plan', 'data.$': '$.data' },
      '$.evaluation',
    ),
  ).next(register);
  const transform = (
    id: string,
    jobName: string,
    modelName: string,
    outputUri: string,
    catchFailure: (task: sfn.TaskStateBase) => sfn.TaskStateBase = catchPulling,
  ) =>
    catchFailure(
      sageMakerRetry(
        scopeToEngineTag(
          new tasks.SageMakerCreateTransformJob(scope, id, {
            integrationPattern: sfn.IntegrationPattern.RUN_JOB,
            tags: engineTags(engine),
            transformJobName: path(jobName),
            modelName: path(modelName),
            role: sageMakerRole,
            transformInput: {
              transformDataSource: {
                s3DataSource: {
                  s3Uri: path('$.plan.s3.holdoutFeaturesUri'),
                  s3DataType: tasks.S3DataType.S3_PREFIX,
                },
              },
              contentType: 'text/csv',
              splitType: tasks.SplitType.LINE,
            },
            transformOutput: {
              s3OutputPath: path(outputUri),
              assembleWith: tasks.AssembleWith.LINE,
              accept: 'text/csv',
            },
            transformResources: { instanceCount: 1, instanceType: planInstanceType('transformInstanceType') },
            resultPath: sfn.JsonPath.DISCARD,
            taskTimeout: sfn.Timeout.duration(TRANSFORM_TIMEOUT),
          }),
          engine,
        ),
      ),
    );
  // The champion's copy runs as the stack's SageMaker role, which reads only the stack's run files: the
  // artefact of a model deployed by anyone else (their bucket, their key) must grant it read access.
  const championUnreadable = outcome(
    'RecordChampionScoringFailure',
    'failed',
    'driftwatch: retraining of {} failed',
    "Model {}: run {} could not score the holdout with a copy of the serving model ({} {}). The copy runs as this stack's SageMaker role ({}) and reads the serving model's artefact {} and image {}: allow that role s3:GetObject on the artefact in its bucket policy (and kms:Decrypt in its key policy if a customer key encrypts it), and ECR pulls in the image repository's policy if it is in another account",
    '$.model',
    '$.plan.runId',
    '$.error.Error',
    '$.error.Cause',
    '$.sageMakerRoleArn',
    '$.championModel.modelDataUrl',
    '$.championModel.image',
  ).next(notify);
  const scoreChampion = transform(
    'ScoreHoldoutWithChampion',
    '$.plan.names.championTransformJob',
    '$.plan.names.championModel',
    '$.plan.s3.championScoresUri',
    (task) => {
      task.addCatch(
        new sfn.Pass(scope, 'NameSageMakerRoleForChampion', {
          result: sfn.Result.fromString(props.sageMakerRole.roleArn),
          resultPath: '$.sageMakerRoleArn',
        }).next(championUnreadable),
        { errors: [sfn.Errors.ALL], resultPath: '$.error' },
      );
      return task;
    },
  );
  const scoreChallenger = transform(
    'ScoreHoldoutWithChallenger',
    '$.plan.names.challengerTransformJob',
    '$.plan.names.challengerModel',
    '$.plan.s3.challengerScoresUri',
  );
  scoreChampion.next(scoreChallenger).next(evaluate);

  const describeLiveEndpoint = catchBefore(
    sageMakerRetry(
      new tasks.CallAwsService(scope, 'DescribeLiveEndpoint', {
        service: 'sagemaker',
        action: 'describeEndpoint',
        iamAction: 'sagemaker:DescribeEndpoint',
        iamResources: [endpointArn],
        parameters: { EndpointName: endpointName },
        resultSelector: { 'status.$': '$.EndpointStatus', 'configName.$': '$.EndpointConfigName' },
        resultPath: '$.endpoint',
        taskTimeout: sfn.Timeout.duration(SAGEMAKER_CALL_TIMEOUT),
      }),
    ),
  );
  const describeLiveConfig = catchBefore(
    sageMakerRetry(
      new tasks.CallAwsService(scope, 'DescribeLiveEndpointConfig', {
        service: 'sagemaker',
        action: 'describeEndpointConfig',
        iamAction: 'sagemaker:DescribeEndpointConfig',
        iamResources: [anyEndpointConfigArn],
        parameters: { EndpointConfigName: path('$.endpoint.configName') },
        resultSelector: {
          'endpointConfigName.$': '$.EndpointConfigName',
          'modelName.$': '$.ProductionVariants[0].ModelName',
          'variantName.$': '$.ProductionVariants[0].VariantName',
          'instanceType.$': '$.ProductionVariants[0].InstanceType',
          'instanceCount.$': '$.ProductionVariants[0].InitialInstanceCount',
        },
        resultPath: '$.champion',
        taskTimeout: sfn.Timeout.duration(SAGEMAKER_CALL_TIMEOUT),
      }),
    ),
  );
  // The champion scores the holdout as a copy of the serving model (same image and artefact) created under
  // the pipeline's own SageMaker role: a batch transform runs as its model's execution role, and the serving
  // model's own role, made outside this stack, has no grant on the run's files or the stack's key.
  const describeChampionModel = catchBefore(
    sageMakerRetry(
      new tasks.CallAwsService(scope, 'DescribeChampionModel', {
        service: 'sagemaker',
        action: 'describeModel',
        iamAction: 'sagemaker:DescribeModel',
        // The serving model is named by whoever deployed it, so its name is not known at deploy time.
        iamResources: [stack.formatArn({ service: 'sagemaker', resource: 'model', resourceName: '*' })],
        parameters: { ModelName: path('$.champion.modelName') },
        resultSelector: {
          'image.$': '$.PrimaryContainer.Image',
          'modelDataUrl.$': '$.PrimaryContainer.ModelDataUrl',
        },
        resultPath: '$.championModel',
        taskTimeout: sfn.Timeout.duration(SAGEMAKER_CALL_TIMEOUT),
      }),
    ),
  );
  const foreignImage = outcome(
    'RecordForeignChampionImage',
    'failed',
    'driftwatch: retraining of {} cannot score the champion',
    "Model {}: the serving model {} runs the image {}, which is not one of the model's configured images: set retraining.championImage to that image in the model's config and deploy again",
    '$.model',
    '$.champion.modelName',
    '$.championModel.image',
  ).next(notify);
  /** A SageMaker model of the run, tagged with the engine, made under the stack's SageMaker role. */
  const createModelTask = (id: string, name: string, image: string, artifacts: string) =>
    catchPulling(
      sageMakerRetry(
        scopeToEngineTag(
          new tasks.SageMakerCreateModel(scope, id, {
            tags: sfn.TaskInput.fromObject(engineTagList),
            modelName: path(name),
            role: sageMakerRole,
            primaryContainer: new tasks.ContainerDefinition({
              image: tasks.DockerImage.fromJsonExpression(path(image)),
              modelS3Location: tasks.S3Location.fromJsonExpression(artifacts),
            }),
            resultPath: sfn.JsonPath.DISCARD,
            taskTimeout: sfn.Timeout.duration(SAGEMAKER_CALL_TIMEOUT),
          }),
          engine,
        ),
      ),
    );
  const createChampionModel = createModelTask(
    'CreateChampionModel',
    '$.plan.names.championModel',
    '$.championModel.image',
    '$.championModel.modelDataUrl',
  );
  const configuredImage = (field: string) =>
    sfn.Condition.stringEqualsJsonPath('$.championModel.image', `$.plan.sageMaker.${field}`);
  describeLiveEndpoint
    .next(describeLiveConfig)
    .next(describeChampionModel)
    .next(
      new sfn.Choice(scope, 'ChampionImagePullable?')
        .when(
          sfn.Condition.or(configuredImage('championImage'), configuredImage('inferenceImage')),
          createChampionModel.next(scoreChampion),
        )
        .otherwise(foreignImage),
    );

  // --- Training ---------------------------------------------------------------------------------------------
  const createModel = createModelTask(
    'CreateChallengerModel',
    '$.plan.names.challengerModel',
    '$.plan.sageMaker.inferenceImage',
    '$.training.artifacts',
  );
  createModel.next(describeLiveEndpoint);
  const train = catchPulling(
    sageMakerRetry(
      scopeToEngineTag(
        new tasks.SageMakerCreateTrainingJob(scope, 'TrainChallenger', {
          integrationPattern: sfn.IntegrationPattern.RUN_JOB,
          tags: engineTags(engine),
          trainingJobName: path('$.plan.names.trainingJob'),
          role: sageMakerRole,
          algorithmSpecification: {
            trainingImage: tasks.DockerImage.fromJsonExpression(path('$.plan.sageMaker.trainingImage')),
            trainingInputMode: tasks.InputMode.FILE,
          },
          hyperparameters: sfn.JsonPath.objectAt('$.plan.sageMaker.hyperparameters'),
          inputDataConfig: [
            {
              channelName: 'train',
              contentType: 'text/csv',
              dataSource: {
                s3DataSource: {
                  s3DataType: tasks.S3DataType.S3_PREFIX,
                  s3Location: tasks.S3Location.fromJsonExpression('$.plan.s3.trainUri'),
                },
              },
            },
          ],
          outputDataConfig: { s3OutputLocation: tasks.S3Location.fromJsonExpression('$.plan.s3.outputUri') },
          resourceConfig: {
            instanceCount: sfn.JsonPath.numberAt('$.plan.sageMaker.instanceCount'),
            instanceType: planInstanceType('instanceType'),
            volumeSize: Size.gibibytes(30),
          },
          stoppingCondition: {
            maxRuntime: Duration.seconds(sfn.JsonPath.numberAt('$.plan.sageMaker.maxRuntimeSeconds')),
          },
          resultSelector: {
            'jobName.$': '$.TrainingJobName',
            'jobArn.$': '$.TrainingJobArn',
            'artifacts.$': '$.ModelArtifacts.S3ModelArtifacts',
          },
          resultPath: '$.training',
          // The model's stopping condition (from the plan) bounds the job; this is the backstop of the task.
          taskTimeout: sfn.Timeout.duration(TRAINING_TASK_TIMEOUT),
        }),
        engine,
      ),
    ),
  );
  train.next(createModel);
  const prepare = catchBefore(
    invoke('PrepareInputs', functions.prepareInputs, { 'model.$': '$.model', 'plan.$': '$.plan' }, '$.data'),
  ).next(train);

  // SageMaker pulls images only from ECR in the region of the job. The stack is environment-agnostic, so
  // the region is known when the machine runs (from its execution ARN), not at synth: a run whose model's
  // images are in another region (the plan's imageRegion) stops here, before anything is trained.
  const wrongRegion = outcome(
    'RecordImageRegion',
    'failed',
    'driftwatch: retraining of {} cannot pull its images',
    "Model {}: the stack runs in {}, but SageMaker pulls images only from ECR in its own region and the model's retraining images are in {}: copy them to an ECR repository in the stack's region and set retraining.image (and inferenceImage, championImage) to it",
    '$.model',
    '$.where.region',
    '$.plan.sageMaker.imageRegion',
  ).next(notify);
  const imagesInRegion = new sfn.Pass(scope, 'ReadRegion', {
    parameters: {
      'region.$': "States.ArrayGetItem(States.StringSplit($$.Execution.Id, ':'), 3)",
      'account.$': "States.ArrayGetItem(States.StringSplit($$.Execution.Id, ':'), 4)",
    },
    resultPath: '$.where',
  }).next(
    new sfn.Choice(scope, 'ImagesInRegion?')
      .when(sfn.Condition.stringEqualsJsonPath('$.where.region', '$.plan.sageMaker.imageRegion'), prepare)
      .otherwise(wrongRegion),
  );

  // --- Start: plan, lock (or skip), cost gate ----------------------------------------------------------
  const recordRefusal = outcome(
    'RecordBudgetRefusal',
    'refused',
    'driftwatch: retraining of {} refused by the budget',
    'Model {}: retraining not started: {}',
    '$.model',
    '$.cost.reason',
  ).next(notify);
  const costGate = catchBefore(
    invoke('CostGate', functions.costGate, { 'model.$': '$.model', 'plan.$': '$.plan' }, '$.cost'),
  ).next(
    new sfn.Choice(scope, 'WithinBudget?')
      .when(sfn.Condition.booleanEquals('$.cost.allowed', true), imagesInRegion)
      .otherwise(recordRefusal),
  );
  const skipReason = (id: string, format: string, ...args: string[]) =>
    new sfn.Pass(scope, id, {
      parameters: {
        status: 'skipped',
        reason: sfn.JsonPath.format(format, ...args.map((arg) => path(arg))),
      },
      resultPath: '$.outcome',
    }).next(skipped);
  const runInProgress = skipReason(
    'SkippedRunInProgress',
    'another retraining of {} is in progress: {}',
    '$.model',
    '$.state.Item.runningExecution.S',
  );
  const coolingDown = skipReason(
    'SkippedCoolingDown',
    'the last retraining of {} started at {}, within the cooldown of {} h',
    '$.model',
    '$.state.Item.lastRunAt.S',
    '$.plan.cooldownHours',
  );
  const readState = new tasks.DynamoGetItem(scope, 'ReadModelState', {
    table: props.stateTable,
    key: { model: tasks.DynamoAttributeValue.fromString(path('$.model')) },
    consistentRead: true,
    resultPath: '$.state',
    taskTimeout: sfn.Timeout.duration(Duration.seconds(30)),
  });
  readState.addRetry({
    errors: ['DynamoDB.ProvisionedThroughputExceededException', 'DynamoDB.ThrottlingException'],
    maxAttempts: 3,
  });
  const unknownSkip = new sfn.Pass(scope, 'SkippedLockHeld', {
    parameters: { status: 'skipped', reason: 'the model-state record refused the lock' },
    resultPath: '$.outcome',
  }).next(skipped);
  readState.addCatch(unknownSkip, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
  readState.next(
    new sfn.Choice(scope, 'WhySkipped?')
      .when(sfn.Condition.isPresent('$.state.Item.runningExecution'), runInProgress)
      .when(sfn.Condition.isPresent('$.state.Item.lastRunAt'), coolingDown)
      .otherwise(unknownSkip),
  );
  const lockFailed = new sfn.Fail(scope, 'LockFailed', { error: 'LockFailed', causePath: '$.error.Cause' });
  const acquireLock = modelLockUpdate(scope, 'AcquireLock', props.stateTable, {
    updateExpression: 'SET runningExecution = :execution, lockedAt = :now, lastRunAt = :now',
    conditionExpression:
      'attribute_not_exists(runningExecution) AND (attribute_not_exists(lastRunAt) OR lastRunAt < :cutoff)',
    values: {
      ':now': tasks.DynamoAttributeValue.fromString(path('$.plan.now')),
      ':cutoff': tasks.DynamoAttributeValue.fromString(path('$.plan.cooldownCutoff')),
    },
  });
  acquireLock.addCatch(readState, {
    errors: ['DynamoDB.ConditionalCheckFailedException'],
    resultPath: '$.error',
  });
  acquireLock.addCatch(lockFailed, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
  acquireLock.next(costGate);

  const planFailed = new sfn.Fail(scope, 'PlanFailed', { error: 'PlanFailed', causePath: '$.error.Cause' });
  const plan = invoke(
    'Plan',
    functions.plan,
    {
      input: { 'model.$': '$.model', 'trigger.$': '$.trigger' },
      'startTime.$': '$$.Execution.StartTime',
    },
    '$.plan',
  );
  plan.addCatch(planFailed, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
  const start = new sfn.Pass(scope, 'Start', {
    parameters: { 'model.$': '$.model', 'trigger.$': '$.trigger' },
  });
  // Rules start the shared machine for every model's events; a model retrains only on its own triggers.
  const triggerNotConfigured = skipReason(
    'SkippedTriggerNotConfigured',
    'retraining of {} is not started by {} events (its retraining triggers do not name them)',
    '$.model',
    '$.plan.trigger.type',
  );
  return start
    .next(plan)
    .next(
      new sfn.Choice(scope, 'TriggerConfigured?')
        .when(sfn.Condition.booleanEquals('$.plan.triggerEnabled', false), triggerNotConfigured)
        .otherwise(acquireLock),
    );
}
