/**
 * The CDK app: `npx cdk synth` / `npx cdk deploy`. Reads the config named by the `config` context value
 * (default `driftwatch.config.json`), validates it (every problem printed, exit 2), and checks the synthesized
 * stacks (the engine and the model stacks) with cdk-nag's AwsSolutions rules, which fail the synth on any unacknowledged finding.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConfigValidationError } from '../lib/config/errors.ts';
import { DEFAULT_CONFIG_FILE, loadConfig } from '../lib/config/load.ts';
import { addDriftwatch } from '../lib/model-stacks.ts';

const app = new App();
const configPath: string = app.node.tryGetContext('config') ?? DEFAULT_CONFIG_FILE;
try {
  const config = loadConfig(configPath);
  addDriftwatch(app, config);
} catch (error) {
  if (!(error instanceof ConfigValidationError)) throw error;
  console.error(error.message);
  process.exit(2);
}
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
app.synth();
