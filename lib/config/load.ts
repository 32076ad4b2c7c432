import { readFileSync } from 'node:fs';
import { ConfigError } from '../../lambdas/core/errors.ts';
import { ConfigValidationError } from './errors.ts';
import type { DriftwatchConfig } from './model-config.ts';
import { validateConfig } from './validate.ts';

export { DEFAULT_CONFIG_FILE } from './files.ts';

/**
 * Reads, parses and validates a config file.
 *
 * @throws ConfigValidationError when the file cannot be read, is not JSON, or breaks any rule of
 * {@link validateConfig}
 */
export function loadConfig(path: string): DriftwatchConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new ConfigValidationError(path, [new ConfigError('(file)', `cannot be read: ${reason}`)]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConfigValidationError(path, [
      new ConfigError('(file)', `is not valid JSON: ${(error as Error).message}`),
    ]);
  }
  return validateConfig(raw, path);
}
