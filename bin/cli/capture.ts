import type { Command } from 'commander';
import type { ColumnOptions } from '../../lambdas/core/drift/options.ts';
import { ConfigError } from '../../lambdas/core/errors.ts';
import {
  CAPTURE_METADATA_COLUMNS,
  type CaptureAwareInput,
  type CaptureOptions,
  DEFAULT_MAX_BAD_SHARE,
  localTableInput,
} from '../../lambdas/core/readers/capture.ts';
import { collectList } from './flags.ts';

/** Flags of the commands that read tables, for SageMaker Data Capture inputs. */
export interface CaptureFlags {
  captureFeatures?: string[];
  captureMaxBadShare?: string;
}

export function addCaptureFlags(command: Command): Command {
  return command
    .option(
      '--capture-features <names>',
      "Data Capture: names of a CSV payload's fields, in order (default _c0, _c1, ...)",
      collectList,
    )
    .option(
      '--capture-max-bad-share <share>',
      `Data Capture: share of bad records above which a file fails (default ${DEFAULT_MAX_BAD_SHARE})`,
    );
}

export function captureOptions(flags: CaptureFlags): CaptureOptions {
  const options: CaptureOptions = {};
  if (flags.captureFeatures !== undefined) {
    if (new Set(flags.captureFeatures).size !== flags.captureFeatures.length)
      throw new ConfigError('--capture-features', 'a name is given twice');
    options.features = flags.captureFeatures;
  }
  if (flags.captureMaxBadShare !== undefined) {
    const share = Number(flags.captureMaxBadShare);
    if (flags.captureMaxBadShare.trim() === '' || !(share >= 0 && share <= 1)) {
      throw new ConfigError(
        '--capture-max-bad-share',
        `expected a share in [0, 1], got ${JSON.stringify(flags.captureMaxBadShare)}`,
      );
    }
    options.maxBadShare = share;
  }
  return options;
}

/** A path argument as a table input: a file, or a directory (or file) of Data Capture records. */
export function openTable(
  path: string,
  flags: CaptureFlags,
): Promise<{ input: CaptureAwareInput; capture: boolean }> {
  return localTableInput(path, captureOptions(flags));
}

/**
 * Drift of capture data leaves the record's metadata (variant, eventId, inferenceId, inferenceTime) out of
 * the features unless a flag names one of them (as the segment, say).
 */
export function captureColumnOptions(options: ColumnOptions, capture: boolean): ColumnOptions {
  return capture ? { ...options, metadata: CAPTURE_METADATA_COLUMNS } : options;
}

/** Warns on stderr about every capture file with bad records (their rows were left out). */
export function warnBadCaptureRecords(
  inputs: readonly CaptureAwareInput[],
  quiet: boolean | undefined,
): void {
  if (quiet) return;
  for (const input of inputs) {
    for (const file of input.capture?.summaries ?? []) {
      if (file.badRecords === 0 || file.firstError === null) continue;
      process.stderr.write(
        `driftwatch: warning: ${file.file}: ${file.badRecords} of ${file.records} capture records are bad and ` +
          `left out; the first, on line ${file.firstError.line}: ${file.firstError.reason}\n`,
      );
    }
  }
}
