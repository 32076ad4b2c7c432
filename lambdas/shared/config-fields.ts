import { ConfigError } from '../core/errors.ts';

/** A Lambda's environment, as `process.env`. */
export type Environment = Readonly<Record<string, string | undefined>>;

/** The value of environment variable `name`; a ConfigError when it is unset or blank. */
export function requiredEnv(env: Environment, name: string): string {
  const value = env[name];
  if (value === undefined || value.trim() === '') {
    throw new ConfigError(name, 'the environment variable is not set');
  }
  return value;
}

/** `value` as a JSON object (not null, not an array); a ConfigError naming `field` otherwise. */
export function objectField(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(field, 'expected a JSON object');
  }
  return value as Record<string, unknown>;
}

/** `value` as a non-empty string; a ConfigError naming `field` otherwise. */
export function stringField(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '') throw new ConfigError(field, 'expected a non-empty string');
  return value;
}

/** `text` parsed as a JSON object; a ConfigError naming `field` when it is not valid JSON or not an object. */
export function parseJsonObject(text: string, field: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(field, `not valid JSON (${(error as Error).message})`);
  }
  return objectField(parsed, field);
}

/** Where a check reads its data and leaves its results, as a check Lambda's environment names them. */
export interface StorageEnvironment {
  dataBucket: string;
  resultsBucket: string;
  reportsPrefix: string;
  historyTable: string;
}

/**
 * Reads the variables `names` gives (as {@link DRIFT_ENV} and {@link PERFORMANCE_ENV} do) in this order; a
 * missing one is a ConfigError naming it. The reports prefix may be empty: reports then start with the
 * model's name.
 */
export function readStorageEnvironment(
  env: Environment,
  names: { [Field in keyof StorageEnvironment]: string },
): StorageEnvironment {
  return {
    dataBucket: requiredEnv(env, names.dataBucket),
    resultsBucket: requiredEnv(env, names.resultsBucket),
    reportsPrefix: env[names.reportsPrefix] ?? requiredEnv(env, names.reportsPrefix),
    historyTable: requiredEnv(env, names.historyTable),
  };
}
