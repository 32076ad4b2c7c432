/**
 * What a user of any command-line tool expects: help with an example, quiet exit when the reader of the
 * output goes away, no colour when NO_COLOR is set or output is not a terminal, and the documented exit
 * codes (docs/cli.md).
 */
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../bin/cli/exit.ts';
import { EXAMPLES } from '../../bin/cli/help.ts';
import { useColor } from '../../bin/cli/output.ts';
import { CLI, runCli, tempDir } from '../helpers/cli.ts';

let dir: string;
let cleanup: () => Promise<void>;
const path = (name: string) => join(dir, name);

/** `features` numeric columns and a segment: a JSON report far larger than a pipe's buffer. */
function wideTable(rows: number, features: number, shift: number): string {
  const header = [...Array.from({ length: features }, (_, j) => `f${j}`), 'region'];
  const lines = [header.join(',')];
  for (let i = 0; i < rows; i++) {
    const values = Array.from({ length: features }, (_, j) => (((i * (j + 7)) % 97) / 9 + shift).toFixed(3));
    lines.push([...values, `r${i % 20}`].join(','));
  }
  return `${lines.join('\n')}\n`;
}

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  await writeFile(path('base.csv'), wideTable(400, 30, 0));
  await writeFile(path('shifted.csv'), wideTable(400, 30, 4));
});
afterAll(() => cleanup());

describe('--help', () => {
  it.each(Object.keys(EXAMPLES))('of %s shows an example', async (command) => {
    const result = await runCli(command === 'driftwatch' ? ['--help'] : [command, '--help']);
    expect(result.code).toBe(EXIT.ok);
    expect(result.stdout).toMatch(/\nExamples?:\n {2}\$ driftwatch /);
    for (const line of EXAMPLES[command]!) expect(result.stdout).toContain(`$ ${line}`);
    // docs/cli.md carries the same help (npm run docs).
    expect(await readFile('docs/cli.md', 'utf8')).toContain(result.stdout.trim());
  });

  it('covers every command', async () => {
    const result = await runCli(['--help']);
    const commands = [...result.stdout.matchAll(/^ {2}([a-z]+) \[options\]/gm)].map((match) => match[1]);
    expect(commands.length).toBeGreaterThanOrEqual(7);
    for (const command of commands) expect(Object.keys(EXAMPLES)).toContain(command);
  });
});

describe('a closed pipe', () => {
  it('ends the command quietly, with exit 0 (driftwatch drift ... | head)', async () => {
    const child = spawn(
      process.execPath,
      [CLI, 'drift', path('base.csv'), path('shifted.csv'), '--segment', 'region', '--format', 'json', '-q'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    let received = 0;
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    // Read the first chunk, then go away as `head -c 100` does.
    child.stdout.once('data', (chunk: Buffer) => {
      received = chunk.length;
      child.stdout.destroy();
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(received).toBeGreaterThan(0);
    expect(stderr).toBe('');
    expect(code).toBe(EXIT.ok);
  });
});

describe('colour', () => {
  const saved = { NO_COLOR: process.env['NO_COLOR'], TERM: process.env['TERM'] };
  afterEach(() => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });
  const terminal = { isTTY: true } as NodeJS.WriteStream;

  it('is used on a terminal only', () => {
    delete process.env['NO_COLOR'];
    process.env['TERM'] = 'xterm-256color';
    expect(useColor(terminal)).toBe(true);
    expect(useColor({ isTTY: false } as NodeJS.WriteStream)).toBe(false);
  });

  it('is never used when NO_COLOR is set to anything but the empty string, or TERM is dumb', () => {
    process.env['TERM'] = 'xterm';
    process.env['NO_COLOR'] = '1';
    expect(useColor(terminal)).toBe(false);
    process.env['NO_COLOR'] = '';
    expect(useColor(terminal)).toBe(true);
    process.env['TERM'] = 'dumb';
    expect(useColor(terminal)).toBe(false);
  });

  it('is absent from a text report written to a pipe, which is JSON unless text is asked for', async () => {
    const text = await runCli(['drift', path('base.csv'), path('shifted.csv'), '--format', 'text', '-q'], {
      env: { NO_COLOR: '' },
    });
    expect(text.code).toBe(EXIT.ok);
    expect(text.stdout).not.toContain('\u001b[');
    const piped = await runCli(['drift', path('base.csv'), path('shifted.csv'), '-q']);
    expect(JSON.parse(piped.stdout)).toHaveProperty('datasetDrift', true);
  });
});

describe('exit codes', () => {
  const cases: [string, number, string[]][] = [
    ['done', EXIT.ok, ['drift', 'base.csv', 'base.csv', '--fail-on-drift', '-q']],
    ['a file that cannot be read', EXIT.failure, ['drift', 'base.csv', 'missing.csv', '-q']],
    ['a bad flag value', EXIT.usage, ['drift', 'base.csv', 'base.csv', '--format', 'xml']],
    ['an unknown flag', EXIT.usage, ['drift', 'base.csv', 'base.csv', '--colour']],
    ['an unknown command', EXIT.usage, ['drfit']],
    ['a bad config', EXIT.usage, ['init', 'base.csv', '--name', 'm', '--config', 'bad.config.json']],
    [
      'the drift it was asked to fail on',
      EXIT.breach,
      ['drift', 'base.csv', 'shifted.csv', '--fail-on-drift', '-q'],
    ],
  ];

  it.each(cases)('%s: %i', async (_, code, args) => {
    await writeFile(path('bad.config.json'), '{"models": []');
    const result = await runCli(
      args.map((arg) => (/\.(csv|json)$/.test(arg) ? path(arg) : arg)),
      { cwd: dir },
    );
    expect(result.code).toBe(code);
    if (code === EXIT.ok || code === EXIT.breach) expect(result.stderr).toBe('');
    else expect(result.stderr.trim().split('\n')[0]).toMatch(/^(driftwatch: |error: )/);
    expect(await readFile(path('bad.config.json'), 'utf8')).toBe('{"models": []');
  });
});
