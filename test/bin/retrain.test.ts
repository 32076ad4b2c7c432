import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  describeOutcome,
  executionOutcome,
  manualExecutionInput,
  manualExecutionName,
  resolveStateMachineArn,
  StateMachineNotFoundError,
  startRetraining,
  waitForExecution,
} from '../../bin/cli/commands/retrain.ts';
import { triggerSegment } from '../../lambdas/core/retraining/plan.ts';
import { runCli, tempDir } from '../helpers/cli.ts';
import { type DeployedStack, STATE_MACHINE, startDeployedStack, writeStackConfig } from './deployed-stack.ts';

let stack: DeployedStack;
let dir: string;
let cleanup: () => Promise<void>;
let configPath: string;

const cli = (...args: string[]) =>
  runCli(
    [
      'retrain',
      ...args,
      '--config',
      configPath,
      '--endpoint-url',
      stack.endpointUrl,
      '--region',
      'us-east-1',
    ],
    {
      env: stack.cliEnv,
    },
  );

beforeAll(async () => {
  stack = await startDeployedStack();
  ({ dir, cleanup } = await tempDir());
  configPath = await writeStackConfig(dir);
});
afterAll(async () => {
  await stack.close();
  await cleanup();
});
beforeEach(() => {
  stack.sfnStub.executions.length = 0;
  stack.sfnStub.calls.length = 0;
  stack.sfnStub.ending = { runningPolls: 0, status: 'SUCCEEDED', output: {} };
});

describe('the execution input', () => {
  it('has the shape of the EventBridge rules, with trigger type manual', () => {
    expect(manualExecutionInput('churn')).toEqual({ model: 'churn', trigger: { type: 'manual' } });
    const input = manualExecutionInput('churn', {
      reason: 'new labels',
      segment: { column: 'region', value: 'west' },
      force: true,
    });
    expect(input).toEqual({
      model: 'churn',
      trigger: {
        type: 'manual',
        detail: 'new labels',
        segment: { column: 'region', value: 'west' },
        force: true,
      },
    });
    // The plan Lambda reads the segment from it.
    expect(triggerSegment(input.trigger)).toEqual({ column: 'region', value: 'west' });
  });

  it('names executions so they sort by start and say how they started', () => {
    const name = manualExecutionName(new Date('2024-06-01T12:34:56Z'));
    expect(name).toMatch(/^manual-20240601-123456-[0-9a-f]{6}$/);
    expect(manualExecutionName(new Date('2024-06-01T12:34:56Z'))).not.toBe(name);
  });
});

