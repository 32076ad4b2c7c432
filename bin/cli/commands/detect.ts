import type { Command } from 'commander';
import { type DetectReport, detectInTable } from '../../../lambdas/core/concept-drift/detect-table.ts';
import { DETECTOR_METHODS, type DetectorMethod } from '../../../lambdas/core/concept-drift/detector.ts';
import { ConfigError } from '../../../lambdas/core/errors.ts';
import { fileInput } from '../../../lambdas/core/readers/input.ts';
import { EXIT } from '../exit.ts';
import { maxDecompressedBytesOption } from '../flags.ts';
import { emit } from '../output.ts';
import { ProgressReporter } from '../progress.ts';

interface DetectFlags {
  column: string;
  method: string;
  delta?: string;
  threshold?: string;
  warningThreshold?: string;
  minInstances?: string;
  clock?: string;
  alpha?: string;
  direction?: string;
  format?: string;
  out?: string;
  quiet?: boolean;
  failOnDrift?: boolean;
  maxDecompressedBytes?: number;
}

/** Each parameter flag: the methods it applies to and the parameter it sets in each. */
const PARAMETER_FLAGS: readonly {
  flag: string;
  key: keyof DetectFlags;
  numeric: boolean;
  parameter: Partial<Record<DetectorMethod, string>>;
}[] = [
  { flag: '--delta', key: 'delta', numeric: true, parameter: { adwin: 'delta', 'page-hinkley': 'delta' } },
  {
    flag: '--threshold',
    key: 'threshold',
    numeric: true,
    parameter: { ddm: 'driftThreshold', 'page-hinkley': 'threshold' },
  },
  {
    flag: '--warning-threshold',
    key: 'warningThreshold',
    numeric: true,
    parameter: { ddm: 'warningThreshold' },
  },
  {
    flag: '--min-instances',
    key: 'minInstances',
    numeric: true,
    parameter: { ddm: 'minInstances', 'page-hinkley': 'minInstances' },
  },
  { flag: '--clock', key: 'clock', numeric: true, parameter: { adwin: 'clock' } },
  { flag: '--alpha', key: 'alpha', numeric: true, parameter: { 'page-hinkley': 'alpha' } },
  { flag: '--direction', key: 'direction', numeric: false, parameter: { 'page-hinkley': 'direction' } },
];

function parseMethod(text: string): DetectorMethod {
  if (!(DETECTOR_METHODS as readonly string[]).includes(text))
    throw new ConfigError(
      '--method',
      `expected one of ${DETECTOR_METHODS.join(', ')}, got ${JSON.stringify(text)}`,
    );
  return text as DetectorMethod;
}

/** The detector parameters the flags set, and the flag of each of the method's parameters (for errors). */
function parametersFromFlags(method: DetectorMethod, flags: DetectFlags) {
  const parameters: Record<string, number | string> = {};
  const flagOf = new Map<string, string>();
  for (const { flag, key, numeric, parameter } of PARAMETER_FLAGS) {
    const text = flags[key];
    const name = parameter[method];
    if (name !== undefined) flagOf.set(`parameters.${name}`, flag);
    if (text === undefined || typeof text !== 'string') continue;
    if (name === undefined) {
      const takers = Object.keys(parameter).join(' and ');
      throw new ConfigError(flag, `does not apply to ${method} (only to ${takers})`);
    }
    const value = numeric ? Number(text) : text;
    if (numeric && (text.trim() === '' || !Number.isFinite(value)))
      throw new ConfigError(flag, `expected a number, got ${JSON.stringify(text)}`);
    parameters[name] = value;
  }
  return { parameters, flagOf };
}

