import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { S3Client } from '@aws-sdk/client-s3';
import { type Clock, systemClock } from './clock.ts';
import {
  DEFAULT_TIMINGS,
  EmulatorContext,
  type EmulatorState,
  type EmulatorTimings,
  type SageMakerEvent,
} from './context.ts';
import { endpointOperations } from './endpoints.ts';
import { modelOperations } from './models.ts';
import { readBody, SageMakerApiError, send, toWireJson } from './protocol.ts';
import { registryOperations } from './registry.ts';
import { type FaultRule, Runtime, type StatsFilter, type VariantStats } from './runtime.ts';
import { trainingOperations } from './training.ts';
import { transformOperations } from './transform.ts';

/** Control-plane operations by name (`CreateEndpoint`), each taking the request's JSON body. */
export type Operations = Record<string, (input: Record<string, unknown>) => unknown>;

export interface SageMakerEmulatorOptions {
  /**
   * The S3 the jobs and endpoints read from and write to (an s3rver client, path-style), or a function
   * giving it on first use (so the emulator can listen before that S3 exists) for the role a job or model
   * runs as: a training job's `RoleArn`, a model's `ExecutionRoleArn` (a transform job and an endpoint read
   * and write as their model's role). Local IAM then judges their S3 and KMS access as AWS does.
   */
  s3: S3Client | ((roleArn?: string) => S3Client);
  /** @default the system clock */
  clock?: Clock;
  /** Durations of the timed state changes; unspecified ones keep {@link DEFAULT_TIMINGS}. */
  timings?: Partial<EmulatorTimings>;
  /** @default 0, any free port */
  port?: number;
  /** Region and account in ARNs and messages. @default us-east-1, 123456789012 */
  region?: string;
  accountId?: string;
  /** Seed of variant routing and fault draws. @default 1 */
  seed?: number;
  /** Receives the EventBridge events SageMaker would send (model package, training job, endpoint state). */
  onEvent?: (event: SageMakerEvent) => void;
  /**
   * Receives each piece of background work as it starts (an endpoint loading its models, a job running),
   * so a caller that moves its own clock can wait for it; the promise never rejects.
   */
  onBackground?: (work: Promise<void>) => void;
}

/** A running emulator. */
export interface SageMakerEmulator {
  /** Endpoint of the SageMaker client (`new SageMakerClient({ endpoint: url })`). */
  url: string;
  /** Endpoint of the SageMaker Runtime client: the same server, told apart by path. */
  runtimeUrl: string;
  clock: Clock;
  /** Everything the emulator holds, to inspect in tests. */
  state: EmulatorState;
  /** Per-variant invocation counts and model latencies; also at `GET /_emulator/metrics?endpoint=&variant=`. */
  stats(filter?: StatsFilter): VariantStats[];
  /** Makes a share of a variant's invocations fail from now on. */
  injectFaults(rule: FaultRule): void;
  clearFaults(): void;
  /** Writes the Data Capture files still being collected (SageMaker writes them every minute or so). */
  flushCapture(): Promise<void>;
  /** Stops the server and the background work (pending waits are abandoned). */
  close(): Promise<void>;
}

/**
 * Starts a SageMaker emulator on 127.0.0.1 that speaks the protocols of the real clients, so code under
 * test only overrides their endpoint:
 *
 * - control plane, AWS JSON 1.1: `POST /` with `X-Amz-Target: SageMaker.<Operation>`; errors are HTTP 400
 *   `{"__type": "ValidationException", "message": …}` (signatures are not checked);
 * - runtime, REST JSON: `POST /endpoints/{EndpointName}/invocations`, answering with the
 *   `x-Amzn-Invoked-Production-Variant` header, errors typed by `x-amzn-errortype`.
 *
 * Training and transform jobs run the local trainers on data in the given S3; endpoints serve the
 * artifacts they wrote.
 *
 * @example
 * ```ts
 * const emulator = await startSageMakerEmulator({ s3, timings: { endpointUpdateSeconds: 0 } });
 * const sagemaker = new SageMakerClient({ endpoint: emulator.url, region: 'us-east-1', credentials });
 * const runtime = new SageMakerRuntimeClient({ endpoint: emulator.runtimeUrl, region: 'us-east-1', credentials });
 * // …
 * await emulator.close();
 * ```
 */
