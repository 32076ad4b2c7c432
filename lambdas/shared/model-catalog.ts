/**
 * Models as data: the shared functions learn which models exist, and how each is configured, from one SSM
 * parameter per model (`/driftwatch/<stack>/models/<model>`, the validated model config as JSON, written at
 * deploy time by CloudFormation). A function reads them all with `GetParametersByPath` and keeps them for
 * a minute, so a deployment that adds or changes a model reaches warm functions within that time.
 *
 * A function deployed for one model (or a test) can instead be given that model's runtime config in the
 * `MODEL_CONFIG` variable: the catalog then holds that single model.
 */
import { GetParametersByPathCommand, type SSMClient } from '@aws-sdk/client-ssm';
import type { ModelConfig } from '../../lib/config/model-config.ts';
import { ConfigError } from '../core/errors.ts';
import { type Environment, parseJsonObject } from './config-fields.ts';

/** Environment of every shared function. */
export const MODELS_ENV = {
  /** Path of the model parameters, ending with `/`. */
  parameterPath: 'MODELS_PARAMETER_PATH',
  /** The stack (deployment) name: names the package groups. */
  stackName: 'DRIFTWATCH_STACK_NAME',
  /** How long the models are cached, seconds. @default 60 */
  cacheSeconds: 'MODELS_CACHE_SECONDS',
} as const;

/** The SSM path under which a deployment's models live. */
export function modelsParameterPath(stackName: string): string {
  return `/driftwatch/${stackName}/models/`;
}

/** The largest parameter value SSM stores (advanced tier; the standard tier holds 4 KB). */
export const MAX_MODEL_PARAMETER_BYTES = 8192;

/** Reads every parameter under a path. */
export type ParameterReader = (path: string) => Promise<{ name: string; value: string }[]>;

export function ssmParameterReader(ssm: SSMClient): ParameterReader {
  return async (path) => {
    const parameters: { name: string; value: string }[] = [];
    let nextToken: string | undefined;
    do {
      const page = await ssm.send(
        new GetParametersByPathCommand({
          Path: path,
          Recursive: false,
          MaxResults: 10,
          NextToken: nextToken,
        }),
      );
      for (const parameter of page.Parameters ?? []) {
        if (parameter.Name && parameter.Value !== undefined) {
          parameters.push({ name: parameter.Name, value: parameter.Value });
        }
      }
      nextToken = page.NextToken;
    } while (nextToken);
    return parameters;
  };
}

/** A validated model config, as a model parameter holds it; a ConfigError naming the parameter otherwise. */
export function parseModelParameter(name: string, value: string): ModelConfig {
  const json = parseJsonObject(value, name);
  if (typeof json['name'] !== 'string' || typeof json['prefixes'] !== 'object' || json['prefixes'] === null) {
    throw new ConfigError(name, 'expected a driftwatch model config (name, prefixes, drift)');
  }
  if (!name.endsWith(`/${json['name']}`)) {
    throw new ConfigError(name, `holds model ${JSON.stringify(json['name'])}, not the one its name says`);
  }
  return json as unknown as ModelConfig;
}

/** The models a function serves, each as the function needs it (`T`: a runtime config). */
export interface ModelCatalog<T extends { name: string }> {
  /** Every model, read again once the cache expired. */
  all(): Promise<readonly T[]>;
  /** One model by name; undefined when no model has that name. */
  get(name: string): Promise<T | undefined>;
}

/** A catalog of a single model, given as it is (one-model functions and tests). */
export function staticCatalog<T extends { name: string }>(model: T): ModelCatalog<T> {
  return {
    all: async () => [model],
    get: async (name) => (name === model.name ? model : undefined),
  };
}

/**
 * The models under `path`, mapped by `toRuntime` (which returns undefined for a model without the section the
 * function needs), cached for `ttlMs`. A failed read keeps the previous models when there are any.
 */
export function parameterCatalog<T extends { name: string }>(
  read: ParameterReader,
  path: string,
  toRuntime: (model: ModelConfig) => T | undefined,
  options: { ttlMs?: number; now?: () => number } = {},
): ModelCatalog<T> {
  const ttlMs = options.ttlMs ?? 60_000;
  const now = options.now ?? Date.now;
  let cached: { at: number; models: T[]; byName: Map<string, T> } | undefined;
  let loading: Promise<{ models: T[]; byName: Map<string, T> }> | undefined;
  const load = async () => {
    if (cached && now() - cached.at < ttlMs) return cached;
    loading ??= (async () => {
      try {
        const parameters = await read(path);
        const models = parameters
          .map(({ name, value }) => toRuntime(parseModelParameter(name, value)))
          .filter((model): model is T => model !== undefined)
          .sort((a, b) => a.name.localeCompare(b.name));
        cached = { at: now(), models, byName: new Map(models.map((model) => [model.name, model])) };
        return cached;
      } catch (error) {
        if (cached) return cached;
        throw error;
      } finally {
        loading = undefined;
      }
    })();
    return loading;
  };
  return {
    all: async () => (await load()).models,
    get: async (name) => (await load()).byName.get(name),
  };
}

/**
 * The catalog a shared function uses: `MODEL_CONFIG` (one model, parsed by `parseStatic`) when set, else the
 * parameters under `MODELS_PARAMETER_PATH`.
 */
export function catalogFromEnvironment<T extends { name: string }>(
  env: Environment,
  options: {
    parseStatic: (text: string) => T;
    toRuntime: (model: ModelConfig, stackName: string) => T | undefined;
    ssm: () => SSMClient;
  },
): ModelCatalog<T> {
  const single = env['MODEL_CONFIG'];
  if (single !== undefined && single.trim() !== '') return staticCatalog(options.parseStatic(single));
  const path = env[MODELS_ENV.parameterPath];
  if (path === undefined || path.trim() === '') {
    throw new ConfigError(
      MODELS_ENV.parameterPath,
      'the environment variable is not set (nor MODEL_CONFIG for a one-model function)',
    );
  }
  const stackName = env[MODELS_ENV.stackName] ?? '';
  const seconds = Number(env[MODELS_ENV.cacheSeconds] ?? 60);
  return parameterCatalog(
    ssmParameterReader(options.ssm()),
    path,
    (model) => options.toRuntime(model, stackName),
    {
      ttlMs: (Number.isFinite(seconds) && seconds >= 0 ? seconds : 60) * 1000,
    },
  );
}
