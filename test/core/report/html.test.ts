import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { DriftReport } from '../../../lambdas/core/drift/types.ts';
import { escapeHtml, renderHtmlReport } from '../../../lambdas/core/report/html.ts';
import {
  BASELINE_NAME,
  CURRENT_NAME,
  categoricalEntry,
  computedReport,
  HOSTILE_CATEGORY,
  HOSTILE_FEATURE,
  HOSTILE_SEGMENT,
  handBuiltReport,
  numericEntry,
} from '../../helpers/sample-report.ts';

function count(text: string, pattern: RegExp): number {
  return text.match(new RegExp(pattern.source, `${pattern.flags.replace('g', '')}g`))?.length ?? 0;
}

function between(text: string, start: string, end: string): string {
  const from = text.indexOf(start);
  expect(from).toBeGreaterThanOrEqual(0);
  return text.slice(from, text.indexOf(end, from + start.length) + end.length);
}

/** The whole-dataset table's body rows. */
function featureRows(html: string): string[] {
  const body = between(between(html, '<table class="features"', '</table>'), '<tbody>', '</tbody>');
  return body.split('</tr>').filter((row) => row.includes('<tr'));
}

describe('escapeHtml', () => {
  it('escapes the five characters that matter in content and quoted attributes', () => {
    expect(escapeHtml(`<a href="x" title='y'>&amp;</a>`)).toBe(
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;',
    );
  });
});

