/**
 * A version 2 report (false discovery control and minimum effects) in real headless Chromium: raw and
 * adjusted p-values in the feature table, entries significant but under the minimum effect marked, one
 * line per feature on why it did or did not count, and the segment matrix with adjusted p-values.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderHtmlReport } from '../../../lambdas/core/report/html.ts';
import { computedReport } from '../../helpers/sample-report.ts';

const CHROMIUM = '/usr/bin/chromium';
const HAS_CHROMIUM = existsSync(CHROMIUM);
if (!HAS_CHROMIUM) console.warn(`html-v2.browser.test.ts skipped: no Chromium at ${CHROMIUM}`);

describe.skipIf(!HAS_CHROMIUM)('version 2 HTML report in headless Chromium', () => {
  // Minimum effects of 0.3: the whole-dataset shifts (D 0.11, V 0.22) are significant but small.
  const report = computedReport({ fdr: 0.05, minEffect: { ks: 0.3, chi2: 0.3 } });
  let browser: Browser;
  let directory: string;
  let url: string;

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'driftwatch-report-v2-'));
    const file = join(directory, 'report.html');
    await writeFile(file, renderHtmlReport(report));
    url = pathToFileURL(file).href;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
      ],
    });
  });

  afterAll(async () => {
    await browser?.close();
    if (directory) await rm(directory, { recursive: true, force: true });
  });

  it('shows raw and adjusted p-values, marks small effects and says why for every feature', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    await page.goto(url, { waitUntil: 'load' });

    const heads = (await page.locator('table.features thead th').allTextContents()).map((t) => t.trim());
    for (const label of ['Effect', 'Min effect', 'p', 'Adjusted p', 'Why']) expect(heads).toContain(label);
    const column = (label: string) => heads.indexOf(label);
    const table = new Map<string, { p: number; adjusted: number; drift: string; why: string }>();
    for (const row of await page.locator('table.features tbody tr').all()) {
      const cells = row.locator('th, td');
      table.set((await cells.nth(0).textContent())!, {
        p: Number(await cells.nth(column('p')).getAttribute('data-value')),
        adjusted: Number(await cells.nth(column('Adjusted p')).getAttribute('data-value')),
        drift: (await cells.nth(column('Drifted')).textContent())!.trim(),
        why: (await cells.nth(column('Why')).textContent())!.trim(),
      });
    }
    const overall = report.features.filter((e) => e.segment === null);
    expect(table.size).toBe(overall.length);
    for (const entry of overall) {
      const row = table.get(entry.feature)!;
      expect(row.p).toBe(entry.pValue);
      expect(row.adjusted).toBe(entry.pValueAdjusted);
      expect(row.why).toBe(entry.reason);
    }
    expect(table.get('age')!.drift).toBe('~ small effect');
    expect(table.get('age')!.why).toMatch(/^not counted: significant .* but D 0\.11 < minimum effect 0\.3$/);
    expect(table.get('plan')!.drift).toBe('~ small effect');
    expect(table.get('income')!.drift).toBe('ok');
    expect(await page.locator('table.features .tag.small').count()).toBe(2);

    // Every feature's section carries its one-line reason with both p-values.
    const reasons = await page.locator('article.feature p.reason').allTextContents();
    expect(reasons).toHaveLength(overall.length);
    expect(reasons.every((text) => /\(raw p [^,]+, adjusted p [^)]+\)$/.test(text))).toBe(true);

    // The segment matrix: drifted pairs marked ✗ with the adjusted p-value; hover text says why.
    const drifted = page.locator('table.matrix td.drift');
    expect(await drifted.count()).toBe(report.features.filter((e) => e.segment && e.drifted).length);
    expect(await drifted.first().textContent()).toMatch(/^✗ [\d.]+p /);
    expect(await drifted.first().getAttribute('title')).toMatch(
      /^ks: drifted: adjusted p .* \(raw p .*, adjusted p .*\)$/,
    );
    expect(problems).toEqual([]);
    await context.close();
  });
});
