/**
 * The synthesized app as the local AWS reads it: the cloud assembly `cdk synth` writes (templates, bundled
 * Lambda assets), and a resolver of CloudFormation intrinsics that gives each logical resource a local
 * physical name, ARN or URL. Nothing here knows driftwatch's resources: everything comes from the template.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { SynthesisError, TemplateError } from './errors.ts';

/** One resource of a CloudFormation template. */
export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  Metadata?: Record<string, unknown>;
  Condition?: string;
  DependsOn?: string | string[];
}

/** The parts of a CloudFormation template the local AWS reads. */
export interface CfnTemplate {
  Resources: Record<string, CfnResource>;
  Parameters?: Record<string, { Type: string; Default?: unknown }>;
  Conditions?: Record<string, unknown>;
  Mappings?: Record<string, Record<string, Record<string, unknown>>>;
  Outputs?: Record<string, { Value: unknown; Export?: { Name: unknown }; Condition?: string }>;
}

/** Where and as whom the local stacks are "deployed". */
export interface LocalIdentity {
  region: string;
  accountId: string;
  partition: string;
}

export const DEFAULT_IDENTITY: LocalIdentity = {
  region: 'us-east-1',
  accountId: '123456789012',
  partition: 'aws',
};

/** One stack of a cloud assembly: its template and where its assets were staged. */
export interface StackTemplate {
  stackName: string;
  /** Directory of the cloud assembly holding the template and the staged assets. */
  assemblyDir: string;
  template: CfnTemplate;
  /**
   * The directory (or file) of the asset a resource uses: from the resource's `aws:asset:path` metadata or,
   * without it, from the asset manifest entry whose object key the resource's `Code.S3Key` names.
   */
  assetPath(logicalId: string): string | undefined;
}

interface AssetManifest {
  files?: Record<
    string,
    { source: { path: string; packaging?: string }; destinations: Record<string, { objectKey: string }> }
  >;
}

interface AssemblyManifest {
  artifacts?: Record<
    string,
    { type: string; displayName?: string; properties?: { templateFile?: string; stackName?: string } }
  >;
}

/**
 * The stacks of a cloud assembly directory (the `cdk.out` of `cdk synth`), in manifest order.
 *
 * @example
 * ```ts
 * const [stack] = readCloudAssembly('cdk.out');
 * stack.template.Resources['LandingBucket6D60388F'];
 * ```
 */
export function readCloudAssembly(assemblyDir: string): StackTemplate[] {
  const manifestPath = join(assemblyDir, 'manifest.json');
  if (!existsSync(manifestPath)) {
    throw new TemplateError(assemblyDir, 'no manifest.json: not a cloud assembly (run cdk synth first)');
  }
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as AssemblyManifest;
  const stacks: StackTemplate[] = [];
  for (const [id, artifact] of Object.entries(manifest.artifacts ?? {})) {
    if (artifact.type !== 'aws:cloudformation:stack') continue;
    const templateFile = artifact.properties?.templateFile ?? `${id}.template.json`;
    const template = JSON.parse(readFileSync(join(assemblyDir, templateFile), 'utf8')) as CfnTemplate;
    const assetsFile = join(assemblyDir, `${id}.assets.json`);
    const assets: AssetManifest = existsSync(assetsFile)
      ? (JSON.parse(readFileSync(assetsFile, 'utf8')) as AssetManifest)
      : {};
    stacks.push({
      stackName: artifact.properties?.stackName ?? artifact.displayName ?? id,
      assemblyDir,
      template,
      assetPath: (logicalId) => assetPathOf(assemblyDir, template, assets, logicalId),
    });
  }
  return stacks;
}

function assetPathOf(
  assemblyDir: string,
  template: CfnTemplate,
  assets: AssetManifest,
  logicalId: string,
): string | undefined {
  const resource = template.Resources[logicalId];
  if (!resource) return undefined;
  const metadataPath = resource.Metadata?.['aws:asset:path'];
  if (typeof metadataPath === 'string') {
    return isAbsolute(metadataPath) ? metadataPath : join(assemblyDir, metadataPath);
  }
  const code = resource.Properties?.['Code'] as { S3Key?: unknown } | undefined;
  const objectKey = typeof code?.S3Key === 'string' ? code.S3Key : undefined;
  if (objectKey === undefined) return undefined;
  for (const file of Object.values(assets.files ?? {})) {
    if (Object.values(file.destinations).some((destination) => destination.objectKey === objectKey)) {
      return join(assemblyDir, file.source.path);
    }
  }
  return undefined;
}

