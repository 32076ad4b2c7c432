/**
 * The drift report as one self-contained HTML page: inline CSS, inline SVG charts and a few lines of
 * inline script for sorting, no external request of any kind. Everything taken from the report (feature
 * names, category labels, segment values, file names) is escaped, and a Content-Security-Policy that
 * admits only this page's own style and script (by hash) backs that up. Pure: a report in, a string out.
 */
import { createHash } from 'node:crypto';
import type { Distribution, DriftReport, FeatureDrift } from '../drift/types.ts';
import {
  formatCondition,
  formatCount,
  formatNumber,
  formatPercent,
  isSmallEffect,
  isVersion2,
  orderByDrift,
  scoreKind,
} from './text.ts';

export interface HtmlReportOptions {
  /** Page title and main heading. @default `Drift report: <current name>` */
  title?: string;
}

/** Categories drawn one by one; the rest are folded into one "other" bar. */
const MAX_CHART_CATEGORIES = 20;
/** Labels along a histogram's x axis, at most (edges between are skipped). */
const MAX_EDGE_LABELS = 7;
/** Category labels are cut to this many characters under the bars (the full label is the tooltip). */
const CATEGORY_LABEL_CHARS = 14;

const ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text safe in HTML content and in quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ENTITIES[char]!);
}

const STYLE = `
:root{color-scheme:light dark;--fg:#1d2330;--muted:#5b6474;--bg:#fff;--panel:#f5f7fa;--line:#d9dee6;
--drift:#b3261e;--drift-bg:#fde7e6;--ok:#1e6b34;--ok-bg:#e3f4e8;--baseline:#4c78a8;--current:#e8710a}
@media (prefers-color-scheme:dark){:root{--fg:#e6e9ef;--muted:#9aa3b2;--bg:#14171c;--panel:#1d2128;
--line:#323844;--drift:#ff8a80;--drift-bg:#4a1f1c;--ok:#7dd69b;--ok-bg:#173523;--baseline:#7aa6d6;--current:#f5a25d}}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header,main,footer{max-width:1400px;margin:0 auto;padding:16px 24px}
h1{font-size:1.5rem;margin:0 0 4px;overflow-wrap:anywhere}
h2{font-size:1.15rem;margin:28px 0 10px}
h3{font-size:1rem;margin:0 0 6px;overflow-wrap:anywhere}
a{color:inherit}
.meta{color:var(--muted);margin:0}
.sources{display:flex;flex-wrap:wrap;gap:8px 40px;margin:14px 0 0}
.sources dt{font-size:.75rem;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}
.sources dd{margin:0;overflow-wrap:anywhere}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(210px,1fr));gap:12px}
.card{background:var(--panel);border:1px solid var(--line);border-left-width:6px;border-radius:8px;padding:12px 16px}
.card.drift{border-left-color:var(--drift)}.card.ok{border-left-color:var(--ok)}
.card h3{font-size:.75rem;font-weight:600;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}
.card .value{font-size:1.6rem;font-weight:700;margin:0}
.card.drift .value{color:var(--drift)}.card.ok .value{color:var(--ok)}
.card .note{margin:2px 0 0;color:var(--muted);overflow-wrap:anywhere}
.scroll{overflow-x:auto;border:1px solid var(--line);border-radius:8px}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
caption{caption-side:top;text-align:left;padding:8px 10px;color:var(--muted)}
th,td{padding:6px 10px;border-bottom:1px solid var(--line);text-align:left;white-space:nowrap}
td.num{text-align:right}
thead th{background:var(--panel);font-weight:600;vertical-align:bottom;white-space:normal;min-width:4.5em}
thead th button{font:inherit;color:inherit;background:none;border:0;padding:0;cursor:pointer;text-align:inherit}
thead th button::after{content:"" / "";display:inline-block;width:1.1em;text-align:right;color:var(--muted)}
th[aria-sort=ascending] button::after{content:"\\25B2" / ""}
th[aria-sort=descending] button::after{content:"\\25BC" / ""}
thead th button:focus-visible{outline:2px solid var(--baseline);outline-offset:2px}
tbody th{font-weight:500;max-width:22rem;overflow:hidden;text-overflow:ellipsis}
tbody tr.drifted th{font-weight:700}
.tag{display:inline-block;padding:1px 8px;border-radius:999px;font-size:.8rem;font-weight:600;white-space:nowrap}
.tag.drift{background:var(--drift-bg);color:var(--drift)}.tag.ok{background:var(--ok-bg);color:var(--ok)}
.tag.note{background:var(--line);color:var(--fg);font-weight:500}
.tag.small{background:var(--line);color:var(--fg)}
.reason{margin:.25rem 0;font-style:italic}
.matrix thead th{max-width:10rem;overflow:hidden;text-overflow:ellipsis}
.matrix td{text-align:right}
.matrix td.drift{background:var(--drift-bg);color:var(--drift);font-weight:700}
.matrix td.ok{background:var(--ok-bg);color:var(--ok)}
.matrix td.small{background:var(--line);color:var(--fg)}
.matrix td.none{color:var(--muted);text-align:center}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,540px),1fr));gap:16px}
.feature{background:var(--panel);border:1px solid var(--line);border-radius:8px;padding:14px 16px;min-width:0}
.feature.drifted{border-left:6px solid var(--drift)}
.feature .summary{margin:0 0 8px;color:var(--muted)}
.legend{display:flex;gap:16px;font-size:.85rem;margin:4px 0;padding:0;list-style:none}
.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px}
.swatch.baseline{background:var(--baseline)}.swatch.current{background:var(--current)}
svg.chart{display:block;width:100%;height:auto;max-width:640px}
.chart .bar.baseline{fill:var(--baseline)}.chart .bar.current{fill:var(--current)}
.chart .grid{stroke:var(--line);stroke-width:1}
.chart .axis{stroke:var(--muted);stroke-width:1}
.chart text{fill:var(--muted);font:11px system-ui,sans-serif}
.empty{color:var(--muted);font-style:italic}
.tests{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:10px 0 0;font-variant-numeric:tabular-nums}
.tests dt{color:var(--muted)}.tests dd{margin:0}
details.data summary{cursor:pointer;color:var(--muted);margin-top:10px}
details.data table{margin-top:6px}
p.note{color:var(--muted);margin:0 0 8px}
footer{color:var(--muted);font-size:.85rem}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(50%);white-space:nowrap}
@media print{.scroll{overflow:visible}.feature{break-inside:avoid}}
`;

