/**
 * Lambda functions of the template, run from the bundled assets `cdk deploy` uploads. Each execution
 * environment is a worker thread whose `process.env` is the function's resolved `Environment.Variables`
 * plus what the Lambda runtime sets (region, credentials, `AWS_LAMBDA_*`) and the endpoint overrides that
 * send every AWS SDK call to the local services.
 */
import { randomUUID } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import type {
  InvocationContext,
  InvokeMessage,
  LambdaError,
  WorkerMessage,
  WorkerSetup,
} from './function-worker.ts';

/** A function as the template declares it, resolved. */
export interface FunctionDefinition {
  logicalId: string;
  name: string;
  arn: string;
  handler: string;
  runtime: string;
  codeDir: string;
  timeoutSeconds: number;
  memoryMb: number;
  environment: Record<string, string>;
  logGroupName: string;
  /** `ReservedConcurrentExecutions`, when set. */
  reservedConcurrency?: number;
}

/** How one invocation ended. */
export interface InvocationResult {
  functionName: string;
  requestId: string;
  status: 'succeeded' | 'failed';
  /** The handler's return value (JSON), null when it failed. */
  payload: unknown;
  error?: LambdaError;
  durationMs: number;
  /** Every stdout/stderr line, in order. */
  lines: string[];
}

interface Environment {
  worker: Worker;
  busy: boolean;
  /** Resolves the invocation in flight. */
  settle?: (result: { ok: true; payload: string } | { ok: false; error: LambdaError }) => void;
  output: string;
  alive: boolean;
}

let invocationIds = 0;

/**
 * One function: a pool of up to `maxEnvironments` worker threads, each running one invocation at a time
 * and kept warm between invocations (module state survives, as in Lambda). A timed-out or crashed
 * environment is discarded; the next invocation starts a new one (a cold start).
 *
 * @example
 * ```ts
 * const fn = new LocalFunction(definition, { environment: { AWS_REGION: 'us-east-1' } });
 * const result = await fn.invoke({ Records: [] });
 * await fn.close();
 * ```
 */
export class LocalFunction {
  readonly definition: FunctionDefinition;
  private readonly baseEnvironment: Record<string, string>;
  private readonly maxEnvironments: number;
  private readonly environments = new Set<Environment>();
  private readonly waiting: ((environment: Environment) => void)[] = [];
  private closed = false;

  constructor(
    definition: FunctionDefinition,
    options: { environment: Record<string, string>; maxEnvironments?: number },
  ) {
    this.definition = definition;
    this.baseEnvironment = options.environment;
    this.maxEnvironments = Math.max(
      1,
      Math.min(options.maxEnvironments ?? 2, definition.reservedConcurrency ?? Number.POSITIVE_INFINITY),
    );
  }

  /** Worker threads alive now. */
  get environmentCount(): number {
    return this.environments.size;
  }

  /** Runs the handler with `event`, as a synchronous (RequestResponse) invocation does. */
  async invoke(event: unknown, options: { requestId?: string } = {}): Promise<InvocationResult> {
    if (this.closed) throw new Error(`${this.definition.name} is stopped`);
    const requestId = options.requestId ?? randomUUID();
    const environment = await this.acquire();
    const started = performance.now();
    const { name, arn, memoryMb, logGroupName, timeoutSeconds } = this.definition;
    const context: InvocationContext = {
      awsRequestId: requestId,
      functionName: name,
      functionVersion: '$LATEST',
      invokedFunctionArn: arn,
      memoryLimitInMB: String(memoryMb),
      logGroupName,
      logStreamName: `${new Date().toISOString().slice(0, 10).replaceAll('-', '/')}/[$LATEST]${requestId.replaceAll('-', '')}`,
      deadline: Date.now() + timeoutSeconds * 1000,
      traceId: `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomUUID().replaceAll('-', '').slice(0, 24)};Sampled=1`,
    };
    environment.output = '';
    const outcome = await new Promise<{ ok: true; payload: string } | { ok: false; error: LambdaError }>(
      (resolve) => {
        const timer = setTimeout(() => {
          environment.alive = false;
          void environment.worker.terminate();
          resolve({
            ok: false,
            error: {
              errorType: 'Sandbox.Timedout',
              errorMessage: `${requestId} Task timed out after ${timeoutSeconds.toFixed(2)} seconds`,
              trace: [],
            },
          });
        }, timeoutSeconds * 1000);
        environment.settle = (result) => {
          clearTimeout(timer);
          resolve(result);
        };
        const message: InvokeMessage = {
          type: 'invoke',
          id: ++invocationIds,
          event: JSON.stringify(event ?? null),
          context,
        };
        environment.worker.postMessage(message);
      },
    );
    environment.settle = undefined;
    const lines = environment.output.split('\n').filter((line) => line.length > 0);
    this.release(environment);
    return {
      functionName: name,
      requestId,
      status: outcome.ok ? 'succeeded' : 'failed',
      payload: outcome.ok ? (JSON.parse(outcome.payload) as unknown) : null,
      ...(outcome.ok ? {} : { error: outcome.error }),
      durationMs: Math.round((performance.now() - started) * 100) / 100,
      lines,
    };
  }