/** Options of {@link synthesizeApp}. */
export interface SynthesizeOptions {
  /** The driftwatch config file, passed as the `config` context value as `cdk synth -c config=...` does. */
  configPath: string;
  /** Directory the cloud assembly is written to. */
  outdir: string;
  /** Directory holding `cdk.json`. @default the current working directory */
  projectDir?: string;
  /** More context values. */
  context?: Record<string, unknown>;
}

/**
 * Runs the CDK app the way `cdk synth` does: the `app` command of `cdk.json`, the context of `cdk.json` and
 * `cdk.context.json` plus the CLI's own (path and asset metadata), `CDK_OUTDIR` and `CDK_CONTEXT_JSON` in
 * its environment. The assembly is what `cdk deploy` would deploy, bundled Lambda code included.
 *
 * @throws SynthesisError when the app exits with an error (its stderr is in the error)
 *
 * @example
 * ```ts
 * const dir = await synthesizeApp({ configPath: 'driftwatch.config.json', outdir: '/tmp/local.out' });
 * ```
 */
export async function synthesizeApp(options: SynthesizeOptions): Promise<string> {
  const projectDir = resolve(options.projectDir ?? process.cwd());
  const cdkJson = JSON.parse(readFileSync(join(projectDir, 'cdk.json'), 'utf8')) as {
    app?: string;
    context?: Record<string, unknown>;
  };
  if (typeof cdkJson.app !== 'string')
    throw new TemplateError(join(projectDir, 'cdk.json'), 'no "app" command');
  const contextFile = join(projectDir, 'cdk.context.json');
  const context = {
    ...cdkJson.context,
    ...(existsSync(contextFile) ? (JSON.parse(readFileSync(contextFile, 'utf8')) as object) : {}),
    'aws:cdk:enable-path-metadata': true,
    'aws:cdk:enable-asset-metadata': true,
    ...options.context,
    config: resolve(options.configPath),
  };
  const outdir = resolve(options.outdir);
  // `node x.ts` runs with this Node (the project's Node 24), whatever `node` is first on PATH.
  const words = cdkJson.app.trim().split(/\s+/);
  const [command, args, shell] =
    words[0] === 'node' ? [process.execPath, words.slice(1), false] : [cdkJson.app, [] as string[], true];
  const stderr: string[] = [];
  const exitCode = await new Promise<number | null>((done, fail) => {
    const child = spawn(command, args, {
      cwd: projectDir,
      shell,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: {
        ...process.env,
        CDK_OUTDIR: outdir,
        CDK_CONTEXT_JSON: JSON.stringify(context),
        // The CDK's built-in template validation only warns, and nobody reads a local synthesis's warnings:
        // `cdk synth` runs it (test/bin/app.test.ts checks its report is empty). cdk-nag still runs.
        CDK_VALIDATION: 'false',
      },
    });
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk.toString('utf8')));
    child.on('error', fail);
    child.on('close', (code) => done(code));
  });
  if (exitCode !== 0) throw new SynthesisError(cdkJson.app, exitCode, stderr.join(''));
  return outdir;
}

/** Files and directories whose content decides what the app synthesizes, relative to the project. */
export const SYNTH_INPUTS = [
  'bin',
  'lib',
  'lambdas',
  'cdk.json',
  'cdk.context.json',
  'package.json',
  'package-lock.json',
  'tsconfig.json',
];

function hashInputs(hash: ReturnType<typeof createHash>, path: string, label: string): void {
  if (!existsSync(path)) return;
  if (statSync(path).isDirectory()) {
    for (const entry of readdirSync(path).sort()) hashInputs(hash, join(path, entry), `${label}/${entry}`);
    return;
  }
  hash.update(`${label}\0`);
  hash.update(readFileSync(path));
  hash.update('\0');
}