/**
 * Progressive enhancement: headers marked `data-sort` become buttons that sort the body rows (numbers by
 * `data-value`, rows without one last; text by content), with `aria-sort` telling which way.
 */
const SCRIPT = `
(() => {
  const status = document.getElementById('sort-status');
  for (const table of document.querySelectorAll('table[data-sortable]')) {
    const heads = [...table.tHead.rows[0].cells];
    heads.forEach((th, column) => {
      const kind = th.dataset.sort;
      if (!kind) return;
      const button = document.createElement('button');
      button.type = 'button';
      button.append(...th.childNodes);
      th.append(button);
      th.setAttribute('aria-sort', 'none');
      button.addEventListener('click', () => {
        const direction = th.getAttribute('aria-sort') === 'ascending' ? 'descending' : 'ascending';
        for (const other of heads) if (other.hasAttribute('aria-sort')) other.setAttribute('aria-sort', 'none');
        th.setAttribute('aria-sort', direction);
        const sign = direction === 'ascending' ? 1 : -1;
        const body = table.tBodies[0];
        const rows = [...body.rows].map((row, index) => {
          const cell = row.cells[column];
          const key = kind === 'number'
            ? Number.parseFloat(cell.dataset.value ?? '')
            : cell.textContent.trim().toLowerCase();
          return { row, key, index };
        });
        rows.sort((a, b) => {
          if (kind !== 'number') return a.key.localeCompare(b.key) * sign || a.index - b.index;
          const aMissing = Number.isNaN(a.key);
          const bMissing = Number.isNaN(b.key);
          if (aMissing || bMissing) return aMissing === bMissing ? a.index - b.index : aMissing ? 1 : -1;
          return (a.key - b.key) * sign || a.index - b.index;
        });
        body.append(...rows.map((entry) => entry.row));
        if (status) status.textContent = 'Sorted by ' + button.textContent.trim() + ', ' + direction + '.';
      });
    });
  }
})();
`;

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('base64');
}

/** Nothing loads from anywhere; only this page's own style and script run, injected markup cannot. */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  `style-src 'sha256-${sha256(STYLE)}'`,
  `script-src 'sha256-${sha256(SCRIPT)}'`,
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/** A number for SVG coordinates: two decimals at most. */
function coordinate(value: number): string {
  return String(Math.round(value * 100) / 100);
}

