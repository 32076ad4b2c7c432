import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { gunzip, inflateStream } from '../../../lambdas/core/readers/decompress.ts';

/** Deterministic text that compresses to many chunks of output. */
function text(lines: number): Buffer {
  const parts: string[] = [];
  for (let i = 0; i < lines; i++) parts.push(`${i},${(i * 7919) % 1000},label-${i % 13}\n`);
  return Buffer.from(parts.join(''));
}

async function* inPieces(bytes: Uint8Array, size: number, reuse: boolean): AsyncGenerator<Uint8Array> {
  // With `reuse`, every piece is a view of one buffer overwritten by the next piece (as openReused does).
  const shared = new Uint8Array(size);
  for (let at = 0; at < bytes.length; at += size) {
    const piece = bytes.subarray(at, Math.min(at + size, bytes.length));
    if (!reuse) {
      yield piece.slice();
      continue;
    }
    shared.set(piece);
    yield shared.subarray(0, piece.length);
  }
}

/** Reads every chunk as a consumer that is done with it before asking for the next. */
async function drain(chunks: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const copies: Buffer[] = [];
  for await (const chunk of chunks) copies.push(Buffer.from(chunk));
  return Buffer.concat(copies);
}

describe('gunzip', () => {
  const plain = text(200_000);
  const members = Buffer.concat([
    gzipSync(plain.subarray(0, 1_000_000)),
    gzipSync(plain.subarray(1_000_000)),
  ]);

  it('inflates concatenated members from reused input pieces into reused buffers', async () => {
    for (const size of [1, 4096, 1 << 20]) {
      const stream = gunzip(inPieces(members, size, true), { name: 'x.gz' });
      stream.reuseBuffers();
      expect((await drain(stream)).equals(plain)).toBe(true);
    }
  });

  it('hands out fresh chunks until told to reuse, so chunks can be kept', async () => {
    const kept: Uint8Array[] = [];
    for await (const chunk of gunzip(inPieces(members, 65_536, false), { name: 'x.gz' })) kept.push(chunk);
    expect(kept.length).toBeGreaterThan(2);
    expect(Buffer.concat(kept).equals(plain)).toBe(true);
  });

  it('ignores zero padding after the gzip data, as the zlib stream does', async () => {
    const trailing = Buffer.concat([gzipSync(plain), Buffer.alloc(5000)]);
    expect((await drain(gunzip(inPieces(trailing, 4096, false), { name: 'x.gz' }))).equals(plain)).toBe(true);
    expect(
      (await drain(inflateStream(inPieces(trailing, 4096, false), { name: 'x.gz' }))).equals(plain),
    ).toBe(true);
  });

  it('names a truncated or corrupt stream and stops at the size limit, on either path', async () => {
    const gz = gzipSync(plain);
    const corrupt = Buffer.from(gz);
    corrupt.fill(0xff, 100, 200);
    for (const inflate of [gunzip, inflateStream]) {
      await expect(
        drain(inflate(inPieces(gz.subarray(0, gz.length - 1000), 4096, true), { name: 'x.gz' })),
      ).rejects.toThrow(/x\.gz: the gzip stream is truncated/);
      await expect(drain(inflate(inPieces(corrupt, 4096, true), { name: 'x.gz' }))).rejects.toThrow(
        /x\.gz: the gzip stream is corrupt/,
      );
      await expect(
        drain(inflate(inPieces(gz, 4096, true), { name: 'x.gz', maxDecompressedBytes: 100_000 })),
      ).rejects.toThrow(/expands past the limit of 100000 bytes/);
    }
  });

  it('gives the same bytes through the zlib stream from reused input pieces', async () => {
    expect((await drain(inflateStream(inPieces(members, 4096, true), { name: 'x.gz' }))).equals(plain)).toBe(
      true,
    );
  });
});
