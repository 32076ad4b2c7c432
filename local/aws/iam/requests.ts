/**
 * What an API call asks of IAM: its action(s), the ARN of each resource it touches, the request's condition
 * keys, and for data that is encrypted the KMS actions the service performs on the caller's behalf. One
 * table serves the HTTP endpoints (SDK calls of the functions) and the Step Functions task integrations, so
 * both are judged alike. Calls it does not know are refused by the authorizer with a message naming this
 * file, never silently allowed.
 */

/** One authorization an API call needs. */
export interface AccessRequest {
  /** `service:Action`, e.g. `s3:GetObject`. */
  action: string;
  /** The resource ARN, or `*` for actions without resource-level permissions. */
  resource: string;
  /** Request condition keys (`s3:prefix`, `cloudwatch:namespace`, `iam:PassedToService`, ...). */
  context?: Record<string, string | string[]>;
  /**
   * KMS actions the service performs as the caller when the resource is encrypted with a customer key
   * (SSE-KMS objects, encrypted queues and topics).
   */
  kmsActions?: string[];
}

export interface Region {
  region: string;
  accountId: string;
  partition: string;
}

const arn = (where: Region, service: string, resource: string) =>
  `arn:${where.partition}:${service}:${where.region}:${where.accountId}:${resource}`;

const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A queue ARN from a queue URL (`<endpoint>/<account>/<name>`), a queue ARN or name. */
export function queueArn(where: Region, urlOrArn: string): string {
  if (urlOrArn.startsWith('arn:')) return urlOrArn;
  const parts = urlOrArn.split('/').filter(Boolean);
  const name = parts.pop() ?? urlOrArn;
  const account = parts.pop();
  return `arn:${where.partition}:sqs:${where.region}:${account && /^\d{12}$/.test(account) ? account : where.accountId}:${name}`;
}

/** A function ARN (without qualifier) from a name, partial or full ARN. */
export function functionArn(where: Region, nameOrArn: string): string {
  const bare = nameOrArn.replace(/:(\$LATEST|\d+)$/, '');
  return bare.startsWith('arn:') ? bare : arn(where, 'lambda', `function:${bare}`);
}

const tableArn = (where: Region, name: string) =>
  name.startsWith('arn:') ? name : arn(where, 'dynamodb', `table/${name}`);

/**
 * SageMaker's ARNs of most resources carry the name lower-cased (endpoints, endpoint configs, models,
 * jobs); model packages and model package groups keep the name's case.
 */
export function sageMakerArn(where: Region, type: string, name: string): string {
  if (name.startsWith('arn:')) return name;
  const caseKept = type === 'model-package' || type === 'model-package-group';
  return arn(where, 'sagemaker', `${type}/${caseKept ? name : name.toLowerCase()}`);
}

const busArn = (where: Region, nameOrArn: string | undefined) =>
  nameOrArn?.startsWith('arn:') ? nameOrArn : arn(where, 'events', `event-bus/${nameOrArn ?? 'default'}`);

/** SageMaker's `Tags` (`[{Key, Value}]`) as a map; undefined when the call carries none. */
function tagsOf(tags: unknown): Record<string, string> | undefined {
  if (!Array.isArray(tags) || tags.length === 0) return undefined;
  const entries = tags
    .filter(isObject)
    .map((tag) => [text(tag['Key']), text(tag['Value']) ?? ''] as const)
    .filter((entry): entry is readonly [string, string] => entry[0] !== undefined);
  return Object.fromEntries(entries);
}

/** The request condition keys of a create call's tags. */
function requestTagContext(tags: unknown): Record<string, string | string[]> | undefined {
  const map = tagsOf(tags);
  if (map === undefined) return undefined;
  return {
    ...Object.fromEntries(Object.entries(map).map(([key, value]) => [`aws:RequestTag/${key}`, value])),
    'aws:TagKeys': Object.keys(map),
  };
}

