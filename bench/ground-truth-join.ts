/**
 * `node bench/ground-truth-join.ts [--predictions 416667] [--files 400] [--runs 2]`: the engine's S3-side
 * ground-truth join of one hour of a model serving 10 million predictions a day (416,667 predictions, UUID
 * inferenceIds, 8 features, SageMaker Data Capture JSON Lines in `--files` files), every prediction labelled
 * (SageMaker ground-truth records in 4 files: the most work a join can have). It times, in a child process
 * under GNU time (wall time, peak RSS), the join the drift function runs per window (`lambdas/core/
 * performance/ground-truth.ts`: labels indexed, capture files read, rows joined and evaluated per segment)
 * against a pandas reference doing the same (json per line, merge on the id, the metrics), and prints the
 * S3 and DynamoDB requests of one join and of the files' registration, and the cost per day per model
 * against the per-prediction DynamoDB alternative. Data go to bench/data/ground-truth/.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    predictions: { type: 'string', default: '416667' },
    files: { type: 'string', default: '400' },
    runs: { type: 'string', default: '2' },
    worker: { type: 'string' },
  },
});
const root = new URL('..', import.meta.url).pathname;
const dir = join(root, 'bench', 'data', 'ground-truth');
const predictions = Number(values.predictions);
const fileCount = Number(values.files);
const LABEL_FILES = 4;
const say = (line: string) => process.stdout.write(`${line}\n`);

if (values.worker !== undefined) {
  // The join, as the drift function runs it for one window (minus the S3 client: files are local).
  const { evaluateWithGroundTruth } = await import('../lambdas/core/performance/ground-truth.ts');
  const { localTableInput } = await import('../lambdas/core/readers/capture.ts');
  const { fileInput } = await import('../lambdas/core/readers/input.ts');
  const { input } = await localTableInput(join(values.worker, 'capture'), {
    features: ['f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'segment'],
  });
  const labels = readdirSync(join(values.worker, 'labels'))
    .sort()
    .map((name) => fileInput(join(values.worker!, 'labels', name)));
  const { report } = await evaluateWithGroundTruth(input, labels, {
    label: '(label)',
    score: 'score',
    segment: 'segment',
  });
  say(
    JSON.stringify({
      rows: report.rows,
      accuracy: report.metrics.accuracy,
      coverage: report.groundTruth.coverage,
    }),
  );
  process.exit(0);
}

/** Deterministic pseudo-random numbers (mulberry32). */
function random(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function generate(): void {
  const marker = join(dir, `done-${predictions}-${fileCount}`);
  if (existsSync(marker)) return;
  const next = random(20261207);
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(next() * 16).toString(16)).join('');
  const uuid = () => `${hex(8)}-${hex(4)}-4${hex(3)}-${'89ab'[Math.floor(next() * 4)]}${hex(3)}-${hex(12)}`;
  const captureDir = join(dir, 'capture', 'model-endpoint', 'AllTraffic', '2026', '12', '07', '01');
  mkdirSync(captureDir, { recursive: true });
  mkdirSync(join(dir, 'labels'), { recursive: true });
  const perFile = Math.ceil(predictions / fileCount);
  const labelLines: string[][] = Array.from({ length: LABEL_FILES }, () => []);
  let made = 0;
  for (let f = 0; f < fileCount; f++) {
    const lines: string[] = [];
    for (let i = 0; i < perFile && made < predictions; i++, made++) {
      const features = Array.from({ length: 7 }, () => (next() * 100).toFixed(3));
      const segment = ['north', 'south', 'east', 'west'][made % 4]!;
      const score = next();
      const id = uuid();
      const eventId = uuid();
      const second = Math.floor((made / predictions) * 3600);
      const time = new Date(Date.UTC(2026, 11, 7, 1, 0, second)).toISOString();
      lines.push(
        JSON.stringify({
          captureData: {
            endpointInput: {
              observedContentType: 'text/csv',
              mode: 'INPUT',
              data: [...features, segment].join(','),
              encoding: 'CSV',
            },
            endpointOutput: {
              observedContentType: 'text/csv',
              mode: 'OUTPUT',
              data: score.toFixed(6),
              encoding: 'CSV',
            },
          },
          eventMetadata: { eventId, inferenceId: id, inferenceTime: time },
          eventVersion: '0',
        }),
      );
      const label = next() < score ? '1' : '0';
      labelLines[made % LABEL_FILES]!.push(
        JSON.stringify({
          groundTruthData: { data: label, encoding: 'CSV' },
          eventMetadata: { eventId: id },
          eventVersion: '0',
        }),
      );
    }
    const minute = String(Math.floor((f / fileCount) * 60)).padStart(2, '0');
    writeFileSync(
      join(captureDir, `${minute}-${String(f).padStart(5, '0')}-000-capture.jsonl`),
      `${lines.join('\n')}\n`,
    );
  }
  labelLines.forEach((lines, i) => {
    writeFileSync(join(dir, 'labels', `labels-${i}.jsonl`), `${lines.join('\n')}\n`);
  });
  writeFileSync(marker, '');
}

