import { Duration } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';

/** Seconds between two DescribeEndpoint calls while an endpoint is not `InService`. */
export { ENDPOINT_POLL_SECONDS } from '../config/runtime.ts';

import { ENDPOINT_POLL_SECONDS } from '../config/runtime.ts';

/** Errors SageMaker answers an update of an endpoint that is already updating with (no message matching). */
export const UPDATE_REFUSED_ERRORS = ['SageMaker.ValidationException', 'SageMaker.AmazonSageMakerException'];

/** Updates refused (`Cannot update in-progress endpoint`) before the run gives up. */
export const MAX_UPDATE_ATTEMPTS = 5;

export interface GuardedChangeOptions {
  /** Prefix of every state name, e.g. `Canary`. */
  prefix: string;
  /** Builds the DescribeEndpoint task (one per use: states are single-use). */
  describe: (id: string) => sfn.TaskStateBase;
  /** The change, run only while the endpoint is `InService`; null for a wait without a change. */
  change: sfn.TaskStateBase | null;
  /** Most DescribeEndpoint polls before giving up (the deadline). */
  /** Most polls, or the JSONPath of a number in the state (per-model settings of the shared machine). */
  maxPolls: number | string;
  /** After the change, wait for `InService` again and, when given, check the endpoint uses this config. */
  settle: boolean;
  expectConfigPath?: string;
  /** Where failures go, with `$.error` = `{ Error, Cause }`. */
  onError: sfn.IChainable;
  next: sfn.IChainable;
}

/**
 * A change of an endpoint that never runs while the endpoint is `Updating`: DescribeEndpoint, and while the
 * status is not `InService`, Wait and describe again, up to `maxPolls` (then `EndpointNotReady`). A change
 * refused with a validation error (`Cannot update in-progress endpoint`: another update won the race) goes
 * back to the wait loop, at most {@link MAX_UPDATE_ATTEMPTS} times. With `settle`, the same loop then waits
 * for the change to finish and checks the endpoint's config.
 *
 * States: `<prefix>Guard`, `<prefix>Describe`, `<prefix>Ready?`, `<prefix>Wait`, `<prefix>Count`, the change,
 * `<prefix>Refused`, `<prefix>RetryChange?`, `<prefix>NotReady`, and with `settle` the same loop named
 * `<prefix>Settle…`.
 */
export function guardedEndpointChange(scope: Construct, options: GuardedChangeOptions): sfn.IChainable {
  const { prefix, maxPolls } = options;
  const start = new sfn.Pass(scope, `${prefix}Guard`, {
    parameters: { polls: 0, attempts: 0 },
    resultPath: '$.wait',
  });
  const notReady = (id: string) =>
    new sfn.Pass(scope, id, {
      parameters: {
        Error: 'EndpointNotReady',
        Cause: sfn.JsonPath.format(
          'endpoint status {} (config {}) after {} checks',
          sfn.JsonPath.stringAt('$.endpoint.status'),
          sfn.JsonPath.stringAt('$.endpoint.configName'),
          sfn.JsonPath.stringAt('$.wait.polls'),
        ),
      },
      resultPath: '$.error',
    }).next(options.onError);

  const loop = (
    name: string,
    onInService: sfn.IChainable,
    expectConfigPath: string | undefined,
  ): sfn.TaskStateBase => {
    const describe = options.describe(`${name}Describe`);
    const wait = new sfn.Wait(scope, `${name}Wait`, {
      time: sfn.WaitTime.duration(Duration.seconds(ENDPOINT_POLL_SECONDS)),
    });
    const count = new sfn.Pass(scope, `${name}Count`, {
      parameters: {
        'polls.$': 'States.MathAdd($.wait.polls, 1)',
        'attempts.$': '$.wait.attempts',
      },
      resultPath: '$.wait',
    });
    const inService = sfn.Condition.stringEquals('$.endpoint.status', 'InService');
    const busy = sfn.Condition.or(
      ...['Creating', 'Updating', 'SystemUpdating', 'RollingBack'].map((status) =>
        sfn.Condition.stringEquals('$.endpoint.status', status),
      ),
    );
    const ready = new sfn.Choice(scope, `${name}Ready?`);
    if (expectConfigPath) {
      const wrongConfig = new sfn.Pass(scope, `${name}WrongConfig`, {
        parameters: {
          Error: 'EndpointUpdateFailed',
          Cause: sfn.JsonPath.format(
            'the endpoint is InService with config {} instead of {}: SageMaker rolled the update back',
            sfn.JsonPath.stringAt('$.endpoint.configName'),
            sfn.JsonPath.stringAt(expectConfigPath),
          ),
        },
        resultPath: '$.error',
      }).next(options.onError);
      ready
        .when(
          sfn.Condition.and(
            inService,
            sfn.Condition.stringEqualsJsonPath('$.endpoint.configName', expectConfigPath),
          ),
          onInService,
        )
        .when(inService, wrongConfig);
    } else {
      ready.when(inService, onInService);
    }
    ready
      .when(
        sfn.Condition.and(
          busy,
          typeof maxPolls === 'number'
            ? sfn.Condition.numberLessThan('$.wait.polls', maxPolls)
            : sfn.Condition.numberLessThanJsonPath('$.wait.polls', maxPolls),
        ),
        wait.next(count.next(describe)),
      )
      .otherwise(notReady(`${name}NotReady`));
    describe.addCatch(options.onError, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
    describe.next(ready);
    return describe;
  };

  const afterChange = options.settle
    ? (() => {
        const reset = new sfn.Pass(scope, `${prefix}Settle`, {
          parameters: { polls: 0, 'attempts.$': '$.wait.attempts' },
          resultPath: '$.wait',
        });
        return reset.next(loop(`${prefix}Settle`, options.next, options.expectConfigPath));
      })()
    : options.next;

  if (options.change === null) return start.next(loop(prefix, afterChange, undefined));

  const change = options.change;
  const describe = loop(prefix, change, undefined);
  change.next(afterChange);
  const refused = new sfn.Pass(scope, `${prefix}Refused`, {
    parameters: { 'polls.$': '$.wait.polls', 'attempts.$': 'States.MathAdd($.wait.attempts, 1)' },
    resultPath: '$.wait',
  });
  const retry = new sfn.Choice(scope, `${prefix}RetryChange?`)
    .when(
      sfn.Condition.numberLessThan('$.wait.attempts', MAX_UPDATE_ATTEMPTS),
      new sfn.Wait(scope, `${prefix}Backoff`, {
        time: sfn.WaitTime.duration(Duration.seconds(ENDPOINT_POLL_SECONDS)),
      }).next(describe),
    )
    .otherwise(options.onError);
  change.addCatch(refused.next(retry), { errors: UPDATE_REFUSED_ERRORS, resultPath: '$.error' });
  change.addCatch(options.onError, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
  return start.next(describe);
}
