import {
  DescribeModelPackageCommand,
  type DescribeModelPackageCommandOutput,
  ListModelPackagesCommand,
  type ModelPackageSummary,
  type SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import type { Command } from 'commander';
import { ConfigError } from '../../../lambdas/core/errors.ts';
import type { ChampionRecord } from '../../../lambdas/shared/retraining-contract.ts';
import { type AwsFlags, addAwsFlags, connectAws, deployedModel, readModelState, request } from '../aws.ts';
import { emit } from '../output.ts';

/** Versions described at once: enough to be quick, few enough to stay under SageMaker's request rate. */
const DESCRIBE_CONCURRENCY = 4;

/** Every version of a package group, oldest first (paginated ListModelPackages). */
export async function listModelPackages(
  sagemaker: SageMakerClient,
  packageGroup: string,
): Promise<ModelPackageSummary[]> {
  const packages: ModelPackageSummary[] = [];
  let nextToken: string | undefined;
  do {
    const page = await request('ListModelPackages', packageGroup, () =>
      sagemaker.send(
        new ListModelPackagesCommand({
          ModelPackageGroupName: packageGroup,
          ModelPackageType: 'Versioned',
          SortBy: 'CreationTime',
          SortOrder: 'Ascending',
          MaxResults: 100,
          NextToken: nextToken,
        }),
      ),
    );
    packages.push(...(page.ModelPackageSummaryList ?? []));
    nextToken = page.NextToken;
  } while (nextToken);
  return packages.sort((a, b) => (a.ModelPackageVersion ?? 0) - (b.ModelPackageVersion ?? 0));
}

/** ARNs compared as SageMaker does: it lower-cases the names in them. */
export function sameArn(a: string | null | undefined, b: string | null | undefined): boolean {
  return typeof a === 'string' && typeof b === 'string' && a.toLowerCase() === b.toLowerCase();
}

/** One version of a model with its lineage, as the register Lambda stored it (CustomerMetadataProperties). */
export interface LineageEntry {
  version: number | null;
  packageArn: string;
  /** Approved, Rejected or PendingManualApproval. */
  approvalStatus: string;
  /** Why it was approved or rejected (the evaluation or canary reason). */
  approvalDescription: string | null;
  /** ISO time the package was registered. */
  created: string | null;
  /** The version the model-state table records as serving (the champion). */
  champion: boolean;
  runId: string | null;
  /** The state machine execution that trained it. */
  execution: string | null;
  trigger: { type: string; reason: string | null } | null;
  /** `column=value` when the run trained on one segment. */
  segment: string | null;
  trainingJob: { name: string; arn: string | null } | null;
  /** The model artifact (`model.tar.gz`). */
  modelData: string | null;
  data: {
    trainingUri: string | null;
    fileCount: number | null;
    /** File name to ETag of each training file. */
    etags: Record<string, string>;
    /** SageMaker keeps 256 characters of a metadata value: the list was cut, the manifest has every file. */
    etagsTruncated: boolean;
    manifestUri: string | null;
    holdout: { key: string; etag: string | null } | null;
  };
  metrics: {
    primaryMetric: string | null;
    challenger: number | null;
    champion: number | null;
    evaluation: string | null;
    reason: string | null;
    /** The evaluation JSON (every metric of both models). */
    reportUri: string | null;
  };
}

const score = (text: string | undefined) => {
  if (text === undefined || text === '' || text === 'null') return null;
  const value = Number(text);
  return Number.isFinite(value) ? value : null;
};

/** `key=etag` split at the last `=` (ETags have none, keys may). */
function keyValue(text: string): { key: string; value: string } | null {
  const at = text.lastIndexOf('=');
  return at <= 0 ? null : { key: text.slice(0, at), value: text.slice(at + 1) };
}

/** The lineage of one package, from DescribeModelPackage. Fields a package does not carry are null. */
export function lineageEntry(
  described: Partial<
    Pick<
      DescribeModelPackageCommandOutput,
      | 'ModelPackageArn'
      | 'ModelPackageVersion'
      | 'ModelApprovalStatus'
      | 'ApprovalDescription'
      | 'CreationTime'
      | 'CustomerMetadataProperties'
      | 'ModelMetrics'
      | 'InferenceSpecification'
    >
  >,
  championArn: string | null,
): LineageEntry {
  const metadata = described.CustomerMetadataProperties ?? {};
  const field = (key: string) => {
    const value = metadata[key];
    return value === undefined || value === '' ? null : value;
  };
  const etagText = field('dataEtags') ?? '';
  const truncated = etagText.endsWith('…');
  const etags: Record<string, string> = {};
  const pairs = etagText.split(' ').filter((pair) => pair.length > 0);
  if (truncated) pairs.pop();
  for (const pair of pairs) {
    const parsed = keyValue(pair);
    if (parsed !== null) etags[parsed.key] = parsed.value;
  }
  const holdoutText = field('holdout');
  const holdout = holdoutText === null ? null : keyValue(holdoutText);
  const fileCount = field('dataFiles');
  const arn = described.ModelPackageArn ?? '';
  return {
    version: described.ModelPackageVersion ?? null,
    packageArn: arn,
    approvalStatus: described.ModelApprovalStatus ?? 'Unknown',
    approvalDescription: described.ApprovalDescription ?? null,
    created: described.CreationTime?.toISOString() ?? null,
    champion: sameArn(arn, championArn),
    runId: field('runId'),
    execution: field('execution'),
    trigger: field('trigger') === null ? null : { type: field('trigger')!, reason: field('triggerReason') },
    segment: field('segment'),
    trainingJob:
      field('trainingJob') === null ? null : { name: field('trainingJob')!, arn: field('trainingJobArn') },
    modelData: field('modelData') ?? described.InferenceSpecification?.Containers?.[0]?.ModelDataUrl ?? null,
    data: {
      trainingUri: field('trainingData'),
      fileCount: fileCount === null ? null : score(fileCount),
      etags,
      etagsTruncated: truncated,
      manifestUri: field('dataManifest'),
      holdout:
        holdout === null
          ? holdoutText === null
            ? null
            : { key: holdoutText, etag: null }
          : { key: holdout.key, etag: holdout.value === '?' ? null : holdout.value },
    },
    metrics: {
      primaryMetric: field('primaryMetric'),
      challenger: score(metadata['challengerScore']),
      champion: score(metadata['championScore']),
      evaluation: field('evaluation'),
      reason: field('evaluationReason'),
      reportUri: field('metrics') ?? described.ModelMetrics?.ModelQuality?.Statistics?.S3Uri ?? null,
    },
  };
}

/** Runs `work` over `items`, at most `limit` at a time, keeping the order. */
async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** The lineage of every version in the group, oldest first, the champion marked. */
export async function readLineage(
  sagemaker: SageMakerClient,
  packageGroup: string,
  champion: Pick<ChampionRecord, 'packageArn'> | null | undefined,
): Promise<LineageEntry[]> {
  const summaries = await listModelPackages(sagemaker, packageGroup);
  return mapLimited(summaries, DESCRIBE_CONCURRENCY, async (summary) => {
    const arn = summary.ModelPackageArn!;
    const described = await request('DescribeModelPackage', arn, () =>
      sagemaker.send(new DescribeModelPackageCommand({ ModelPackageName: arn })),
    );
    return lineageEntry(described, champion?.packageArn ?? null);
  });
}

const number = (value: number | null) => (value === null ? '?' : String(Number(value.toFixed(4))));

/** `2024-06-01 12:00:00Z` of an ISO time. */
const shortTime = (iso: string | null) => (iso === null ? '?' : `${iso.slice(0, 10)} ${iso.slice(11, 19)}Z`);

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) =>
    row
      .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!)))
      .join('  ')
      .trimEnd(),
  );
}

