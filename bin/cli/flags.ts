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
  fdr?: string;
  minEffect?: string[];
}

/** `--fdr 0.05`: a level in (0, 1]. */
export function parseFdr(text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !(value > 0 && value <= 1))
    throw new ConfigError('--fdr', `expected an FDR level in (0, 1], got ${JSON.stringify(text)}`);
  return value;
}

/** `--min-effect ks:0.1,chi2:0.15`: the minimum D of KS and Cramér's V of chi-square. */
export function parseMinEffect(items: readonly string[]): { ks?: number; chi2?: number } {
  const minEffect: { ks?: number; chi2?: number } = {};
  for (const item of items) {
    const [method, valueText, ...rest] = item.split(':');
    const value = Number(valueText);
    if (rest.length > 0 || (method !== 'ks' && method !== 'chi2') || valueText === undefined) {
      throw new ConfigError('--min-effect', `expected ks:D or chi2:V, got ${JSON.stringify(item)}`);
    }
    if (valueText.trim() === '' || !(value >= 0 && value <= 1))
      throw new ConfigError(
        `--min-effect ${method}`,
        `expected a number in [0, 1], got ${JSON.stringify(valueText)}`,
      );
    if (method in minEffect) throw new ConfigError('--min-effect', `${method} is given twice`);
    minEffect[method] = value;
  }
  return minEffect;
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
  if (flags.fdr !== undefined) options.fdr = parseFdr(flags.fdr);
  if (flags.minEffect !== undefined) {
    if (options.fdr === undefined)
      throw new ConfigError(
        '--min-effect',
        'applies to version 2 decisions: add --fdr (for instance --fdr 0.05)',
      );
    options.minEffect = parseMinEffect(flags.minEffect);
  }
  return options;
}
