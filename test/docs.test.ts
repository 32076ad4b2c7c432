/**
 * The docs a user reads: every relative link of README.md and docs/ leads to a file of the repository (and
 * an anchor to a heading of it), nothing points outside the repository, the README fits on a screen or two,
 * and the generated sections are current.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configJsonSchema } from '../lib/config/json-schema.ts';
import { configReference, REFERENCE_BEGIN, REFERENCE_END } from '../lib/config/reference.ts';

const ROOT = resolve(new URL('..', import.meta.url).pathname);
const DOCS = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
];

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces as dashes. */
function anchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function anchorsOf(file: string): Set<string> {
  const text = readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '');
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((match) => anchor(match[1]!)));
}

/** Markdown links and images outside code: [text](target) and ![alt](target). */
function linksOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8')
    .replace(/```[\s\S]*?```/g, '')
    .replace(/`[^`\n]*`/g, '');
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1]!);
}

describe('documentation links', () => {
  it.each(DOCS)('%s: every relative link resolves inside the repository', (file) => {
    const broken: string[] = [];
    for (const link of linksOf(file)) {
      if (/^[a-z]+:/i.test(link)) continue;
      const [path, hash] = link.split('#') as [string, string | undefined];
      const target = path === '' ? join(ROOT, file) : resolve(dirname(join(ROOT, file)), path);
      if (relative(ROOT, target).startsWith('..')) broken.push(`${link}: outside the repository`);
      else if (!existsSync(target)) broken.push(`${link}: no such file`);
      else if (hash && statSync(target).isFile() && target.endsWith('.md') && !anchorsOf(target).has(hash))
        broken.push(`${link}: no heading #${hash}`);
    }
    expect(broken).toEqual([]);
  });

  it('finds a broken link (the check itself works)', () => {
    expect(anchor('Retrain, history and rollback commands')).toBe('retrain-history-and-rollback-commands');
    expect(anchorsOf(join(ROOT, 'docs/operate.md')).has('alarms')).toBe(true);
  });
});

describe('README.md', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

  it('fits on a screen or two', () => {
    expect(readme.split('\n').length).toBeLessThanOrEqual(150);
  });

  it('gives the two-command quick start', () => {
    expect(readme).toContain('npm ci && npm run demo');
    expect(readme).toContain('npm test ');
    const scripts = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts;
    for (const script of ['demo', 'test', 'docs', 'diagram', 'bench', 'golden'])
      expect(scripts).toHaveProperty(script);
  });
});

describe('generated sections', () => {
  it('docs/deploy.md has the config reference of the current schema (npm run docs)', () => {
    const deploy = readFileSync(join(ROOT, 'docs/deploy.md'), 'utf8');
    const section = deploy.slice(
      deploy.indexOf(REFERENCE_BEGIN),
      deploy.indexOf(REFERENCE_END) + REFERENCE_END.length,
    );
    // biome lays the tables out: compare them cell by cell.
    const cells = (text: string) => text.replace(/ *\| */g, '|').replace(/-{3,}/g, '---');
    expect(cells(section)).toBe(cells(configReference(configJsonSchema())));
  });

  it('docs/ keeps its own copies of the specs', () => {
    for (const spec of ['drift-spec.md', 'performance-spec.md']) {
      expect(readFileSync(join(ROOT, 'docs', spec), 'utf8')).toMatch(/^# /);
    }
  });
});