/**
 * The lineage as text: a table of the versions (the champion starred), then each version's trigger,
 * training job, data files with their ETags, holdout, evaluation and approval.
 */
export function renderLineageText(
  model: string,
  packageGroup: string,
  entries: readonly LineageEntry[],
  champion: ChampionRecord | null | undefined,
): string {
  if (entries.length === 0) return `${model}: no versions in package group ${packageGroup} yet\n`;
  const current = entries.find((entry) => entry.champion);
  const since = champion?.since ? ` since ${champion.since}` : '';
  const championText = current
    ? `champion: version ${current.version}${since}`
    : champion
      ? `champion: model ${champion.modelName}${since}, not a version of this group`
      : 'no champion recorded';
  const lines = [
    `${model}: ${entries.length} version${entries.length === 1 ? '' : 's'} in package group ${packageGroup}; ${championText}`,
    '',
  ];
  const rows = [['', 'VERSION', 'STATUS', 'CREATED', 'TRIGGER', 'CHALLENGER VS CHAMPION', 'TRAINING JOB']];
  for (const entry of entries) {
    const { metrics } = entry;
    rows.push([
      entry.champion ? '*' : '',
      String(entry.version ?? '?'),
      entry.approvalStatus,
      shortTime(entry.created),
      entry.trigger?.type ?? '-',
      metrics.primaryMetric === null
        ? '-'
        : `${metrics.primaryMetric} ${number(metrics.challenger)} vs ${number(metrics.champion)}`,
      entry.trainingJob?.name ?? '-',
    ]);
  }
  lines.push(...table(rows));
  for (const entry of entries) {
    lines.push(
      '',
      `version ${entry.version ?? '?'}${entry.champion ? ' (champion)' : ''}: ${entry.packageArn}`,
    );
    const detail: string[][] = [];
    const add = (label: string, value: string | null) => {
      if (value !== null) detail.push([`  ${label}`, value]);
    };
    add('trigger', entry.trigger ? (entry.trigger.reason ?? entry.trigger.type) : null);
    add('segment', entry.segment);
    add('execution', entry.execution);
    add('training job', entry.trainingJob?.arn ?? entry.trainingJob?.name ?? null);
    add('model data', entry.modelData);
    const { data } = entry;
    if (data.trainingUri !== null) {
      add(
        'training data',
        `${data.trainingUri}${data.fileCount === null ? '' : ` (${data.fileCount} file${data.fileCount === 1 ? '' : 's'})`}`,
      );
    }
    for (const [file, etag] of Object.entries(data.etags)) add('  file', `${file}  ETag ${etag}`);
    if (data.etagsTruncated) add('  file', '… (the manifest lists every file)');
    add('manifest', data.manifestUri);
    add('holdout', data.holdout ? `${data.holdout.key}  ETag ${data.holdout.etag ?? '?'}` : null);
    add(
      'evaluation',
      entry.metrics.evaluation === null
        ? null
        : `${entry.metrics.evaluation}: ${entry.metrics.reason ?? ''}`.trimEnd(),
    );
    add('metrics', entry.metrics.reportUri);
    add(
      'approval',
      entry.approvalDescription === null ? null : `${entry.approvalStatus}: ${entry.approvalDescription}`,
    );
    if (detail.length > 0) lines.push(...table(detail));
  }
  return `${lines.join('\n')}\n`;
}

