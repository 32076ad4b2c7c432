import { ConfigError, InputError, ValueError } from '../core/errors.ts';
import { StatisticInputError } from '../core/stats/errors.ts';
import { EventFormatError } from '../shared/s3-event.ts';
import { ObjectNotFoundError } from '../shared/s3-input.ts';
import { BaselineProfileMissingError } from './baseline.ts';

export { describeFailure, MAX_ERROR_MESSAGE_CHARS } from '../shared/failure.ts';

/**
 * Whether retrying cannot help: the same message, object and config give the same error. These are
 * recorded (history item, `FileErrors`, dead-letter queue) and the message is done with:
 * - bad content: {@link InputError} (malformed, not UTF-8, empty, a column missing or unexpected, too
 *   many categories, a gzip stream expanding past the limit or an object above the size limit:
 *   `LimitExceededError`) and {@link ValueError};
 * - config that contradicts the baseline: {@link ConfigError};
 * - a missing object or baseline profile: {@link ObjectNotFoundError}, {@link BaselineProfileMissingError};
 * - a message that is not an object-created event: {@link EventFormatError};
 * - a statistic refusing its input ({@link StatisticInputError}): a bug, but a deterministic one.
 *
 * Everything else (S3 or DynamoDB throttling, 5xx, network errors, timeouts, idempotency records in
 * progress, errors we do not know) is transient: the message is retried by SQS and, after the queue's
 * `maxReceiveCount`, moved to the dead-letter queue by its redrive policy.
 */
export function isPermanentFailure(error: unknown): error is Error {
  return (
    error instanceof InputError ||
    error instanceof ValueError ||
    error instanceof ConfigError ||
    error instanceof StatisticInputError ||
    error instanceof ObjectNotFoundError ||
    error instanceof BaselineProfileMissingError ||
    error instanceof EventFormatError
  );
}