/**
 * {@link synthesizeApp} through a cache: the assembly of the same inputs (the config file's content, the
 * project files of {@link SYNTH_INPUTS}, the context) is synthesized once and reused, so starting the local
 * AWS again after changing nothing takes no synthesis. The newest few assemblies are kept.
 *
 * @example
 * ```ts
 * const dir = await synthesizeCached({ configPath: 'driftwatch.config.json', cacheDir: 'node_modules/.cache/x' });
 * ```
 */
export async function synthesizeCached(
  options: Omit<SynthesizeOptions, 'outdir'> & { cacheDir?: string; keep?: number },
): Promise<string> {
  const projectDir = resolve(options.projectDir ?? process.cwd());
  const cacheDir = options.cacheDir ?? defaultSynthCacheDir(projectDir);
  const hash = createHash('sha256');
  hash.update(JSON.stringify(options.context ?? {}));
  hash.update(readFileSync(options.configPath));
  for (const input of SYNTH_INPUTS) hashInputs(hash, join(projectDir, input), input);
  const key = hash.digest('hex').slice(0, 32);
  const target = join(cacheDir, key);
  if (existsSync(join(target, 'manifest.json'))) return target;
  // The same assembly asked for again while it is synthesized (the demo prepares its stories' stacks
  // ahead): one synthesis serves both.
  let pending = synthesesInFlight.get(target);
  if (pending === undefined) {
    pending = synthesizeInto(target, { ...options, projectDir, cacheDir }).finally(() =>
      synthesesInFlight.delete(target),
    );
    synthesesInFlight.set(target, pending);
  }
  return pending;
}

/** Where {@link synthesizeCached} keeps assemblies unless told: the project's `node_modules/.cache`. */
export function defaultSynthCacheDir(projectDir: string): string {
  return join(projectDir, 'node_modules', '.cache', 'driftwatch-local-aws');
}

const synthesesInFlight = new Map<string, Promise<string>>();

async function synthesizeInto(
  target: string,
  options: Omit<SynthesizeOptions, 'outdir'> & { projectDir: string; cacheDir: string; keep?: number },
): Promise<string> {
  mkdirSync(options.cacheDir, { recursive: true });
  const staging = `${target}.${process.pid}.${Date.now()}.tmp`;
  try {
    await synthesizeApp({ ...options, outdir: staging });
    renameSync(staging, target);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    // Another process finished the same assembly first: use it.
    if (existsSync(join(target, 'manifest.json'))) return target;
    throw error;
  }
  const entries = readdirSync(options.cacheDir)
    .filter((entry) => !entry.endsWith('.tmp'))
    .map((entry) => ({ entry, time: statSync(join(options.cacheDir, entry)).mtimeMs }))
    .sort((a, b) => b.time - a.time);
  for (const { entry } of entries.slice(options.keep ?? 3)) {
    rmSync(join(options.cacheDir, entry), { recursive: true, force: true });
  }
  return target;
}

/** What `Ref` and `Fn::GetAtt` of one resource give locally. */
export interface PhysicalResource {
  logicalId: string;
  type: string;
  /** The physical name (bucket, table, queue, function, ... name). */
  name: string;
  ref: string;
  arn: string;
  attributes: Record<string, unknown>;
}

/** Value of `AWS::NoValue`: the property it is given to is removed. */
const NO_VALUE = Symbol('AWS::NoValue');

const INTRINSICS = new Set([
  'Ref',
  'Fn::GetAtt',
  'Fn::Join',
  'Fn::Sub',
  'Fn::Select',
  'Fn::Split',
  'Fn::If',
  'Fn::Equals',
  'Fn::And',
  'Fn::Or',
  'Fn::Not',
  'Condition',
  'Fn::FindInMap',
  'Fn::GetAZs',
  'Fn::Base64',
  'Fn::ImportValue',
  'Fn::ToJsonString',
  'Fn::Length',
]);

