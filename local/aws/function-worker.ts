/**
 * One Lambda execution environment, run as a worker thread: loads the function's bundled code the way the
 * Node.js runtime does (`index.handler` -> `index.mjs|js|cjs`, export `handler`), then runs one invocation
 * at a time. Everything the function writes to stdout or stderr (Powertools JSON logs, EMF documents,
 * `console` lines in the runtime's text format) is sent to the parent as it is written.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { format } from 'node:util';
import { parentPort, workerData } from 'node:worker_threads';

/** What the parent passes to a new environment. */
export interface WorkerSetup {
  /** Directory of the bundled code (`LAMBDA_TASK_ROOT`). */
  codeDir: string;
  /** The function's `Handler`, e.g. `index.handler`. */
  handler: string;
  /** `--enable-source-maps` was in the function's `NODE_OPTIONS`. */
  sourceMaps: boolean;
}

/** The fields of the Lambda context object the parent decides. */
export interface InvocationContext {
  awsRequestId: string;
  functionName: string;
  functionVersion: string;
  invokedFunctionArn: string;
  memoryLimitInMB: string;
  logGroupName: string;
  logStreamName: string;
  /** `Date.now()` at which the invocation times out. */
  deadline: number;
  traceId: string;
}

export interface InvokeMessage {
  type: 'invoke';
  id: number;
  /** The event, as JSON (what Lambda hands the runtime). */
  event: string;
  context: InvocationContext;
}

/** An error as the Lambda runtime reports it. */
export interface LambdaError {
  errorType: string;
  errorMessage: string;
  trace: string[];
}

export type WorkerMessage =
  | { type: 'output'; id: number; text: string }
  | { type: 'result'; id: number; ok: true; payload: string }
  | { type: 'result'; id: number; ok: false; error: LambdaError };

const port = parentPort;
if (!port) throw new Error('function-worker.ts runs as a worker thread');
const setup = workerData as WorkerSetup;
let current = 0;

for (const stream of [process.stdout, process.stderr]) {
  stream.write = ((chunk: string | Uint8Array, encoding?: unknown, callback?: unknown) => {
    port.postMessage({
      type: 'output',
      id: current,
      text: typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'),
    } satisfies WorkerMessage);
    const done = typeof encoding === 'function' ? encoding : callback;
    if (typeof done === 'function') done();
    return true;
  }) as typeof stream.write;
}

// The Node.js runtime's console: `<time>\t<request id>\t<LEVEL>\t<message>` on stdout.
let requestId: string | undefined;
const levels = { log: 'INFO', info: 'INFO', warn: 'WARN', error: 'ERROR', debug: 'DEBUG', trace: 'TRACE' };
for (const [method, level] of Object.entries(levels)) {
  (console as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
    process.stdout.write(
      `${new Date().toISOString()}\t${requestId ?? 'undefined'}\t${level}\t${format(...args)}\n`,
    );
  };
}
if (setup.sourceMaps) process.setSourceMapsEnabled(true);

class RuntimeError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

type Handler = (
  event: unknown,
  context: unknown,
  callback?: (error: unknown, result?: unknown) => void,
) => unknown;
let loaded: Promise<Handler> | undefined;

async function loadHandler(): Promise<Handler> {
  const slash = setup.handler.lastIndexOf('/');
  const dot = setup.handler.indexOf('.', slash + 1);
  if (dot < 0) throw new RuntimeError('Runtime.MalformedHandlerName', `Bad handler ${setup.handler}`);
  const moduleName = setup.handler.slice(0, dot);
  const path = setup.handler.slice(dot + 1).split('.');
  const file = ['.mjs', '.js', '.cjs']
    .map((extension) => join(setup.codeDir, moduleName + extension))
    .find((candidate) => existsSync(candidate));
  if (!file) {
    throw new RuntimeError('Runtime.ImportModuleError', `Error: Cannot find module '${moduleName}'`);
  }
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    throw new RuntimeError('Runtime.ImportModuleError', String((error as Error)?.stack ?? error));
  }
  let target: unknown = module;
  for (const name of path) {
    const holder = target as Record<string, unknown> | undefined;
    target = holder?.[name] ?? (holder?.['default'] as Record<string, unknown> | undefined)?.[name];
  }
  if (typeof target !== 'function') {
    throw new RuntimeError('Runtime.HandlerNotFound', `${setup.handler} is undefined or not exported`);
  }
  return target as Handler;
}

function describeError(error: unknown): LambdaError {
  if (error instanceof Error) {
    return { errorType: error.name, errorMessage: error.message, trace: (error.stack ?? '').split('\n') };
  }
  return { errorType: 'Error', errorMessage: String(error), trace: [] };
}

async function invoke(message: InvokeMessage): Promise<unknown> {
  loaded ??= loadHandler();
  const handler = await loaded;
  const { deadline, traceId, ...fields } = message.context;
  process.env['_X_AMZN_TRACE_ID'] = traceId;
  const context = {
    ...fields,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
  const event = JSON.parse(message.event) as unknown;
  return new Promise((resolve, reject) => {
    const callback = (error: unknown, result?: unknown) => (error ? reject(error) : resolve(result));
    const returned = handler(event, context, callback);
    if (returned && typeof (returned as Promise<unknown>).then === 'function') {
      (returned as Promise<unknown>).then(resolve, reject);
    } else if (handler.length < 3) resolve(returned);
  });
}

port.on('message', (message: InvokeMessage) => {
  current = message.id;
  requestId = message.context.awsRequestId;
  invoke(message).then(
    (result) => {
      port.postMessage({
        type: 'result',
        id: message.id,
        ok: true,
        payload: JSON.stringify(result ?? null),
      } satisfies WorkerMessage);
    },
    (error: unknown) => {
      port.postMessage({
        type: 'result',
        id: message.id,
        ok: false,
        error: describeError(error),
      } satisfies WorkerMessage);
    },
  );
});