describe('starting a run', () => {
  it('finds the state machine by name across ListStateMachines pages and starts it', async () => {
    const arn = await resolveStateMachineArn(stack.sfn, {
      name: STATE_MACHINE,
      model: 'churn',
      region: 'us-east-1',
    });
    expect(arn).toBe(stack.sfnStub.arnOf(STATE_MACHINE));
    expect(stack.sfnStub.calls).toEqual(['ListStateMachines', 'ListStateMachines']);
    const executionArn = await startRetraining(stack.sfn, arn, manualExecutionInput('churn'), 'manual-test');
    expect(executionArn).toBe(`arn:aws:states:us-east-1:123456789012:execution:${STATE_MACHINE}:manual-test`);
    expect(JSON.parse(stack.sfnStub.executions[0]!.input)).toEqual({
      model: 'churn',
      trigger: { type: 'manual' },
    });
  });

  it('builds the ARN from --account without listing', async () => {
    const arn = await resolveStateMachineArn(stack.sfn, {
      name: STATE_MACHINE,
      model: 'churn',
      region: 'cn-north-1',
      account: '210987654321',
    });
    expect(arn).toBe(`arn:aws-cn:states:cn-north-1:210987654321:stateMachine:${STATE_MACHINE}`);
    expect(stack.sfnStub.calls).toEqual([]);
  });

  it('names the state machine and the region when it is not deployed', async () => {
    const error = await resolveStateMachineArn(stack.sfn, {
      name: 'Dw-nothing-retraining',
      model: 'nothing',
      region: 'us-east-1',
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StateMachineNotFoundError);
    expect((error as Error).message).toBe(
      'state machine Dw-nothing-retraining not found in us-east-1: deploy the stack with a retraining section for model nothing, or pass --state-machine-arn',
    );
  });

  it('waits through RUNNING to the outcome', async () => {
    stack.sfnStub.ending = {
      runningPolls: 3,
      status: 'SUCCEEDED',
      output: { status: 'skipped', reason: 'another retraining of churn is in progress: arn:…:run-1' },
    };
    const arn = await startRetraining(
      stack.sfn,
      stack.sfnStub.arnOf(STATE_MACHINE),
      manualExecutionInput('churn'),
    );
    const waits: number[] = [];
    const outcome = await waitForExecution(stack.sfn, arn, {
      pollMs: 250,
      wait: async (ms) => {
        waits.push(ms);
      },
    });
    expect(waits).toEqual([250, 250, 250]);
    expect(outcome).toEqual({
      executionStatus: 'SUCCEEDED',
      outcome: 'skipped',
      succeeded: true,
      message: 'another retraining of churn is in progress: arn:…:run-1',
    });
  });
});

describe('outcomes', () => {
  const succeeded = (output: unknown) =>
    executionOutcome({ status: 'SUCCEEDED', output: JSON.stringify(output) });

  it('reads each ending of the state machine', () => {
    expect(executionOutcome({ status: 'RUNNING' })).toBeNull();
    expect(
      describeOutcome(succeeded({ status: 'promoted', subject: 's', message: 'Model churn: x serves' })!),
    ).toBe('promoted: Model churn: x serves');
    expect(describeOutcome(succeeded({ status: 'rejected', message: 'Model churn: rejected' })!)).toBe(
      'rejected: Model churn: rejected',
    );
    expect(describeOutcome(succeeded({ status: 'rolled-back', message: 'at 25%' })!)).toBe(
      'rolled back: at 25%',
    );
    expect(describeOutcome(succeeded({ status: 'refused', message: 'over budget' })!)).toBe(
      'skipped: over budget',
    );
    const failed = executionOutcome({
      status: 'FAILED',
      error: 'RetrainingFailed',
      cause: 'Model churn:\n boom',
    })!;
    expect(failed).toMatchObject({ succeeded: false, outcome: 'failed' });
    expect(describeOutcome(failed)).toBe('failed: RetrainingFailed: Model churn: boom');
    expect(describeOutcome(executionOutcome({ status: 'TIMED_OUT' })!)).toBe('failed: timed out');
  });
});

describe('driftwatch retrain', () => {
  it('starts the run with the manual input and prints the ARN, then the outcome with --wait', async () => {
    stack.sfnStub.ending = {
      runningPolls: 2,
      status: 'SUCCEEDED',
      output: {
        status: 'promoted',
        subject: 'driftwatch: new model of churn promoted',
        message: 'Model churn: churn-20240601-120000 now serves all traffic of churn-prod',
      },
    };
    const result = await cli(
      'churn',
      '--reason',
      'new labels',
      '--segment',
      'west',
      '--force',
      '--wait',
      '--poll-seconds',
      '0.01',
    );
    expect(result.stderr).toBe(
      'driftwatch: waiting for the retraining of churn (Ctrl-C stops waiting, not the run)\n',
    );
    expect(result.code).toBe(0);
    const [execution] = stack.sfnStub.executions;
    expect(execution!.stateMachineArn).toBe(stack.sfnStub.arnOf(STATE_MACHINE));
    expect(execution!.name).toMatch(/^manual-\d{8}-\d{6}-[0-9a-f]{6}$/);
    expect(JSON.parse(execution!.input)).toEqual({
      model: 'churn',
      trigger: {
        type: 'manual',
        detail: 'new labels',
        segment: { column: 'region', value: 'west' },
        force: true,
      },
    });
    expect(result.stdout).toBe(
      `${execution!.executionArn}\npromoted: Model churn: churn-20240601-120000 now serves all traffic of churn-prod\n`,
    );
  });

  it('prints only the ARN without --wait', async () => {
    const result = await cli('churn', '--state-machine-arn', stack.sfnStub.arnOf(STATE_MACHINE));
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${stack.sfnStub.executions[0]!.executionArn}\n`);
    expect(stack.sfnStub.calls).toEqual(['StartExecution']);
  });

  it('exits 1 with the cause when the run fails', async () => {
    stack.sfnStub.ending = {
      runningPolls: 0,
      status: 'FAILED',
      error: 'RetrainingFailed',
      cause: 'Model churn: retraining run 20240601-120000 failed before the endpoint was changed',
    };
    const result = await cli('churn', '--wait', '--poll-seconds', '0.01');
    expect(result.code).toBe(1);
    expect(result.stdout.split('\n')[1]).toBe(
      'failed: RetrainingFailed: Model churn: retraining run 20240601-120000 failed before the endpoint was changed',
    );
  });

  it('refuses, on one line, what it cannot start', async () => {
    const unknown = await cli('nope');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe(`driftwatch: ${configPath}: has no model "nope" (models: churn, fraud)\n`);

    const noRetraining = await cli('fraud');
    expect(noRetraining.code).toBe(2);
    expect(noRetraining.stderr).toMatch(
      /^driftwatch: .*: model fraud has no retraining section, so the stack deploys no retraining state machine for it\n$/,
    );

    const badAccount = await cli('churn', '--account', '12');
    expect(badAccount.code).toBe(2);
    expect(badAccount.stderr).toBe('driftwatch: --account: expected a 12-digit account id, got "12"\n');

    stack.sfnStub.stateMachines.pop();
    try {
      const missing = await cli('churn');
      expect(missing.code).toBe(1);
      expect(missing.stderr).toBe(
        `driftwatch: state machine ${STATE_MACHINE} not found in us-east-1: deploy the stack with a retraining section for model churn, or pass --state-machine-arn\n`,
      );
      const wrongArn = await cli('churn', '--state-machine-arn', stack.sfnStub.arnOf(STATE_MACHINE));
      expect(wrongArn.code).toBe(1);
      expect(wrongArn.stderr).toBe(
        `driftwatch: StartExecution ${stack.sfnStub.arnOf(STATE_MACHINE)}: StateMachineDoesNotExist: State Machine Does Not Exist: '${stack.sfnStub.arnOf(STATE_MACHINE)}'\n`,
      );
    } finally {
      stack.sfnStub.stateMachines.push(STATE_MACHINE);
    }
    expect(stack.sfnStub.executions).toEqual([]);
  });

  it('reports a config it cannot read, on one line', async () => {
    const result = await runCli(['retrain', 'churn', '--config', `${dir}/none.json`], { env: stack.cliEnv });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`driftwatch: ${dir}/none.json: (file): cannot be read: no such file\n`);
  });

  it('needs the segment column of the model for --segment', async () => {
    const arn = stack.sfnStub.arnOf(STATE_MACHINE);
    // No config here: the one in the test directory would be found.
    const empty = join(dir, 'empty');
    await mkdir(empty);
    const withoutConfig = await runCli(
      ['retrain', 'churn', '--segment', 'west', '--state-machine-arn', arn],
      {
        cwd: empty,
        env: stack.cliEnv,
      },
    );
    expect(withoutConfig.code).toBe(2);
    expect(withoutConfig.stderr).toBe(
      'driftwatch: --segment: needs the config, for the segment column of the model: pass --config\n',
    );
    const noColumn = await cli('fraud', '--segment', 'west', '--state-machine-arn', arn);
    expect(noColumn.code).toBe(2);
    expect(noColumn.stderr).toBe(
      `driftwatch: --segment: model fraud has no segment column in ${configPath} (performance.segmentColumn or segment)\n`,
    );
    expect(stack.sfnStub.executions).toEqual([]);
  });
});
