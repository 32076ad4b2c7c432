import { gunzipSync, gzipSync } from 'node:zlib';
import { ModelFormatError } from './errors.ts';
import { MODEL_FILE, type Model, parseModel } from './model.ts';
import { readTar, writeTar } from './tar.ts';

/**
 * The `model.tar.gz` of a model, as SageMaker training jobs write it: a gzip'd tar holding `model.json`.
 * Byte-for-byte reproducible (fixed mtime, no gzip timestamp).
 */
export function packModel(model: Model): Uint8Array {
  const data = new TextEncoder().encode(`${JSON.stringify(model)}\n`);
  return new Uint8Array(gzipSync(writeTar([{ name: MODEL_FILE, data }])));
}

/**
 * The model inside a `model.tar.gz` (`model.json` at its root, or `./model.json`).
 * @throws ModelFormatError when it is not gzip, not tar, has no `model.json` or that is not a valid model.
 */
export function unpackModel(artifact: Uint8Array): Model {
  let archive: Uint8Array;
  try {
    archive = gunzipSync(artifact);
  } catch (error) {
    throw new ModelFormatError(`the model artifact is not gzip: ${(error as Error).message}`);
  }
  const files = readTar(archive);
  const data = files.get(MODEL_FILE) ?? files.get(`./${MODEL_FILE}`);
  if (data === undefined) {
    throw new ModelFormatError(
      `the model artifact has no ${MODEL_FILE} (it holds: ${[...files.keys()].join(', ') || 'nothing'})`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(data));
  } catch (error) {
    throw new ModelFormatError(`${MODEL_FILE} is not JSON: ${(error as Error).message}`);
  }
  return parseModel(json);
}