function cut(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

function plural(count: number, one: string, many: string): string {
  return `${formatCount(count)} ${count === 1 ? one : many}`;
}

function driftTag(drifted: boolean, small = false): string {
  if (drifted) return '<span class="tag drift">✗ drift</span>';
  return small
    ? '<span class="tag small" title="significant, but the effect is under the minimum">~ small effect</span>'
    : '<span class="tag ok">ok</span>';
}

/** An entry's drift tag, marking version 2 entries that are significant but under the minimum effect. */
function entryTag(entry: FeatureDrift): string {
  return driftTag(entry.drifted, isSmallEffect(entry));
}

function readableTime(iso: string): string {
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.\d+)?Z$/.exec(iso);
  return match ? `${match[1]} ${match[2]} UTC` : iso;
}

/** One bar group of a chart: a bin or a category, with both sides' counts. */
interface BarGroup {
  label: string;
  /** The full description, for tooltips and the data table. */
  title: string;
  baseline: number;
  current: number;
}

interface ChartData {
  kind: Distribution['kind'];
  groups: BarGroup[];
  /** Numeric edges, labelled along the x axis (bins only). */
  edges: number[];
}

function binGroups(distribution: Extract<Distribution, { kind: 'bins' }>): ChartData {
  const { edges } = distribution;
  const groups = distribution.baseline.map((baseline, i) => {
    const low = formatNumber(edges[i] ?? Number.NaN);
    const high = formatNumber(edges[i + 1] ?? Number.NaN);
    return {
      label: `${low} – ${high}`,
      title: `${low} to ${high}`,
      baseline,
      current: distribution.current[i] ?? 0,
    };
  });
  return { kind: 'bins', groups, edges };
}

/** The most frequent categories, one bar each, and the rest (plus any the core already folded) as one. */
function categoryGroups(distribution: Extract<Distribution, { kind: 'categories' }>): ChartData {
  const folded = distribution.otherCategories > 0 ? 1 : 0;
  const named = distribution.categories.slice(0, distribution.categories.length - folded).map((label, i) => ({
    label,
    title: label,
    baseline: distribution.baseline[i] ?? 0,
    current: distribution.current[i] ?? 0,
  }));
  const last = distribution.categories.length - 1;
  let otherCount = distribution.otherCategories;
  let otherBaseline = folded ? (distribution.baseline[last] ?? 0) : 0;
  let otherCurrent = folded ? (distribution.current[last] ?? 0) : 0;
  const shown = named
    .map((group, index) => ({ group, index }))
    .sort(
      (a, b) =>
        b.group.baseline + b.group.current - (a.group.baseline + a.group.current) || a.index - b.index,
    )
    .map(({ group }) => group);
  for (const group of shown.splice(MAX_CHART_CATEGORIES)) {
    otherCount++;
    otherBaseline += group.baseline;
    otherCurrent += group.current;
  }
  if (otherCount > 0) {
    shown.push({
      label: `other (${formatCount(otherCount)})`,
      title: `${plural(otherCount, 'other category', 'other categories')}`,
      baseline: otherBaseline,
      current: otherCurrent,
    });
  }
  return { kind: 'categories', groups: shown, edges: [] };
}

function chartData(distribution: Distribution): ChartData {
  return distribution.kind === 'bins' ? binGroups(distribution) : categoryGroups(distribution);
}

/** Tops of the y axis (times a power of ten) whose quarters are round numbers too. */
const NICE_TOPS = [1, 1.2, 1.6, 2, 2.4, 3, 4, 5, 6, 8, 10];

