import { Option } from 'commander';
import { parseMethodSetting } from '../../lambdas/core/drift/decision.ts';
import type { ColumnOptions, DecisionOptions, MethodSetting } from '../../lambdas/core/drift/options.ts';
import { ConfigError } from '../../lambdas/core/errors.ts';

/** `a,b , c` -> ['a', 'b', 'c']; repeated flags accumulate. */
export function collectList(value: string, previous: string[] = []): string[] {
  return [
    ...previous,
    ...value
      .split(',')
      .map((name) => name.trim())
      .filter((name) => name.length > 0),
  ];
}

export function collectRepeated(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function parseWholeNumber(flag: string, min: number): (value: string) => number {
  return (value) => {
    const number = Number(value.replaceAll('_', ''));
    if (!Number.isInteger(number) || number < min)
      throw new ConfigError(flag, `expected a whole number >= ${min}, got ${JSON.stringify(value)}`);
    return number;
  };
}

/** Sizes like `500MB`, `2GiB` or a plain byte count. */
export function parseByteSize(flag: string): (value: string) => number {
  const units: Record<string, number> = {
    '': 1,
    b: 1,
    kb: 1e3,
    mb: 1e6,
    gb: 1e9,
    tb: 1e12,
    kib: 2 ** 10,
    mib: 2 ** 20,
    gib: 2 ** 30,
    tib: 2 ** 40,
  };
  return (value) => {
    const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
    const unit = match ? units[match[2]!.toLowerCase()] : undefined;
    if (!match || unit === undefined)
      throw new ConfigError(flag, `expected a size such as 500MB or 2GiB, got ${JSON.stringify(value)}`);
    return Math.floor(Number(match[1]) * unit);
  };
}

/** `--max-segments <n>`: how many distinct segment values a command allows. */
export function maxSegmentsOption(): Option {
  return new Option('--max-segments <n>', 'distinct segment values allowed (default 100)').argParser(
    parseWholeNumber('--max-segments', 1),
  );
}

/** `--max-decompressed-bytes <size>`: how far a gzip input may expand before a command refuses it. */
export function maxDecompressedBytesOption(): Option {
  return new Option(
    '--max-decompressed-bytes <size>',
    'refuse gzip inputs that expand past this (default 10GiB)',
  ).argParser(parseByteSize('--max-decompressed-bytes'));
}

export interface ColumnFlags {
  numeric?: string[];
  categorical?: string[];
  exclude?: string[];
  segment?: string;
  sampleCap?: number;
  seed?: number;
  maxCategories?: number;
  maxSegments?: number;
}

export function columnOptions(flags: ColumnFlags): ColumnOptions {
  return {
    numeric: flags.numeric,
    categorical: flags.categorical,
    exclude: flags.exclude,
    segment: flags.segment,
    sampleCap: flags.sampleCap,
    seed: flags.seed,
    maxCategories: flags.maxCategories,
    maxSegments: flags.maxSegments,
  };
}

export interface DecisionFlags {
  method?: string;
  featureMethod?: string[];
  driftShare?: string;
}

export function decisionOptions(flags: DecisionFlags): DecisionOptions {
  const options: DecisionOptions = {};
  if (flags.method !== undefined) options.method = parseMethodSetting(flags.method, '--method');
  if (flags.featureMethod) {
    const features: Record<string, MethodSetting> = {};
    for (const item of flags.featureMethod) {
      const at = item.lastIndexOf('=');
      if (at <= 0)
        throw new ConfigError(
          '--feature-method',
          `expected FEATURE=METHOD[:THRESHOLD], got ${JSON.stringify(item)}`,
        );
      const feature = item.slice(0, at);
      if (feature in features)
        throw new ConfigError('--feature-method', `${JSON.stringify(feature)} is given twice`);
      features[feature] = parseMethodSetting(item.slice(at + 1), `--feature-method ${feature}`);
    }
    options.features = features;
  }
  if (flags.driftShare !== undefined) {
    const share = Number(flags.driftShare);
    if (flags.driftShare.trim() === '' || !(share > 0 && share <= 1)) {
      throw new ConfigError(
        '--drift-share',
        `expected a share in (0, 1], got ${JSON.stringify(flags.driftShare)}`,
      );
    }
    options.driftShare = share;
  }
  return options;
}
