import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import { createAwsClients, s3ClientConfig } from '../../../lambdas/shared/clients.ts';

describe('s3ClientConfig', () => {
  it('changes nothing for real S3', () => {
    expect(s3ClientConfig({})).toEqual({});
  });

  it.each(['AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL'])('suits an emulator when %s is set', (name) => {
    expect(s3ClientConfig({ [name]: 'http://127.0.0.1:4569' })).toEqual({
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  });
});

describe('createAwsClients', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('sends requests to the endpoints of AWS_ENDPOINT_URL_<SERVICE>, S3 path-style', async () => {
    const seen: string[] = [];
    const server = createServer((request, response) => {
      seen.push(`${request.method} ${request.url} ${request.headers['x-amz-target'] ?? ''}`.trim());
      response.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
      response.end('{"__type":"com.amazon.coral.validate#ValidationException","message":"stop"}');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      Object.assign(process.env, {
        AWS_REGION: 'eu-west-1',
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        AWS_ENDPOINT_URL_S3: endpoint,
        AWS_ENDPOINT_URL_DYNAMODB: endpoint,
      });
      delete process.env['AWS_PROFILE'];
      const clients = createAwsClients();
      await expect(
        clients.s3.send(new HeadObjectCommand({ Bucket: 'data', Key: 'incoming/a b.csv' })),
      ).rejects.toThrow();
      await expect(
        clients.dynamodb.send(new GetItemCommand({ TableName: 'history', Key: { pk: { S: 'x' } } })),
      ).rejects.toThrow();
      expect(seen).toContain('HEAD /data/incoming/a%20b.csv');
      expect(seen).toContain('POST / DynamoDB_20120810.GetItem');
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