interface HistoryFlags extends AwsFlags {
  format?: string;
}

export function registerHistory(program: Command): void {
  const command = program
    .command('history')
    .summary('list the retrained versions of MODEL with their lineage')
    .description(
      'List the versions in the model package group of MODEL (<stack>-<model>), oldest first: approval status,\n' +
        'creation time, trigger and reason, training job, training data with ETags, holdout, champion and\n' +
        'challenger scores, and which version serves now (the champion of the model-state table).',
    )
    .argument('<model>', 'the model, as named in the config');
  addAwsFlags(command)
    .option('--format <format>', 'text or json (default: text on a terminal, json otherwise)')
    .action(async (modelName: string, flags: HistoryFlags) => {
      const format = flags.format ?? (process.stdout.isTTY ? 'text' : 'json');
      if (!['text', 'json'].includes(format))
        throw new ConfigError('--format', `expected text or json, got ${JSON.stringify(format)}`);
      const deployed = deployedModel(flags.config, modelName);
      const aws = await connectAws(flags);
      try {
        const state = await readModelState(aws.documents, deployed.stateTable, modelName);
        const entries = await readLineage(aws.sagemaker, deployed.packageGroup, state?.champion);
        await emit(
          format === 'json'
            ? JSON.stringify(entries, null, 2)
            : renderLineageText(modelName, deployed.packageGroup, entries, state?.champion),
          undefined,
        );
      } finally {
        aws.destroy();
      }
    });
}
