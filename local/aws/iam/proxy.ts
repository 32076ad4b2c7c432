/**
 * A checking proxy in front of a local service (s3rver, dynalite, the local service endpoint, the
 * SageMaker emulator): it reads who signed a request (the access key id of its `Authorization` header),
 * what the request asks of IAM (`requests.ts`), asks the authorizer, and either forwards the request
 * unchanged or answers the error the real service answers, in the service's own protocol. Requests signed
 * with a key that belongs to no role (the operator's: tests, the CLI, the demo) are forwarded unchecked.
 */

import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { xmlText } from '../service-endpoint.ts';
import { AccessDeniedError, type Authorizer } from './authorizer.ts';
import { type AccessRequest, describeCall, describeS3Request, type Region } from './requests.ts';

export interface CheckingProxy {
  url: string;
  close(): Promise<void>;
}

/** The credential of a SigV4 `Authorization` header: access key id and signing service. */
export function signingCredential(
  authorization: string | undefined,
): { accessKeyId: string; service: string } | undefined {
  const match = /Credential=([^/]+)\/[^/]+\/[^/]+\/([^/]+)\/aws4_request/.exec(authorization ?? '');
  return match ? { accessKeyId: match[1]!, service: match[2]! } : undefined;
}

const SIGNING_TO_IAM: Record<string, string> = { monitoring: 'cloudwatch', execute_api: 'execute-api' };

