/**
 * The config's file names, apart from the modules that validate it (zod and every schema), so that a command
 * can name them without loading those.
 */

/** Where the app looks for the config when the `config` context value is not set. */
export const DEFAULT_CONFIG_FILE = 'driftwatch.config.json';

/** Where the schema is written, next to the config, and how the shipped configs refer to it. */
export const CONFIG_SCHEMA_FILE = 'driftwatch.config.schema.json';
