/**
 * The figures the README states for the concept-drift detectors and the sequential tests, measured on the
 * seeded synthetic streams the tests use (test/helpers/streams.ts, test/helpers/sequential-simulation.ts):
 *
 *   npx node scripts/concept-drift-figures.ts
 *
 * Prints Markdown tables. Deterministic: the same code gives the same numbers.
 */
import {
  createDetector,
  type DetectorMethod,
  updateDetector,
} from '../lambdas/core/concept-drift/detector.ts';
import { simulatePeeking, simulateRateMonitor } from '../test/helpers/sequential-simulation.ts';
import { bernoulliStream, gaussianStream } from '../test/helpers/streams.ts';

const STREAMS = 100;
const LENGTH = 10_000;
const CHANGE = 5000;
const seeds = Array.from({ length: STREAMS }, (_, i) => 1000 + i);

const scenarios: {
  name: string;
  change: boolean;
  methods: DetectorMethod[];
  stream: (seed: number) => number[];
}[] = [
  {
    name: 'error rate 0.10 → 0.30',
    change: true,
    methods: ['adwin', 'ddm', 'page-hinkley'],
    stream: (seed) => bernoulliStream(seed, LENGTH, 0.1, 0.3, CHANGE),
  },
  {
    name: 'error rate 0.20 → 0.25',
    change: true,
    methods: ['adwin', 'ddm', 'page-hinkley'],
    stream: (seed) => bernoulliStream(seed, LENGTH, 0.2, 0.25, CHANGE),
  },
  {
    name: 'loss N(0.5, 0.1) → N(0.8, 0.1)',
    change: true,
    methods: ['adwin', 'page-hinkley'],
    stream: (seed) => gaussianStream(seed, LENGTH, 0.1, 0.5, 0.8, CHANGE),
  },
  {
    name: 'error rate 0.10, stationary',
    change: false,
    methods: ['adwin', 'ddm', 'page-hinkley'],
    stream: (seed) => bernoulliStream(seed, LENGTH, 0.1),
  },
  {
    name: 'error rate 0.30, stationary',
    change: false,
    methods: ['adwin', 'ddm', 'page-hinkley'],
    stream: (seed) => bernoulliStream(seed, LENGTH, 0.3),
  },
  {
    name: 'loss N(0.5, 0.1), stationary',
    change: false,
    methods: ['adwin', 'page-hinkley'],
    stream: (seed) => gaussianStream(seed, LENGTH, 0.1, 0.5),
  },
];

console.log(
  `Detectors, River's defaults, ${STREAMS} seeded streams of ${LENGTH} values (change at ${CHANGE}):\n`,
);
console.log(
  '| stream | detector | found | delay median | delay 95th pct | false alarms (per 10,000 values) |',
);
console.log('| --- | --- | --- | --- | --- | --- |');
for (const scenario of scenarios) {
  const streams = seeds.map(scenario.stream);
  for (const method of scenario.methods) {
    let falseAlarms = 0;
    const delays: number[] = [];
    for (const stream of streams) {
      const { detections } = updateDetector(createDetector(method), stream);
      const change = scenario.change ? CHANGE : LENGTH;
      falseAlarms += detections.filter((d) => d < change).length;
      const first = detections.find((d) => d >= change);
      if (first !== undefined) delays.push(first - change);
    }
    delays.sort((a, b) => a - b);
    const perTenThousand = (falseAlarms / (STREAMS * (scenario.change ? CHANGE : LENGTH))) * 10_000;
    const found = scenario.change ? `${delays.length}/${STREAMS}` : '–';
    const median = delays.length > 0 ? String(delays[delays.length >> 1]) : '–';
    const p95 = delays.length > 0 ? String(delays[Math.floor(delays.length * 0.95)]) : '–';
    console.log(
      `| ${scenario.name} | ${method} | ${found} | ${median} | ${p95} | ${falseAlarms} (${perTenThousand.toFixed(2)}) |`,
    );
  }
}

const peeking = simulatePeeking({ champion: 0.8, challenger: 0.8, runs: 2000, seed: 114 });
const drop = simulatePeeking({ champion: 0.8, challenger: 0.75, runs: 1000, seed: 115 });
const stops = drop.sequentialStops;
console.log(
  '\nPeeking: a look every 100 outcomes up to 20,000 (200 looks), alpha 0.05, outcomes alternating arms:\n',
);
console.log('| | repeated z-test | mixture SPRT |');
console.log('| --- | --- | --- |');
console.log(
  `| no true difference (0.80 vs 0.80, ${peeking.runs} runs): false alarm rate | ${pct(peeking.zTestRejections)} | ${pct(peeking.sequentialRejections)} |`,
);
console.log(
  `| 5-point drop (0.80 → 0.75, ${drop.runs} runs): stopped | ${pct(drop.zTestRejections)} | ${pct(drop.sequentialRejections)}, wrong direction ${drop.wrongDirection}; outcomes to stop: median ${stops[stops.length >> 1]}, 95th pct ${stops[Math.floor(stops.length * 0.95)]}, max ${stops.at(-1)} |`,
);

const stationary = simulateRateMonitor({ baseline: 0.2, rate: 0.2, runs: 1000, length: 20_000, seed: 116 });
const cohortDrop = simulateRateMonitor({ baseline: 0.2, rate: 0.15, runs: 1000, length: 20_000, seed: 117 });
const first = cohortDrop.firstDetections;
console.log(
  '\nPer-cohort rate monitor, a look after every outcome, 20,000 outcomes, alpha 0.05, 1,000 runs:\n',
);
console.log(`- rate 0.20 = baseline 0.20: false alarm rate ${pct(stationary.detectedShare)}`);
console.log(
  `- rate 0.15 against baseline 0.20: found in ${pct(cohortDrop.detectedShare)}, after a median ${first[first.length >> 1]} outcomes (95th pct ${first[Math.floor(first.length * 0.95)]}, max ${first.at(-1)})`,
);

function pct(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}
