import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  ListStateMachinesCommand,
  type SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { Command } from 'commander';
import { ConfigError } from '../../../lambdas/core/errors.ts';
import { runIdOf } from '../../../lambdas/core/retraining/plan.ts';
import {
  type RetrainingExecutionInput,
  retrainingNames,
} from '../../../lambdas/shared/retraining-contract.ts';
import {
  type AwsFlags,
  addAwsFlags,
  connectAws,
  type DeployedModel,
  deployedModel,
  parseDuration,
  partitionOf,
  request,
  sleep,
} from '../aws.ts';
import { EXIT } from '../exit.ts';

/** The state machine of a model is not deployed in the region (or not visible to these credentials). */
export class StateMachineNotFoundError extends Error {
  override readonly name: string = 'StateMachineNotFoundError';
  readonly stateMachineName: string;
  readonly region: string;

  constructor(stateMachineName: string, region: string, model: string) {
    super(
      `state machine ${stateMachineName} not found in ${region}: deploy the stack with a retraining section for model ${model}, or pass --state-machine-arn`,
    );
    this.stateMachineName = stateMachineName;
    this.region = region;
  }
}

/** What `driftwatch retrain` asks for, besides the model. */
export interface ManualTrigger {
  /** Why; the run's trigger reason becomes `manual start: <reason>`. */
  reason?: string;
  /** Train on this segment's rows only. */
  segment?: { column: string; value: string } | null;
  /** Ignore the cooldown (never the lock). */
  force?: boolean;
}

/**
 * The execution input of a manual start: the shape the EventBridge rules and the schedule send, with trigger
 * type `manual` and the reason as the detail.
 *
 * @example
 * ```ts
 * manualExecutionInput('churn', { reason: 'new labels', force: true });
 * // { model: 'churn', trigger: { type: 'manual', detail: 'new labels', force: true } }
 * ```
 */
export function manualExecutionInput(model: string, trigger: ManualTrigger = {}): RetrainingExecutionInput {
  return {
    model,
    trigger: {
      type: 'manual',
      ...(trigger.reason !== undefined && { detail: trigger.reason }),
      ...(trigger.segment && { segment: trigger.segment }),
      ...(trigger.force && { force: true }),
    },
  };
}

/** `manual-20250102-030405-a1b2c3`: sortable, unique, and says how the run started. */
export function manualExecutionName(now: Date = new Date()): string {
  return `manual-${runIdOf(now)}-${randomBytes(3).toString('hex')}`;
}

/**
 * The ARN of a state machine by name: built from the account when it is known, else found with
 * ListStateMachines (which needs no account id, only `states:ListStateMachines`).
 *
 * @throws StateMachineNotFoundError when no state machine has that name
 */
export async function resolveStateMachineArn(
  sfn: SFNClient,
  where: { name: string; model: string; region: string; account?: string },
): Promise<string> {
  if (where.account !== undefined) {
    return `arn:${partitionOf(where.region)}:states:${where.region}:${where.account}:stateMachine:${where.name}`;
  }
  let nextToken: string | undefined;
  do {
    const page = await request('ListStateMachines', `(looking for ${where.name})`, () =>
      sfn.send(new ListStateMachinesCommand({ nextToken })),
    );
    const found = page.stateMachines?.find((machine) => machine.name === where.name);
    if (found?.stateMachineArn) return found.stateMachineArn;
    nextToken = page.nextToken;
  } while (nextToken);
  throw new StateMachineNotFoundError(where.name, where.region, where.model);
}

/** Starts a run; returns its execution ARN. */
export async function startRetraining(
  sfn: SFNClient,
  stateMachineArn: string,
  input: RetrainingExecutionInput,
  name: string = manualExecutionName(),
): Promise<string> {
  const response = await request('StartExecution', stateMachineArn, () =>
    sfn.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) })),
  );
  return response.executionArn!;
}

/** How a run ended, as the state machine's endings report it. */
export interface ExecutionOutcome {
  /** The execution's status: SUCCEEDED, FAILED, TIMED_OUT, ABORTED. */
  executionStatus: string;
  /** The run's own outcome. `succeeded`: the execution ended well with an output this command does not know. */
  outcome: 'promoted' | 'rejected' | 'rolled-back' | 'skipped' | 'failed' | 'succeeded';
  /** The execution succeeded (whatever the outcome): the command exits 0. */
  succeeded: boolean;
  /** One line: the notification's message, the skip reason, or the failure's error and cause. */
  message: string;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/**
 * The outcome of a finished execution, read from its output (`$.outcome` of the Succeed states) or its error
 * and cause; null while it still runs.
 */
export function executionOutcome(
  execution: Pick<DescribeExecutionCommandOutput, 'status' | 'output' | 'error' | 'cause'>,
): ExecutionOutcome | null {
  const status = execution.status ?? 'RUNNING';
  if (status === 'RUNNING' || status === 'PENDING_REDRIVE') return null;
  if (status !== 'SUCCEEDED') {
    const what = status === 'FAILED' ? (execution.error ?? 'failed') : status.toLowerCase().replace('_', ' ');
    return {
      executionStatus: status,
      outcome: 'failed',
      succeeded: false,
      message: oneLine(execution.cause ? `${what}: ${execution.cause}` : what),
    };
  }
  let output: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(execution.output ?? '{}');
    if (parsed !== null && typeof parsed === 'object') output = parsed as Record<string, unknown>;
  } catch {
    // An output that is not JSON is reported as it is.
  }
  const text = (key: string) => (typeof output[key] === 'string' ? (output[key] as string) : '');
  const done = (outcome: ExecutionOutcome['outcome'], message: string): ExecutionOutcome => ({
    executionStatus: status,
    outcome,
    succeeded: true,
    message: oneLine(message),
  });
  switch (output['status']) {
    case 'promoted':
      return done('promoted', text('message'));
    case 'rejected':
      return done('rejected', text('message'));
    case 'rolled-back':
      return done('rolled-back', text('message'));
    case 'skipped':
      return done('skipped', text('reason'));
    case 'refused':
      return done('skipped', text('message') || 'refused by the budget');
    default:
      return done('succeeded', execution.output ?? '');
  }
}

