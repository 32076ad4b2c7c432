import type {
  CreateModelPackageGroupInput,
  CreateModelPackageInput,
  DescribeModelPackageGroupOutput,
  DescribeModelPackageOutput,
  ModelApprovalStatus,
  ModelPackageSummary,
  UpdateModelPackageInput,
} from '@aws-sdk/client-sagemaker';
import type { EmulatorContext } from './context.ts';
import { paginate, readTimestamp, requireMembers, validationError } from './protocol.ts';
import type { Operations } from './server.ts';

export interface ModelPackageGroupRecord {
  name: string;
  arn: string;
  description?: string;
  creationTime: Date;
  /** The version the next package gets. */
  nextVersion: number;
}

export interface ModelPackageRecord {
  arn: string;
  groupName: string;
  version: number;
  request: CreateModelPackageInput;
  approvalStatus: ModelApprovalStatus;
  approvalDescription?: string;
  customerMetadata: Record<string, string>;
  creationTime: Date;
  lastModifiedTime: Date;
}

const APPROVAL_STATUSES: readonly string[] = ['Approved', 'Rejected', 'PendingManualApproval'];

function describePackage(record: ModelPackageRecord): DescribeModelPackageOutput {
  const { request } = record;
  return {
    // A versioned package is named after its group.
    ModelPackageName: record.groupName,
    ModelPackageGroupName: record.groupName,
    ModelPackageVersion: record.version,
    ModelPackageArn: record.arn,
    ModelPackageDescription: request.ModelPackageDescription,
    CreationTime: record.creationTime,
    LastModifiedTime: record.lastModifiedTime,
    InferenceSpecification: request.InferenceSpecification,
    ModelPackageStatus: 'Completed',
    ModelPackageStatusDetails: { ValidationStatuses: [] },
    CertifyForMarketplace: false,
    ModelApprovalStatus: record.approvalStatus,
    ApprovalDescription: record.approvalDescription,
    MetadataProperties: request.MetadataProperties,
    ModelMetrics: request.ModelMetrics,
    CustomerMetadataProperties:
      Object.keys(record.customerMetadata).length > 0 ? { ...record.customerMetadata } : undefined,
    Domain: request.Domain,
    Task: request.Task,
    SamplePayloadUrl: request.SamplePayloadUrl,
  };
}

function summarise(record: ModelPackageRecord): ModelPackageSummary {
  return {
    ModelPackageName: record.groupName,
    ModelPackageGroupName: record.groupName,
    ModelPackageVersion: record.version,
    ModelPackageArn: record.arn,
    ModelPackageDescription: record.request.ModelPackageDescription,
    CreationTime: record.creationTime,
    ModelPackageStatus: 'Completed',
    ModelApprovalStatus: record.approvalStatus,
  };
}

/** Orders by the request's SortBy (`Name` or `CreationTime`, the default) and SortOrder (`Ascending` default). */
function sorter<T>(
  sortBy: unknown,
  sortOrder: unknown,
  name: (item: T) => string,
  time: (item: T) => number,
  tie: (item: T) => number,
) {
  const sign = sortOrder === 'Descending' ? -1 : 1;
  return (a: T, b: T) => {
    const primary =
      sortBy === 'Name' ? (name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : 0) : time(a) - time(b);
    return sign * (primary || tie(a) - tie(b));
  };
}

/**
 * The model registry: versioned model packages in groups, with approval statuses. Creating a package and
 * changing its approval emit `SageMaker Model Package State Change`, the event the retraining pipeline
 * listens for.
 */
