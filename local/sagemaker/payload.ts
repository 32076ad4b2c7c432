import { InputError } from '../../lambdas/core/errors.ts';
import { CsvParser } from '../../lambdas/core/readers/csv.ts';
import { TableCollector } from '../trainers/dataset.ts';
import type { Model } from '../trainers/model.ts';

/**
 * The request and response bodies the served models understand, shared by InvokeEndpoint and batch
 * transform:
 *
 * | content type | request | response |
 * | --- | --- | --- |
 * | `application/json` | `{"instances": [{"feature": value, …} or [values in feature order], …]}` | `{"predictions": [{"score": 0.83}, …]}` |
 * | `application/jsonlines` | one instance object per line | one `{"score": …}` per line |
 * | `text/csv` | headerless rows, values in the model's feature order | one score per line |
 */

/** A body the model container refuses: its HTTP status (400, 406, 415) and why. */
export class PayloadError extends Error {
  override readonly name = 'PayloadError';
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** `text/csv; charset=utf-8` → `text/csv`. */
export const mediaType = (contentType: string | undefined) =>
  (contentType ?? '').split(';')[0]!.trim().toLowerCase();

type Instance = Record<string, unknown>;

function instance(model: Model, value: unknown, where: string): Instance {
  if (Array.isArray(value)) {
    if (value.length !== model.features.length) {
      throw new PayloadError(
        400,
        `${where} has ${value.length} values, the model has ${model.features.length} features`,
      );
    }
    return Object.fromEntries(model.features.map((feature, i) => [feature.name, value[i]]));
  }
  if (typeof value === 'object' && value !== null) return value as Instance;
  throw new PayloadError(400, `${where} must be an object of feature values or an array in feature order`);
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new PayloadError(400, `${where} is not JSON: ${(error as Error).message}`);
  }
}

/** Headerless CSV in feature order, read by the core CSV reader behind a header of the feature names. */
function csvInstances(model: Model, body: Uint8Array): Instance[] {
  const header = model.features.map((feature) => `"${feature.name.replaceAll('"', '""')}"`).join(',');
  const collector = new TableCollector();
  const parser = new CsvParser(collector, { name: 'request' });
  try {
    parser.push(new TextEncoder().encode(`${header}\n`));
    parser.push(body);
    parser.finish();
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    // Line 1 is the header added here, so the body's rows are one line up.
    const line = error.location.line === undefined ? '' : `row ${error.location.line - 1}: `;
    throw new PayloadError(400, `CSV ${line}${error.reason}`);
  }
  const { columns, rows } = collector.table;
  return rows.map((row) => Object.fromEntries(columns.map((column, i) => [column, row[i]])));
}

/**
 * The instances of a request body.
 * @throws PayloadError 415 for a content type the model does not read, 400 for a malformed body.
 */
export function parseInstances(model: Model, contentType: string | undefined, body: Uint8Array): Instance[] {
  const type = mediaType(contentType);
  const text = () => new TextDecoder().decode(body);
  if (type === 'application/json') {
    const document = parseJson(text(), 'the body');
    const instances = (document as { instances?: unknown } | null)?.instances;
    if (!Array.isArray(instances)) throw new PayloadError(400, 'the body must be {"instances": [...]}');
    return instances.map((value, i) => instance(model, value, `instances[${i}]`));
  }
  if (type === 'application/jsonlines') {
    return text()
      .split('\n')
      .map((line, i) => [line.trim(), i + 1] as const)
      .filter(([line]) => line !== '')
      .map(([line, number]) => instance(model, parseJson(line, `line ${number}`), `line ${number}`));
  }
  if (type === 'text/csv') {
    // A body of blank lines has no rows (the core reader would call it an empty file).
    if (text().trim() === '') return [];
    return csvInstances(model, body);
  }
  throw new PayloadError(
    415,
    `unsupported content type ${JSON.stringify(contentType ?? '')}: use application/json, application/jsonlines or text/csv`,
  );
}

/**
 * A response body of scores in the accepted type (`*\/*` or none: the request's type).
 * @throws PayloadError 406 for a type the model does not write.
 */
export function formatScores(
  accept: string | undefined,
  requestType: string | undefined,
  scores: readonly number[],
) {
  let type = mediaType(accept);
  if (type === '' || type === '*/*') type = mediaType(requestType);
  if (type === 'application/json')
    return { contentType: type, body: JSON.stringify({ predictions: scores.map((score) => ({ score })) }) };
  if (type === 'application/jsonlines')
    return { contentType: type, body: scores.map((score) => `${JSON.stringify({ score })}\n`).join('') };
  if (type === 'text/csv') return { contentType: type, body: scores.map((score) => `${score}\n`).join('') };
  throw new PayloadError(
    406,
    `cannot answer in ${JSON.stringify(accept)}: use application/json, application/jsonlines or text/csv`,
  );
}