/** `promoted: …`, `rolled back: …`, `skipped: …`, `failed: …`. */
export function describeOutcome(outcome: ExecutionOutcome): string {
  const label = outcome.outcome === 'rolled-back' ? 'rolled back' : outcome.outcome;
  return outcome.message ? `${label}: ${outcome.message}` : label;
}

/** Polls DescribeExecution every `pollMs` until the execution ends. */
export async function waitForExecution(
  sfn: SFNClient,
  executionArn: string,
  options: { pollMs: number; wait?: (ms: number) => Promise<void> },
): Promise<ExecutionOutcome> {
  const wait = options.wait ?? sleep;
  for (;;) {
    const execution = await request('DescribeExecution', executionArn, () =>
      sfn.send(new DescribeExecutionCommand({ executionArn })),
    );
    const outcome = executionOutcome(execution);
    if (outcome !== null) return outcome;
    await wait(options.pollMs);
  }
}

interface RetrainFlags extends AwsFlags {
  reason?: string;
  segment?: string;
  force?: boolean;
  stateMachineArn?: string;
  account?: string;
  wait?: boolean;
  pollSeconds: number;
}

/** The segment column of a model: the one its performance checks (and the retraining Lambdas) use. */
function segmentOf(deployed: DeployedModel | null, value: string): { column: string; value: string } {
  if (deployed === null) {
    throw new ConfigError(
      '--segment',
      'needs the config, for the segment column of the model: pass --config',
    );
  }
  const column = deployed.model.performance?.segmentColumn ?? deployed.model.segment;
  if (!column) {
    throw new ConfigError(
      '--segment',
      `model ${deployed.model.name} has no segment column in ${deployed.configPath} (performance.segmentColumn or segment)`,
    );
  }
  return { column, value };
}

export function registerRetrain(program: Command): void {
  const command = program
    .command('retrain')
    .summary("start a retraining run of MODEL on the deployed stack's state machine")
    .description(
      'Start an execution of the retraining state machine (<stack>-retraining, from the config) for MODEL\n' +
        'with trigger type `manual`, and print its ARN. With --wait, follow it to its end and print the\n' +
        `outcome: promoted, rejected, rolled back, skipped (with the reason) or failed (exit ${EXIT.failure}).`,
    )
    .argument('<model>', 'the model, as named in the config');
  addAwsFlags(command)
    .option('--reason <text>', 'why: recorded as the trigger reason of the run and its model package')
    .option('--segment <value>', "train on this value of the model's segment column only")
    .option('--force', 'ignore the cooldown (a run in progress still blocks)')
    .option('--state-machine-arn <arn>', 'the state machine, instead of finding it by name')
    .option('--account <id>', 'AWS account of the stack: builds the ARN without ListStateMachines')
    .option('--wait', 'wait for the run to end and print its outcome')
    .option(
      '--poll-seconds <n>',
      'seconds between status checks with --wait',
      parseDuration('--poll-seconds', 'seconds'),
      30,
    )
    .action(async (modelName: string, flags: RetrainFlags, self: Command) => {
      if (flags.account !== undefined && !/^\d{12}$/.test(flags.account))
        throw new ConfigError(
          '--account',
          `expected a 12-digit account id, got ${JSON.stringify(flags.account)}`,
        );
      if (flags.stateMachineArn !== undefined && !flags.stateMachineArn.startsWith('arn:'))
        throw new ConfigError(
          '--state-machine-arn',
          `expected an ARN, got ${JSON.stringify(flags.stateMachineArn)}`,
        );
      // With --state-machine-arn the config is optional: read when it is there or named.
      const needConfig =
        flags.stateMachineArn === undefined ||
        self.getOptionValueSource('config') !== 'default' ||
        existsSync(flags.config);
      const deployed = needConfig ? deployedModel(flags.config, modelName) : null;
      if (
        deployed !== null &&
        deployed.model.retraining === undefined &&
        flags.stateMachineArn === undefined
      ) {
        throw new ConfigError(
          deployed.configPath,
          `model ${modelName} has no retraining section, so the stack deploys no retraining state machine for it`,
        );
      }
      const segment = flags.segment === undefined ? null : segmentOf(deployed, flags.segment);
      const input = manualExecutionInput(modelName, { reason: flags.reason, segment, force: flags.force });
      const aws = await connectAws(flags);
      try {
        const stateMachineArn =
          flags.stateMachineArn ??
          (await resolveStateMachineArn(aws.sfn, {
            name: retrainingNames.stateMachine(deployed!.stackName),
            model: modelName,
            region: aws.region,
            account: flags.account,
          }));
        const executionArn = await startRetraining(aws.sfn, stateMachineArn, input);
        process.stdout.write(`${executionArn}\n`);
        if (!flags.wait) return;
        process.stderr.write(
          `driftwatch: waiting for the retraining of ${modelName} (Ctrl-C stops waiting, not the run)\n`,
        );
        const outcome = await waitForExecution(aws.sfn, executionArn, { pollMs: flags.pollSeconds * 1000 });
        process.stdout.write(`${describeOutcome(outcome)}\n`);
        if (!outcome.succeeded) process.exitCode = EXIT.failure;
      } finally {
        aws.destroy();
      }
    });
}
