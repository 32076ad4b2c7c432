import { describe, expect, it } from 'vitest';
import {
  composeIncidentMessage,
  MAX_SUBJECT_LENGTH,
} from '../../../lambdas/core/alerting/incident-message.ts';

describe('composeIncidentMessage', () => {
  it('names the model, what fired and the latest report', () => {
    const message = composeIncidentMessage({
      model: 'churn',
      fired: [
        {
          kind: 'drift',
          detail: '2 of the last 3 checks drifted (rule 2 of 3): total_day_minutes @ area_code_408',
        },
        { kind: 'performance', detail: 'AUC 0.71 < 0.80' },
      ],
      at: '2026-12-07T03:00:00.000Z',
      reportUrl: 'https://example.com/reports/churn/latest.html',
    });
    expect(message.subject).toBe('driftwatch: churn: data drift, performance');
    expect(message.body).toBe(
      [
        'Model: churn',
        'Opened: 2026-12-07T03:00:00.000Z',
        '',
        'What fired:',
        '- data drift: 2 of the last 3 checks drifted (rule 2 of 3): total_day_minutes @ area_code_408',
        '- performance: AUC 0.71 < 0.80',
        '',
        'Latest report: https://example.com/reports/churn/latest.html',
        '',
        'One page per incident: no further page until it closes.',
        '',
      ].join('\n'),
    );
  });

  it('keeps the subject within SNS limits and values on one line', () => {
    const message = composeIncidentMessage({
      model: `fraud-é-${'x'.repeat(200)}`,
      fired: [{ kind: 'critical-feature', detail: 'amount\nForged: line' }],
      at: '2026-12-07T03:00:00.000Z',
    });
    expect(message.subject.length).toBe(MAX_SUBJECT_LENGTH);
    expect(message.subject).toMatch(/^[\x20-\x7e]+\.\.\.$/);
    expect(message.subject).toContain('fraud-?-');
    expect(message.body).toContain('- critical feature: amount Forged: line\n');
    expect(message.body).toContain('Latest report: none yet');
  });
});
