import type { ConfigError } from '../../lambdas/core/errors.ts';

/**
 * Everything wrong with a config file, found in one pass so a user fixes all of it at once. Each problem is a
 * {@link ConfigError} naming its JSON path, e.g. `models[1].drift.featureMethods.amount`.
 */
export class ConfigValidationError extends Error {
  override readonly name: string = 'ConfigValidationError';
  /** The config file, as given. */
  readonly source: string;
  readonly problems: readonly ConfigError[];

  constructor(source: string, problems: readonly ConfigError[]) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    super(`${source}: ${count}\n${problems.map((problem) => `  - ${problem.message}`).join('\n')}`);
    this.source = source;
    this.problems = problems;
  }
}