/** The authorizations of a request to an AWS JSON, query or Lambda REST endpoint. */
function describeHttp(
  where: Region,
  service: string,
  request: IncomingMessage,
  body: Buffer,
): { operation: string; requests: AccessRequest[] } {
  const target = request.headers['x-amz-target'];
  const url = new URL(request.url ?? '/', 'http://local');
  if (typeof target === 'string') {
    const operation = target.split('.').pop() ?? '';
    const input = body.length === 0 ? {} : (JSON.parse(body.toString('utf8')) as Record<string, unknown>);
    return { operation, requests: describeCall(where, service, operation, input) };
  }
  if ((request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
    const params = new URLSearchParams(body.toString('utf8'));
    const operation = params.get('Action') ?? '';
    return { operation, requests: describeCall(where, service, operation, Object.fromEntries(params)) };
  }
  const invoke = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(url.pathname);
  if (service === 'lambda' && invoke) {
    const name = decodeURIComponent(invoke[1]!);
    return { operation: 'Invoke', requests: describeCall(where, 'lambda', 'Invoke', { FunctionName: name }) };
  }
  const runtime = /^\/endpoints\/([^/]+)\/(invocations|async-invocations|invocations-response-stream)$/.exec(
    url.pathname,
  );
  if (service === 'sagemaker' && runtime) {
    const endpoint = decodeURIComponent(runtime[1]!);
    const operation =
      { invocations: 'InvokeEndpoint', 'async-invocations': 'InvokeEndpointAsync' }[
        runtime[2] as 'invocations'
      ] ?? 'InvokeEndpointWithResponseStream';
    return { operation, requests: describeCall(where, 'sagemaker', operation, { EndpointName: endpoint }) };
  }
  return { operation: `${request.method} ${url.pathname}`, requests: [] };
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Answers a refused request as the service does. */
function refuse(
  response: ServerResponse,
  service: string,
  request: IncomingMessage,
  error: AccessDeniedError | Error,
) {
  const requestId = randomUUID();
  const kms = error instanceof AccessDeniedError && error.isKms;
  const denied = error instanceof AccessDeniedError;
  const message = error.message;
  if (service === 's3') {
    response.writeHead(denied ? 403 : 501, {
      'content-type': 'application/xml',
      'x-amz-request-id': requestId,
    });
    const code = denied ? 'AccessDenied' : 'NotImplemented';
    response.end(
      request.method === 'HEAD'
        ? undefined
        : `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${xmlText(message)}</Message><RequestId>${requestId}</RequestId></Error>`,
    );
    return;
  }
  if (typeof request.headers['x-amz-target'] === 'string') {
    const version = (request.headers['content-type'] ?? '').includes('1.1') ? '1.1' : '1.0';
    const code = !denied
      ? 'UnrecognizedClientException'
      : kms
        ? service === 'sqs'
          ? 'KmsAccessDenied'
          : 'KMSAccessDeniedException'
        : 'AccessDeniedException';
    const queryCode = !denied ? code : kms ? 'KMS.AccessDeniedException' : 'AccessDenied';
    response.writeHead(400, {
      'content-type': `application/x-amz-json-${version}`,
      'x-amzn-requestid': requestId,
      ...(service === 'sqs' || service === 'cloudwatch'
        ? { 'x-amzn-query-error': `${queryCode};Sender` }
        : {}),
    });
    response.end(JSON.stringify({ __type: code, message, Message: message }));
    return;
  }
  if ((request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
    const code = !denied ? 'InvalidAction' : kms ? 'KMSAccessDenied' : 'AuthorizationError';
    response.writeHead(denied && !kms ? 403 : 400, {
      'content-type': 'text/xml',
      'x-amzn-requestid': requestId,
    });
    response.end(
      `<ErrorResponse><Error><Type>Sender</Type><Code>${code}</Code><Message>${xmlText(message)}</Message></Error>` +
        `<RequestId>${requestId}</RequestId></ErrorResponse>`,
    );
    return;
  }
  response.writeHead(denied ? 403 : 400, {
    'content-type': 'application/json',
    'x-amzn-requestid': requestId,
    'x-amzn-errortype': denied ? 'AccessDeniedException' : 'UnrecognizedClientException',
  });
  response.end(JSON.stringify({ Type: 'User', Message: message }));
}

/**
 * Starts a checking proxy for `upstream` on 127.0.0.1.
 *
 * @param options.upstreamAccessKeyId the key forwarded requests are signed as (s3rver knows only its own
 * account; its signatures are not verified)
 */
export async function startCheckingProxy(options: {
  upstream: string;
  authorizer: Authorizer;
  region: Region;
  upstreamAccessKeyId?: string;
}): Promise<CheckingProxy> {
  const upstream = new URL(options.upstream);
  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' });
      response.end(String((error as Error)?.stack ?? error));
    });
  });
  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(request);
    const credential = signingCredential(request.headers['authorization']);
    const roleArn = credential && options.authorizer.roleOfAccessKey(credential.accessKeyId);
    if (credential && roleArn !== undefined) {
      const service = SIGNING_TO_IAM[credential.service] ?? credential.service;
      const url = new URL(request.url ?? '/', 'http://local');
      const { operation, requests } =
        service === 's3'
          ? {
              operation: `${request.method} ${url.pathname}`,
              requests: describeS3Request(
                options.region,
                request.method ?? 'GET',
                url.pathname,
                url.searchParams,
                request.headers,
              ),
            }
          : describeHttp(options.region, service, request, body);
      if (requests.length === 0) {
        if (process.env['DRIFTWATCH_LOCAL_IAM'] === 'log') console.error('UNKNOWN', service, operation);
        refuse(
          response,
          service,
          request,
          new Error(
            `local IAM does not know what ${service} ${operation} asks of IAM: add it to local/aws/iam/requests.ts`,
          ),
        );
        return;
      }
      try {
        await options.authorizer.check({ kind: 'role', roleArn }, requests);
      } catch (error) {
        if (!(error instanceof AccessDeniedError)) throw error;
        refuse(response, service, request, error);
        return;
      }
    }
    const headers = { ...request.headers, host: upstream.host };
    if (options.upstreamAccessKeyId && typeof headers.authorization === 'string') {
      headers.authorization = headers.authorization.replace(
        /Credential=[^/]+\//,
        `Credential=${options.upstreamAccessKeyId}/`,
      );
    }
    const forwarded = httpRequest({
      host: upstream.hostname,
      port: upstream.port,
      method: request.method,
      path: request.url,
      headers,
    });
    forwarded.on('response', (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(response);
    });
    forwarded.on('error', (error) => {
      if (!response.headersSent) response.writeHead(502, { 'content-type': 'text/plain' });
      response.end(String(error));
    });
    forwarded.end(body);
  }
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
