/**
 * Step Functions over AWS JSON 1.0 (`X-Amz-Target: AWSStepFunctions.<Operation>`; lower camel case members,
 * epoch-second timestamps): StartExecution and DescribeExecution on the local executor.
 */
import { LocalServiceError } from '../errors.ts';
import type { ServiceRoutes } from '../service-endpoint.ts';
import type { ExecutionRecord, LocalStepFunctions } from '../step-functions.ts';

function describe(record: ExecutionRecord) {
  return {
    executionArn: record.executionArn,
    stateMachineArn: record.stateMachineArn,
    name: record.name,
    status: record.status,
    startDate: record.startDate / 1000,
    ...(record.stopDate === undefined ? {} : { stopDate: record.stopDate / 1000 }),
    input: record.input,
    ...(record.output === undefined ? {} : { output: record.output }),
    ...(record.error === undefined ? {} : { error: record.error }),
    ...(record.cause === undefined ? {} : { cause: record.cause }),
  };
}

export function stepFunctionsRoutes(executor: () => LocalStepFunctions): ServiceRoutes['json'] {
  return {
    'AWSStepFunctions.StartExecution': {
      namespace: 'sfn',
      operation: async (input) => {
        const stepFunctions = executor();
        const arn = String(input['stateMachineArn'] ?? '');
        if (!stepFunctions.has(arn)) {
          throw new LocalServiceError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`);
        }
        const started = await stepFunctions.startExecution(arn, String(input['input'] ?? '{}'), {
          ...(typeof input['name'] === 'string' ? { name: input['name'] } : {}),
        });
        return { executionArn: started.executionArn, startDate: started.startDate.getTime() / 1000 };
      },
    },
    'AWSStepFunctions.DescribeExecution': {
      namespace: 'sfn',
      operation: (input) => {
        const record = executor().execution(String(input['executionArn'] ?? ''));
        if (!record)
          throw new LocalServiceError(
            'ExecutionDoesNotExist',
            `Execution Does Not Exist: '${String(input['executionArn'])}'`,
          );
        return describe(record);
      },
    },
  };
}
