/**
 * Validation of `driftwatch.config.json` against its declaration (`schema.ts`): every problem is collected,
 * each a {@link ConfigError} naming its JSON path and saying what is wrong, and all of them are thrown
 * together as one {@link ConfigValidationError}, in the order of the declaration. Unknown fields are errors
 * too, so a misspelt optional field is caught instead of silently defaulted.
 */
import type * as z from 'zod';
import { ConfigError } from '../../lambdas/core/errors.ts';
import { ConfigValidationError } from './errors.ts';
import type { CanaryConfig, DriftwatchConfig } from './model-config.ts';
import {
  ConfigSchema,
  DEFAULT_CANARY_BAKE_MINUTES,
  DEFAULT_CANARY_DEADLINE_MINUTES,
  DEFAULT_CANARY_MAX_ERROR_RATE,
  DEFAULT_CANARY_MAX_LATENCY_INCREASE,
  DEFAULT_CANARY_STEPS,
  DEFAULT_ENDPOINT_WAIT_MINUTES,
  MODEL,
} from './schema.ts';

export * from './schema.ts';

/**
 * Checks a parsed config file and fills in defaults.
 *
 * @param raw the parsed JSON
 * @param source the file name, used in the error message
 * @throws ConfigValidationError listing every problem found
 *
 * @example
 * ```ts
 * const config = validateConfig(JSON.parse(readFileSync(path, 'utf8')), path);
 * ```
 */
export function validateConfig(raw: unknown, source = 'driftwatch.config.json'): DriftwatchConfig {
  const result = ConfigSchema.safeParse(raw);
  if (result.success) return result.data;
  throw new ConfigValidationError(source, problemsOf(result.error.issues, raw));
}

type Path = readonly PropertyKey[];

/**
 * The issues as the user reads them: one per field (the first rule it breaks; a rule across fields is
 * reported only when the fields it reads are valid), unknown keys one by one, in the declaration's order.
 */
export function problemsOf(issues: readonly z.core.$ZodIssue[], raw: unknown): ConfigError[] {
  const entries: { path: Path; message: string; rule: boolean }[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys)
        entries.push({ path: [...issue.path, key], message: issue.message, rule: false });
    } else {
      const rule = issue.code === 'custom' && (issue.params as { rule?: boolean } | undefined)?.rule === true;
      entries.push({ path: issue.path, message: issue.message, rule });
    }
  }
  const fieldProblems = new Set(
    entries.filter((entry) => !entry.rule).map((entry) => formatPath(entry.path)),
  );
  const kept = new Set<string>();
  const problems: { order: number[]; error: ConfigError }[] = [];
  for (const entry of entries) {
    const field = formatPath(entry.path);
    if (entry.rule ? fieldProblems.has(field) : kept.has(field)) continue;
    if (!entry.rule) kept.add(field);
    const model =
      entry.path[0] === 'models' && typeof entry.path[1] === 'number' ? `models[${entry.path[1]}]` : '';
    problems.push({
      order: declarationOrder(entry.path, raw),
      error: new ConfigError(field === '' ? '(config root)' : field, entry.message.replaceAll(MODEL, model)),
    });
  }
  // A stable sort: problems at one field keep the order the rules found them in.
  problems.sort((a, b) => compareOrder(a.order, b.order));
  return problems.map((problem) => problem.error);
}

/** `models[0].drift.featureMethods["total amount"]`: the path as the user's JSON spells it. */
export function formatPath(path: Path): string {
  let text = '';
  for (const key of path) {
    if (typeof key === 'number') text += `[${key}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(String(key))) text += text === '' ? String(key) : `.${String(key)}`;
    else text += `[${JSON.stringify(String(key))}]`;
  }
  return text;
}

/** Where each step of `path` comes in the declaration (fields) or in the file (list items, map keys). */
function declarationOrder(path: Path, raw: unknown): number[] {
  const order: number[] = [];
  let schema: z.core.$ZodType | undefined = ConfigSchema;
  let value: unknown = raw;
  for (const key of path) {
    const def: Record<string, unknown> | undefined = schema
      ? (unwrap(schema)._zod.def as unknown as Record<string, unknown>)
      : undefined;
    const valueKeys = value !== null && typeof value === 'object' ? Object.keys(value) : [];
    if (typeof key === 'number') {
      order.push(key);
      schema = def?.['type'] === 'array' ? (def['element'] as z.core.$ZodType) : undefined;
    } else if (def?.['type'] === 'object') {
      const shape = Object.keys(def['shape'] as object);
      const index = shape.indexOf(String(key));
      order.push(index >= 0 ? index : shape.length + valueKeys.indexOf(String(key)));
      schema = index >= 0 ? (def['shape'] as Record<string, z.core.$ZodType>)[String(key)] : undefined;
    } else {
      order.push(valueKeys.indexOf(String(key)));
      schema = def?.['type'] === 'record' ? (def['valueType'] as z.core.$ZodType) : undefined;
    }
    value =
      value !== null && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[key] : undefined;
  }
  return order;
}

/** The schema under its wrappers (default, optional, nullable, transform...). */
function unwrap(schema: z.core.$ZodType): z.core.$ZodType {
  let current = schema;
  for (;;) {
    const def = current._zod.def as unknown as Record<string, unknown>;
    if (def['type'] === 'pipe') current = def['in'] as z.core.$ZodType;
    else if ('innerType' in def) current = def['innerType'] as z.core.$ZodType;
    else return current;
  }
}

function compareOrder(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/**
 * The canary settings of a model without a `canary` section: a retrained model is still rolled out, with
 * these defaults.
 */
export function defaultCanaryConfig(modelName: string): CanaryConfig {
  return {
    steps: [...DEFAULT_CANARY_STEPS],
    bakeMinutes: DEFAULT_CANARY_BAKE_MINUTES,
    alpha: 0.05,
    minSamples: 500,
    shadow: false,
    deadlineMinutes: DEFAULT_CANARY_DEADLINE_MINUTES,
    maxErrorRate: DEFAULT_CANARY_MAX_ERROR_RATE,
    maxLatencyIncrease: DEFAULT_CANARY_MAX_LATENCY_INCREASE,
    endpointWaitMinutes: DEFAULT_ENDPOINT_WAIT_MINUTES,
    feedbackPrefix: `${modelName}/feedback/`,
  };
}