describe('renderHtmlReport', () => {
  const html = renderHtmlReport(handBuiltReport(), { title: 'Churn <model> & "May"' });

  it('is one self-contained document: inline style and script, nothing fetched', () => {
    expect(html.startsWith('<!doctype html>\n<html lang="en">')).toBe(true);
    expect(count(html, /<style>/)).toBe(1);
    expect(count(html, /<script>/)).toBe(1);
    expect(html).not.toMatch(/<(link|img|iframe|object|embed)\b/i);
    expect(html).not.toMatch(/<[a-z][^>]*\ssrc\s*=/i);
    expect(html).not.toMatch(/@import|url\(/i);
    // The only absolute URL is the SVG namespace, which is a name, not a request.
    expect(html.match(/https?:\/\/[^"\s]+/g)?.every((url) => url === 'http://www.w3.org/2000/svg')).toBe(
      true,
    );
    expect(html.match(/href="([^"]*)"/g)?.every((href) => href.startsWith('href="#'))).toBe(true);
  });

  it('allows by CSP only its own style and script, by hash', () => {
    const policy = between(html, 'http-equiv="Content-Security-Policy" content="', '">');
    const hash = (text: string) => createHash('sha256').update(text).digest('base64');
    const style = between(html, '<style>', '</style>').slice('<style>'.length, -'</style>'.length);
    const script = between(html, '<script>', '</script>').slice('<script>'.length, -'</script>'.length);
    expect(policy).toContain("default-src 'none'");
    expect(policy).toContain(`style-src 'sha256-${hash(style)}'`);
    expect(policy).toContain(`script-src 'sha256-${hash(script)}'`);
    expect(policy).not.toContain('unsafe-inline');
  });

  it('escapes every string from the report: feature names, categories, segments, file names, title', () => {
    const report = handBuiltReport();
    report.features[2]!.distribution = {
      kind: 'categories',
      categories: ['a', HOSTILE_CATEGORY],
      baseline: [5, 5],
      current: [4, 6],
      otherCategories: 0,
    };
    const page = renderHtmlReport(report, { title: '<script>alert(1)</script>' });
    for (const hostile of [HOSTILE_FEATURE, HOSTILE_CATEGORY, HOSTILE_SEGMENT, BASELINE_NAME, CURRENT_NAME]) {
      expect(page).not.toContain(hostile);
    }
    expect(page).toContain('&lt;img src=x onerror=window.pwned=1&gt;');
    expect(page).toContain('&lt;script&gt;window.pwned=2&lt;/script&gt;');
    expect(page).toContain('west &quot;&amp;&quot; &lt;b&gt;&#39;east&#39;&lt;/b&gt;');
    expect(page).toContain('<title>&lt;script&gt;alert(1)&lt;/script&gt;</title>');
    expect(count(page, /<script/)).toBe(1);
    expect(count(page, /<b>/)).toBe(0);
  });

  it('heads the page with the title, generation time, inputs and row counts', () => {
    const header = between(html, '<header>', '</header>');
    expect(header).toContain('<h1>Churn &lt;model&gt; &amp; &quot;May&quot;</h1>');
    expect(header).toContain('<time datetime="2024-06-01T08:30:00.000Z">2024-06-01 08:30:00 UTC</time>');
    expect(header).toContain(`<strong>${escapeHtml(BASELINE_NAME)}</strong> · profile · 5,000 rows`);
    expect(header).toContain(`<strong>${escapeHtml(CURRENT_NAME)}</strong> · 4,800 rows`);
    expect(header).toContain('<dt>Segment column</dt><dd>tier</dd>');
  });

  it('names the current file in the default title', () => {
    expect(renderHtmlReport(handBuiltReport())).toContain(
      `<title>Drift report: ${escapeHtml(CURRENT_NAME)}</title>`,
    );
  });

  it('shows summary cards: verdict, share against threshold, drifted features and pairs', () => {
    const cards = between(html, '<div class="cards">', '</section>');
    expect(cards).toContain('<div class="card ok"><h3>Dataset drift</h3><p class="value">No</p>');
    expect(cards).toContain('<h3>Drift share</h3><p class="value">40%</p><p class="note">threshold 50%</p>');
    expect(cards).toContain(
      '<h3>Drifted features</h3><p class="value">2 of 5</p><p class="note">age, plan</p>',
    );
    expect(cards).toContain('<h3>Drifted segment pairs</h3><p class="value">2 of 4</p>');
  });

  it('tables the whole-dataset features, drifted first, with sortable headers and raw sort values', () => {
    const head = between(html, '<table class="features" data-sortable>', '</thead>');
    const labels = [...head.matchAll(/<th scope="col" data-sort="(text|number)">([^<]*)<\/th>/g)].map(
      (m) => m[2],
    );
    expect(labels).toEqual([
      'Feature',
      'Type',
      'Method',
      'Score',
      'Threshold',
      'Drifted',
      'Missing (baseline)',
      'Missing (current)',
      'KS D',
      'KS p',
      'χ²',
      'χ² p',
      'PSI',
      'JS',
      'Wasserstein',
    ]);
    const rows = featureRows(html);
    expect(rows).toHaveLength(5);
    expect(rows[0]).toContain('<a href="#feature-0">age</a>');
    expect(rows[0]).toContain('<td class="num" data-value="1.234e-8" title="p-value 1.234e-8">1.2e-8</td>');
    expect(rows[0]).toContain('<td data-value="1"><span class="tag drift">✗ drift</span></td>');
    expect(rows[1]).toContain('<a href="#feature-1">plan</a>');
    // A categorical feature has no KS or Wasserstein: empty cells, which sort last.
    expect(count(rows[1]!, /<td class="num">—<\/td>/)).toBe(3);
    expect(rows.find((row) => row.includes('income'))).toContain('data-value="1034" title="1034">1034</td>');
  });

  it('leaves out test columns that no feature has', () => {
    const report: DriftReport = { ...handBuiltReport(), features: [numericEntry()] };
    const head = between(renderHtmlReport(report), '<thead>', '</thead>');
    expect(head).toContain('>KS D<');
    expect(head).not.toContain('χ²');
  });

  it('draws one labelled chart per feature with a distribution, with its values as a table', () => {
    expect(count(html, /<article class="feature/)).toBe(5);
    expect(count(html, /<svg class="chart"/)).toBe(4);
    expect(html).toContain('No distribution was recorded for this feature.');
    const age = between(html, '<article class="feature drifted" id="feature-0"', '</article>');
    expect(age).toContain('role="img" aria-labelledby="chart-0-title chart-0-desc"');
    expect(count(age, /<rect class="bar baseline"/)).toBe(4);
    expect(count(age, /<rect class="bar current"/)).toBe(4);
    // Bin edges along the axis, shares per side in the tooltips and the table.
    for (const edge of ['0', '25', '50', '75', '100']) expect(age).toMatch(new RegExp(`>${edge}</text>`));
    expect(age).toContain('<title>25 to 50, baseline: 37.5% (300)</title>');
    expect(age).toContain('<th scope="row">25 to 50</th><td class="num">300</td><td class="num">37.5%</td>');
    expect(age).toContain('<dt>KS p-value</dt><dd title="1.234e-8">1.2e-8</dd>');
  });

  it('draws the top 20 categories and folds the rest into "other", with any the core folded', () => {
    const categories = Array.from({ length: 25 }, (_, i) => `c${i}`);
    const entry = categoricalEntry({
      distribution: {
        kind: 'categories',
        categories: [...categories, 'other'],
        baseline: [...categories.map((_, i) => 100 - i), 7],
        current: [...categories.map((_, i) => 100 - i), 9],
        otherCategories: 4,
      },
    });
    const page = renderHtmlReport({ ...handBuiltReport(), features: [entry] });
    expect(count(page, /<rect class="bar baseline"/)).toBe(21);
    expect(page).toContain('>c19<title>c19</title></text>');
    expect(page).not.toContain('>c20<');
    // 5 beyond the top 20 plus the 4 the core folded; counts 80+79+78+77+76 + 7 on the baseline side.
    expect(page).toContain('>other (9)<title>9 other categories</title></text>');
    expect(page).toContain('<th scope="row">9 other categories</th><td class="num">397</td>');
  });

  it('shows the segment matrix, cells coloured and marked by drift, only when there are segments', () => {
    const matrix = between(html, '<table class="matrix">', '</table>');
    expect(matrix).toContain(`<th scope="col">Feature \\ tier</th><th scope="col" title="gold">gold</th>`);
    expect(matrix).toContain(`>${escapeHtml(HOSTILE_SEGMENT)}</th>`);
    expect(matrix).toContain('<th scope="row"><a href="#feature-0">age</a></th><td class="drift"');
    expect(matrix).toContain('>✗ 0.002</td>');
    expect(matrix).toContain('>0.05</td>');
    expect(count(matrix, /<td class="drift"/)).toBe(2);
    expect(count(matrix, /<td class="ok"/)).toBe(2);
    const plain = renderHtmlReport(computedReport({ segments: false }));
    expect(plain).not.toContain('class="matrix"');
    expect(plain).not.toContain('Drifted segment pairs');
  });

  it('marks pairs that were not tested', () => {
    const report = handBuiltReport();
    report.features = report.features.filter((e) => !(e.segment?.value === 'gold' && e.feature === 'plan'));
    expect(between(renderHtmlReport(report), '<table class="matrix">', '</table>')).toContain(
      '<td class="none" title="not tested: no values on one side">—</td>',
    );
  });

  it('renders a report from the real core', () => {
    const page = renderHtmlReport(computedReport());
    expect(featureRows(page)).toHaveLength(5);
    expect(count(page, /<svg class="chart"/)).toBe(5);
    expect(page).toContain('Segments by region');
    expect(page).not.toContain(HOSTILE_FEATURE);
  });

  it('reads without metadata or features', () => {
    const bare: DriftReport = {
      rows: { baseline: 1, current: 2 },
      datasetDrift: false,
      driftShare: 0,
      features: [],
    };
    const page = renderHtmlReport(bare);
    expect(page).toContain('<title>Drift report</title>');
    expect(page).toContain('Generation time not recorded');
    expect(page).toContain('threshold not recorded');
    expect(page).toContain('No features were compared');
    expect(page).not.toContain('<table');
  });
});
