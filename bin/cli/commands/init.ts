import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { profileToJson } from '../../../lambdas/core/drift/profile.ts';
import { profileTable } from '../../../lambdas/core/drift/run.ts';
import { ConfigError } from '../../../lambdas/core/errors.ts';
import { fileInput } from '../../../lambdas/core/readers/input.ts';
import { ConfigValidationError } from '../../../lib/config/errors.ts';
import { CONFIG_SCHEMA_FILE, DEFAULT_CONFIG_FILE } from '../../../lib/config/files.ts';
import type * as Validation from '../../../lib/config/validate.ts';
import { proposeModel } from '../init-model.ts';
import { writeFileAtomic } from '../output.ts';

interface InitFlags {
  name: string;
  label?: string;
  score?: string;
  segment?: string;
  config: string;
  force?: boolean;
  quiet?: boolean;
}

/** Distinct values kept per column while looking for identifiers (the drift check's own cap is 10,000). */
const INIT_MAX_CATEGORIES = 1_000_000;

export function registerInit(program: Command): void {
  program
    .command('init')
    .summary('add a model to the config from a sample of its training data')
    .description(
      'Read DATA_FILE (CSV, TSV, JSON Lines or Parquet, optionally .gz), type each column as `drift` does,\n' +
        'propose the columns that are not features (label, score, id-like and constant columns, each with its\n' +
        'reason), add the model to the config (created with stack-wide defaults when absent) and write its\n' +
        'baseline profile next to the config. An existing model is never replaced without --force.',
    )
    .argument('<data-file>', "a sample of the model's training data")
    .requiredOption('--name <model>', 'model name: lower-case letters, digits and -, starting with a letter')
    .option('--label <column>', 'the label column (excluded from the features)')
    .option('--score <column>', "the column holding the model's score (excluded from the features)")
    .option('--segment <column>', 'test every feature within each value of this column too')
    .option('--config <file>', 'the config to add the model to', DEFAULT_CONFIG_FILE)
    .option('--force', 'replace a model of the same name and its profile')
    .option('-q, --quiet', 'print only the next commands')
    .action(async (dataFile: string, flags: InitFlags) => {
      await init(dataFile, flags);
    });
}

/**
 * The config's validation (zod and every schema: about 100 ms of every command's start, so it is loaded
 * only when `init` runs).
 */
let validation: typeof Validation;