export function registryOperations(context: EmulatorContext): Operations {
  const { state } = context;

  /** A group by name or ARN. */
  const findGroup = (nameOrArn: unknown) => {
    const text = String(nameOrArn);
    const name = text.startsWith('arn:')
      ? [...state.modelPackageGroups.values()].find((group) => group.arn === text)?.name
      : text;
    const group = name === undefined ? undefined : state.modelPackageGroups.get(name);
    if (group === undefined) throw validationError(`ModelPackageGroup ${text} does not exist.`);
    return group;
  };

  const findPackage = (arn: unknown) => {
    const record = typeof arn === 'string' ? state.modelPackages.get(arn) : undefined;
    if (record === undefined) throw validationError(`ModelPackage ${String(arn)} does not exist.`);
    return record;
  };

  const checkApproval = (status: unknown) => {
    if (status !== undefined && !APPROVAL_STATUSES.includes(status as string)) {
      throw validationError(
        `1 validation error detected: Value '${String(status)}' at 'modelApprovalStatus' failed to satisfy constraint: Member must satisfy enum value set: [${APPROVAL_STATUSES.join(', ')}]`,
      );
    }
  };

  const emitState = (record: ModelPackageRecord) =>
    context.emit('SageMaker Model Package State Change', record.arn, { ...describePackage(record) });

  return {
    CreateModelPackageGroup(input) {
      const request = requireMembers<CreateModelPackageGroupInput>(input, 'ModelPackageGroupName');
      const name = request.ModelPackageGroupName!;
      const arn = context.arn('model-package-group', name);
      if (state.modelPackageGroups.has(name))
        throw validationError(`Model Package Group already exists: ${arn}`);
      state.modelPackageGroups.set(name, {
        name,
        arn,
        description: request.ModelPackageGroupDescription,
        creationTime: context.now(),
        nextVersion: 1,
      });
      return { ModelPackageGroupArn: arn };
    },

    DescribeModelPackageGroup(input): DescribeModelPackageGroupOutput {
      requireMembers(input, 'ModelPackageGroupName');
      const group = findGroup(input.ModelPackageGroupName);
      return {
        ModelPackageGroupName: group.name,
        ModelPackageGroupArn: group.arn,
        ModelPackageGroupDescription: group.description,
        CreationTime: group.creationTime,
        CreatedBy: {},
        ModelPackageGroupStatus: 'Completed',
      };
    },

    ListModelPackageGroups(input) {
      const after = readTimestamp(input.CreationTimeAfter);
      const before = readTimestamp(input.CreationTimeBefore);
      const contains = typeof input.NameContains === 'string' ? input.NameContains.toLowerCase() : undefined;
      const groups = [...state.modelPackageGroups.values()]
        .filter((group) => contains === undefined || group.name.toLowerCase().includes(contains))
        .filter((group) => after === undefined || group.creationTime.getTime() > after)
        .filter((group) => before === undefined || group.creationTime.getTime() < before);
      const order = [...state.modelPackageGroups.keys()];
      groups.sort(
        sorter(
          input.SortBy,
          input.SortOrder,
          (group) => group.name,
          (group) => group.creationTime.getTime(),
          (group) => order.indexOf(group.name),
        ),
      );
      const { page, next } = paginate(groups, input.MaxResults, input.NextToken);
      return {
        ModelPackageGroupSummaryList: page.map((group) => ({
          ModelPackageGroupName: group.name,
          ModelPackageGroupArn: group.arn,
          ModelPackageGroupDescription: group.description,
          CreationTime: group.creationTime,
          ModelPackageGroupStatus: 'Completed',
        })),
        NextToken: next,
      };
    },

    DeleteModelPackageGroup(input) {
      requireMembers(input, 'ModelPackageGroupName');
      const group = findGroup(input.ModelPackageGroupName);
      if ([...state.modelPackages.values()].some((record) => record.groupName === group.name)) {
        throw validationError(`Model Package Group ${group.arn} has model packages: delete them first.`);
      }
      state.modelPackageGroups.delete(group.name);
      return {};
    },

    CreateModelPackage(input) {
      const request = requireMembers<CreateModelPackageInput>(input);
      if (request.ModelPackageGroupName === undefined) {
        throw validationError('The emulator keeps versioned model packages only: set ModelPackageGroupName.');
      }
      checkApproval(request.ModelApprovalStatus);
      const group = findGroup(request.ModelPackageGroupName);
      // A retried request with the same ClientToken gets the package the first one created.
      if (request.ClientToken !== undefined) {
        const earlier = [...state.modelPackages.values()].find(
          (record) => record.groupName === group.name && record.request.ClientToken === request.ClientToken,
        );
        if (earlier !== undefined) return { ModelPackageArn: earlier.arn };
      }
      const version = group.nextVersion++;
      const now = context.now();
      const record: ModelPackageRecord = {
        arn: `${context.arn('model-package', group.name)}/${version}`,
        groupName: group.name,
        version,
        request,
        approvalStatus: request.ModelApprovalStatus ?? 'PendingManualApproval',
        customerMetadata: { ...request.CustomerMetadataProperties },
        creationTime: now,
        lastModifiedTime: now,
      };
      state.modelPackages.set(record.arn, record);
      emitState(record);
      return { ModelPackageArn: record.arn };
    },

    DescribeModelPackage(input) {
      requireMembers(input, 'ModelPackageName');
      return describePackage(findPackage(input.ModelPackageName));
    },

    UpdateModelPackage(input) {
      const request = requireMembers<UpdateModelPackageInput>(input, 'ModelPackageArn');
      const record = findPackage(request.ModelPackageArn);
      checkApproval(request.ModelApprovalStatus);
      const before = record.approvalStatus;
      if (request.ModelApprovalStatus !== undefined) record.approvalStatus = request.ModelApprovalStatus;
      if (request.ApprovalDescription !== undefined) record.approvalDescription = request.ApprovalDescription;
      Object.assign(record.customerMetadata, request.CustomerMetadataProperties);
      for (const key of request.CustomerMetadataPropertiesToRemove ?? []) delete record.customerMetadata[key];
      record.lastModifiedTime = context.now();
      if (record.approvalStatus !== before) emitState(record);
      return { ModelPackageArn: record.arn };
    },

    ListModelPackages(input) {
      if (input.ModelPackageType === 'Unversioned') return { ModelPackageSummaryList: [] };
      checkApproval(input.ModelApprovalStatus);
      const group =
        input.ModelPackageGroupName === undefined ? undefined : findGroup(input.ModelPackageGroupName);
      const after = readTimestamp(input.CreationTimeAfter);
      const before = readTimestamp(input.CreationTimeBefore);
      const contains = typeof input.NameContains === 'string' ? input.NameContains.toLowerCase() : undefined;
      const records = [...state.modelPackages.values()]
        .filter((record) => group === undefined || record.groupName === group.name)
        .filter(
          (record) =>
            input.ModelApprovalStatus === undefined || record.approvalStatus === input.ModelApprovalStatus,
        )
        .filter((record) => contains === undefined || record.groupName.toLowerCase().includes(contains))
        .filter((record) => after === undefined || record.creationTime.getTime() > after)
        .filter((record) => before === undefined || record.creationTime.getTime() < before);
      const order = [...state.modelPackages.keys()];
      records.sort(
        sorter(
          input.SortBy,
          input.SortOrder,
          (record) => record.groupName,
          (record) => record.creationTime.getTime(),
          (record) => order.indexOf(record.arn),
        ),
      );
      const { page, next } = paginate(records, input.MaxResults, input.NextToken);
      return { ModelPackageSummaryList: page.map(summarise), NextToken: next };
    },
  };
}