/**
 * What a SageMaker `.sync` job task asks of IAM besides its create call: Step Functions polls the job with
 * Describe*Job (judged on the job's tags, those of the create call) and manages the EventBridge rule it
 * listens to for the job's end.
 */
function sageMakerSyncRequests(
  where: Region,
  call: string,
  parameters: Record<string, unknown>,
): AccessRequest[] {
  const job = { createTrainingJob: 'Training', createTransformJob: 'Transform' }[call];
  if (job === undefined) return [];
  const name = text(parameters[`${job}JobName`]);
  const tags = tagsOf(parameters['Tags']) ?? {};
  const context = Object.fromEntries(
    Object.entries(tags).map(([key, value]) => [`aws:ResourceTag/${key}`, value]),
  );
  const rule = arn(where, 'events', `rule/StepFunctionsGetEventsForSageMaker${job}JobsRule`);
  return [
    ...(name === undefined
      ? []
      : [
          {
            action: `sagemaker:Describe${job}Job`,
            resource: sageMakerArn(where, `${job.toLowerCase()}-job`, name),
            ...(Object.keys(context).length > 0 ? { context } : {}),
          },
        ]),
    ...['events:PutTargets', 'events:PutRule', 'events:DescribeRule'].map((action) => ({
      action,
      resource: rule,
    })),
  ];
}

/** The resources of a SageMaker operation, by the name parameters it takes. */
function sageMakerRequests(
  where: Region,
  operation: string,
  input: Record<string, unknown>,
): AccessRequest[] {
  const action = `sagemaker:${operation}`;
  const name = (key: string) => text(input[key]);
  const of = (type: string, value: string | undefined) =>
    value === undefined ? [] : [{ action, resource: sageMakerArn(where, type, value) }];
  const passRole = (role: unknown): AccessRequest[] =>
    typeof role === 'string'
      ? [
          {
            action: 'iam:PassRole',
            resource: role,
            context: { 'iam:PassedToService': 'sagemaker.amazonaws.com' },
          },
        ]
      : [];
  // A create call with tags is authorized on its tags (aws:RequestTag, aws:TagKeys) and as sagemaker:AddTags.
  const created = (type: string, value: string | undefined): AccessRequest[] => {
    if (value === undefined) return [];
    const context = requestTagContext(input['Tags']);
    if (context === undefined) return of(type, value);
    const resource = sageMakerArn(where, type, value);
    return [
      { action, resource, context },
      { action: 'sagemaker:AddTags', resource, context },
    ];
  };
  switch (operation) {
    case 'CreateTrainingJob':
      return [...created('training-job', name('TrainingJobName')), ...passRole(input['RoleArn'])];
    case 'DescribeTrainingJob':
    case 'StopTrainingJob':
      return of('training-job', name('TrainingJobName'));
    case 'CreateTransformJob':
      return created('transform-job', name('TransformJobName'));
    case 'DescribeTransformJob':
    case 'StopTransformJob':
      return of('transform-job', name('TransformJobName'));
    case 'CreateModel':
      return [...created('model', name('ModelName')), ...passRole(input['ExecutionRoleArn'])];
    case 'DescribeModel':
    case 'DeleteModel':
      return of('model', name('ModelName'));
    case 'CreateEndpointConfig':
    case 'DescribeEndpointConfig':
    case 'DeleteEndpointConfig':
      return of('endpoint-config', name('EndpointConfigName'));
    case 'CreateEndpoint':
    case 'UpdateEndpoint':
      return [...of('endpoint', name('EndpointName')), ...of('endpoint-config', name('EndpointConfigName'))];
    case 'DescribeEndpoint':
    case 'DeleteEndpoint':
    case 'InvokeEndpoint':
    case 'InvokeEndpointAsync':
    case 'InvokeEndpointWithResponseStream':
    case 'UpdateEndpointWeightsAndCapacities':
      return of('endpoint', name('EndpointName'));
    case 'CreateModelPackage': {
      const group = name('ModelPackageGroupName');
      // A versioned package is `model-package/<group>/<version>`; the version is not known before.
      if (group !== undefined) {
        const groupName = group.startsWith('arn:') ? group.split('/').pop()! : group;
        return [{ action, resource: sageMakerArn(where, 'model-package', `${groupName}/1`) }];
      }
      return of('model-package', name('ModelPackageName'));
    }
    case 'UpdateModelPackage':
    case 'DescribeModelPackage':
      return of('model-package', name('ModelPackageArn') ?? name('ModelPackageName'));
    case 'ListModelPackages':
      return [{ action, resource: '*' }];
    case 'DescribeModelPackageGroup':
      return of('model-package-group', name('ModelPackageGroupName'));
    case 'ListTags':
    case 'AddTags':
      return [{ action, resource: text(input['ResourceArn']) ?? '*' }];
  }
  return [];
}