async function init(dataFile: string, flags: InitFlags): Promise<void> {
  validation = await import('../../../lib/config/validate.ts');
  const { DEFAULT_BASELINE_PROFILE, validateConfig } = validation;
  const configPath = flags.config;
  const raw = readExistingConfig(configPath);
  const models = raw['models'] as Record<string, unknown>[];
  const existing = models.findIndex((model) => model?.['name'] === flags.name);
  if (existing >= 0 && !flags.force) {
    throw new ConfigError(
      '--name',
      `${configPath} already has a model ${JSON.stringify(flags.name)} (models[${existing}]); ` +
        'choose another name, or pass --force to replace it',
    );
  }
  const profilePath = join(dirname(configPath), `${flags.name}.profile.json`);
  if (existsSync(profilePath) && !flags.force) {
    throw new ConfigError('--name', `${profilePath} exists; pass --force to replace it`);
  }

  const input = fileInput(dataFile);
  const roles = { label: flags.label, score: flags.score, segment: flags.segment };
  const named = [
    ['--label', flags.label],
    ['--score', flags.score],
    ['--segment', flags.segment],
  ] as const;
  // First pass: every column typed from the data, with room to count the values of identifier-like columns
  // (which the drift check itself would refuse).
  const survey = await profileTable(input, { maxCategories: INIT_MAX_CATEGORIES });
  for (const [flag, column] of named) {
    if (column !== undefined && !survey.columns.includes(column)) {
      throw new ConfigError(
        flag,
        `${dataFile} has no column ${JSON.stringify(column)} (its columns: ${survey.columns.join(', ')})`,
      );
    }
  }
  const proposal = proposeModel(survey, roles);
  const features = Object.keys(proposal.features);
  if (features.length === 0) {
    throw new ConfigError(
      dataFile,
      'no column is left to watch once the label, score, segment, id-like and constant columns are excluded',
    );
  }

  const model: Record<string, unknown> = {
    name: flags.name,
    description: `Created by driftwatch init from ${basename(dataFile)}`,
    prefixes: {
      incoming: `${flags.name}/incoming/`,
      golden: `${flags.name}/golden/`,
      baselines: `${flags.name}/baselines/`,
    },
    features: proposal.features,
    exclude: proposal.exclusions.map((exclusion) => exclusion.column),
    ...(flags.segment !== undefined && { segment: flags.segment }),
    drift: { baselineProfile: DEFAULT_BASELINE_PROFILE },
  };
  if (existing >= 0) models[existing] = model;
  else models.push(model);
  // The written config must pass validation as is: check before writing anything.
  const config = validateConfig(raw, configPath);

  // Second pass: the baseline profile exactly as the drift Lambda will read it (the model's column options).
  const profile = await profileTable(input, {
    numeric: features.filter((column) => proposal.features[column] === 'numeric'),
    categorical: features.filter((column) => proposal.features[column] === 'categorical'),
    exclude: proposal.exclusions.map((exclusion) => exclusion.column),
    segment: flags.segment ?? null,
  });
  await writeFileAtomic(profilePath, profileToJson(profile));
  await writeFileAtomic(configPath, `${JSON.stringify(raw, null, 2)}\n`);

  const out: string[] = [];
  if (!flags.quiet) {
    const types = (type: string) => features.filter((column) => proposal.features[column] === type);
    out.push(
      `${existing >= 0 ? 'Replaced' : 'Added'} model ${JSON.stringify(flags.name)} in ${configPath}: ` +
        `${survey.rows} rows, ${features.length} features`,
      `  numeric:     ${types('numeric').join(', ') || '(none)'}`,
      `  categorical: ${types('categorical').join(', ') || '(none)'}`,
    );
    if (flags.segment) out.push(`  segment:     ${flags.segment} (each value tested separately)`);
    if (proposal.exclusions.length > 0) {
      out.push('  excluded (edit "exclude" and "features" in the config to change this):');
      for (const { column, reason } of proposal.exclusions) out.push(`    ${column}: ${reason}`);
    }
    out.push(`Baseline profile: ${profilePath}`, '', 'Next:');
  }
  const context = configPath === DEFAULT_CONFIG_FILE ? '' : ` -c config=${configPath}`;
  const model0 = config.models.find((candidate) => candidate.name === flags.name)!;
  const outputQuery = `"Stacks[0].Outputs[?OutputKey=='LandingBucketName'].OutputValue"`;
  out.push(
    `  npx cdk synth${context}    # then: npx cdk deploy${context}`,
    `  aws s3 cp ${profilePath} "s3://$(aws cloudformation describe-stacks --stack-name ${config.stackName} ` +
      `--query ${outputQuery} --output text)/${model0.prefixes.baselines}${model0.drift.baselineProfile}"`,
  );
  process.stdout.write(`${out.join('\n')}\n`);
}

/** The config as written (not its defaults), or a new one with the stack-wide defaults. */
function readExistingConfig(path: string): Record<string, unknown> {
  if (!existsSync(path)) {
    return {
      $schema: schemaReference(path),
      stackName: validation.DEFAULT_STACK_NAME,
      encryption: 'kms',
      logRetentionDays: validation.DEFAULT_LOG_RETENTION_DAYS,
      reportsPrefix: validation.DEFAULT_REPORTS_PREFIX,
      alerts: { emails: [], httpsEndpoints: [] },
      models: [],
    };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
    validation.validateConfig(raw, path);
  } catch (error) {
    if (error instanceof ConfigValidationError)
      throw new ConfigError(path, `fix it before adding a model:\n${error.message}`);
    if (error instanceof SyntaxError) throw new ConfigError(path, `is not valid JSON: ${error.message}`);
    throw error;
  }
  return raw as Record<string, unknown>;
}

/** The path from the config's folder to the JSON Schema shipped with driftwatch, for editors. */
function schemaReference(configPath: string): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, CONFIG_SCHEMA_FILE)) && dirname(dir) !== dir) dir = dirname(dir);
  const target = relative(dirname(resolve(configPath)), join(dir, CONFIG_SCHEMA_FILE));
  return target.startsWith('.') ? target : `./${target}`;
}
