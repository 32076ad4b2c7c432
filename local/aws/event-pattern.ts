/**
 * EventBridge event patterns ("Content filtering in Amazon EventBridge event patterns"): exact values,
 * `prefix`, `suffix`, `equals-ignore-case`, `wildcard`, `anything-but` (values, prefix, suffix, wildcard,
 * equals-ignore-case), `numeric`, `exists`, `cidr` and `$or`, over nested objects and arrays. SNS filter
 * policies use the same syntax and this matcher.
 *
 * Semantics, as EventBridge documents them: every field of the pattern must match (AND); the values listed
 * for a field are alternatives (OR); an event field holding an array matches when any element does; a
 * pattern field matches only leaf values (an object is not a value); `exists: false` matches when the field
 * is absent; every other condition needs the field present.
 */
import { EventPatternError } from './errors.ts';

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

type Leaf = string | number | boolean | null;

const isLeaf = (value: unknown): value is Leaf =>
  value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';

const CONDITIONS = new Set([
  'prefix',
  'suffix',
  'equals-ignore-case',
  'wildcard',
  'anything-but',
  'numeric',
  'exists',
  'cidr',
]);

/**
 * Checks that `pattern` is a pattern EventBridge would accept (as far as matching goes).
 *
 * @throws EventPatternError naming the bad part
 */
export function validateEventPattern(pattern: unknown, path = ''): void {
  if (!isObject(pattern)) throw new EventPatternError(path, 'must be a JSON object');
  for (const [key, value] of Object.entries(pattern)) {
    const at = path === '' ? key : `${path}.${key}`;
    if (key === '$or') {
      if (!Array.isArray(value) || value.length < 2) {
        throw new EventPatternError(at, '$or needs a list of at least two patterns');
      }
      value.forEach((option, i) => {
        validateEventPattern(option, `${at}[${i}]`);
      });
    } else if (Array.isArray(value)) {
      if (value.length === 0) throw new EventPatternError(at, 'an empty list matches nothing');
      value.forEach((condition, i) => {
        validateCondition(condition, `${at}[${i}]`);
      });
    } else if (isObject(value)) validateEventPattern(value, at);
    else
      throw new EventPatternError(at, `must be a list of values or an object, got ${JSON.stringify(value)}`);
  }
}

function validateCondition(condition: unknown, path: string): void {
  if (isLeaf(condition)) return;
  if (!isObject(condition)) throw new EventPatternError(path, 'must be a value or a condition object');
  const keys = Object.keys(condition);
  if (keys.length !== 1 || !CONDITIONS.has(keys[0]!)) {
    throw new EventPatternError(path, `unknown condition ${JSON.stringify(keys)}`);
  }
  const [name] = keys as [string];
  const value = condition[name];
  switch (name) {
    case 'exists':
      if (typeof value !== 'boolean') throw new EventPatternError(path, 'exists takes true or false');
      return;
    case 'numeric':
      numericBounds(value, path);
      return;
    case 'prefix':
    case 'suffix':
      if (typeof value === 'string') return;
      if (isObject(value) && typeof value['equals-ignore-case'] === 'string') return;
      throw new EventPatternError(path, `${name} takes a string or {"equals-ignore-case": string}`);
    case 'equals-ignore-case':
    case 'wildcard':
    case 'cidr':
      if (typeof value !== 'string') throw new EventPatternError(path, `${name} takes a string`);
      if (name === 'cidr') parseCidr(value, path);
      return;
    case 'anything-but':
      if (isLeaf(value) || (Array.isArray(value) && value.every(isLeaf))) return;
      if (isObject(value) && Object.keys(value).length === 1) {
        const [inner] = Object.keys(value) as [string];
        if (['prefix', 'suffix', 'equals-ignore-case', 'wildcard'].includes(inner)) {
          const innerValue = value[inner];
          if (typeof innerValue === 'string') return;
          if (Array.isArray(innerValue) && innerValue.every((item) => typeof item === 'string')) return;
        }
      }
      throw new EventPatternError(
        path,
        'anything-but takes values or one of prefix, suffix, wildcard, equals-ignore-case',
      );
  }
}

type Comparison = '<' | '<=' | '=' | '>=' | '>';

function numericBounds(value: unknown, path: string): [Comparison, number][] {
  if (!Array.isArray(value) || value.length === 0 || value.length % 2 !== 0) {
    throw new EventPatternError(path, 'numeric takes pairs of operator and number, e.g. [">", 0, "<=", 5]');
  }
  const bounds: [Comparison, number][] = [];
  for (let i = 0; i < value.length; i += 2) {
    const operator = value[i];
    const number = value[i + 1];
    if (!['<', '<=', '=', '>=', '>'].includes(operator as string) || typeof number !== 'number') {
      throw new EventPatternError(
        path,
        `numeric: ${JSON.stringify([operator, number])} is not an operator and a number`,
      );
    }
    bounds.push([operator as Comparison, number]);
  }
  return bounds;
}

function parseIpv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return undefined;
    value = value * 256 + Number(part);
  }
  return value;
}

function parseCidr(text: string, path: string): { base: number; bits: number } {
  const [address = '', bitsText = '32'] = text.split('/');
  const base = parseIpv4(address);
  const bits = Number(bitsText);
  if (base === undefined || !Number.isInteger(bits) || bits < 0 || bits > 32) {
    throw new EventPatternError(path, `cidr ${JSON.stringify(text)} is not an IPv4 CIDR block`);
  }
  return { base, bits };
}

