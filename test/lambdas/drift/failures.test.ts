import { describe, expect, it } from 'vitest';
import { ConfigError, InputError, LimitExceededError, ValueError } from '../../../lambdas/core/errors.ts';
import { BaselineProfileMissingError } from '../../../lambdas/drift/baseline.ts';
import { EventPublishError } from '../../../lambdas/drift/check-object.ts';
import {
  describeFailure,
  isPermanentFailure,
  MAX_ERROR_MESSAGE_CHARS,
} from '../../../lambdas/drift/failures.ts';
import { EventFormatError } from '../../../lambdas/shared/s3-event.ts';
import { ObjectNotFoundError } from '../../../lambdas/shared/s3-input.ts';

/** An error as the SDK throws it for a throttled or failed request. */
function sdkError(name: string, status: number): Error {
  return Object.assign(new Error(name), {
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
  });
}

describe('isPermanentFailure', () => {
  it.each([
    new InputError({ file: 'f.csv', line: 3 }, 'expected 2 fields, found 3'),
    new LimitExceededError({ file: 'f.csv.gz' }, 'expands past the limit', 10),
    new ValueError('duplicate column name "a"'),
    new ConfigError('--segment', 'no column "region"'),
    new ObjectNotFoundError('data', 'incoming/x.csv', 'v1'),
    new BaselineProfileMissingError('data', 'baselines/p.json'),
    new EventFormatError('not JSON'),
  ])('%s is permanent', (error) => {
    expect(isPermanentFailure(error)).toBe(true);
  });

  it.each([
    sdkError('SlowDown', 503),
    sdkError('InternalError', 500),
    sdkError('ProvisionedThroughputExceededException', 400),
    Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
    new EventPublishError('ThrottlingException'),
    new TypeError('x is undefined'),
    'a string',
  ])('%s is transient', (error) => {
    expect(isPermanentFailure(error)).toBe(false);
  });
});

describe('describeFailure', () => {
  it('keeps the name and one line of message, cut to a bounded length', () => {
    expect(describeFailure(new InputError({ file: 'f.csv' }, 'bad\nthing'))).toEqual({
      name: 'InputError',
      message: 'f.csv: bad thing',
    });
    const long = describeFailure(new Error('x'.repeat(5000)));
    expect(long.message).toHaveLength(MAX_ERROR_MESSAGE_CHARS);
  });
});