function renderText(report: DetectReport, path: string, column: string): string {
  const parameters = Object.entries(report.parameters)
    .map(([name, value]) => `${name} ${value}`)
    .join(', ');
  const rows = (indices: number[]) => (indices.length === 0 ? 'none' : indices.join(', '));
  const lines = [
    `${report.method} over column ${JSON.stringify(column)} of ${path} (${parameters})`,
    `values: ${report.n}${report.skipped > 0 ? ` (${report.skipped} rows without a value passed over)` : ''}`,
    `drifts: ${report.detections.length}${report.detections.length > 0 ? ` at rows ${rows(report.detections)}` : ''}`,
  ];
  if (report.warnings !== undefined)
    lines.push(
      `warnings: ${report.warnings.length}${report.warnings.length > 0 ? ` beginning at rows ${rows(report.warnings)}` : ''}`,
    );
  lines.push('(rows are 0-based data rows, the header not counted)');
  return lines.join('\n');
}

export function registerDetect(program: Command): void {
  program
    .command('detect')
    .summary('find concept drift in a column of errors or losses, in file order')
    .description(
      "Run a streaming concept-drift detector (ADWIN, DDM or Page-Hinkley, with River's defaults) over one\n" +
        'numeric column of FILE (CSV, JSON Lines or Parquet, optionally .gz), row by row in file order: 0/1\n' +
        'errors (1 = the prediction was wrong) or a real-valued loss. Reports the 0-based data rows where a\n' +
        `drift was signalled (DDM also where a warning began). Exits ${EXIT.breach} with --fail-on-drift when one was.`,
    )
    .argument('<file>', 'data file with the column, in time order')
    .requiredOption('--column <column>', 'the column of errors (0/1) or losses')
    .requiredOption('--method <method>', `the detector: ${DETECTOR_METHODS.join(', ')}`)
    .option(
      '--delta <d>',
      'adwin: confidence (default 0.002); page-hinkley: tolerated change (default 0.005)',
    )
    .option('--threshold <t>', 'page-hinkley: lambda (default 50); ddm: drift level in sigmas (default 3)')
    .option('--warning-threshold <t>', 'ddm: warning level in sigmas (default 2)')
    .option('--min-instances <n>', 'ddm, page-hinkley: values before anything is signalled (default 30)')
    .option('--clock <n>', 'adwin: check for a change every N values (default 32)')
    .option('--alpha <a>', 'page-hinkley: fading factor (default 0.9999)')
    .option('--direction <d>', 'page-hinkley: up, down or both (default both)')
    .option('--format <format>', 'text or json (default: text on a terminal, json otherwise)')
    .option('-o, --out <file>', 'write the report to FILE instead of stdout')
    .option('--fail-on-drift', `exit ${EXIT.breach} when a drift was signalled`)
    .addOption(maxDecompressedBytesOption())
    .option('-q, --quiet', 'no progress on stderr')
    .action(async (path: string, flags: DetectFlags) => {
      const format = flags.format ?? (process.stdout.isTTY && !flags.out ? 'text' : 'json');
      if (!['text', 'json'].includes(format))
        throw new ConfigError('--format', `expected text or json, got ${JSON.stringify(format)}`);
      const method = parseMethod(flags.method);
      const { parameters, flagOf } = parametersFromFlags(method, flags);
      const progress = new ProgressReporter(!flags.quiet);
      let report: DetectReport;
      try {
        report = await detectInTable(
          fileInput(path),
          { column: flags.column, method, parameters, columnField: '--column' },
          {
            maxDecompressedBytes: flags.maxDecompressedBytes,
            onProgress: (update) => progress.update(path, update),
          },
        );
      } catch (error) {
        // The core names the parameter; the user typed a flag.
        if (error instanceof ConfigError && flagOf.has(error.field))
          throw new ConfigError(flagOf.get(error.field)!, error.message.slice(error.field.length + 2));
        throw error;
      } finally {
        progress.done();
      }
      const body =
        format === 'json' ? JSON.stringify(report, null, 2) : renderText(report, path, flags.column);
      await emit(body, flags.out);
      if (flags.failOnDrift && report.detections.length > 0) process.exitCode = EXIT.breach;
    });
}