/**
 * The authorizations of an AWS JSON / query / REST operation by its IAM service prefix (`sqs`, `events`,
 * `monitoring`→`cloudwatch`, `states`, `sns`, `lambda`, `dynamodb`, `sagemaker`, `ssm`).
 *
 * @returns an empty list when the operation is not known here
 */
export function describeCall(
  where: Region,
  service: string,
  operation: string,
  input: Record<string, unknown>,
): AccessRequest[] {
  const action = `${service}:${operation}`;
  switch (service) {
    case 'sqs': {
      const base = operation.replace(/Batch$/, '');
      const url = text(input['QueueUrl']);
      if (operation === 'ListQueues') return [{ action, resource: '*' }];
      if (operation === 'GetQueueUrl')
        return [{ action, resource: queueArn(where, text(input['QueueName']) ?? '') }];
      if (url === undefined) return [];
      const kmsActions =
        base === 'SendMessage'
          ? ['kms:GenerateDataKey', 'kms:Decrypt']
          : base === 'ReceiveMessage'
            ? ['kms:Decrypt']
            : undefined;
      return [
        { action: `sqs:${base}`, resource: queueArn(where, url), ...(kmsActions ? { kmsActions } : {}) },
      ];
    }
    case 'events': {
      if (operation !== 'PutEvents') return [];
      const entries = (Array.isArray(input['Entries']) ? input['Entries'] : []).filter(isObject);
      return entries.map((entry) => ({
        action,
        resource: busArn(where, text(entry['EventBusName'])),
        context: {
          ...(text(entry['Source']) ? { 'events:source': text(entry['Source'])! } : {}),
          ...(text(entry['DetailType']) ? { 'events:detail-type': text(entry['DetailType'])! } : {}),
        },
      }));
    }
    case 'cloudwatch': {
      if (operation === 'PutMetricData')
        return [
          { action, resource: '*', context: { 'cloudwatch:namespace': text(input['Namespace']) ?? '' } },
        ];
      if (['GetMetricData', 'GetMetricStatistics', 'ListMetrics', 'DescribeAlarms'].includes(operation))
        return [{ action, resource: '*' }];
      if (operation === 'SetAlarmState' || operation === 'DescribeAlarmHistory')
        return [{ action, resource: arn(where, 'cloudwatch', `alarm:${text(input['AlarmName']) ?? '*'}`) }];
      return [];
    }
    case 'states': {
      const machine = text(input['stateMachineArn']);
      const execution = text(input['executionArn']);
      if (
        operation === 'StartExecution' ||
        operation === 'StartSyncExecution' ||
        operation === 'ListExecutions'
      )
        return machine ? [{ action, resource: machine }] : [];
      if (['DescribeExecution', 'StopExecution', 'GetExecutionHistory'].includes(operation))
        return execution ? [{ action, resource: execution }] : [];
      if (operation === 'ListStateMachines') return [{ action, resource: '*' }];
      if (operation === 'DescribeStateMachine') return machine ? [{ action, resource: machine }] : [];
      return [];
    }
    case 'sns': {
      if (operation !== 'Publish' && operation !== 'PublishBatch') return [];
      const topic = text(input['TopicArn']) ?? text(input['TargetArn']);
      return topic
        ? [{ action: 'sns:Publish', resource: topic, kmsActions: ['kms:GenerateDataKey', 'kms:Decrypt'] }]
        : [];
    }
    case 'lambda': {
      if (operation !== 'Invoke' && operation !== 'InvokeFunction') return [];
      const name = text(input['FunctionName']);
      return name ? [{ action: 'lambda:InvokeFunction', resource: functionArn(where, name) }] : [];
    }
    case 'ssm': {
      // A parameter's ARN is `parameter/<name without its leading />`; GetParametersByPath is authorized on
      // the path itself (without its trailing `/`), as the path were a parameter.
      const parameterArn = (name: string) =>
        arn(where, 'ssm', `parameter/${name.replace(/^\/+/, '').replace(/\/+$/, '')}`);
      if (operation === 'GetParametersByPath') {
        const path = text(input['Path']);
        return path === undefined ? [] : [{ action, resource: parameterArn(path) }];
      }
      if (operation === 'GetParameter') {
        const name = text(input['Name']);
        return name === undefined ? [] : [{ action, resource: parameterArn(name) }];
      }
      if (operation === 'GetParameters') {
        const names = (Array.isArray(input['Names']) ? input['Names'] : []).filter(
          (name): name is string => typeof name === 'string',
        );
        return names.map((name) => ({ action, resource: parameterArn(name) }));
      }
      return [];
    }
    case 'dynamodb':
      return dynamoDbRequests(where, operation, input);
    case 'sagemaker':
      return sageMakerRequests(where, operation, input);
  }
  return [];
}

