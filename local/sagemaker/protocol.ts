import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * What the SageMaker control plane and runtime put on the wire, kept in one place: error shapes, JSON
 * bodies with epoch-second timestamps, ARNs.
 */

/**
 * An error of the control plane (AWS JSON 1.1): HTTP 400 with `{"__type": type, "message": …}`. The SDK
 * takes the type from `__type` and the text from `message` (or `Message`); the types it knows by name
 * (`ResourceNotFound`, `ResourceInUse`, `ResourceLimitExceeded`, `ConflictException`) become those
 * classes, others (`ValidationException`) a `SageMakerServiceException` with that `name`.
 */
export class SageMakerApiError extends Error {
  override readonly name = 'SageMakerApiError';
  readonly type: string;
  readonly status: number;

  constructor(type: string, message: string, status = 400) {
    super(message);
    this.type = type;
    this.status = status;
  }
}

/** The error SageMaker answers for most bad requests, missing resources and refused state changes. */
export const validationError = (message: string) => new SageMakerApiError('ValidationException', message);

/**
 * Checks that a request has its required members and returns it as the SDK's request type. A missing one
 * gets the service's own message, e.g. `Value null at 'roleArn' failed to satisfy constraint: …`.
 */
export function requireMembers<T = Record<string, unknown>>(
  input: Record<string, unknown>,
  ...members: string[]
): T {
  const missing = members.filter((member) => input[member] === undefined || input[member] === null);
  if (missing.length === 0) return input as T;
  const details = missing.map(
    (member) =>
      `Value null at '${member[0]!.toLowerCase()}${member.slice(1)}' failed to satisfy constraint: Member must not be null`,
  );
  throw validationError(
    `${missing.length} validation error${missing.length > 1 ? 's' : ''} detected: ${details.join('; ')}`,
  );
}

/**
 * Builds ARNs as SageMaker does: the resource name lower-cased (endpoints, endpoint configs, models, jobs),
 * except model package groups and their packages, which keep the name's case.
 */
export function arnFor(region: string, accountId: string, type: string, name: string): string {
  const caseKept = type === 'model-package-group' || type === 'model-package';
  return `arn:aws:sagemaker:${region}:${accountId}:${type}/${caseKept ? name : name.toLowerCase()}`;
}

/**
 * JSON with every `Date` as epoch seconds (fractional), the timestamp format of AWS JSON 1.1. The SDK
 * turns those numbers back into `Date`s.
 */
export function toWireJson(value: unknown): string {
  return JSON.stringify(value, function (this: Record<string, unknown>, key, item) {
    const original = this[key];
    return original instanceof Date ? original.getTime() / 1000 : item;
  });
}

/** Reads a request body whole. */
export async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Writes a response with a fresh request id, as every AWS answer has. */
export function send(
  response: ServerResponse,
  status: number,
  body: string | Uint8Array,
  headers: Record<string, string>,
): void {
  response.writeHead(status, {
    'x-amzn-requestid': crypto.randomUUID(),
    'content-length': String(Buffer.byteLength(body)),
    ...headers,
  });
  response.end(body);
}

/** The timestamp of an AWS JSON request member: epoch seconds (the SDK's encoding) or an ISO string. */
export function readTimestamp(value: unknown): number | undefined {
  if (typeof value === 'number') return value * 1000;
  if (typeof value === 'string') return Date.parse(value);
  return undefined;
}

/** Pages a sorted list with an opaque token that is the next offset. */
export function paginate<T>(
  items: T[],
  maxResults: unknown,
  nextToken: unknown,
): { page: T[]; next?: string } {
  const size = typeof maxResults === 'number' && maxResults > 0 ? maxResults : 100;
  const start = typeof nextToken === 'string' ? Number.parseInt(nextToken, 10) || 0 : 0;
  const page = items.slice(start, start + size);
  return start + size < items.length ? { page, next: String(start + size) } : { page };
}