  /** Terminates every environment; invocations waiting for one are rejected. */
  async close(): Promise<void> {
    this.closed = true;
    const environments = [...this.environments];
    this.environments.clear();
    for (const environment of environments) {
      environment.alive = false;
      environment.settle?.({
        ok: false,
        error: { errorType: 'Runtime.ExitError', errorMessage: 'the local AWS stopped', trace: [] },
      });
    }
    await Promise.all(environments.map((environment) => environment.worker.terminate()));
  }

  private async acquire(): Promise<Environment> {
    for (const environment of this.environments) {
      if (!environment.busy && environment.alive) {
        environment.busy = true;
        return environment;
      }
    }
    if (this.environments.size < this.maxEnvironments) {
      const environment = this.spawn();
      environment.busy = true;
      return environment;
    }
    return new Promise<Environment>((resolve) => this.waiting.push(resolve));
  }

  private release(environment: Environment): void {
    if (!environment.alive) {
      this.environments.delete(environment);
      const next = this.waiting.shift();
      if (next && !this.closed) {
        const fresh = this.spawn();
        fresh.busy = true;
        next(fresh);
      }
      return;
    }
    const next = this.waiting.shift();
    if (next) next(environment);
    else environment.busy = false;
  }

  private spawn(): Environment {
    const { definition } = this;
    const setup: WorkerSetup = {
      codeDir: definition.codeDir,
      handler: definition.handler,
      sourceMaps: (definition.environment['NODE_OPTIONS'] ?? '').includes('--enable-source-maps'),
    };
    const worker = new Worker(new URL('./function-worker.ts', import.meta.url), {
      workerData: setup,
      env: { ...definition.environment, ...this.baseEnvironment, ...lambdaVariables(definition) },
      execArgv: [],
      stdout: true,
      stderr: true,
      resourceLimits: { maxOldGenerationSizeMb: Math.max(128, definition.memoryMb) },
    });
    worker.stdout.resume();
    worker.stderr.resume();
    worker.unref();
    const environment: Environment = { worker, busy: false, output: '', alive: true };
    worker.on('message', (message: WorkerMessage) => {
      if (message.type === 'output') environment.output += message.text;
      else
        environment.settle?.(
          message.ok ? { ok: true, payload: message.payload } : { ok: false, error: message.error },
        );
    });
    const crash = (errorMessage: string, errorType = 'Runtime.ExitError') => {
      if (!environment.alive) return;
      environment.alive = false;
      environment.settle?.({ ok: false, error: { errorType, errorMessage, trace: [] } });
      if (!environment.busy) this.environments.delete(environment);
    };
    worker.on('error', (error) =>
      crash(
        `RequestId: the environment crashed: ${error.stack ?? error.message}`,
        error.name || 'Runtime.ExitError',
      ),
    );
    worker.on('exit', (code) => crash(`Runtime exited with error: exit status ${code}`));
    this.environments.add(environment);
    return environment;
  }
}

/** The variables the Lambda runtime sets in every environment of a function. */
function lambdaVariables(definition: FunctionDefinition): Record<string, string> {
  return {
    AWS_LAMBDA_FUNCTION_NAME: definition.name,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(definition.memoryMb),
    AWS_LAMBDA_LOG_GROUP_NAME: definition.logGroupName,
    AWS_LAMBDA_LOG_STREAM_NAME: `local/[$LATEST]${randomUUID().replaceAll('-', '')}`,
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_EXECUTION_ENV: `AWS_Lambda_${definition.runtime}`,
    LAMBDA_TASK_ROOT: definition.codeDir,
    LANG: 'en_US.UTF-8',
  };
}

/** The Node.js runtime's text log prefix: `<time>\t<request id>\t<LEVEL>\t`. */
const RUNTIME_PREFIX = /^\d{4}-\d{2}-\d{2}T[^\t]*\t[^\t]*\t[A-Z]+\t/;

function emfDocument(text: string): Record<string, unknown> | undefined {
  if (!text.startsWith('{') || !text.includes('"_aws"')) return undefined;
  try {
    const document = JSON.parse(text) as unknown;
    if (typeof document === 'object' && document !== null && '_aws' in document) {
      return document as Record<string, unknown>;
    }
  } catch {
    // Not JSON after all: a log line.
  }
  return undefined;
}

/**
 * Splits an invocation's output into EMF documents and log lines, as CloudWatch Logs reads them: a line
 * that is a JSON object with an `_aws` key, alone (Powertools) or after the runtime's `console` prefix, is
 * an EMF document.
 */
export function splitOutput(lines: readonly string[]): { emf: Record<string, unknown>[]; logs: string[] } {
  const emf: Record<string, unknown>[] = [];
  const logs: string[] = [];
  for (const line of lines) {
    const document = emfDocument(line) ?? emfDocument(line.replace(RUNTIME_PREFIX, ''));
    if (document) emf.push(document);
    else logs.push(line);
  }
  return { emf, logs };
}
