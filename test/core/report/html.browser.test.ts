/**
 * The HTML report in real headless Chromium: it loads nothing but itself, logs no error, reads without
 * script, sorts with it, draws every chart, and shows hostile names as text without running them.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderHtmlReport } from '../../../lambdas/core/report/html.ts';
import { computedReport, HOSTILE_FEATURE, HOSTILE_SEGMENT } from '../../helpers/sample-report.ts';

const CHROMIUM = '/usr/bin/chromium';
const HAS_CHROMIUM = existsSync(CHROMIUM);
const HOSTILE_TITLE = 'Drift <img src=x onerror=window.pwned=3> "May"';

if (!HAS_CHROMIUM) console.warn(`html.browser.test.ts skipped: no Chromium at ${CHROMIUM}`);

describe.skipIf(!HAS_CHROMIUM)(`HTML report in headless Chromium (${CHROMIUM})`, () => {
  const report = computedReport();
  const features = report.features.filter((entry) => entry.segment === null).length;
  let browser: Browser;
  let directory: string;
  let url: string;

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'driftwatch-report-'));
    const file = join(directory, 'report.html');
    await writeFile(file, renderHtmlReport(report, { title: HOSTILE_TITLE }));
    url = pathToFileURL(file).href;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });

  afterAll(async () => {
    await browser?.close();
    if (directory) await rm(directory, { recursive: true, force: true });
  });

  /** Opens the report in a fresh page, recording console errors, page errors and every request. */
  async function open(
    javaScriptEnabled = true,
  ): Promise<{ page: Page; problems: string[]; requests: string[] }> {
    const context = await browser.newContext({ javaScriptEnabled, viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const problems: string[] = [];
    const requests: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning')
        problems.push(`${message.type()}: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
    page.on('request', (request) => requests.push(request.url()));
    await page.goto(url, { waitUntil: 'load' });
    return { page, problems, requests };
  }

  /** Feature name and score of each row of the feature table, in row order. */
  async function rows(page: Page): Promise<[string, number][]> {
    const heads = await page.locator('table.features thead th').allTextContents();
    const column = heads.findIndex((text) => text.trim() === 'Score');
    const result: [string, number][] = [];
    for (const row of await page.locator('table.features tbody tr').all()) {
      const cells = row.locator('th, td');
      result.push([
        (await cells.nth(0).textContent())!,
        Number(await cells.nth(column).getAttribute('data-value')),
      ]);
    }
    return result;
  }

  it('loads nothing but the file and logs no error', async () => {
    const { page, problems, requests } = await open();
    await page.waitForTimeout(200);
    expect(problems).toEqual([]);
    expect(requests).toEqual([url]);
    await page.context().close();
  });

  it('shows the header and the summary', async () => {
    const { page } = await open();
    await expect.poll(() => page.locator('h1').textContent()).toBe(HOSTILE_TITLE);
    expect(await page.title()).toBe(HOSTILE_TITLE);
    const cards = page.locator('.cards .card');
    expect(await cards.count()).toBe(4);
    expect(await cards.nth(0).textContent()).toMatch(/^Dataset drift\s*No/);
    expect(await cards.nth(1).textContent()).toMatch(/^Drift share\s*40%\s*threshold 50%/);
    expect(await cards.nth(2).textContent()).toMatch(/^Drifted features\s*2 of 5/);
    expect(await page.locator('header time').getAttribute('datetime')).toBe(report.metadata!.generatedAt);
    await page.context().close();
  });

  it('turns headers into buttons with aria-sort, and sorts by score both ways', async () => {
    const { page } = await open();
    const sortable = page.locator('table.features thead th[data-sort]');
    expect(await sortable.count()).toBe(
      await page.locator('table.features thead th[aria-sort="none"] > button').count(),
    );
    const initial = await rows(page);
    expect(initial).toHaveLength(features);
    const byScore = (sign: number) => [...initial].sort((a, b) => (a[1] - b[1]) * sign);

    const score = page.getByRole('button', { name: 'Score', exact: true });
    await score.click();
    const header = score.locator('xpath=..');
    expect(await header.getAttribute('aria-sort')).toBe('ascending');
    // Whole rows move: each name keeps its score.
    expect(await rows(page)).toEqual(byScore(1));

    await score.press('Enter');
    expect(await header.getAttribute('aria-sort')).toBe('descending');
    const descending = await rows(page);
    expect(descending).toEqual(byScore(-1));
    expect(descending).not.toEqual(initial);
    expect(await page.locator('#sort-status').textContent()).toBe('Sorted by Score, descending.');

    // Another column takes over the sort; the score header goes back to none.
    await page.getByRole('button', { name: 'Feature', exact: true }).click();
    expect(await header.getAttribute('aria-sort')).toBe('none');
    const names = await page.$$eval('table.features tbody th', (cells) =>
      cells.map((c) => c.textContent!.trim()),
    );
    expect(names).toEqual([...names].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase())));
    await page.context().close();
  });

  it('renders a chart of non-zero size, with visible bars, for every feature', async () => {
    const { page } = await open();
    const charts = page.locator('article.feature svg.chart');
    expect(await charts.count()).toBe(features);
    for (let i = 0; i < features; i++) {
      const chart = charts.nth(i);
      await chart.scrollIntoViewIfNeeded();
      const box = await chart.boundingBox();
      expect(box?.width).toBeGreaterThan(100);
      expect(box?.height).toBeGreaterThan(50);
      const tallest = await chart
        .locator('rect.bar')
        .evaluateAll((bars) => Math.max(...bars.map((bar) => bar.getBoundingClientRect().height)));
      expect(tallest).toBeGreaterThan(10);
    }
    await page.context().close();
  });

  it('shows hostile names as text and runs none of them', async () => {
    const { page, problems } = await open();
    expect(await page.evaluate(() => (globalThis as { pwned?: unknown }).pwned)).toBeUndefined();
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.locator('script').count()).toBe(1);
    expect(await page.locator('table.features tbody a', { hasText: HOSTILE_FEATURE }).count()).toBe(1);
    expect(await page.locator(`article.feature h3`, { hasText: HOSTILE_FEATURE }).count()).toBe(1);
    expect(await page.locator('table.matrix thead th', { hasText: HOSTILE_SEGMENT }).count()).toBe(1);
    expect(
      await page.locator('svg.chart text title', { hasText: '<script>window.pwned=2</script>' }).count(),
    ).toBe(1);
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('reads without JavaScript: all rows, charts and the matrix, no dead buttons', async () => {
    const { page, problems } = await open(false);
    expect(await page.locator('table.features tbody tr').count()).toBe(features);
    expect(await page.locator('table.features button').count()).toBe(0);
    expect(await page.locator('svg.chart').count()).toBe(features);
    expect(await page.locator('table.matrix tbody tr').count()).toBe(features);
    expect(problems).toEqual([]);
    await page.context().close();
  });
});