export async function startSageMakerEmulator(options: SageMakerEmulatorOptions): Promise<SageMakerEmulator> {
  const context = new EmulatorContext({
    s3: options.s3,
    clock: options.clock ?? systemClock,
    timings: { ...DEFAULT_TIMINGS, ...options.timings },
    region: options.region ?? 'us-east-1',
    accountId: options.accountId ?? '123456789012',
    onEvent: options.onEvent,
    onBackground: options.onBackground,
  });
  const runtime = new Runtime(context, options.seed ?? 1);
  const operations: Operations = {
    ...trainingOperations(context),
    ...modelOperations(context),
    ...endpointOperations(context),
    ...transformOperations(context),
    ...registryOperations(context),
  };

  const server = createServer((request, response) => {
    route(request, response).catch((error: unknown) => {
      console.error(
        JSON.stringify({ message: 'emulator request failed', url: request.url, error: String(error) }),
      );
      if (!response.headersSent) {
        send(response, 500, JSON.stringify({ __type: 'InternalFailure', message: String(error) }), {
          'content-type': 'application/json',
        });
      } else response.destroy();
    });
  });

  async function route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const invocation = /^\/endpoints\/([^/]+)\/invocations$/.exec(url.pathname);
    if (request.method === 'POST' && invocation !== null) {
      return runtime.handle(request, response, decodeURIComponent(invocation[1]!));
    }
    if (request.method === 'GET' && url.pathname === '/_emulator/metrics') {
      const filter: StatsFilter = {};
      for (const key of ['endpoint', 'variant'] as const) {
        const value = url.searchParams.get(key);
        if (value !== null) filter[key] = value;
      }
      const since = url.searchParams.get('since');
      if (since !== null) filter.since = Number(since);
      return send(response, 200, JSON.stringify({ variants: runtime.stats(filter) }), {
        'content-type': 'application/json',
      });
    }
    if (request.method === 'POST' && url.pathname === '/') return controlPlane(request, response);
    request.resume();
    send(response, 404, JSON.stringify({ message: `no route for ${request.method} ${url.pathname}` }), {
      'content-type': 'application/json',
    });
  }

  async function controlPlane(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(request);
    const reply = (status: number, payload: unknown) =>
      send(response, status, toWireJson(payload), { 'content-type': 'application/x-amz-json-1.1' });
    const target = String(request.headers['x-amz-target'] ?? '');
    const name = target.startsWith('SageMaker.') ? target.slice('SageMaker.'.length) : '';
    if (!Object.hasOwn(operations, name)) {
      return reply(400, {
        __type: 'UnknownOperationException',
        message: `The SageMaker emulator does not implement ${JSON.stringify(target)}`,
      });
    }
    let input: Record<string, unknown>;
    try {
      const parsed: unknown = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
        throw new TypeError('not an object');
      input = parsed as Record<string, unknown>;
    } catch (error) {
      return reply(400, {
        __type: 'SerializationException',
        message: `the body is not a JSON object: ${String(error)}`,
      });
    }
    try {
      reply(200, (await operations[name]!(input)) ?? {});
    } catch (error) {
      if (!(error instanceof SageMakerApiError)) throw error;
      reply(error.status, { __type: error.type, message: error.message });
    }
  }

  server.listen(options.port ?? 0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    runtimeUrl: url,
    clock: context.clock,
    state: context.state,
    stats: (filter) => runtime.stats(filter),
    injectFaults: (rule) => runtime.injectFaults(rule),
    clearFaults: () => runtime.clearFaults(),
    flushCapture: () => runtime.capture.flush(),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await context.close();
    },
  };
}