const REFERENCE = `
import json, sys, glob
import numpy as np, pandas as pd
from sklearn.metrics import accuracy_score, roc_auc_score
root = sys.argv[1]
rows = []
for path in sorted(glob.glob(root + '/capture/**/*.jsonl', recursive=True)):
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            m = r['eventMetadata']
            fields = r['captureData']['endpointInput']['data'].split(',')
            rows.append((m.get('inferenceId') or m['eventId'], float(r['captureData']['endpointOutput']['data']), fields[-1]))
capture = pd.DataFrame(rows, columns=['id', 'score', 'segment'])
labels = []
for path in sorted(glob.glob(root + '/labels/*.jsonl')):
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            labels.append((r['eventMetadata']['eventId'], r['groundTruthData']['data']))
labels = pd.DataFrame(labels, columns=['id', 'label']).drop_duplicates('id', keep='last')
joined = capture.merge(labels, on='id', how='inner')
y = (joined['label'] == '1').to_numpy()
for _, part in [('all', joined)] + list(joined.groupby('segment')):
    yy = (part['label'] == '1').to_numpy(); s = part['score'].to_numpy()
    accuracy_score(yy, s >= 0.5); roc_auc_score(yy, s)
print(json.dumps({'rows': len(joined), 'accuracy': float(accuracy_score(y, joined['score'] >= 0.5))}))
`;

function timed(command: string, args: string[]): { seconds: number; mb: number; stdout: string } {
  const result = spawnSync('/usr/bin/time', ['-f', '%e %M', command, ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  if (result.status !== 0) throw new Error(`${command} failed: ${result.stderr}`);
  const [seconds, kb] = result.stderr.trim().split('\n').at(-1)!.split(' ').map(Number);
  return { seconds: seconds!, mb: kb! / 1024, stdout: result.stdout.trim() };
}

generate();
const runs = Number(values.runs);
let ours = { seconds: Number.POSITIVE_INFINITY, mb: 0, stdout: '' };
let reference = { seconds: Number.POSITIVE_INFINITY, mb: 0, stdout: '' };
for (let run = 0; run < runs; run++) {
  const a = timed(process.execPath, [new URL(import.meta.url).pathname, '--worker', dir]);
  const b = timed('/usr/bin/python3', ['-c', REFERENCE, dir]);
  ours = { seconds: Math.min(ours.seconds, a.seconds), mb: Math.max(ours.mb, a.mb), stdout: a.stdout };
  reference = {
    seconds: Math.min(reference.seconds, b.seconds),
    mb: Math.max(reference.mb, b.mb),
    stdout: b.stdout,
  };
}
const got = JSON.parse(ours.stdout) as { rows: number; accuracy: number };
const want = JSON.parse(reference.stdout) as { rows: number; accuracy: number };
if (got.rows !== want.rows || Math.abs(got.accuracy - want.accuracy) > 1e-12)
  throw new Error(`the join differs from the reference: ${ours.stdout} vs ${reference.stdout}`);

// Requests of one hourly join and of the files' registration (see lambdas/drift/ground-truth.ts), us-east-1
// prices: S3 GET $0.0004/1,000, DynamoDB on-demand writes $0.625/million and reads $0.125/million, Lambda
// arm64 $0.0000133334 per GB-second at the drift function's 1,769 MB.
const gets = fileCount + LABEL_FILES + 1; // capture files, label files, the window's estimate
const puts = 1; // the realized report
const dynamoReads = 3 + Math.ceil((fileCount * 300) / 4096) + 1; // JOIN, VARIANTS, the files' Query (consistent), label files' Query
const dynamoWrites = 2 + 1 + fileCount + 2 * LABEL_FILES; // JOIN (due off, joined), history item, VARIANTS per capture file, label files
const lambdaUsd = ours.seconds * (1769 / 1024) * 0.0000133334;
const perJoinUsd =
  (gets * 0.0004) / 1000 +
  (puts * 0.005) / 1000 +
  (dynamoReads * 0.125 + dynamoWrites * 0.625) / 1e6 +
  lambdaUsd;
const perDay = perJoinUsd * 24;
const dynamoAlternative = (10_000_000 * 0.625) / 1e6;
say(
  `One hour of a 10M/day model: ${predictions.toLocaleString('en-US')} predictions in ${fileCount} capture files, ${got.rows.toLocaleString('en-US')} labels in ${LABEL_FILES} files`,
);
say(
  `  join (driftwatch):  ${ours.seconds.toFixed(2)} s, peak RSS ${ours.mb.toFixed(0)} MB (best of ${runs})`,
);
say(
  `  reference (pandas): ${reference.seconds.toFixed(2)} s, peak RSS ${reference.mb.toFixed(0)} MB; driftwatch ${(reference.seconds / ours.seconds).toFixed(1)}x faster, ${(ours.mb / reference.mb).toFixed(2)}x the memory`,
);
say(
  `  requests per join: S3 ${gets} GET + ${puts} PUT; DynamoDB ${dynamoReads} read units + ${dynamoWrites} writes (incl. registering the hour's files)`,
);
say(
  `  cost: $${perJoinUsd.toFixed(5)} per hourly join (Lambda $${lambdaUsd.toFixed(5)}), $${perDay.toFixed(3)} per day per model`,
);
say(
  `  vs a DynamoDB item per prediction: $${dynamoAlternative.toFixed(2)} per day in writes alone (${(dynamoAlternative / perDay).toFixed(0)}x)`,
);
