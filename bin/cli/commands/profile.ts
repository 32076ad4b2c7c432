import type { Command } from 'commander';
import { profileToJson, type TableProfile } from '../../../lambdas/core/drift/profile.ts';
import { profileTable } from '../../../lambdas/core/drift/run.ts';
import { type CaptureFlags, captureColumnOptions, openTable, warnBadCaptureRecords } from '../capture.ts';
import { type ColumnFlags, columnOptions } from '../flags.ts';
import { writeFileAtomic } from '../output.ts';
import { commandProfiler, defaultThreads } from '../parallel/profile-parallel.ts';
import { ProgressReporter } from '../progress.ts';
import { addColumnFlags } from './drift.ts';

interface ProfileFlags extends ColumnFlags, CaptureFlags {
  out: string;
  quiet?: boolean;
  maxDecompressedBytes?: number;
  threads?: number;
}

export function registerProfile(program: Command): void {
  const command = program
    .command('profile')
    .summary('store what later drift checks need of a training file')
    .description(
      'Profile FILE once (schema, PSI bin edges, category counts, a bounded sample for KS/Wasserstein and\n' +
        'summary statistics) so later `driftwatch drift PROFILE CURRENT` runs need not read it again.\n' +
        'A .gz output is gzip-compressed.',
    )
    .argument('<file>', 'training data: CSV, JSON Lines or Parquet, optionally .gz')
    .requiredOption('-o, --out <file>', 'where to write the profile (JSON)');
  addColumnFlags(command)
    .option('-q, --quiet', 'no progress on stderr')
    .action(async (file: string, flags: ProfileFlags) => {
      const progress = new ProgressReporter(!flags.quiet);
      let profile: TableProfile;
      const { input, capture } = await openTable(file, flags);
      try {
        profile = await profileTable(input, captureColumnOptions(columnOptions(flags), capture), {
          maxDecompressedBytes: flags.maxDecompressedBytes,
          profiler: commandProfiler(flags.threads ?? defaultThreads(), [input]),
          onProgress: (input, update) => progress.update(input, update),
        });
      } finally {
        progress.done();
      }
      warnBadCaptureRecords([input], flags.quiet);
      await writeFileAtomic(flags.out, profileToJson(profile));
      if (!flags.quiet) {
        process.stderr.write(
          `driftwatch: profiled ${profile.rows} rows, ${profile.features.length} features` +
            `${profile.options.segment ? `, ${profile.segments.length} segments of ${profile.options.segment}` : ''} -> ${flags.out}\n`,
        );
      }
    });
}