function dynamoDbRequests(where: Region, operation: string, input: Record<string, unknown>): AccessRequest[] {
  const action = `dynamodb:${operation}`;
  const kmsActions = ['kms:Decrypt'];
  const table = text(input['TableName']);
  if (operation === 'ListTables') return [{ action, resource: '*' }];
  if (operation === 'BatchGetItem' || operation === 'BatchWriteItem') {
    const tables = isObject(input['RequestItems']) ? Object.keys(input['RequestItems']) : [];
    return tables.map((name) => ({ action, resource: tableArn(where, name), kmsActions }));
  }
  if (operation === 'TransactWriteItems' || operation === 'TransactGetItems') {
    const items = (Array.isArray(input['TransactItems']) ? input['TransactItems'] : []).filter(isObject);
    return items.flatMap((item) =>
      Object.entries(item).flatMap(([kind, body]) => {
        const name = isObject(body) ? text(body['TableName']) : undefined;
        if (name === undefined) return [];
        const itemAction =
          { Put: 'PutItem', Update: 'UpdateItem', Delete: 'DeleteItem', Get: 'GetItem' }[kind] ??
          'ConditionCheckItem';
        return [{ action: `dynamodb:${itemAction}`, resource: tableArn(where, name), kmsActions }];
      }),
    );
  }
  if (table === undefined) return [];
  const index = text(input['IndexName']);
  const resource = tableArn(where, table) + (index ? `/index/${index}` : '');
  return [{ action, resource, kmsActions }];
}

/**
 * The authorizations of an S3 REST request (path-style, as the local clients send them).
 *
 * @returns an empty list for requests this table does not know
 */
