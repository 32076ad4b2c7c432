import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One feature row as the endpoint received it: JSON instance, or a CSV line split into fields. */
export type Instance = Record<string, unknown> | (string | null)[];

/** An answer the stub gives instead of scoring: an error, or a deliberately wrong body. */
export type Fault =
  /** Answers normally: to let some requests through before a fault. */
  | { kind: 'pass' }
  | { kind: 'error'; status: number; errorType: string; message?: string }
  /** Scores as usual, then drops (negative) or adds rows to the answer. */
  | { kind: 'wrongCount'; delta: number }
  | { kind: 'badScore'; score: unknown }
  | { kind: 'body'; contentType: string; body: string };

/** A request the stub saw. */
export interface SeenRequest {
  endpointName: string;
  contentType: string;
  accept: string;
  bytes: number;
  rows: number;
  /** The answer given: 200, or the fault's status. */
  status: number;
}

/**
 * A SageMaker Runtime endpoint on 127.0.0.1 speaking the InvokeEndpoint REST protocol
 * (`POST /endpoints/{EndpointName}/invocations`, body in, body out, errors as `x-amzn-ErrorType` with a JSON
 * message), so the SDK client talks to it as to SageMaker (`AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME`).
 *
 * It scores each row with `score` (JSON: `{"instances": [...]}` in, `{"predictions": [{"score": s}]}` out;
 * CSV: lines in, one score per line out). Faults queued with {@link failNext} answer the next requests
 * instead, one each, in order.
 */
export class SageMakerEndpointStub {
  readonly requests: SeenRequest[] = [];
  /** Most requests that were being answered at the same time. */
  maxConcurrent = 0;
  /** Endpoints that exist; a request to another gets ValidationError (404-like, as SageMaker answers). */
  readonly endpoints = new Set<string>();
  score: (instance: Instance) => number = () => 0.5;
  /** Milliseconds each answer waits, to let requests overlap (a function: drawn per request). */
  delayMs: number | (() => number) = 0;
  /** Every instance received, in the order requests arrived (for assertions on the payload). */
  readonly instances: Instance[] = [];
  /** Keep received instances in {@link instances}. */
  recordInstances = false;
  private readonly faults: Fault[] = [];
  private concurrent = 0;
  private readonly server: Server;

  private constructor(server: Server) {
    this.server = server;
  }

  static async start(endpoints: string[]): Promise<SageMakerEndpointStub> {
    const server = createServer();
    const stub = new SageMakerEndpointStub(server);
    for (const name of endpoints) stub.endpoints.add(name);
    server.on('request', (request, response) => {
      stub.handle(request, response).catch((error: unknown) => {
        response.writeHead(500, {
          'x-amzn-errortype': 'InternalFailure',
          'content-type': 'application/json',
        });
        response.end(JSON.stringify({ message: String(error) }));
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return stub;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Answers the next requests with these faults, one per request. */
  failNext(...faults: Fault[]): void {
    this.faults.push(...faults);
  }

  /** Forgets requests, faults and the concurrency peak; keeps the scoring function. */
  reset(): void {
    this.requests.length = 0;
    this.faults.length = 0;
    this.maxConcurrent = 0;
    this.delayMs = 0;
    this.instances.length = 0;
    this.recordInstances = false;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    this.concurrent++;
    this.maxConcurrent = Math.max(this.maxConcurrent, this.concurrent);
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const body = Buffer.concat(chunks);
      const match = /^\/endpoints\/([^/]+)\/invocations$/.exec(request.url ?? '');
      const contentType = String(request.headers['content-type'] ?? '');
      const seen: SeenRequest = {
        endpointName: match ? decodeURIComponent(match[1]!) : '',
        contentType,
        accept: String(request.headers['accept'] ?? ''),
        bytes: body.length,
        rows: 0,
        status: 200,
      };
      this.requests.push(seen);
      const delay = typeof this.delayMs === 'function' ? this.delayMs() : this.delayMs;
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
      if (request.method !== 'POST' || !match) {
        return this.error(response, seen, 404, 'UnknownOperationException', 'not an InvokeEndpoint request');
      }
      if (!this.endpoints.has(seen.endpointName)) {
        return this.error(response, seen, 400, 'ValidationError', `Endpoint ${seen.endpointName} not found.`);
      }
      const instances = parseInstances(body.toString('utf8'), contentType);
      seen.rows = instances.length;
      if (this.recordInstances) this.instances.push(...instances);
      const fault = this.faults.shift();
      if (fault?.kind === 'error') {
        return this.error(
          response,
          seen,
          fault.status,
          fault.errorType,
          fault.message ?? 'injected by the test',
        );
      }
      if (fault?.kind === 'body') {
        response.writeHead(200, { 'content-type': fault.contentType });
        response.end(fault.body);
        return;
      }
      let scores: unknown[] = instances.map((instance) => this.score(instance));
      if (fault?.kind === 'wrongCount') {
        scores =
          fault.delta < 0 ? scores.slice(0, fault.delta) : [...scores, ...Array(fault.delta).fill(0.5)];
      }
      if (fault?.kind === 'badScore') scores[0] = fault.score;
      const csv = contentType.startsWith('text/csv');
      response.writeHead(200, {
        'content-type': csv ? 'text/csv' : 'application/json',
        'x-amzn-invoked-production-variant': 'AllTraffic',
      });
      response.end(
        csv
          ? `${scores.map((score) => String(score)).join('\n')}\n`
          : JSON.stringify({ predictions: scores.map((score) => ({ score })) }),
      );
    } finally {
      this.concurrent--;
    }
  }

  private error(
    response: ServerResponse,
    seen: SeenRequest,
    status: number,
    type: string,
    message: string,
  ): void {
    seen.status = status;
    response.writeHead(status, { 'content-type': 'application/json', 'x-amzn-errortype': type });
    response.end(JSON.stringify({ message }));
  }
}

function parseInstances(text: string, contentType: string): Instance[] {
  if (contentType.startsWith('text/csv')) {
    return text
      .split('\n')
      .filter((line) => line !== '')
      .map(parseCsvLine);
  }
  const parsed = JSON.parse(text) as { instances: Record<string, unknown>[] };
  return parsed.instances;
}

/** One RFC 4180 line: quoted fields may hold commas and doubled quotes; an empty field is null. */
export function parseCsvLine(line: string): (string | null)[] {
  const fields: (string | null)[] = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      let value = '';
      i++;
      while (i < line.length) {
        if (line[i] === '"' && line[i + 1] === '"') {
          value += '"';
          i += 2;
        } else if (line[i] === '"') {
          i++;
          break;
        } else value += line[i++];
      }
      fields.push(value);
      i++;
    } else {
      const end = line.indexOf(',', i);
      const stop = end < 0 ? line.length : end;
      const value = line.slice(i, stop);
      fields.push(value === '' ? null : value);
      i = stop + 1;
    }
  }
  return fields;
}
