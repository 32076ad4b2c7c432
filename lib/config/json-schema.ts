/**
 * The JSON Schema of `driftwatch.config.json`, emitted from the declaration in `schema.ts` (zod's
 * `toJSONSchema`): what editors use to complete and check the file, and what `docs/deploy.md`'s config
 * reference is generated from. Rules that JSON Schema cannot state (fields that refer to each other, time
 * zones, URLs) are checked by `validateConfig` only.
 */
import * as z from 'zod';
import { ConfigSchema } from './schema.ts';

export { CONFIG_SCHEMA_FILE } from './files.ts';
/** How the shipped configs refer to the schema. */
export const CONFIG_SCHEMA_ID = 'https://github.com/driftwatch/driftwatch/driftwatch.config.schema.json';

export type JsonSchema = Record<string, unknown>;

export function configJsonSchema(): JsonSchema {
  const schema = z.toJSONSchema(ConfigSchema, {
    io: 'input',
    target: 'draft-7',
    unrepresentable: 'any',
  }) as JsonSchema;
  return {
    $schema: schema['$schema'],
    $id: CONFIG_SCHEMA_ID,
    title: 'driftwatch.config.json',
    description:
      'Configuration of a driftwatch deployment: the stack, who is paged, and the models watched. Generated from lib/config/schema.ts by `npm run docs`; do not edit.',
    ...Object.fromEntries(Object.entries(schema).filter(([key]) => key !== '$schema')),
  };
}