export function describeS3Request(
  where: Pick<Region, 'partition'>,
  method: string,
  path: string,
  query: URLSearchParams,
  headers: Record<string, string | string[] | undefined>,
): AccessRequest[] {
  const [bucket = '', ...rest] = decodeURIComponent(path).replace(/^\//, '').split('/');
  const key = rest.join('/');
  const bucketArn = `arn:${where.partition}:s3:::${bucket}`;
  const objectArn = `${bucketArn}/${key}`;
  const get = { kmsActions: ['kms:Decrypt'] };
  const put = { kmsActions: ['kms:GenerateDataKey'] };
  if (bucket === '') return [{ action: 's3:ListAllMyBuckets', resource: '*' }];
  if (key === '') {
    if (method === 'GET' && query.has('location'))
      return [{ action: 's3:GetBucketLocation', resource: bucketArn }];
    if (method === 'GET' && query.has('versions'))
      return [
        {
          action: 's3:ListBucketVersions',
          resource: bucketArn,
          context: { 's3:prefix': query.get('prefix') ?? '' },
        },
      ];
    if (method === 'GET' && query.has('uploads'))
      return [{ action: 's3:ListBucketMultipartUploads', resource: bucketArn }];
    if (method === 'GET' || method === 'HEAD')
      return [
        { action: 's3:ListBucket', resource: bucketArn, context: { 's3:prefix': query.get('prefix') ?? '' } },
      ];
    if (method === 'POST' && query.has('delete'))
      return [{ action: 's3:DeleteObject', resource: `${bucketArn}/*` }];
    return [];
  }
  switch (method) {
    case 'GET':
    case 'HEAD': {
      if (query.has('tagging')) return [{ action: 's3:GetObjectTagging', resource: objectArn }];
      if (query.has('uploadId')) return [{ action: 's3:ListMultipartUploadParts', resource: objectArn }];
      const action = query.has('versionId') ? 's3:GetObjectVersion' : 's3:GetObject';
      // HEAD reads no data, so S3 needs no KMS permission for it.
      return [{ action, resource: objectArn, ...(method === 'GET' ? get : {}) }];
    }
    case 'PUT': {
      if (query.has('tagging')) return [{ action: 's3:PutObjectTagging', resource: objectArn }];
      const copySource = headers['x-amz-copy-source'];
      const requests: AccessRequest[] = [{ action: 's3:PutObject', resource: objectArn, ...put }];
      if (typeof copySource === 'string') {
        const source = decodeURIComponent(copySource.split('?')[0]!).replace(/^\//, '');
        requests.push({ action: 's3:GetObject', resource: `arn:${where.partition}:s3:::${source}`, ...get });
      }
      return requests;
    }
    case 'POST':
      return [{ action: 's3:PutObject', resource: objectArn, ...put }];
    case 'DELETE':
      return [
        {
          action: query.has('uploadId') ? 's3:AbortMultipartUpload' : 's3:DeleteObject',
          resource: objectArn,
        },
      ];
  }
  return [];
}

/** The authorizations of a Step Functions task resource, e.g. `arn:aws:states:::sns:publish`. */
export function describeTask(
  where: Region,
  resource: string,
  parameters: Record<string, unknown>,
): AccessRequest[] | undefined {
  if (/^arn:[^:]+:lambda:/.test(resource))
    return [{ action: 'lambda:InvokeFunction', resource: functionArn(where, resource) }];
  const match =
    /^arn:[^:]+:states:::(aws-sdk:)?([a-z0-9-]+):([A-Za-z0-9]+)(\.sync(:2)?|\.waitForTaskToken)?$/.exec(
      resource,
    );
  if (!match) return undefined;
  const [, , service, call, pattern] = match as unknown as [string, string, string, string, string?];
  const operation = call[0]!.toUpperCase() + call.slice(1);
  const iamService = { sfn: 'states', cloudwatch: 'cloudwatch' }[service] ?? service;
  if (iamService === 'lambda' && operation === 'Invoke')
    return describeCall(where, 'lambda', 'Invoke', parameters);
  const requests = describeCall(where, iamService, operation, parameters);
  if (requests.length === 0) return undefined;
  return pattern?.startsWith('.sync') && service === 'sagemaker'
    ? [...requests, ...sageMakerSyncRequests(where, call, parameters)]
    : requests;
}
