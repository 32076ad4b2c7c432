/**
 * Inputs a statistic cannot be computed on (an empty sample, mismatched count vectors, a probability outside
 * [0, 1]). These are caller bugs rather than bad data: the drift code removes missing values and skips
 * features with an empty side before it calls the statistics, so the message names the function and the
 * argument at fault.
 */
export class StatisticInputError extends RangeError {
  override readonly name = 'StatisticInputError';
  /** The function that rejected its input, e.g. `ksTwoSample`. */
  readonly statistic: string;

  constructor(statistic: string, reason: string) {
    super(`${statistic}: ${reason}`);
    this.statistic = statistic;
  }
}
