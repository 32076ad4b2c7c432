/**
 * The `driftwatch` command's bundle: bin/driftwatch.ts and its worker thread, bundled by esbuild into
 * dist/ (packages stay external but for hyparquet and zod, see buildCli; the commands that load the AWS SDK
 * stay in chunks loaded only when asked for). Plain JavaScript starts in about a third of the time of Node's
 * type stripping of the sources, and with ~40 MB less memory per thread. bin/driftwatch.mjs calls
 * {@link freshBundle} on every run.
 */
import { mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT_DIR = join(ROOT, 'dist');
export const BUNDLE = join(OUT_DIR, 'driftwatch.mjs');
/** What the bundle is made of: a change to any of them makes it stale. */
const SOURCES = ['bin', 'lambdas', 'lib', 'package.json', 'package-lock.json'];

/** The newest modification time (ms) of the sources. */
function newestSource() {
  let newest = 0;
  const visit = (/** @type {string} */ path) => {
    const stat = statSync(path);
    if (stat.isDirectory()) {
      for (const entry of readdirSync(path)) visit(join(path, entry));
    } else if (stat.mtimeMs > newest) {
      newest = stat.mtimeMs;
    }
  };
  for (const source of SOURCES) visit(join(ROOT, source));
  return newest;
}

/**
 * The path of an up-to-date bundle, building it first when it is missing or stale; null when it cannot be
 * built (esbuild is a development dependency), and the caller then runs the sources.
 */
export async function freshBundle() {
  let built = 0;
  try {
    built = statSync(BUNDLE).mtimeMs;
  } catch {}
  if (built > newestSource()) return BUNDLE;
  try {
    await buildCli();
    return BUNDLE;
  } catch {
    return null;
  }
}

/** An esbuild plugin: bare imports are external (as `packages: 'external'`), but for `names`' modules. */
function bundledPackages(/** @type {string[]} */ names) {
  return {
    name: 'bundled-packages',
    setup(/** @type {import('esbuild').PluginBuild} */ build) {
      build.onResolve({ filter: /^[^./]/ }, (args) => {
        const name = args.path.startsWith('@')
          ? args.path.split('/').slice(0, 2).join('/')
          : args.path.split('/')[0];
        return names.includes(name ?? '') ? undefined : { path: args.path, external: true };
      });
    },
  };
}

/** Bundles the command into a temporary directory, then moves each file into dist/ (renames are atomic). */
export async function buildCli() {
  const esbuild = await import('esbuild');
  const staging = join(ROOT, 'dist', `.cli-${process.pid}-${Date.now()}`);
  try {
    const result = await esbuild.build({
      entryPoints: {
        driftwatch: join(ROOT, 'bin', 'driftwatch.ts'),
        'profile-worker': join(ROOT, 'bin', 'cli', 'parallel', 'profile-worker.ts'),
      },
      outdir: staging,
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node24',
      // Packages stay external, but for two ESM packages of many modules that every run loads: hyparquet
      // (28 modules, about 60 ms per thread to resolve and load one by one) and zod (107, the config).
      plugins: [bundledPackages(['hyparquet', 'zod'])],
      outExtension: { '.js': '.mjs' },
      chunkNames: 'chunk-[hash]',
      logLevel: 'silent',
      write: false,
    });
    mkdirSync(staging, { recursive: true });
    mkdirSync(OUT_DIR, { recursive: true });
    // Chunks first (their names are content hashes), the entry points last, so a concurrent run never
    // loads an entry point whose chunks are not there yet.
    const files = [...result.outputFiles].sort(
      (a, b) => Number(!a.path.includes('chunk-')) - Number(!b.path.includes('chunk-')),
    );
    for (const file of files) {
      writeFileSync(file.path, file.contents);
      renameSync(file.path, join(OUT_DIR, relative(staging, file.path)));
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await buildCli();
