/** Types of early-worker.mjs (plain JavaScript, run before the bundle loads). */
export declare function startEarlyWorker(workerUrl: URL, args: string[]): void;
