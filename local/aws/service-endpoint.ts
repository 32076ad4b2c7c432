/**
 * One HTTP server on 127.0.0.1 answering the AWS APIs the handlers call, in the wire protocols of the
 * current SDK clients (checked in `node_modules/@aws-sdk/client-*`): AWS JSON 1.0/1.1 routed by
 * `X-Amz-Target` (EventBridge `AWSEvents.*`, SQS `AmazonSQS.*`, CloudWatch
 * `GraniteServiceVersion20100801.*`, Step Functions `AWSStepFunctions.*`), the query protocol (form
 * body, XML answer) routed by `Action` (SNS), and REST JSON routed by path (Lambda `Invoke`). Requests are
 * not authenticated.
 */

import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LocalServiceError } from './errors.ts';

/** An AWS JSON operation: the parsed request body in, the response body out. */
export type JsonOperation = (input: Record<string, unknown>) => unknown;

/** A query operation: the form parameters in, the `<Action>Result` element's XML content out. */
export type QueryOperation = (params: URLSearchParams) => string | Promise<string>;

/** A REST response. */
export interface RestResponse {
  status: number;
  headers?: Record<string, string>;
  body: string | Buffer;
}

/** A REST route: answers when it recognises the request, else returns undefined. */
export type RestRoute = (request: {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}) => Promise<RestResponse | undefined> | RestResponse | undefined;

/** A query-protocol service: its API version, XML namespace and operations by `Action`. */
export interface QueryService {
  version: string;
  xmlns: string;
  operations: Record<string, QueryOperation>;
}

export interface ServiceRoutes {
  /** By `X-Amz-Target`, e.g. `AmazonSQS.SendMessage`. */
  json: Record<string, { operation: JsonOperation; namespace: string; queryCompatible?: boolean }>;
  query: QueryService[];
  rest: RestRoute[];
}

/** Escapes text for XML content. */
export function xmlText(value: string): string {
  return value.replace(
    /[<>&'"]/g,
    (char) => `&${{ '<': 'lt', '>': 'gt', '&': 'amp', "'": 'apos', '"': 'quot' }[char]};`,
  );
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * The local service endpoint.
 *
 * @example
 * ```ts
 * const endpoint = await ServiceEndpoint.start(routes);
 * new SQSClient({ endpoint: endpoint.url, region: 'us-east-1', credentials });
 * await endpoint.close();
 * ```
 */
export class ServiceEndpoint {
  readonly server: Server;
  readonly url: string;
  private readonly routes: ServiceRoutes;

  private constructor(server: Server, url: string, routes: ServiceRoutes) {
    this.server = server;
    this.url = url;
    this.routes = routes;
  }

  static async start(routes: ServiceRoutes, host = '127.0.0.1'): Promise<ServiceEndpoint> {
    const server = createServer();
    server.listen(0, host);
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const endpoint = new ServiceEndpoint(server, `http://${host}:${port}`, routes);
    server.on('request', (request, response) => {
      endpoint.handle(request, response).catch((error: unknown) => {
        response.writeHead(500, { 'content-type': 'text/plain' });
        response.end(String((error as Error)?.stack ?? error));
      });
    });
    return endpoint;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(request);
    const target = request.headers['x-amz-target'];
    if (typeof target === 'string') return this.handleJson(target, request, body, response);
    const contentType = request.headers['content-type'] ?? '';
    if (request.method === 'POST' && contentType.startsWith('application/x-www-form-urlencoded')) {
      return this.handleQuery(new URLSearchParams(body.toString('utf8')), response);
    }
    const url = new URL(request.url ?? '/', this.url);
    for (const route of this.routes.rest) {
      const answer = await route({
        method: request.method ?? 'GET',
        path: url.pathname,
        headers: request.headers,
        body,
      });
      if (answer) {
        response.writeHead(answer.status, { 'x-amzn-requestid': randomUUID(), ...answer.headers });
        response.end(answer.body);
        return;
      }
    }
    this.jsonError(
      response,
      '1.0',
      'aws',
      new LocalServiceError(
        'UnknownOperationException',
        `no local service answers ${request.method} ${url.pathname}`,
      ),
      false,
    );
  }

  private async handleJson(target: string, request: IncomingMessage, body: Buffer, response: ServerResponse) {
    const version = (request.headers['content-type'] ?? '').includes('1.1') ? '1.1' : '1.0';
    const route = this.routes.json[target];
    if (!route) {
      this.jsonError(
        response,
        version,
        'aws',
        new LocalServiceError('UnknownOperationException', `the local AWS does not implement ${target}`),
        false,
      );
      return;
    }
    try {
      const input = body.length === 0 ? {} : (JSON.parse(body.toString('utf8')) as Record<string, unknown>);
      const output = await route.operation(input);
      response.writeHead(200, {
        'content-type': `application/x-amz-json-${version}`,
        'x-amzn-requestid': randomUUID(),
      });
      response.end(JSON.stringify(output ?? {}));
    } catch (error) {
      if (!(error instanceof LocalServiceError)) throw error;
      this.jsonError(response, version, route.namespace, error, route.queryCompatible ?? false);
    }
  }

  private jsonError(
    response: ServerResponse,
    version: string,
    namespace: string,
    error: LocalServiceError,
    queryCompatible: boolean,
  ): void {
    response.writeHead(error.status, {
      'content-type': `application/x-amz-json-${version}`,
      'x-amzn-requestid': randomUUID(),
      ...(queryCompatible
        ? { 'x-amzn-query-error': `${error.queryCode ?? error.code};${error.sender ? 'Sender' : 'Receiver'}` }
        : {}),
    });
    response.end(
      JSON.stringify({ __type: `com.amazonaws.${namespace}#${error.code}`, message: error.message }),
    );
  }

  private async handleQuery(params: URLSearchParams, response: ServerResponse): Promise<void> {
    const action = params.get('Action') ?? '';
    const service =
      this.routes.query.find(
        (candidate) => candidate.version === params.get('Version') && action in candidate.operations,
      ) ?? this.routes.query.find((candidate) => action in candidate.operations);
    const requestId = randomUUID();
    const xmlns = service?.xmlns ?? 'https://local.aws/';
    try {
      if (!service)
        throw new LocalServiceError('InvalidAction', `the local AWS does not implement the action ${action}`);
      const result = await service.operations[action]!(params);
      response.writeHead(200, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId });
      response.end(
        `<${action}Response xmlns="${xmlns}"><${action}Result>${result}</${action}Result>` +
          `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`,
      );
    } catch (error) {
      if (!(error instanceof LocalServiceError)) throw error;
      response.writeHead(error.status, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId });
      response.end(
        `<ErrorResponse xmlns="${xmlns}"><Error><Type>${error.sender ? 'Sender' : 'Receiver'}</Type>` +
          `<Code>${xmlText(error.code)}</Code><Message>${xmlText(error.message)}</Message></Error>` +
          `<RequestId>${requestId}</RequestId></ErrorResponse>`,
      );
    }
  }
}
