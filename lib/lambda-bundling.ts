import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';

/**
 * Lets CommonJS dependencies that `require()` Node built-ins run inside the ESM bundle (esbuild cannot turn
 * those calls into imports).
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as driftwatchCreateRequire } from 'node:module'; const require = driftwatchCreateRequire(import.meta.url);";

/**
 * How every driftwatch Lambda is bundled: by the locally installed esbuild (no Docker), as minified ESM for
 * Node 24 with source maps, the AWS SDK included.
 *
 * @example
 * ```ts
 * new nodejs.NodejsFunction(this, 'Function', { entry, bundling: lambdaBundling() });
 * ```
 */
export function lambdaBundling(): nodejs.BundlingOptions {
  return {
    // ESM: the project is ESM and so are its dependencies; the banner covers CommonJS ones.
    format: nodejs.OutputFormat.ESM,
    banner: ESM_REQUIRE_BANNER,
    mainFields: ['module', 'main'],
    target: 'node24',
    minify: true,
    sourceMap: true,
    sourcesContent: false,
    // Bundle the AWS SDK too: the function runs the SDK versions it was tested with, and a tree-shaken
    // bundle loads faster than the runtime's full SDK.
    bundleAwsSDK: true,
    externalModules: [],
    forceDockerBundling: false,
  };
}
