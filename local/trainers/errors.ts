/** Named errors of the local trainers: each says which hyperparameter, channel or file is at fault. */

/** A hyperparameter that is missing, unknown, or not a value the trainer accepts. */
export class HyperparameterError extends Error {
  override readonly name = 'HyperparameterError';
  /** The hyperparameter's name, as SageMaker passes it (`learning_rate`). */
  readonly field: string;

  constructor(field: string, reason: string) {
    super(`hyperparameter ${field}: ${reason}`);
    this.field = field;
  }
}

/** Training data the trainer cannot learn from: no label column, a row without a label, one class only. */
export class TrainingDataError extends Error {
  override readonly name = 'TrainingDataError';
  /** The channel the data came from (`train`, `validation`). */
  readonly channel: string;

  constructor(channel: string, reason: string) {
    super(`${channel} channel: ${reason}`);
    this.channel = channel;
  }
}

/** A model artifact that is not a driftwatch model: not a tar, no `model.json`, a field of the wrong type. */
export class ModelFormatError extends Error {
  override readonly name = 'ModelFormatError';
}

/** The numbers went wrong while fitting: a singular system, a non-finite loss. */
export class ConvergenceError extends Error {
  override readonly name = 'ConvergenceError';
}
