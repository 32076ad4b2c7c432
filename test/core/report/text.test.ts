import { describe, expect, it } from 'vitest';
import type { DriftReport } from '../../../lambdas/core/drift/types.ts';
import {
  formatCondition,
  formatNumber,
  formatPercent,
  orderByDrift,
  renderTextReport,
  terminalSafe,
} from '../../../lambdas/core/report/text.ts';
import {
  BASELINE_NAME,
  CURRENT_NAME,
  computedReport,
  HOSTILE_FEATURE,
  HOSTILE_SEGMENT,
  handBuiltReport,
  numericEntry,
} from '../../helpers/sample-report.ts';

const ESC = '\u001b';

/** Lines of the whole-dataset table body: between the rule under the header and the next blank line. */
function tableRows(text: string): string[] {
  const lines = text.split('\n');
  const rule = lines.findIndex((line) => line.startsWith('─'));
  const end = lines.indexOf('', rule);
  return lines.slice(rule + 1, end);
}

function visibleLength(line: string): number {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping ANSI escapes.
  return [...line.replace(/\u001b\[[0-9;]*m/g, '')].length;
}

describe('formatNumber', () => {
  it('gives three significant digits, and exponents for tiny and huge values', () => {
    expect(formatNumber(1.234e-8)).toBe('1.2e-8');
    expect(formatNumber(1e-8)).toBe('1e-8');
    expect(formatNumber(3.2e-46)).toBe('3.2e-46');
    expect(formatNumber(0.00089)).toBe('8.9e-4');
    expect(formatNumber(0.031234)).toBe('0.0312');
    expect(formatNumber(0.05)).toBe('0.05');
    expect(formatNumber(0.1)).toBe('0.1');
    expect(formatNumber(12.345)).toBe('12.3');
    expect(formatNumber(-0.5)).toBe('-0.5');
    expect(formatNumber(123_456)).toBe('123456');
    expect(formatNumber(2.5e7)).toBe('2.5e7');
    expect(formatNumber(0)).toBe('0');
    expect(formatNumber(Number.NaN)).toBe('NaN');
    expect(formatNumber(Number.POSITIVE_INFINITY)).toBe('∞');
  });

  it('formats shares as percentages and thresholds as drift conditions', () => {
    expect(formatPercent(0.4)).toBe('40%');
    expect(formatPercent(1 / 3)).toBe('33.3%');
    expect(formatCondition({ method: 'ks', threshold: 0.05 })).toBe('< 0.05');
    expect(formatCondition({ method: 'chi2', threshold: 0.01 })).toBe('< 0.01');
    expect(formatCondition({ method: 'psi', threshold: 0.2 })).toBe('≥ 0.2');
  });
});

describe('orderByDrift', () => {
  it('puts drifted entries first, the strongest evidence first across p-values and distances', () => {
    const entries = [
      numericEntry({ feature: 'calm', score: 0.9 }),
      numericEntry({ feature: 'psi', method: 'psi', score: 0.25, threshold: 0.2, drifted: true }),
      numericEntry({ feature: 'ks', score: 1e-6, drifted: true }),
      numericEntry({ feature: 'close', score: 0.06 }),
    ];
    expect(orderByDrift(entries).map((e) => e.feature)).toEqual(['ks', 'psi', 'close', 'calm']);
  });
});

describe('terminalSafe', () => {
  it('shows control characters and bidi overrides as escapes', () => {
    expect(terminalSafe(`a${ESC}[2Jb\nc\u202ed`)).toBe('a\\u001b[2Jb\\nc\\u202ed');
    expect(terminalSafe('plain <b>&</b>')).toBe('plain <b>&</b>');
  });
});

describe('renderTextReport', () => {
  it('opens with the inputs and a summary line: verdict, drifted count, share vs threshold, rows', () => {
    const text = renderTextReport(handBuiltReport(), {});
    const [inputs, summary] = text.split('\n');
    expect(inputs).toBe(`baseline ${BASELINE_NAME} (profile) · current ${CURRENT_NAME}`);
    expect(summary).toBe(
      'DATASET DRIFT: no · 2 of 5 features drifted · drift share 40% (threshold 50%) · rows: baseline 5,000, current 4,800',
    );
  });

  it('lists every whole-dataset feature, drifted first, with method, score, condition, mark and missing counts', () => {
    const rows = tableRows(renderTextReport(handBuiltReport(), {}));
    expect(rows).toHaveLength(5);
    expect(rows[0]).toMatch(/^age\s+numeric\s+ks\s+1\.2e-8\s+< 0\.05\s+✗ drift\s+0 \/ 0$/);
    expect(rows[1]).toMatch(/^plan\s+categorical\s+jensenShannon\s+0\.31\s+≥ 0\.1\s+✗ drift\s+0 \/ 0$/);
    expect(rows.slice(2).every((row) => /\sok\s/.test(row))).toBe(true);
    expect(rows.find((row) => row.startsWith('income'))).toMatch(/12 \/ 1,034$/);
    expect(rows.find((row) => row.startsWith(HOSTILE_FEATURE))).toMatch(/0\.0123\*/);
  });

  it('explains the sample marker in a footnote', () => {
    expect(renderTextReport(handBuiltReport(), {})).toContain(
      '* KS and Wasserstein computed on a uniform sample of up to 250,000 values per side.',
    );
    const unsampled = computedReport({ segments: false });
    expect(renderTextReport(unsampled, {})).not.toContain('uniform sample');
  });

  it('lists only drifted (feature, segment) pairs, with the number checked', () => {
    const text = renderTextReport(handBuiltReport(), {});
    const section = text.slice(text.indexOf('Segments by'));
    expect(section.split('\n')[0]).toBe('Segments by tier: 2 of 4 (feature, segment) pairs drifted');
    const rows = tableRows(section);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatch(/^age\s+gold\s+ks\s+0\.002\s+< 0\.05$/);
    expect(rows[1]).toMatch(
      new RegExp(
        `^plan\\s+${HOSTILE_SEGMENT.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s+jensenShannon\\s+0\\.45`,
      ),
    );
  });

  it('says so when no segment pair drifted, and has no segment section without segments', () => {
    const report = handBuiltReport();
    for (const entry of report.features) if (entry.segment) entry.drifted = false;
    expect(renderTextReport(report, {})).toContain(
      'Segments by tier: none of 4 (feature, segment) pairs drifted',
    );
    const plain = renderTextReport(computedReport({ segments: false }), {});
    expect(plain).not.toContain('Segments');
    expect(tableRows(plain)).toHaveLength(5);
  });

  it('caps the drifted pairs it lists and counts the rest', () => {
    const text = renderTextReport(handBuiltReport(), { segmentLimit: 1 });
    const [first, more] = tableRows(text.slice(text.indexOf('Segments by')));
    expect(first).toMatch(/^age\s+gold/);
    expect(more).toBe('… and 1 more drifted pairs (see the JSON or HTML report)');
  });

  it('renders a report from the real core, segments included', () => {
    const text = renderTextReport(computedReport(), { width: 100 });
    expect(text).toContain('DATASET DRIFT: no · 2 of 5 features drifted · drift share 40% (threshold 50%)');
    expect(tableRows(text).map((row) => row.split(/\s{2,}/)[0])).toEqual([
      'plan',
      'age',
      'income',
      'city',
      '<img src=x onerror=window.pwned=1>',
    ]);
    expect(text).toMatch(/Segments by region: 3 of 15 \(feature, segment\) pairs drifted/);
  });

  it('uses ANSI colours only when asked', () => {
    const plain = renderTextReport(handBuiltReport(), { color: false });
    expect(plain).not.toContain(ESC);
    const colored = renderTextReport(handBuiltReport(), { color: true });
    expect(colored).toContain(`${ESC}[1;31m✗ drift${ESC}[0m`);
    expect(colored).toContain(`${ESC}[1;32mDATASET DRIFT: no${ESC}[0m`);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping ANSI escapes.
    expect(colored.replace(/\u001b\[[0-9;]*m/g, '')).toBe(plain);
  });

  it('keeps lines within the width by cutting long names with an ellipsis', () => {
    const report = handBuiltReport();
    const long = `customer_${'very_'.repeat(20)}long_feature_name`;
    report.features[0]!.feature = long;
    const text = renderTextReport(report, { width: 100, color: true });
    for (const line of text.split('\n')) {
      expect(visibleLength(line)).toBeLessThanOrEqual(100);
    }
    expect(text).not.toContain(long);
    expect(text).toMatch(/customer_very_\S*…/);
    expect(renderTextReport(report, {})).toContain(long);
  });

  it('neutralises terminal escapes in names from the data', () => {
    const report = handBuiltReport();
    report.features[0]!.feature = `evil${ESC}]0;title\u0007\nname`;
    const text = renderTextReport(report, { color: false });
    expect(text).not.toContain(ESC);
    expect(text).not.toContain('\u0007');
    expect(text).toContain('evil\\u001b]0;title\\u0007\\nname');
  });

  it('handles a report without features or metadata', () => {
    const empty: DriftReport = {
      rows: { baseline: 3, current: 0 },
      datasetDrift: false,
      driftShare: 0,
      features: [],
    };
    expect(renderTextReport(empty)).toBe(
      'DATASET DRIFT: no · 0 of 0 features drifted · drift share 0% · rows: baseline 3, current 0\n\n' +
        'No features were compared: no column has values on both sides.\n',
    );
  });

  it('does not change the report', () => {
    const report = handBuiltReport();
    const before = structuredClone(report);
    renderTextReport(report, { color: true, width: 40 });
    expect(report).toEqual(before);
  });
});

describe('renderTextReport, version 2 (false discovery control)', () => {
  const report = computedReport({ fdr: 0.05, minEffect: { ks: 0.3, chi2: 0.3 } });
  const text = renderTextReport(report);

  it('shows the effect against its minimum, raw and adjusted p-values, and marks small effects', () => {
    const rows = tableRows(text);
    expect(text.split('\n').find((line) => line.startsWith('feature'))).toMatch(
      /^feature\s+type\s+method\s+effect\s+min\s+p\s+adj\. p\s+drift\s+missing b\/c$/,
    );
    const age = rows.find((line) => line.startsWith('age'))!;
    const entry = report.features.find((e) => e.feature === 'age' && e.segment === null)!;
    expect(age).toContain(formatNumber(entry.pValue!, 2));
    expect(age).toContain(formatNumber(entry.pValueAdjusted!, 2));
    expect(age).toMatch(/~ small/);
    expect(rows.find((line) => line.startsWith('income'))).toMatch(/ ok /);
  });

  it('explains every feature in one line, and lists drifted and small-effect pairs', () => {
    for (const entry of report.features.filter((e) => e.segment === null)) {
      expect(text).toContain(`${terminalSafe(entry.feature)}: ${entry.reason}`);
    }
    expect(text).toMatch(/Segments by region: 2 of 15 \(feature, segment\) pairs drifted\n/);
    expect(text).toContain(
      `age @ north: ${report.features.find((e) => e.feature === 'age' && e.segment?.value === 'north')!.reason}`,
    );
    expect(text).toMatch(/Drift \(spec v2\) = adjusted p ≤ 0\.05/);
  });

  it('leaves version 1 reports as they were', () => {
    expect(renderTextReport(computedReport())).not.toMatch(/adj\. p|spec v2|minimum effect/);
  });
});
