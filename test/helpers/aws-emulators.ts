import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';
import S3rver from 's3rver';

/** Credentials s3rver accepts by default; dynalite accepts anything. */
export const EMULATOR_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
export const EMULATOR_REGION = 'us-east-1';

const url = (address: AddressInfo) => `http://127.0.0.1:${address.port}`;

/** Passes `incoming` on to `host:port` as it is and pipes the answer back to `outgoing` (502 without a status). */
export function forwardRequest(
  incoming: IncomingMessage,
  outgoing: ServerResponse,
  host: string,
  port: string | number,
): void {
  const forward = request(
    { host, port, method: incoming.method, path: incoming.url, headers: incoming.headers },
    (response) => {
      outgoing.writeHead(response.statusCode ?? 502, response.headers);
      response.pipe(outgoing);
    },
  );
  forward.on('error', () => outgoing.destroy());
  incoming.pipe(forward);
}

/** A rule of the {@link FaultProxy}: requests it matches get an S3 error instead of reaching S3. */
export interface Fault {
  matches: (request: IncomingMessage) => boolean;
  status: number;
  code: string;
}

/**
 * An HTTP proxy in front of s3rver that answers chosen requests with an S3 error (503 SlowDown, say), to
 * test how the handler treats S3 failing: the handler's client talks to S3 through it.
 */
export class FaultProxy {
  readonly faults: Fault[] = [];
  /** Requests seen, as `METHOD path` and ` range=bytes=…` for ranged GETs, for assertions. */
  readonly requests: string[] = [];
  private readonly server: Server;
  private readonly target: AddressInfo;

  private constructor(server: Server, target: AddressInfo) {
    this.server = server;
    this.target = target;
  }

  static async start(target: AddressInfo): Promise<FaultProxy> {
    const server = createServer();
    const proxy = new FaultProxy(server, target);
    server.on('request', (incoming, outgoing) => {
      const range = incoming.headers.range;
      proxy.requests.push(`${incoming.method} ${incoming.url}${range ? ` range=${range}` : ''}`);
      const fault = proxy.faults.find((rule) => rule.matches(incoming));
      if (fault) {
        incoming.resume();
        outgoing.writeHead(fault.status, { 'content-type': 'application/xml' });
        outgoing.end(
          `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${fault.code}</Code><Message>injected by the test</Message></Error>`,
        );
        return;
      }
      forwardRequest(incoming, outgoing, '127.0.0.1', proxy.target.port);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return proxy;
  }

  get endpoint(): string {
    return url(this.server.address() as AddressInfo);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export interface TableSpec {
  name: string;
  partitionKey: string;
  sortKey?: string;
  /** A global secondary index projecting the keys only (string keys). */
  index?: { name: string; partitionKey: string; sortKey: string };
}

/** s3rver and dynalite on loopback ports, S3 reached through a {@link FaultProxy}, plus clients for the test. */
export class AwsEmulators {
  readonly s3: S3Client;
  readonly dynamodb: DynamoDBClient;
  readonly documents: DynamoDBDocumentClient;
  readonly proxy: FaultProxy;
  readonly dynamodbEndpoint: string;
  private readonly s3rver: S3rver;
  private readonly dynalite: Server;
  private readonly directory: string;

  private constructor(parts: {
    s3rver: S3rver;
    s3Endpoint: string;
    dynalite: Server;
    dynamodbEndpoint: string;
    proxy: FaultProxy;
    directory: string;
  }) {
    this.s3rver = parts.s3rver;
    this.dynalite = parts.dynalite;
    this.dynamodbEndpoint = parts.dynamodbEndpoint;
    this.proxy = parts.proxy;
    this.directory = parts.directory;
    // Straight to s3rver (not through the proxy), with the settings s3rver needs.
    this.s3 = new S3Client({
      endpoint: parts.s3Endpoint,
      region: EMULATOR_REGION,
      credentials: EMULATOR_CREDENTIALS,
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    this.dynamodb = new DynamoDBClient({
      endpoint: this.dynamodbEndpoint,
      region: EMULATOR_REGION,
      credentials: EMULATOR_CREDENTIALS,
    });
    this.documents = DynamoDBDocumentClient.from(this.dynamodb);
  }

  static async start(options: { buckets: string[]; tables: TableSpec[] }): Promise<AwsEmulators> {
    const directory = await mkdtemp(join(tmpdir(), 'driftwatch-s3rver-'));
    const s3rver = new S3rver({
      address: '127.0.0.1',
      port: 0,
      directory,
      silent: true,
      allowMismatchedSignatures: true,
      configureBuckets: options.buckets.map((name) => ({ name })),
    });
    const s3Address = await s3rver.run();
    const dynamoServer = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    dynamoServer.listen(0, '127.0.0.1');
    await once(dynamoServer, 'listening');
    const proxy = await FaultProxy.start(s3Address);
    const emulators = new AwsEmulators({
      s3rver,
      s3Endpoint: url(s3Address),
      dynalite: dynamoServer,
      dynamodbEndpoint: url(dynamoServer.address() as AddressInfo),
      proxy,
      directory,
    });
    for (const table of options.tables) {
      await emulators.dynamodb.send(
        new CreateTableCommand({
          TableName: table.name,
          AttributeDefinitions: [
            { AttributeName: table.partitionKey, AttributeType: 'S' },
            ...(table.sortKey ? [{ AttributeName: table.sortKey, AttributeType: 'S' as const }] : []),
            ...(table.index
              ? [
                  { AttributeName: table.index.partitionKey, AttributeType: 'S' as const },
                  { AttributeName: table.index.sortKey, AttributeType: 'S' as const },
                ]
              : []),
          ],
          KeySchema: [
            { AttributeName: table.partitionKey, KeyType: 'HASH' },
            ...(table.sortKey ? [{ AttributeName: table.sortKey, KeyType: 'RANGE' as const }] : []),
          ],
          ...(table.index && {
            GlobalSecondaryIndexes: [
              {
                IndexName: table.index.name,
                KeySchema: [
                  { AttributeName: table.index.partitionKey, KeyType: 'HASH' as const },
                  { AttributeName: table.index.sortKey, KeyType: 'RANGE' as const },
                ],
                Projection: { ProjectionType: 'KEYS_ONLY' as const },
              },
            ],
          }),
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
    }
    return emulators;
  }

  /**
   * The environment a handler needs to reach the emulators with SDK defaults: region, credentials and the
   * endpoint variables SDK v3 reads itself (S3 through the fault proxy).
   */
  get environment(): Record<string, string> {
    return {
      AWS_REGION: EMULATOR_REGION,
      AWS_ACCESS_KEY_ID: EMULATOR_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: EMULATOR_CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_S3: this.proxy.endpoint,
      AWS_ENDPOINT_URL_DYNAMODB: this.dynamodbEndpoint,
    };
  }

  async stop(): Promise<void> {
    this.s3.destroy();
    this.dynamodb.destroy();
    await this.proxy.close();
    await this.s3rver.close();
    this.dynalite.closeAllConnections();
    await new Promise<void>((resolve) => this.dynalite.close(() => resolve()));
    await rm(this.directory, { recursive: true, force: true });
  }
}