/** Types whose attributes the resolver knows; others get lenient `Fn::GetAtt` answers. */
const MODELLED_TYPES = new Set([
  'AWS::S3::Bucket',
  'AWS::SQS::Queue',
  'AWS::SNS::Topic',
  'AWS::DynamoDB::Table',
  'AWS::Lambda::Function',
  'AWS::StepFunctions::StateMachine',
  'AWS::Events::Rule',
  'AWS::Events::EventBus',
  'AWS::Scheduler::Schedule',
  'AWS::Scheduler::ScheduleGroup',
  'AWS::IAM::Role',
  'AWS::KMS::Key',
  'AWS::Logs::LogGroup',
  'AWS::CloudWatch::Alarm',
  'AWS::Kinesis::Stream',
]);

/** A name CloudFormation would generate: `<stack>-<logical id>` cut to the service's limit. */
function generatedName(stackName: string, logicalId: string, maxLength: number, lower = false): string {
  const name = `${stackName}-${logicalId}`;
  const cut =
    name.length <= maxLength
      ? name
      : `${name.slice(0, maxLength - 9)}-${createHash('sha256').update(name).digest('hex').slice(0, 8)}`;
  return lower ? cut.toLowerCase() : cut;
}

/** A stable UUID-looking id of a logical resource (KMS key ids, mapping ids). */
function stableId(stackName: string, logicalId: string): string {
  const hex = createHash('sha256').update(`${stackName}/${logicalId}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Options of {@link IntrinsicResolver}. */
export interface ResolverOptions {
  /** Values of template parameters; a parameter without one takes its `Default`. */
  parameters?: Record<string, string>;
  /** Values of `Fn::ImportValue`, by export name (other stacks' exports). */
  imports?: (exportName: string) => unknown;
}

/**
 * Resolves CloudFormation intrinsics (`Ref`, `Fn::GetAtt`, `Fn::Join`, `Fn::Sub`, `Fn::Select`,
 * `Fn::Split`, `Fn::If` and conditions, `Fn::FindInMap`, `Fn::ImportValue`, `Fn::ToJsonString`,
 * `Fn::Length`, pseudo parameters) against local physical names: a bucket is an s3rver bucket of the
 * generated name, a queue `Ref` is a URL on the local SQS endpoint, a topic `Ref` a local ARN.
 *
 * @example
 * ```ts
 * const resolver = new IntrinsicResolver(stack.template, 'Driftwatch', DEFAULT_IDENTITY, { queueEndpoint });
 * resolver.resolve({ 'Fn::GetAtt': ['DriftchurnQueueB8EFF4FF', 'Arn'] });
 * // 'arn:aws:sqs:us-east-1:123456789012:Driftwatch-DriftchurnQueueB8EFF4FF'
 * ```
 */
export class IntrinsicResolver {
  readonly template: CfnTemplate;
  readonly stackName: string;
  readonly identity: LocalIdentity;
  /** Base URL of queue URLs (the local SQS endpoint), without a trailing slash. */
  readonly queueEndpoint: string;
  private readonly options: ResolverOptions;
  private readonly physical = new Map<string, PhysicalResource>();
  private readonly resolving = new Set<string>();
  private readonly conditions = new Map<string, boolean>();

  constructor(
    template: CfnTemplate,
    stackName: string,
    identity: LocalIdentity = DEFAULT_IDENTITY,
    options: ResolverOptions & { queueEndpoint?: string } = {},
  ) {
    this.template = template;
    this.stackName = stackName;
    this.identity = identity;
    this.queueEndpoint = (options.queueEndpoint ?? `https://sqs.${identity.region}.amazonaws.com`).replace(
      /\/$/,
      '',
    );
    this.options = options;
  }

  /** Logical ids of the resources of `type` whose condition (if any) holds, in template order. */
  resourcesOfType(type: string): string[] {
    return Object.entries(this.template.Resources)
      .filter(([id, resource]) => resource.Type === type && this.isEnabled(id))
      .map(([id]) => id);
  }

  /** Whether the resource exists: it has no `Condition`, or its condition is true. */
  isEnabled(logicalId: string): boolean {
    const condition = this.template.Resources[logicalId]?.Condition;
    return condition === undefined || this.condition(condition);
  }

  /** The resource's properties, every intrinsic resolved. */
  properties(logicalId: string): Record<string, unknown> {
    const resource = this.resourceOf(logicalId);
    const resolved = this.resolveAt(resource.Properties ?? {}, logicalId);
    return isObject(resolved) ? resolved : {};
  }

  /**
   * Resolves every intrinsic in `value`; properties set to `AWS::NoValue` are dropped.
   *
   * @throws TemplateError naming the intrinsic, resource or attribute that cannot be resolved
   */
  resolve(value: unknown): unknown {
    return this.resolveAt(value, '(value)');
  }

  /** The local physical name, `Ref` and ARN of a resource. */
  physicalResource(logicalId: string): PhysicalResource {
    const known = this.physical.get(logicalId);
    if (known) return known;
    if (this.resolving.has(logicalId)) {
      throw new TemplateError(logicalId, 'its name depends on itself');
    }
    this.resolving.add(logicalId);
    try {
      const resource = this.physicalOf(logicalId, this.resourceOf(logicalId));
      this.physical.set(logicalId, resource);
      return resource;
    } finally {
      this.resolving.delete(logicalId);
    }
  }

  /** The value of a `Ref`: a resource's local reference, a parameter's value or a pseudo parameter. */
  ref(name: string): unknown {
    switch (name) {
      case 'AWS::Region':
        return this.identity.region;
      case 'AWS::AccountId':
        return this.identity.accountId;
      case 'AWS::Partition':
        return this.identity.partition;
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::StackName':
        return this.stackName;
      case 'AWS::StackId':
        return this.arn('cloudformation', `stack/${this.stackName}/${stableId(this.stackName, 'stack')}`);
      case 'AWS::NotificationARNs':
        return [];
      case 'AWS::NoValue':
        return NO_VALUE;
    }
    const parameter = this.template.Parameters?.[name];
    if (parameter) {
      const value = this.options.parameters?.[name] ?? parameter.Default;
      if (value === undefined) throw new TemplateError(name, 'the parameter has no value and no Default');
      return parameter.Type.startsWith('List<') || parameter.Type === 'CommaDelimitedList'
        ? String(value).split(',')
        : value;
    }
    if (!this.template.Resources[name]) throw new TemplateError(name, 'Ref of an unknown resource');
    return this.physicalResource(name).ref;
  }

  /**
   * `Fn::GetAtt` of a resource. A type the local AWS does not model gets its ARN for `...Arn` attributes
   * and its name for `...Name` and `...Id` ones; an unknown attribute of a modelled type is an error.
   */
  getAtt(logicalId: string, attribute: string): unknown {
    const resource = this.physicalResource(logicalId);
    if (attribute === 'Arn' && !('Arn' in resource.attributes)) return resource.arn;
    if (!(attribute in resource.attributes) && !MODELLED_TYPES.has(resource.type)) {
      if (attribute.endsWith('Arn')) return resource.arn;
      if (attribute.endsWith('Name') || attribute.endsWith('Id')) return resource.name;
    }
    if (!(attribute in resource.attributes)) {
      throw new TemplateError(
        logicalId,
        `Fn::GetAtt ${attribute} of ${resource.type} is not known locally (known: Arn${Object.keys(resource.attributes).length > 0 ? `, ${Object.keys(resource.attributes).join(', ')}` : ''})`,
      );
    }
    return resource.attributes[attribute];
  }

  /** An ARN in this region and account. */
  arn(service: string, resource: string, options: { region?: string; account?: string } = {}): string {
    const region = options.region ?? this.identity.region;
    const account = options.account ?? this.identity.accountId;
    return `arn:${this.identity.partition}:${service}:${region}:${account}:${resource}`;
  }

  private resourceOf(logicalId: string): CfnResource {
    const resource = this.template.Resources[logicalId];
    if (!resource) throw new TemplateError(logicalId, 'no such resource in the template');
    return resource;
  }

  private condition(name: string): boolean {
    const known = this.conditions.get(name);
    if (known !== undefined) return known;
    const definition = this.template.Conditions?.[name];
    if (definition === undefined) throw new TemplateError(name, 'unknown condition');
    const value = this.resolveAt(definition, `Conditions.${name}`);
    if (typeof value !== 'boolean')
      throw new TemplateError(`Conditions.${name}`, 'does not evaluate to true or false');
    this.conditions.set(name, value);
    return value;
  }

  private resolveAt(value: unknown, path: string): unknown {
    if (Array.isArray(value)) {
      return value
        .map((item, i) => this.resolveAt(item, `${path}[${i}]`))
        .filter((item) => item !== NO_VALUE);
    }
    if (!isObject(value)) return value;
    const keys = Object.keys(value);
    if (keys.length === 1 && INTRINSICS.has(keys[0]!)) {
      return this.intrinsic(keys[0]!, value[keys[0]!], `${path}.${keys[0]}`);
    }
    const result: Record<string, unknown> = {};
    for (const key of keys) {
      const resolved = this.resolveAt(value[key], `${path}.${key}`);
      if (resolved !== NO_VALUE) result[key] = resolved;
    }
    return result;
  }

  private intrinsic(name: string, argument: unknown, path: string): unknown {
    const args = (count: number): unknown[] => {
      if (!Array.isArray(argument) || argument.length !== count) {
        throw new TemplateError(path, `expects a list of ${count} arguments`);
      }
      return argument;
    };
    const text = (raw: unknown, what: string): string => {
      const resolved = this.resolveAt(raw, path);
      if (typeof resolved === 'number' || typeof resolved === 'boolean') return String(resolved);
      if (typeof resolved !== 'string') throw new TemplateError(path, `${what} is not a string`);
      return resolved;
    };
    const list = (raw: unknown, what: string): unknown[] => {
      const resolved = this.resolveAt(raw, path);
      if (!Array.isArray(resolved)) throw new TemplateError(path, `${what} is not a list`);
      return resolved;
    };
    switch (name) {
      case 'Ref':
        return this.ref(text(argument, 'the name'));
      case 'Fn::GetAtt': {
        const [logicalId, attribute] =
          typeof argument === 'string'
            ? [argument.slice(0, argument.indexOf('.')), argument.slice(argument.indexOf('.') + 1)]
            : args(2).map((part) => text(part, 'a part'));
        return this.getAtt(logicalId!, attribute!);
      }
      case 'Fn::Join': {
        const [separator, items] = args(2);
        return list(items, 'the list')
          .map((item) => (typeof item === 'string' || typeof item === 'number' ? String(item) : item))
          .map((item) => {
            if (typeof item !== 'string') throw new TemplateError(path, 'joins a value that is not a string');
            return item;
          })
          .join(text(separator, 'the separator'));
      }
      case 'Fn::Sub':
        return Array.isArray(argument)
          ? this.substitute(text(argument[0], 'the template'), this.variables(argument[1], path), path)
          : this.substitute(text(argument, 'the template'), {}, path);
      case 'Fn::Select': {
        const [index, items] = args(2);
        const values = list(items, 'the list');
        const at = Number(text(index, 'the index'));
        if (!Number.isInteger(at) || at < 0 || at >= values.length) {
          throw new TemplateError(path, `index ${at} is outside the list of ${values.length}`);
        }
        return values[at];
      }
      case 'Fn::Split': {
        const [separator, source] = args(2);
        return text(source, 'the string').split(text(separator, 'the separator'));
      }
      case 'Fn::If': {
        const [condition, whenTrue, whenFalse] = args(3);
        return this.resolveAt(this.condition(text(condition, 'the condition')) ? whenTrue : whenFalse, path);
      }
      case 'Condition':
        return this.condition(text(argument, 'the condition'));
      case 'Fn::Equals': {
        const [a, b] = args(2).map((part) => this.resolveAt(part, path));
        return JSON.stringify(a) === JSON.stringify(b);
      }
      case 'Fn::And':
        return list(argument, 'the conditions').every((part) => part === true);
      case 'Fn::Or':
        return list(argument, 'the conditions').some((part) => part === true);
      case 'Fn::Not':
        return list(argument, 'the condition')[0] !== true;
      case 'Fn::FindInMap': {
        const [map, top, second] = args(3).map((part) => text(part, 'a key'));
        const found = this.template.Mappings?.[map!]?.[top!]?.[second!];
        if (found === undefined) throw new TemplateError(path, `no ${map}.${top}.${second} in Mappings`);
        return this.resolveAt(found, path);
      }
      case 'Fn::GetAZs':
        return ['a', 'b', 'c'].map((zone) => `${this.identity.region}${zone}`);
      case 'Fn::Base64':
        return Buffer.from(text(argument, 'the value')).toString('base64');
      case 'Fn::ImportValue': {
        const exportName = text(argument, 'the export name');
        const value = this.options.imports?.(exportName);
        if (value === undefined) throw new TemplateError(path, `no stack exports ${exportName}`);
        return value;
      }
      case 'Fn::ToJsonString':
        return JSON.stringify(this.resolveAt(argument, path));
      case 'Fn::Length':
        return list(argument, 'the list').length;
    }
    throw new TemplateError(path, `unsupported intrinsic ${name}`);
  }

  private variables(raw: unknown, path: string): Record<string, unknown> {
    const resolved = raw === undefined ? {} : this.resolveAt(raw, path);
    if (!isObject(resolved)) throw new TemplateError(path, 'the variables of Fn::Sub are not a map');
    return resolved;
  }

  private substitute(template: string, variables: Record<string, unknown>, path: string): string {
    return template.replace(/\$\{([^}]*)\}/g, (whole, name: string) => {
      if (name.startsWith('!')) return `\${${name.slice(1)}}`;
      const trimmed = name.trim();
      let value: unknown;
      if (trimmed in variables) value = variables[trimmed];
      else if (trimmed.includes('.') && !trimmed.startsWith('AWS::')) {
        const dot = trimmed.indexOf('.');
        value = this.getAtt(trimmed.slice(0, dot), trimmed.slice(dot + 1));
      } else value = this.ref(trimmed);
      if (typeof value === 'string' || typeof value === 'number') return String(value);
      throw new TemplateError(path, `${whole} is not a string`);
    });
  }

  private nameProperty(logicalId: string, resource: CfnResource, property: string): string | undefined {
    const raw = resource.Properties?.[property];
    if (raw === undefined) return undefined;
    const value = this.resolveAt(raw, `${logicalId}.${property}`);
    return typeof value === 'string' ? value : undefined;
  }

  private physicalOf(logicalId: string, resource: CfnResource): PhysicalResource {
    const { region, accountId } = this.identity;
    const stack = this.stackName;
    const named = (property: string, maxLength: number, lower = false) =>
      this.nameProperty(logicalId, resource, property) ?? generatedName(stack, logicalId, maxLength, lower);
    const base = { logicalId, type: resource.Type };
    switch (resource.Type) {
      case 'AWS::S3::Bucket': {
        const name = named('BucketName', 63, true);
        return {
          ...base,
          name,
          ref: name,
          arn: `arn:${this.identity.partition}:s3:::${name}`,
          attributes: {
            DomainName: `${name}.s3.amazonaws.com`,
            RegionalDomainName: `${name}.s3.${region}.amazonaws.com`,
            DualStackDomainName: `${name}.s3.dualstack.${region}.amazonaws.com`,
            WebsiteURL: `http://${name}.s3-website-${region}.amazonaws.com`,
          },
        };
      }
      case 'AWS::SQS::Queue': {
        const fifo = resource.Properties?.['FifoQueue'] === true;
        const name =
          this.nameProperty(logicalId, resource, 'QueueName') ??
          generatedName(stack, logicalId, fifo ? 75 : 80) + (fifo ? '.fifo' : '');
        const url = `${this.queueEndpoint}/${accountId}/${name}`;
        const arn = this.arn('sqs', name);
        return { ...base, name, ref: url, arn, attributes: { Arn: arn, QueueName: name, QueueUrl: url } };
      }
      case 'AWS::SNS::Topic': {
        const fifo = resource.Properties?.['FifoTopic'] === true;
        const name =
          this.nameProperty(logicalId, resource, 'TopicName') ??
          generatedName(stack, logicalId, fifo ? 251 : 256) + (fifo ? '.fifo' : '');
        const arn = this.arn('sns', name);
        return { ...base, name, ref: arn, arn, attributes: { TopicArn: arn, TopicName: name } };
      }
      case 'AWS::DynamoDB::Table': {
        const name = named('TableName', 255);
        const arn = this.arn('dynamodb', `table/${name}`);
        return {
          ...base,
          name,
          ref: name,
          arn,
          attributes: { Arn: arn, StreamArn: `${arn}/stream/1970-01-01T00:00:00.000` },
        };
      }
      case 'AWS::Lambda::Function': {
        const name = named('FunctionName', 64);
        const arn = this.arn('lambda', `function:${name}`);
        return { ...base, name, ref: name, arn, attributes: { Arn: arn } };
      }
      case 'AWS::StepFunctions::StateMachine': {
        const name = named('StateMachineName', 80);
        const arn = this.arn('states', `stateMachine:${name}`);
        return {
          ...base,
          name,
          ref: arn,
          arn,
          attributes: { Arn: arn, Name: name, StateMachineRevisionId: 'INITIAL' },
        };
      }
      case 'AWS::Events::Rule': {
        const name = named('Name', 64);
        const bus = resource.Properties?.['EventBusName'];
        const busName = typeof bus === 'string' && bus !== 'default' ? `${bus.split('/').pop()}/` : '';
        const arn = this.arn('events', `rule/${busName}${name}`);
        return { ...base, name, ref: name, arn, attributes: { Arn: arn } };
      }
      case 'AWS::Events::EventBus': {
        const name = named('Name', 256);
        const arn = this.arn('events', `event-bus/${name}`);
        return { ...base, name, ref: name, arn, attributes: { Arn: arn, Name: name } };
      }
      case 'AWS::Scheduler::Schedule': {
        const name = named('Name', 64);
        const group = this.nameProperty(logicalId, resource, 'GroupName') ?? 'default';
        const arn = this.arn('scheduler', `schedule/${group}/${name}`);
        return { ...base, name, ref: name, arn, attributes: { Arn: arn } };
      }
      case 'AWS::Scheduler::ScheduleGroup': {
        const name = named('Name', 64);
        const arn = this.arn('scheduler', `schedule-group/${name}`);
        return { ...base, name, ref: name, arn, attributes: { Arn: arn } };
      }
      case 'AWS::IAM::Role': {
        const name = named('RoleName', 64);
        const arn = `arn:${this.identity.partition}:iam::${accountId}:role/${name}`;
        return {
          ...base,
          name,
          ref: name,
          arn,
          attributes: { Arn: arn, RoleId: stableId(stack, logicalId) },
        };
      }
      case 'AWS::KMS::Key': {
        const id = stableId(stack, logicalId);
        const arn = this.arn('kms', `key/${id}`);
        return { ...base, name: id, ref: id, arn, attributes: { Arn: arn, KeyId: id } };
      }
      case 'AWS::Logs::LogGroup': {
        const name =
          this.nameProperty(logicalId, resource, 'LogGroupName') ??
          `/aws/${generatedName(stack, logicalId, 500)}`;
        const arn = this.arn('logs', `log-group:${name}:*`);
        return { ...base, name, ref: name, arn, attributes: { Arn: arn } };
      }
      case 'AWS::CloudWatch::Alarm': {
        const name = named('AlarmName', 255);
        const arn = this.arn('cloudwatch', `alarm:${name}`);
        return { ...base, name, ref: name, arn, attributes: { Arn: arn } };
      }
      case 'AWS::Kinesis::Stream': {
        const name = named('Name', 128);
        const arn = this.arn('kinesis', `stream/${name}`);
        return { ...base, name, ref: name, arn, attributes: { Arn: arn } };
      }
      case 'AWS::SNS::Subscription':
      case 'AWS::Lambda::EventSourceMapping': {
        const id = stableId(stack, logicalId);
        return { ...base, name: id, ref: id, arn: id, attributes: { Id: id } };
      }
    }
    // Anything else: a generated name as Ref, and a plausible ARN built from the type.
    const [, service = 'unknown', kind = 'resource'] = resource.Type.split('::');
    const name = generatedName(stack, logicalId, 255);
    const arn = this.arn(service.toLowerCase(), `${kind.toLowerCase()}/${name}`);
    return { ...base, name, ref: name, arn, attributes: { Arn: arn } };
  }
}