/** A round number at or above `value`, for the top of the y axis. */
function niceCeiling(value: number): number {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  const nice = NICE_TOPS.find((top) => top * power >= value * (1 - 1e-12)) ?? 10;
  return Math.min(1, nice * power);
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

/** Grouped bars of the share of values per bin or category, baseline beside current. */
function chartSvg(data: ChartData, id: string, feature: string): string {
  const width = 640;
  const height = 250;
  const margin = { top: 14, right: 14, bottom: data.kind === 'bins' ? 34 : 70, left: 50 };
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const baselineTotal = sum(data.groups.map((g) => g.baseline));
  const currentTotal = sum(data.groups.map((g) => g.current));
  const share = (count: number, total: number) => (total > 0 ? count / total : 0);
  const top = niceCeiling(
    Math.max(
      ...data.groups.map((g) => Math.max(share(g.baseline, baselineTotal), share(g.current, currentTotal))),
    ),
  );
  const y = (p: number) => margin.top + plotHeight * (1 - p / top);
  const groupWidth = plotWidth / Math.max(1, data.groups.length);
  const barWidth = Math.max(1, groupWidth * 0.38);
  const parts: string[] = [];
  for (let k = 0; k <= 4; k++) {
    const tick = (top * k) / 4;
    parts.push(
      `<line class="grid" x1="${margin.left}" x2="${width - margin.right}" y1="${coordinate(y(tick))}" y2="${coordinate(y(tick))}"/>`,
      `<text x="${margin.left - 6}" y="${coordinate(y(tick) + 4)}" text-anchor="end">${formatPercent(tick)}</text>`,
    );
  }
  data.groups.forEach((group, i) => {
    const x = margin.left + i * groupWidth;
    const sides = [
      ['baseline', group.baseline, baselineTotal, x + groupWidth * 0.1],
      ['current', group.current, currentTotal, x + groupWidth * 0.1 + barWidth + groupWidth * 0.02],
    ] as const;
    for (const [side, count, total, left] of sides) {
      const p = share(count, total);
      parts.push(
        `<rect class="bar ${side}" x="${coordinate(left)}" y="${coordinate(y(p))}" width="${coordinate(barWidth)}" ` +
          `height="${coordinate(margin.top + plotHeight - y(p))}"><title>${escapeHtml(group.title)}, ${side}: ` +
          `${formatPercent(p)} (${formatCount(count)})</title></rect>`,
      );
    }
    if (data.kind === 'categories') {
      const cx = coordinate(x + groupWidth / 2);
      const ty = coordinate(margin.top + plotHeight + 12);
      parts.push(
        `<text x="${cx}" y="${ty}" text-anchor="end" transform="rotate(-35 ${cx} ${ty})">` +
          `${escapeHtml(cut(group.label, CATEGORY_LABEL_CHARS))}<title>${escapeHtml(group.title)}</title></text>`,
      );
    }
  });
  if (data.kind === 'bins') {
    const last = data.edges.length - 1;
    // Prefer a step that lands on the last edge (20 bins: every 4th edge), so labels are evenly spaced.
    const least = Math.max(1, Math.ceil(data.edges.length / MAX_EDGE_LABELS));
    const step = Array.from({ length: least + 1 }, (_, k) => least + k).find((s) => last % s === 0) ?? least;
    data.edges.forEach((edge, i) => {
      // The last edge is always labelled; a regular label too close before it would collide.
      const regular = i % step === 0 && (i === last || last - i >= step);
      if (!regular && i !== last) return;
      const anchor = i === 0 ? 'start' : i === last ? 'end' : 'middle';
      parts.push(
        `<text x="${coordinate(margin.left + i * groupWidth)}" y="${margin.top + plotHeight + 16}" text-anchor="${anchor}">${formatNumber(edge)}</text>`,
      );
    });
  }
  const axisY = margin.top + plotHeight;
  parts.push(
    `<line class="axis" x1="${margin.left}" x2="${width - margin.right}" y1="${axisY}" y2="${axisY}"/>`,
  );
  const what = data.kind === 'bins' ? 'bin' : 'category';
  return (
    `<svg class="chart" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" ` +
    `aria-labelledby="${id}-title ${id}-desc" xmlns="http://www.w3.org/2000/svg">` +
    `<title id="${id}-title">Distribution of ${escapeHtml(feature)}, baseline and current</title>` +
    `<desc id="${id}-desc">Share of values per ${what}: ${data.groups.length} ${what === 'bin' ? 'bins' : 'categories'}, ` +
    `baseline bars beside current bars. The table below lists the values.</desc>` +
    parts.join('') +
    '</svg>'
  );
}

function chartTable(data: ChartData): string {
  const baselineTotal = sum(data.groups.map((g) => g.baseline));
  const currentTotal = sum(data.groups.map((g) => g.current));
  const share = (count: number, total: number) => formatPercent(total > 0 ? count / total : 0);
  const rows = data.groups
    .map(
      (g) =>
        `<tr><th scope="row">${escapeHtml(g.title)}</th><td class="num">${formatCount(g.baseline)}</td>` +
        `<td class="num">${share(g.baseline, baselineTotal)}</td><td class="num">${formatCount(g.current)}</td>` +
        `<td class="num">${share(g.current, currentTotal)}</td></tr>`,
    )
    .join('');
  return (
    `<details class="data"><summary>Values</summary><div class="scroll"><table><thead><tr>` +
    `<th scope="col">${data.kind === 'bins' ? 'Bin' : 'Category'}</th><th scope="col">Baseline</th>` +
    `<th scope="col">Baseline share</th><th scope="col">Current</th><th scope="col">Current share</th>` +
    `</tr></thead><tbody>${rows}</tbody></table></div></details>`
  );
}

/** The tests of an entry as label/value pairs, in the spec's order. */
function testValues(entry: FeatureDrift): [label: string, value: number][] {
  const tests = entry.tests;
  const pairs: [string, number][] = [];
  if ('ks' in tests) pairs.push(['KS D', tests.ks.statistic], ['KS p-value', tests.ks.pValue]);
  if ('chi2' in tests) pairs.push(['χ²', tests.chi2.statistic], ['χ² p-value', tests.chi2.pValue]);
  pairs.push(['PSI', tests.psi.value], ['Jensen-Shannon', tests.jensenShannon.value]);
  if ('wasserstein' in tests) pairs.push(['Wasserstein (÷ std)', tests.wasserstein.value]);
  return pairs;
}

function featureSection(entry: FeatureDrift, index: number): string {
  const id = `feature-${index}`;
  const name = escapeHtml(entry.feature);
  const summary =
    `${escapeHtml(entry.type)} · ${escapeHtml(entry.method)} ${scoreKind(entry)} <strong>${formatNumber(entry.score)}</strong>, drifts at ` +
    `${escapeHtml(formatCondition(entry))} · baseline ${plural(entry.count.baseline, 'value', 'values')}, ` +
    `${formatCount(entry.missing.baseline)} missing · current ${plural(entry.count.current, 'value', 'values')}, ` +
    `${formatCount(entry.missing.current)} missing` +
    (entry.sampled ? ' · <span class="tag note">KS and Wasserstein on a uniform sample</span>' : '');
  const reason =
    entry.reason === undefined
      ? ''
      : `<p class="reason">${escapeHtml(entry.reason)} (raw p ${escapeHtml(formatNumber(entry.pValue!))}, ` +
        `adjusted p ${escapeHtml(formatNumber(entry.pValueAdjusted!))})</p>`;
  let chart = '<p class="empty">No distribution was recorded for this feature.</p>';
  if (entry.distribution) {
    const data = chartData(entry.distribution);
    const legend =
      '<ul class="legend"><li><span class="swatch baseline"></span>baseline</li>' +
      '<li><span class="swatch current"></span>current</li></ul>';
    chart =
      data.groups.length === 0
        ? '<p class="empty">The distribution is empty.</p>'
        : legend + chartSvg(data, `chart-${index}`, entry.feature) + chartTable(data);
  }
  const tests = testValues(entry)
    .map(([label, value]) => `<dt>${label}</dt><dd title="${value}">${formatNumber(value)}</dd>`)
    .join('');
  return (
    `<article class="feature${entry.drifted ? ' drifted' : ''}" id="${id}" aria-labelledby="${id}-name">` +
    `<h3><span id="${id}-name">${name}</span> ${entryTag(entry)}</h3>` +
    `<p class="summary">${summary}</p>${reason}${chart}<dl class="tests">${tests}</dl></article>`
  );
}

interface Cell {
  text: string;
  /** The raw number the column sorts by; absent cells sort last. */
  value?: number;
  title?: string;
}

interface TableColumn {
  label: string;
  sort: 'text' | 'number';
  numeric: boolean;
  cell: (entry: FeatureDrift) => Cell;
}

const EMPTY: Cell = { text: '—' };

function testColumn(label: string, pick: (entry: FeatureDrift) => number | undefined): TableColumn {
  return {
    label,
    sort: 'number',
    numeric: true,
    cell: (entry) => {
      const value = pick(entry);
      return value === undefined ? EMPTY : { text: formatNumber(value), value, title: String(value) };
    },
  };
}

function featureColumns(entries: readonly FeatureDrift[]): TableColumn[] {
  const hasNumeric = entries.some((e) => 'ks' in e.tests);
  const hasCategorical = entries.some((e) => 'chi2' in e.tests);
  const columns: TableColumn[] = [
    { label: 'Type', sort: 'text', numeric: false, cell: (e) => ({ text: e.type }) },
    {
      label: 'Method',
      sort: 'text',
      numeric: false,
      cell: (e) => ({ text: e.method + (e.sampled ? ' (sampled)' : '') }),
    },
    {
      label: 'Score',
      sort: 'number',
      numeric: true,
      cell: (e) => ({ text: formatNumber(e.score), value: e.score, title: `${scoreKind(e)} ${e.score}` }),
    },
    {
      label: 'Threshold',
      sort: 'number',
      numeric: true,
      cell: (e) => ({ text: formatCondition(e), value: e.threshold }),
    },
    {
      label: 'Drifted',
      sort: 'number',
      numeric: false,
      cell: (e) => ({ text: entryTag(e), value: e.drifted ? 1 : isSmallEffect(e) ? 0.5 : 0 }),
    },
    testColumn('Missing (baseline)', (e) => e.missing.baseline),
    testColumn('Missing (current)', (e) => e.missing.current),
  ];
  if (entries.some(isVersion2)) {
    columns.splice(
      2,
      2,
      testColumn('Effect', (e) => e.effect),
      testColumn('Min effect', (e) => e.minEffect),
      testColumn('p', (e) => e.pValue),
      testColumn('Adjusted p', (e) => e.pValueAdjusted),
    );
    columns.push({ label: 'Why', sort: 'text', numeric: false, cell: (e) => ({ text: e.reason ?? '' }) });
  }
  if (hasNumeric) {
    columns.push(
      testColumn('KS D', (e) => ('ks' in e.tests ? e.tests.ks.statistic : undefined)),
      testColumn('KS p', (e) => ('ks' in e.tests ? e.tests.ks.pValue : undefined)),
    );
  }
  if (hasCategorical) {
    columns.push(
      testColumn('χ²', (e) => ('chi2' in e.tests ? e.tests.chi2.statistic : undefined)),
      testColumn('χ² p', (e) => ('chi2' in e.tests ? e.tests.chi2.pValue : undefined)),
    );
  }
  columns.push(
    testColumn('PSI', (e) => e.tests.psi.value),
    testColumn('JS', (e) => e.tests.jensenShannon.value),
  );
  if (hasNumeric) {
    columns.push(
      testColumn('Wasserstein', (e) => ('wasserstein' in e.tests ? e.tests.wasserstein.value : undefined)),
    );
  }
  return columns;
}

function renderCell(column: TableColumn, entry: FeatureDrift): string {
  const cell = column.cell(entry);
  const attributes = [
    column.numeric ? ' class="num"' : '',
    cell.value === undefined ? '' : ` data-value="${cell.value}"`,
    cell.title === undefined ? '' : ` title="${escapeHtml(cell.title)}"`,
  ].join('');
  // Drift tags are markup of this module; every other text is escaped.
  const text = column.label === 'Drifted' ? cell.text : escapeHtml(cell.text);
  return `<td${attributes}>${text}</td>`;
}

function featureTable(entries: readonly FeatureDrift[]): string {
  const columns = featureColumns(entries);
  const head =
    '<th scope="col" data-sort="text">Feature</th>' +
    columns.map((c) => `<th scope="col" data-sort="${c.sort}">${escapeHtml(c.label)}</th>`).join('');
  const body = entries
    .map(
      (entry, i) =>
        `<tr${entry.drifted ? ' class="drifted"' : ''}><th scope="row"><a href="#feature-${i}">` +
        `${escapeHtml(entry.feature)}</a></th>${columns.map((c) => renderCell(c, entry)).join('')}</tr>`,
    )
    .join('');
  const note = entries.some(isVersion2)
    ? 'Drifted features first. A feature counts as drift when its p-value, adjusted for false discoveries ' +
      '(Benjamini-Hochberg over the features), is at most the FDR level AND its effect (D for ks, ' +
      "Cramér's V for chi2, the distance itself otherwise) is at least the minimum; ~ small effect marks " +
      'significant features under the minimum effect.'
    : 'Drifted features first, then by how far past the threshold. Scores of ks and chi2 are ' +
      'p-values (drift below the threshold); the other methods give distances (drift at or above it).';
  return (
    `<p class="note">${escapeHtml(note)}</p>` +
    '<div class="scroll"><table class="features" data-sortable>' +
    '<caption class="visually-hidden">Features<span class="visually-hidden" id="sort-status" aria-live="polite"></span></caption>' +
    `<thead><tr>${head}</tr></thead><tbody>${body}</tbody></table></div>`
  );
}

function segmentMatrix(segmented: readonly FeatureDrift[], anchors: ReadonlyMap<string, number>): string {
  const columnNames = [...new Set(segmented.map((e) => e.segment!.column))];
  const features = [...new Set(segmented.map((e) => e.feature))];
  const values = [...new Set(segmented.map((e) => e.segment!.value))];
  const cells = new Map(segmented.map((e) => [JSON.stringify([e.feature, e.segment!.value]), e]));
  const drifted = segmented.filter((e) => e.drifted).length;
  const small = segmented.filter(isSmallEffect).length;
  const head =
    `<th scope="col">Feature \\ ${escapeHtml(columnNames.join(', '))}</th>` +
    values.map((v) => `<th scope="col" title="${escapeHtml(v)}">${escapeHtml(v)}</th>`).join('');
  const rows = features
    .map((feature) => {
      const anchor = anchors.get(feature);
      const name =
        anchor === undefined
          ? escapeHtml(feature)
          : `<a href="#feature-${anchor}">${escapeHtml(feature)}</a>`;
      const row = values
        .map((value) => {
          const entry = cells.get(JSON.stringify([feature, value]));
          if (!entry) return '<td class="none" title="not tested: no values on one side">—</td>';
          if (isVersion2(entry)) {
            const small = isSmallEffect(entry);
            const title =
              `${entry.method}: ${entry.reason ?? ''} (raw p ${formatNumber(entry.pValue!)}, ` +
              `adjusted p ${formatNumber(entry.pValueAdjusted!)})`;
            return (
              `<td class="${entry.drifted ? 'drift' : small ? 'small' : 'ok'}" title="${escapeHtml(title)}">` +
              `${entry.drifted ? '✗ ' : small ? '~ ' : ''}${formatNumber(entry.effect!)}` +
              `<br><small>p ${formatNumber(entry.pValueAdjusted!, 2)}</small></td>`
            );
          }
          const title = `${entry.method} ${scoreKind(entry)} ${entry.score}, drifts at ${formatCondition(entry)}`;
          return (
            `<td class="${entry.drifted ? 'drift' : 'ok'}" title="${escapeHtml(title)}">` +
            `${entry.drifted ? '✗ ' : ''}${formatNumber(entry.score)}</td>`
          );
        })
        .join('');
      return `<tr><th scope="row">${name}</th>${row}</tr>`;
    })
    .join('');
  return (
    `<section aria-labelledby="segments-heading"><h2 id="segments-heading">Segments by ` +
    `${escapeHtml(columnNames.join(', '))}</h2>` +
    `<p class="note">${formatCount(drifted)} of ${plural(segmented.length, '(feature, segment) pair', '(feature, segment) pairs')} ` +
    (segmented.some(isVersion2)
      ? `drifted${small > 0 ? `, ${formatCount(small)} significant but under the minimum effect (marked ~)` : ''}. ` +
        'Each cell is the effect of a feature within one segment and its p-value adjusted over all pairs, ' +
        'marked ✗ and red when drifted; hover a cell for why.</p>'
      : 'drifted. Each cell is the score of a feature within one segment, marked ✗ and red when drifted; ' +
        'scores of ks and chi2 are p-values, the others distances.</p>') +
    '<div class="scroll"><table class="matrix"><caption class="visually-hidden">Score per feature and segment</caption>' +
    `<thead><tr>${head}</tr></thead><tbody>${rows}</tbody></table></div></section>`
  );
}

function card(heading: string, value: string, note: string, tone?: 'drift' | 'ok'): string {
  return (
    `<div class="card${tone ? ` ${tone}` : ''}"><h3>${heading}</h3><p class="value">${value}</p>` +
    `<p class="note">${note}</p></div>`
  );
}

function summaryCards(
  report: DriftReport,
  overall: readonly FeatureDrift[],
  segmented: readonly FeatureDrift[],
): string {
  const threshold = report.metadata?.driftShareThreshold;
  const drifted = overall.filter((e) => e.drifted);
  const names = drifted.slice(0, 3).map((e) => escapeHtml(e.feature));
  if (drifted.length > 3) names.push(`${formatCount(drifted.length - 3)} more`);
  const cards = [
    card(
      'Dataset drift',
      report.datasetDrift ? 'Yes' : 'No',
      threshold === undefined
        ? `drift share ${formatPercent(report.driftShare)}`
        : `drift share ${report.datasetDrift ? 'at or above' : 'below'} ${formatPercent(threshold)}`,
      report.datasetDrift ? 'drift' : 'ok',
    ),
    card(
      'Drift share',
      formatPercent(report.driftShare),
      threshold === undefined ? 'threshold not recorded' : `threshold ${formatPercent(threshold)}`,
    ),
    card(
      'Drifted features',
      `${formatCount(drifted.length)} of ${formatCount(overall.length)}`,
      names.length > 0 ? names.join(', ') : 'none',
      drifted.length > 0 ? 'drift' : 'ok',
    ),
  ];
  if (segmented.length > 0) {
    const driftedPairs = segmented.filter((e) => e.drifted).length;
    const columns = escapeHtml([...new Set(segmented.map((e) => e.segment!.column))].join(', '));
    cards.push(
      card(
        'Drifted segment pairs',
        `${formatCount(driftedPairs)} of ${formatCount(segmented.length)}`,
        `(feature, segment) pairs by ${columns}`,
        driftedPairs > 0 ? 'drift' : 'ok',
      ),
    );
  }
  return `<section aria-labelledby="summary-heading"><h2 id="summary-heading">Summary</h2><div class="cards">${cards.join('')}</div></section>`;
}

function headerSection(report: DriftReport, title: string): string {
  const metadata = report.metadata;
  const generated = metadata
    ? `Generated <time datetime="${escapeHtml(metadata.generatedAt)}">${escapeHtml(readableTime(metadata.generatedAt))}</time> · drift spec v${metadata.specVersion}`
    : 'Generation time not recorded';
  const source = (label: string, name: string | undefined, detail: string) =>
    `<div><dt>${label}</dt><dd>${name === undefined ? '' : `<strong>${escapeHtml(name)}</strong> · `}${detail}</dd></div>`;
  const kind = metadata?.baseline.kind === 'profile' ? 'profile · ' : '';
  const segment = metadata?.segmentColumn
    ? `<div><dt>Segment column</dt><dd>${escapeHtml(metadata.segmentColumn)}</dd></div>`
    : '';
  return (
    `<header><h1>${escapeHtml(title)}</h1><p class="meta">${generated}</p><dl class="sources">` +
    source('Baseline', metadata?.baseline.name, `${kind}${plural(report.rows.baseline, 'row', 'rows')}`) +
    source('Current', metadata?.current.name, plural(report.rows.current, 'row', 'rows')) +
    `${segment}</dl></header>`
  );
}

function footerSection(report: DriftReport): string {
  const metadata = report.metadata;
  const parts = ['driftwatch'];
  if (metadata) {
    parts.push(`sample cap ${formatCount(metadata.sampleCap)} values, seed ${metadata.sampleSeed}`);
    const timings = Object.entries(metadata.timings ?? {}).map(
      ([phase, ms]) => `${escapeHtml(phase.replace(/Ms$/, ''))} ${formatCount(ms)} ms`,
    );
    if (timings.length > 0) parts.push(`timings: ${timings.join(', ')}`);
  }
  return `<footer><p>${parts.join(' · ')}</p></footer>`;
}

/**
 * The report as one self-contained HTML page: summary cards, a sortable table of the whole-dataset
 * features, the segment matrix when the report has segments, and a baseline-vs-current chart per feature.
 * Readable without script; sorting is added by the inline script.
 * @example
 * await writeFile('drift.html', renderHtmlReport(report, { title: 'Churn model, May' }));
 */
export function renderHtmlReport(report: DriftReport, options: HtmlReportOptions = {}): string {
  const title =
    options.title ?? (report.metadata ? `Drift report: ${report.metadata.current.name}` : 'Drift report');
  const overall = orderByDrift(report.features.filter((e) => e.segment === null));
  const segmented = report.features.filter((e) => e.segment !== null);
  const anchors = new Map(overall.map((entry, i) => [entry.feature, i]));
  const features =
    overall.length === 0
      ? '<p class="empty">No features were compared: no column has values on both sides.</p>'
      : featureTable(overall);
  const charts =
    overall.length === 0
      ? ''
      : '<section aria-labelledby="distributions-heading"><h2 id="distributions-heading">Distributions</h2>' +
        `<div class="charts">${overall.map(featureSection).join('')}</div></section>`;
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="color-scheme" content="light dark">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    headerSection(report, title),
    '<main>',
    summaryCards(report, overall, segmented),
    `<section aria-labelledby="features-heading"><h2 id="features-heading">Features</h2>${features}</section>`,
    segmented.length > 0 ? segmentMatrix(segmented, anchors) : '',
    charts,
    '</main>',
    footerSection(report),
    `<script>${SCRIPT}</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
