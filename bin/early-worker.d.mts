/** Types of early-worker.mjs (plain JavaScript, run before the bundle loads). */
import type { Worker } from 'node:worker_threads';

export declare const PARALLEL_MIN_BYTES: number;
export declare function startEarlyWorker(workerUrl: URL, args: string[]): void;
export declare function takeEarlyWorker(): Worker | undefined;