function wildcardRegex(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*');
  return new RegExp(`^${escaped}$`, 's');
}

/** Leaf values at `key` of `value`: arrays are flattened, objects are not values. */
function leavesAt(value: unknown, key: string): Leaf[] {
  const holders = Array.isArray(value) ? value.flat(Infinity) : [value];
  const leaves: Leaf[] = [];
  for (const holder of holders) {
    if (!isObject(holder) || !(key in holder)) continue;
    const field = holder[key];
    for (const item of Array.isArray(field) ? field.flat(Infinity) : [field]) {
      if (isLeaf(item)) leaves.push(item);
    }
  }
  return leaves;
}

/** Objects at `key` of `value` (arrays flattened), for nested patterns. */
function childrenAt(value: unknown, key: string): unknown[] {
  const holders = Array.isArray(value) ? value.flat(Infinity) : [value];
  const children: unknown[] = [];
  for (const holder of holders) {
    if (!isObject(holder) || !(key in holder)) continue;
    const field = holder[key];
    children.push(...(Array.isArray(field) ? field.flat(Infinity) : [field]));
  }
  return children;
}

function textMatch(kind: 'prefix' | 'suffix', spec: unknown, value: Leaf): boolean {
  if (typeof value !== 'string') return false;
  const ignoreCase = isObject(spec);
  const wanted = ignoreCase ? String(spec['equals-ignore-case']) : String(spec);
  const subject = ignoreCase ? value.toLowerCase() : value;
  const target = ignoreCase ? wanted.toLowerCase() : wanted;
  return kind === 'prefix' ? subject.startsWith(target) : subject.endsWith(target);
}

function equalLeaf(a: Leaf, b: Leaf): boolean {
  return a === b;
}

function anythingBut(spec: unknown, value: Leaf): boolean {
  if (isObject(spec)) {
    const [name] = Object.keys(spec) as [string];
    const inner = spec[name];
    const options = Array.isArray(inner) ? (inner as string[]) : [inner as string];
    if (typeof value !== 'string') return true;
    return !options.some((option) => {
      switch (name) {
        case 'prefix':
          return value.startsWith(option);
        case 'suffix':
          return value.endsWith(option);
        case 'equals-ignore-case':
          return value.toLowerCase() === option.toLowerCase();
        default:
          return wildcardRegex(option).test(value);
      }
    });
  }
  const excluded = Array.isArray(spec) ? (spec as Leaf[]) : [spec as Leaf];
  return !excluded.some((item) => equalLeaf(item, value));
}

function conditionMatches(condition: unknown, leaves: Leaf[]): boolean {
  if (isLeaf(condition)) return leaves.some((value) => equalLeaf(value, condition));
  const spec = condition as Record<string, unknown>;
  const [name] = Object.keys(spec) as [string];
  const argument = spec[name];
  if (name === 'exists') return argument === true ? leaves.length > 0 : leaves.length === 0;
  return leaves.some((value) => {
    switch (name) {
      case 'prefix':
      case 'suffix':
        return textMatch(name, argument, value);
      case 'equals-ignore-case':
        return typeof value === 'string' && value.toLowerCase() === String(argument).toLowerCase();
      case 'wildcard':
        return typeof value === 'string' && wildcardRegex(String(argument)).test(value);
      case 'anything-but':
        return anythingBut(argument, value);
      case 'numeric':
        return (
          typeof value === 'number' &&
          numericBounds(argument, name).every(([operator, bound]) => {
            switch (operator) {
              case '<':
                return value < bound;
              case '<=':
                return value <= bound;
              case '=':
                return value === bound;
              case '>=':
                return value >= bound;
              default:
                return value > bound;
            }
          })
        );
      case 'cidr': {
        const address = typeof value === 'string' ? parseIpv4(value) : undefined;
        if (address === undefined) return false;
        const { base, bits } = parseCidr(String(argument), name);
        const size = 2 ** (32 - bits);
        return Math.floor(address / size) === Math.floor(base / size);
      }
    }
    return false;
  });
}

/**
 * Whether `event` matches `pattern`. The pattern is assumed valid ({@link validateEventPattern}).
 *
 * @example
 * ```ts
 * matchesEventPattern(
 *   { source: ['aws.s3'], detail: { object: { key: [{ prefix: 'churn/incoming/' }] } } },
 *   { source: 'aws.s3', detail: { object: { key: 'churn/incoming/day 1.csv' } } },
 * ); // true
 * ```
 */
export function matchesEventPattern(pattern: Record<string, unknown>, event: unknown): boolean {
  for (const [key, expected] of Object.entries(pattern)) {
    if (key === '$or') {
      if (!(expected as Record<string, unknown>[]).some((option) => matchesEventPattern(option, event))) {
        return false;
      }
      continue;
    }
    if (Array.isArray(expected)) {
      const leaves = leavesAt(event, key);
      if (!expected.some((condition) => conditionMatches(condition, leaves))) return false;
      continue;
    }
    const nested = expected as Record<string, unknown>;
    const children = childrenAt(event, key).filter(isObject);
    if (children.length === 0) {
      if (!matchesEventPattern(nested, undefined)) return false;
    } else if (!children.some((child) => matchesEventPattern(nested, child))) return false;
  }
  return true;
}
