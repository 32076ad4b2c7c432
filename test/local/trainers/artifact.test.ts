import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { packModel, unpackModel } from '../../../local/trainers/artifact.ts';
import { ModelFormatError } from '../../../local/trainers/errors.ts';
import { type LogisticModel, MODEL_FORMAT } from '../../../local/trainers/model.ts';
import { readTar, writeTar } from '../../../local/trainers/tar.ts';

const model: LogisticModel = {
  format: MODEL_FORMAT,
  version: 1,
  algorithm: 'logistic',
  label: 'y',
  positive: '1',
  features: [{ name: 'x', kind: 'numeric', mean: 0, std: 1 }],
  weights: [1.5],
  intercept: -0.5,
};

function hasTar(): boolean {
  try {
    execFileSync('tar', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('ustar archives', () => {
  it('round-trip files of any size, padded to 512-byte blocks', () => {
    const big = new Uint8Array(1500).map((_, i) => i % 251);
    const archive = writeTar([
      { name: 'a.txt', data: new TextEncoder().encode('hello') },
      { name: 'dir/big.bin', data: big },
      { name: 'empty', data: new Uint8Array(0) },
    ]);
    expect(archive.length % 512).toBe(0);
    const files = readTar(archive);
    expect([...files.keys()]).toEqual(['a.txt', 'dir/big.bin', 'empty']);
    expect(new TextDecoder().decode(files.get('a.txt'))).toBe('hello');
    expect(files.get('dir/big.bin')).toEqual(big);
    expect(files.get('empty')!.length).toBe(0);
  });

  it.skipIf(!hasTar())('are read by GNU tar', () => {
    const directory = mkdtempSync(join(tmpdir(), 'driftwatch-tar-'));
    try {
      const path = join(directory, 'model.tar.gz');
      writeFileSync(path, packModel(model));
      expect(execFileSync('tar', ['-tzvf', path], { encoding: 'utf8' })).toMatch(
        /-rw-r--r-- .*model\.json\n$/,
      );
      const text = execFileSync('tar', ['-xzOf', path, 'model.json'], { encoding: 'utf8' });
      expect(JSON.parse(text)).toEqual(model);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('refuse a header with a wrong checksum', () => {
    const archive = writeTar([{ name: 'a', data: new Uint8Array(3) }]);
    archive[0] = 0x62;
    expect(() => readTar(archive)).toThrow(/wrong checksum/);
  });
});

describe('model artifacts', () => {
  it('pack reproducibly and unpack to the same model', () => {
    const artifact = packModel(model);
    expect(packModel(model)).toEqual(artifact);
    expect(unpackModel(artifact)).toEqual(model);
  });

  it('say what is wrong with an artifact that is not a model', () => {
    expect(() => unpackModel(new Uint8Array([1, 2, 3]))).toThrow(/not gzip/);
    const other = gzipSync(writeTar([{ name: 'weights.bin', data: new Uint8Array(4) }]));
    expect(() => unpackModel(other)).toThrow('the model artifact has no model.json (it holds: weights.bin)');
    const notJson = gzipSync(writeTar([{ name: './model.json', data: new TextEncoder().encode('{') }]));
    expect(() => unpackModel(notJson)).toThrow(ModelFormatError);
  });
});
