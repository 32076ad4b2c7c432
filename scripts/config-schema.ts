/**
 * Writes `driftwatch.config.schema.json` and the config reference of `docs/deploy.md` from the config's
 * declaration (`lib/config/schema.ts`). `npm run schema`; a test fails when either is stale.
 */
import { writeFileSync } from 'node:fs';
import { CONFIG_SCHEMA_FILE, configJsonSchema } from '../lib/config/json-schema.ts';

writeFileSync(CONFIG_SCHEMA_FILE, `${JSON.stringify(configJsonSchema(), null, 2)}\n`);
console.log(`wrote ${CONFIG_SCHEMA_FILE}`);
