import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { GetObjectCommand, HeadObjectCommand, NotFound, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { profileToJson, type TableProfile } from '../../../lambdas/core/drift/profile.ts';
import { profileTable } from '../../../lambdas/core/drift/run.ts';
import { InputError } from '../../../lambdas/core/errors.ts';
import { BaselineProfileCache, BaselineProfileMissingError } from '../../../lambdas/drift/baseline.ts';

const s3 = mockClient(S3Client);
let profile: TableProfile;
let json: string;

beforeAll(async () => {
  profile = await profileTable(
    {
      name: 'baseline.csv',
      open: async function* () {
        yield Buffer.from('x,c\n1,a\n2,b\n3,a\n');
      },
    },
    {},
  );
  json = profileToJson(profile);
});

afterEach(() => s3.reset());

/** The cache only iterates the body, so a plain stream stands in for the SDK's. */
const body = (bytes: Uint8Array | string) => Readable.from([Buffer.from(bytes)]) as never;

describe('BaselineProfileCache', () => {
  it('downloads a gzip profile once per ETag', async () => {
    s3.on(HeadObjectCommand)
      .resolvesOnce({ ETag: '"one"' })
      .resolvesOnce({ ETag: '"one"' })
      .resolves({ ETag: '"two"' });
    s3.on(GetObjectCommand).callsFake(() => ({ Body: body(gzipSync(json)) }));
    const cache = new BaselineProfileCache(new S3Client({ region: 'us-east-1' }));
    const first = await cache.load('data', 'baselines/p.json.gz');
    expect(first.features).toEqual(['x', 'c']);
    expect(await cache.load('data', 'baselines/p.json.gz')).toBe(first);
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(1);
    expect(s3.commandCalls(GetObjectCommand)[0]!.args[0].input).toMatchObject({ IfMatch: '"one"' });
    // A new baseline was uploaded.
    const second = await cache.load('data', 'baselines/p.json.gz');
    expect(second).not.toBe(first);
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(2);
  });

  it('reports a missing profile by name', async () => {
    s3.on(HeadObjectCommand).rejects(
      new NotFound({ message: 'Not Found', $metadata: { httpStatusCode: 404 } }),
    );
    const cache = new BaselineProfileCache(new S3Client({ region: 'us-east-1' }));
    await expect(cache.load('data', 'baselines/none.json')).rejects.toThrow(BaselineProfileMissingError);
    await expect(cache.load('data', 'baselines/none.json')).rejects.toThrow(
      /s3:\/\/data\/baselines\/none\.json/,
    );
  });

  it('refuses a file that is not a profile', async () => {
    s3.on(HeadObjectCommand).resolves({ ETag: '"x"' });
    s3.on(GetObjectCommand).callsFake(() => ({ Body: body('x,c\n1,a\n') }));
    const cache = new BaselineProfileCache(new S3Client({ region: 'us-east-1' }));
    await expect(cache.load('data', 'baselines/data.csv')).rejects.toThrow(InputError);
  });
});
