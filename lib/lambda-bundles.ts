/**
 * The Lambda bundles: every handler driftwatch ships is built by ONE run of the local esbuild (which parses
 * the AWS SDK once for all of them: ~3.8 s for the ten handlers, against ~16 s for nine `NodejsFunction`
 * bundlings), and the result is kept on disk for the next synthesis: `cdk synth` of another config, the
 * local mode's stacks and the tests reuse it while none of the files esbuild read has changed.
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BuildOptions, buildSync, version as esbuildVersion } from 'esbuild';

/**
 * Lets CommonJS dependencies that `require()` Node built-ins run inside the ESM bundle (esbuild cannot turn
 * those calls into imports).
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as driftwatchCreateRequire } from 'node:module'; const require = driftwatchCreateRequire(import.meta.url);";

/** The project's root: entries and esbuild's inputs are named relative to it. */
const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Where bundles are kept between syntheses (the find-cache-dir convention: deleting it is always safe). */
export const BUNDLE_CACHE_DIR = join(PROJECT_ROOT, 'node_modules', '.cache', 'driftwatch-lambda-bundles');

/**
 * The handlers driftwatch ships, built together whenever any of them is needed. A handler missing here
 * still works (it is built alone), only slower: test/lib/lambda-bundles.test.ts checks the list is complete.
 */
export const SHIPPED_HANDLERS = [
  'lambdas/drift/handler.ts',
  'lambdas/performance/handler.ts',
  'lambdas/notifier/handler.ts',
  'lambdas/feedback/handler.ts',
  'lambdas/retraining/plan.ts',
  'lambdas/retraining/cost-gate.ts',
  'lambdas/retraining/prepare-inputs.ts',
  'lambdas/retraining/evaluate.ts',
  'lambdas/retraining/register.ts',
  'lambdas/retraining/canary-decision.ts',
] as const;

/**
 * How every handler is bundled: ESM for Node 24, minified, with source maps (the functions run with
 * `--enable-source-maps`), the AWS SDK included so a function runs the SDK versions it was tested with and
 * loads a tree-shaken bundle faster than the runtime's full SDK.
 */
const BUILD_OPTIONS = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  mainFields: ['module', 'main'],
  banner: { js: ESM_REQUIRE_BANNER },
  minify: true,
  sourcemap: true,
  sourcesContent: false,
  outExtension: { '.js': '.mjs' },
  logLevel: 'error',
} satisfies BuildOptions;

/** What a kept build was made from: every input file esbuild read, with its content's hash. */
interface BuildRecord {
  inputs: Record<string, string>;
}

const RECORD_FILE = 'inputs.json';

/** Build directories this process has checked or made (a synthesis checks each once). */
const checked = new Set<string>();

/**
 * The directory holding the bundle of one handler (`index.mjs` and its source map), built with every
 * shipped handler when it is one of them, or alone.
 *
 * @param entry the handler's TypeScript file (absolute, or relative to the project)
 * @param cacheDir where builds are kept @default {@link BUNDLE_CACHE_DIR}
 * @throws Error naming the entry and esbuild's messages when the build fails
 *
 * @example
 * ```ts
 * cpSync(handlerBundle(DRIFT_HANDLER_ENTRY), outputDir, { recursive: true });
 * ```
 */
export function handlerBundle(entry: string, cacheDir: string = BUNDLE_CACHE_DIR): string {
  const name = handlerName(entry);
  const shipped = (SHIPPED_HANDLERS as readonly string[]).includes(name);
  const entries = shipped ? [...SHIPPED_HANDLERS] : [name];
  const key = createHash('sha256')
    .update(JSON.stringify({ esbuildVersion, BUILD_OPTIONS, entries }))
    .digest('hex')
    .slice(0, 24);
  const dir = join(cacheDir, key);
  if (!checked.has(dir)) {
    if (!isCurrent(dir)) build(entries, dir);
    checked.add(dir);
  }
  return join(dir, bundleDirName(name));
}

/** A handler named relative to the project, with `/` separators (so names do not depend on the checkout's place). */
export function handlerName(entry: string): string {
  const absolute = isAbsolute(entry) ? entry : resolve(PROJECT_ROOT, entry);
  return relative(PROJECT_ROOT, absolute).split('\\').join('/');
}

/** `lambdas/drift/handler.ts` is bundled into `lambdas/drift/handler/` (as `index.mjs`, the Lambda's `index.handler`). */
function bundleDirName(name: string): string {
  // A handler outside the project (`../x.ts`) stays inside the build's directory.
  return name.replace(/\.[cm]?[jt]s$/, '').replaceAll('../', '__/');
}

function hashFile(path: string): string | undefined {
  try {
    return createHash('sha256').update(readFileSync(path)).digest('hex');
  } catch {
    return undefined;
  }
}

/** A kept build is current while every file it was made from is unchanged. */
function isCurrent(dir: string): boolean {
  const recordPath = join(dir, RECORD_FILE);
  if (!existsSync(recordPath)) return false;
  const record = JSON.parse(readFileSync(recordPath, 'utf8')) as BuildRecord;
  return Object.entries(record.inputs).every(([input, hash]) => hashFile(join(PROJECT_ROOT, input)) === hash);
}

function build(entries: string[], dir: string): void {
  const staging = `${dir}.${process.pid}.${Date.now()}.tmp`;
  mkdirSync(staging, { recursive: true });
  try {
    const result = buildSync({
      ...BUILD_OPTIONS,
      absWorkingDir: PROJECT_ROOT,
      entryPoints: Object.fromEntries(
        entries.map((name) => [`${bundleDirName(name)}/index`, join(PROJECT_ROOT, name)]),
      ),
      outdir: staging,
      metafile: true,
    });
    const inputs: Record<string, string> = {};
    for (const input of Object.keys(result.metafile.inputs)) {
      // Inputs are relative to absWorkingDir; esbuild's virtual inputs (`<define:...>`) are not files.
      const hash = hashFile(join(PROJECT_ROOT, input));
      if (hash !== undefined) inputs[input] = hash;
    }
    writeFileSync(join(staging, RECORD_FILE), JSON.stringify({ inputs } satisfies BuildRecord));
    // Another process (a parallel synthesis) may have kept the same build meanwhile: use it.
    if (isCurrent(dir)) return;
    rmSync(dir, { recursive: true, force: true });
    try {
      renameSync(staging, dir);
    } catch (error) {
      if (!isCurrent(dir)) throw error;
    }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`bundling the Lambda handlers ${entries.join(', ')} failed: ${message}`, {
      cause: error,
    });
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** Copies a handler's bundle into an asset's output directory (what the CDK's local bundling does). */
export function copyHandlerBundle(entry: string, outputDir: string): void {
  cpSync(handlerBundle(entry), outputDir, { recursive: true });
}
