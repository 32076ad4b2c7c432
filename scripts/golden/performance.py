#!/usr/bin/env python3
"""Golden values for the performance metrics (lambdas/core/performance) and the `driftwatch evaluate` scenarios,
from scikit-learn 1.2 (Debian's python3-sklearn 1.2.1, numpy 1.24, pandas 1.5).

    /usr/bin/python3 scripts/golden/performance.py

Writes
    test/fixtures/golden/performance.json          metric cases: labels, scores, threshold -> sklearn's values
    test/fixtures/performance/<name>/               evaluate scenarios: a data file, args.json, expected.json
    test/fixtures/performance/README.md             the index of the scenarios
Deterministic (fixed seeds, gzip without timestamps, Python's shortest round-trip float repr), so a rerun with
the same libraries rewrites identical bytes. The TypeScript tests read the files and never run Python.

Every metric is the spec's reference call (docs/performance-spec.md), y = 1 for the positive label,
prediction = score >= threshold:
    accuracy      accuracy_score(y, pred)
    precision     precision_score(y, pred, zero_division=0)
    recall        recall_score(y, pred, zero_division=0)
    f1            f1_score(y, pred, zero_division=0)
    rocAuc        roc_auc_score(y, s); None when only one class is present
    gini          2 * rocAuc - 1; None with rocAuc
    logLoss       log_loss(y, s, labels=[0, 1])  (sklearn 1.2: eps='auto', i.e. clip to [2.22e-16, 1 - 2.22e-16])
    brier         brier_score_loss(y, s)
    positiveRate  mean(y)

args.json of a scenario:
    {"description": "...", "file": "data.csv", "args": ["--label", "churn", "--score", "score", ...]}
A test runs `driftwatch evaluate <dir>/<file> --format json <args...>` and compares with expected.json
(numbers to a relative 1e-6, absolute 1e-9 near 0).
"""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    accuracy_score,
    brier_score_loss,
    f1_score,
    log_loss,
    precision_score,
    recall_score,
    roc_auc_score,
)
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, str(Path(__file__).resolve().parent))
import reference_drift as ref  # noqa: E402
import scenarios as drift_scenarios  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / 'test' / 'fixtures' / 'golden' / 'performance.json'
SCENARIOS = ROOT / 'test' / 'fixtures' / 'performance'
DATA = ROOT / 'test' / 'fixtures' / 'data'
SEED = 20240917
DEFAULT_THRESHOLD = 0.5
DEFAULT_POSITIVE = '1'

METRIC_NAMES = ('accuracy', 'precision', 'recall', 'f1', 'rocAuc', 'gini', 'logLoss', 'brier', 'positiveRate')


# ---------------------------------------------------------------------------------------------------------
# The reference metrics


def metrics(y: np.ndarray, s: np.ndarray, threshold: float) -> dict:
    y = np.asarray(y, dtype=np.int64)
    s = np.asarray(s, dtype=np.float64)
    pred = (s >= threshold).astype(np.int64)
    auc = float(roc_auc_score(y, s)) if len(np.unique(y)) == 2 else None
    values = {
        'accuracy': float(accuracy_score(y, pred)),
        'precision': float(precision_score(y, pred, zero_division=0)),
        'recall': float(recall_score(y, pred, zero_division=0)),
        'f1': float(f1_score(y, pred, zero_division=0)),
        'rocAuc': auc,
        'gini': None if auc is None else 2 * auc - 1,
        'logLoss': float(log_loss(y, s, labels=[0, 1])),
        'brier': float(brier_score_loss(y, s)),
        'positiveRate': float(np.mean(y)),
    }
    assert tuple(values) == METRIC_NAMES
    return values


# ---------------------------------------------------------------------------------------------------------
# Metric cases


def metric_cases() -> list[dict]:
    rng = np.random.default_rng(SEED)
    cases: list[dict] = []

    def add(name: str, y, s, threshold: float = DEFAULT_THRESHOLD) -> None:
        y = np.asarray(y, dtype=np.int64)
        s = np.asarray(s, dtype=np.float64)
        assert len(y) == len(s) and len(y) > 0
        cases.append({
            'name': name,
            'labels': [int(v) for v in y],
            'scores': [float(v) for v in s],
            'threshold': threshold,
            'metrics': metrics(y, s, threshold),
        })

    def calibrated(n: int, decimals: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        s = rng.beta(2, 3, size=n)
        if decimals is not None:
            s = np.round(s, decimals)
        y = (rng.random(n) < s).astype(np.int64)
        return y, s

    y, s = calibrated(200)
    add('random-200', y, s)
    for threshold in (0.0, 0.3, 0.7, 1.0):
        add(f'random-200-threshold-{threshold}', y, s, threshold)
    # Scores equal to the threshold count as positive predictions (s >= t).
    y, s = calibrated(400, 1)
    add('ties-1-decimal', y, s)
    add('ties-1-decimal-threshold-0.3', y, s, 0.3)
    y, s = calibrated(10_000, 3)
    add('ties-3-decimals-10000', y, s)
    levels = rng.choice([0.1, 0.5, 0.9], size=300, p=[0.5, 0.3, 0.2])
    add('three-levels', (rng.random(300) < levels).astype(np.int64), levels)
    add('all-tied', rng.integers(0, 2, size=50), np.full(50, 0.5))
    # Scores of exactly 0 and 1, on the right and the wrong side, and next to sklearn 1.2's clip bound
    # (np.finfo(float64).eps = 2.22e-16; the spec's 1e-15 would give other values for all of these).
    edge = [0.0, 1.0, 0.0, 1.0, 1e-17, 1e-16, 2e-16, 3e-16, 1e-15, 1 - 1e-16, 1 - 2.220446049250313e-16,
            1 - 1e-15, 0.5, 0.25]
    add('extremes', [0, 1, 1, 0, 1, 1, 1, 1, 1, 0, 0, 0, 1, 0], edge)
    add('extremes-right-side', [0, 1, 0, 1], [0.0, 1.0, 0.0, 1.0])
    y, s = calibrated(60)
    add('one-class-negative', np.zeros(60), s)
    add('one-class-positive', np.ones(60), s)
    add('all-positive-predictions', y, 0.5 + s / 2)
    add('no-positive-predictions', y, s / 2.5)
    add('single-row', [1], [0.7])
    add('single-row-negative', [0], [0.7])
    add('two-rows', [0, 1], [0.4, 0.6])
    add('perfect', [0, 0, 0, 1, 1], [0.1, 0.2, 0.3, 0.8, 0.9])
    add('reversed', [1, 1, 1, 0, 0], [0.1, 0.2, 0.3, 0.8, 0.9])
    y, s = calibrated(1000, 2)
    add('rare-positives', (rng.random(1000) < s / 10).astype(np.int64), s)
    return cases


def write_golden() -> int:
    document = {
        'generator': {'sklearn': sklearn.__version__, 'numpy': np.__version__, 'seed': SEED,
                      'logLossEpsilon': float(np.finfo(np.float64).eps)},
        'cases': metric_cases(),
    }
    GOLDEN.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(document, separators=(',', ':'), allow_nan=False) + '\n'
    GOLDEN.write_text(text, encoding='utf-8')
    return len(text)


# ---------------------------------------------------------------------------------------------------------
# The reference `driftwatch evaluate`


class SpecError(Exception):
    """Bad input or flags."""


@dataclass
class EvaluateOptions:
    label: str
    score: str
    positive: str = DEFAULT_POSITIVE
    threshold: float = DEFAULT_THRESHOLD
    segment: str | None = None
    classes: list[str] | None = None


def parse_args(args: list[str]) -> EvaluateOptions:
    values: dict[str, str] = {}
    i = 0
    while i < len(args):
        flag = args[i]
        if flag not in ('--label', '--score', '--positive', '--threshold', '--segment', '--classes'):
            raise SpecError(f'unknown flag {flag}')
        values[flag[2:]] = args[i + 1]
        i += 2
    return EvaluateOptions(
        label=values['label'],
        score=values['score'],
        positive=values.get('positive', DEFAULT_POSITIVE),
        threshold=float(values.get('threshold', DEFAULT_THRESHOLD)),
        segment=values.get('segment'),
        classes=[c.strip() for c in values['classes'].split(',') if c.strip()] if 'classes' in values else None,
    )


def evaluate(frame: pd.DataFrame, options: EvaluateOptions, path: str) -> dict:
    for column in (options.label, options.score, options.segment):
        if column is not None and column not in frame.columns:
            raise SpecError(f'{path}: no column {column!r}')
    labels = frame[options.label].to_numpy(dtype=object)
    scores = frame[options.score]
    label_missing = ref.missing_mask(frame[options.label])
    score_missing = ref.missing_mask(scores)
    # Every present score must be a number in [0, 1], also in rows that are skipped for a missing label.
    present = ~score_missing
    number = ref.number_mask(scores)
    if (present & ~number).any():
        raise SpecError(f'{path}: a score is not a number')
    parsed = np.full(len(frame), np.nan)
    parsed[present] = [float(t) for t in scores.to_numpy()[present]]
    if ((parsed[present] < 0) | (parsed[present] > 1)).any():
        raise SpecError(f'{path}: a score is outside [0, 1]')
    if options.classes is not None:
        unknown = ~label_missing & ~np.isin(labels, options.classes)
        if unknown.any():
            raise SpecError(f'{path}: a label is not among the classes')
    keep = ~label_missing & ~score_missing
    y = (labels[keep] == options.positive).astype(np.int64)
    s = parsed[keep]
    if len(y) == 0:
        raise SpecError(f'{path}: no row has both a label and a score')
    report = {
        'rows': int(keep.sum()),
        'skipped': int((~keep).sum()),
        'threshold': options.threshold,
        'metrics': metrics(y, s, options.threshold),
        'segments': [],
    }
    if options.segment is not None:
        segment_values = frame[options.segment].to_numpy(dtype=object)[keep]
        in_segment = ~ref.missing_mask(frame[options.segment])[keep]
        # Python orders str by code point, as the spec asks (JavaScript's < compares UTF-16 units).
        for value in sorted(set(segment_values[in_segment])):
            mask = in_segment & (segment_values == value)
            report['segments'].append({
                'column': options.segment,
                'value': value,
                'rows': int(mask.sum()),
                'metrics': metrics(y[mask], s[mask], options.threshold),
            })
    return report


# ---------------------------------------------------------------------------------------------------------
# Scenario data


@dataclass
class Scenario:
    description: str
    file: str
    data: bytes
    args: list[str]


def read_data(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / name)


def csv_bytes(columns: dict[str, list[str]]) -> bytes:
    header, rows = drift_scenarios.columns_to_rows(columns)
    return drift_scenarios.csv_text(header, rows).encode('utf-8')


def score_text(values: np.ndarray) -> list[str]:
    """Six decimals: short files, and real models' scores have ties too."""
    return [f'{v:.6f}' for v in values]


def churn_model() -> tuple[pd.DataFrame, Callable[[pd.DataFrame], np.ndarray]]:
    frame = read_data('mlc_churn.csv')

    def features(data: pd.DataFrame) -> np.ndarray:
        return np.column_stack([
            (data['international_plan'] == 'yes').astype(float),
            (data['voice_mail_plan'] == 'yes').astype(float),
            data['total_day_minutes'],
            data['total_eve_minutes'],
            data['total_intl_calls'],
            data['number_customer_service_calls'],
        ])

    scaler = StandardScaler().fit(features(frame))
    model = LogisticRegression(max_iter=1000).fit(scaler.transform(features(frame)), frame['churn'] == 'yes')
    return frame, lambda data: model.predict_proba(scaler.transform(features(data)))[:, 1]


def churn() -> Scenario:
    frame, predict = churn_model()
    data = csv_bytes({'churn': frame['churn'].tolist(), 'score': score_text(predict(frame)),
                      'area_code': frame['area_code'].tolist()})
    return Scenario(
        'mlc_churn (real data, 5,000 rows) scored by a logistic regression on six columns, fitted on the same '
        'rows; labels yes/no with --positive yes, segmented by area_code (3 values).',
        'churn.csv', data, ['--label', 'churn', '--score', 'score', '--positive', 'yes', '--segment', 'area_code'])


def churn_shifted() -> Scenario:
    frame, predict = churn_model()
    rng = np.random.default_rng(SEED + 1)
    half = frame.iloc[np.sort(rng.permutation(len(frame))[: len(frame) // 2])].copy()
    # The population moves (as in the churn-shifted drift scenario) while the model stays: day minutes up by
    # a fifth plus 10 and a quarter of the "no" international plans become "yes".
    half['total_day_minutes'] = half['total_day_minutes'] * 1.2 + 10
    flip = (half['international_plan'] == 'no') & (rng.random(len(half)) < 0.25)
    half.loc[flip, 'international_plan'] = 'yes'
    data = csv_bytes({'churn': half['churn'].tolist(), 'score': score_text(predict(half)),
                      'area_code': half['area_code'].tolist()})
    return Scenario(
        'Half of mlc_churn with its features shifted (day minutes x1.2 + 10, a quarter of the "no" '
        'international plans become "yes") and scored by the unchanged churn model: accuracy falls below 0.85.',
        'churn-shifted.csv', data,
        ['--label', 'churn', '--score', 'score', '--positive', 'yes', '--segment', 'area_code'])


def credit_split() -> tuple[pd.DataFrame, pd.DataFrame, Callable[[pd.DataFrame], np.ndarray]]:
    frame = read_data('credit_data.csv')
    # A risk tier by a simple rule: past records, part-time work or less than a year in the job.
    frame['tier'] = np.where((frame['Records'] == 'yes') | (frame['Job'] == 'partime') | (frame['Seniority'] < 1),
                             'subprime', 'prime')
    rng = np.random.default_rng(SEED + 2)
    order = rng.permutation(len(frame))
    half = len(frame) // 2
    baseline = frame.iloc[np.sort(order[:half])].copy()
    current = frame.iloc[np.sort(order[half:])].copy()
    numeric = ['Seniority', 'Time', 'Age', 'Expenses', 'Income', 'Assets', 'Debt', 'Amount', 'Price']
    medians = baseline[numeric].median()

    def features(data: pd.DataFrame) -> np.ndarray:
        filled = data[numeric].fillna(medians)
        return np.column_stack([filled.to_numpy(dtype=float), (data['Records'] == 'yes').astype(float),
                                (data['Job'] == 'partime').astype(float), (data['Home'] == 'owner').astype(float)])

    scaler = StandardScaler().fit(features(baseline))
    model = LogisticRegression(max_iter=1000).fit(scaler.transform(features(baseline)), baseline['Status'] == 'bad')
    return baseline, current, lambda data: model.predict_proba(scaler.transform(features(data)))[:, 1]


CREDIT_ARGS = ['--label', 'Status', '--score', 'score', '--positive', 'bad', '--segment', 'tier',
               '--classes', 'good,bad']


def credit_baseline() -> Scenario:
    baseline, _, predict = credit_split()
    data = csv_bytes({'Status': baseline['Status'].tolist(), 'score': score_text(predict(baseline)),
                      'tier': baseline['tier'].tolist()})
    return Scenario(
        'credit_data (real data): the half a logistic regression was fitted on, scored by it; --positive bad, '
        '--classes good,bad, segmented by a rule-based tier (subprime: past records, part-time job or less '
        'than a year in the job; otherwise prime). Its expected.json is the baseline report of credit-current.',
        'credit-baseline.csv', data, CREDIT_ARGS)


def credit_current() -> Scenario:
    _, current, predict = credit_split()
    scores = predict(current)
    # The model degrades on subprime applicants only: a fifth of their scores is noise.
    rng = np.random.default_rng(SEED + 3)
    subprime = (current['tier'] == 'subprime').to_numpy()
    scores[subprime] = 0.8 * scores[subprime] + 0.2 * rng.random(int(subprime.sum()))
    data = csv_bytes({'Status': current['Status'].tolist(), 'score': score_text(scores),
                      'tier': current['tier'].tolist()})
    return Scenario(
        'The other half of credit_data, scored by the same model, with a fifth of each subprime score replaced by noise: '
        'the subprime Gini falls by more than 5% against credit-baseline, the prime Gini by less.',
        'credit-current.csv', data, CREDIT_ARGS)


def synthetic(rng: np.random.Generator, n: int, decimals: int = 3) -> tuple[np.ndarray, np.ndarray]:
    s = np.round(rng.beta(2, 3, size=n), decimals)
    y = (rng.random(n) < s).astype(np.int64)
    return y, s


def missing_skipped() -> Scenario:
    rng = np.random.default_rng(SEED + 10)
    n = 400
    y, s = synthetic(rng, n)
    labels = [str(v) for v in y]
    scores = [f'{v:.3f}' for v in s]
    segments = drift_scenarios.choice(rng, ['east', 'north', 'south', 'west'], n)
    tokens = ['', 'NA', 'NaN', 'null', 'None']
    for i in range(0, n, 9):
        labels[i] = tokens[(i // 9) % len(tokens)]
    for i in range(4, n, 13):
        scores[i] = tokens[(i // 13) % len(tokens)]
    for i in range(2, n, 17):
        segments[i] = tokens[(i // 17) % len(tokens)]
    # "west" rows all lose their label: the segment is absent from the report.
    labels = [tokens[i % len(tokens)] if segments[i] == 'west' else labels[i] for i in range(n)]
    # "north" keeps only negative labels: rocAuc and gini are null there.
    labels = ['0' if segments[i] == 'north' and labels[i] == '1' else labels[i] for i in range(n)]
    return Scenario(
        'Every missing token (empty, NA, NaN, null, None) in the label and in the score: those rows are '
        'skipped. Rows with a missing segment count overall only; "west" loses all its labels (left out of '
        'segments); "north" has only negatives (rocAuc and gini null). Present scores in skipped rows are '
        'still valid numbers.',
        'missing.csv', csv_bytes({'label': labels, 'score': scores, 'region': segments}),
        ['--label', 'label', '--score', 'score', '--segment', 'region'])


def ties() -> Scenario:
    rng = np.random.default_rng(SEED + 11)
    n = 500
    s = rng.choice([0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0], size=n)
    y = (rng.random(n) < np.clip(s, 0.05, 0.95)).astype(np.int64)
    # A few confident mistakes: score 0 with a positive label and 1 with a negative one (log loss clipping).
    y[np.flatnonzero(s == 0.0)[:3]] = 1
    y[np.flatnonzero(s == 1.0)[:3]] = 0
    texts = {0.0: '0', 0.1: '0.1', 0.25: '.25', 0.5: '0.50', 0.75: '7.5e-1', 0.9: '0.9', 1.0: '1.0'}
    return Scenario(
        'Heavy ties: seven distinct scores (0 and 1 included, written as 0, .25, 0.50, 7.5e-1, 1.0), with '
        'confidently wrong 0 and 1 scores so log loss depends on the clip bound; scores equal to the threshold '
        '0.5 are positive predictions.',
        'ties.csv', csv_bytes({'y': [str(v) for v in y], 'p': [texts[float(v)] for v in s]}),
        ['--label', 'y', '--score', 'p'])


def positive_yes() -> Scenario:
    rng = np.random.default_rng(SEED + 12)
    n = 300
    y, s = synthetic(rng, n)
    return Scenario(
        'Text labels yes/no with --positive yes and --classes no,yes; segments with spaces and commas.',
        'positive-yes.csv',
        csv_bytes({'outcome': ['yes' if v else 'no' for v in y], 'probability': [f'{v:.3f}' for v in s],
                   'plan': drift_scenarios.choice(rng, ['basic', 'pro, annual', 'pro monthly'], n)}),
        ['--label', 'outcome', '--score', 'probability', '--positive', 'yes', '--classes', 'no,yes',
         '--segment', 'plan'])


def threshold_03() -> Scenario:
    rng = np.random.default_rng(SEED + 13)
    n = 600
    y, s = synthetic(rng, n, 2)
    return Scenario(
        '--threshold 0.3 on scores with two decimals (some exactly 0.30: positive predictions).',
        'threshold.csv', csv_bytes({'label': [str(v) for v in y], 'score': [f'{v:.2f}' for v in s]}),
        ['--label', 'label', '--score', 'score', '--threshold', '0.3'])


def gzip_csv() -> Scenario:
    rng = np.random.default_rng(SEED + 14)
    n = 3000
    y, s = synthetic(rng, n, 4)
    data = csv_bytes({'id': [str(i) for i in range(n)], 'label': [str(v) for v in y],
                      'score': [f'{v:.4f}' for v in s],
                      'channel': drift_scenarios.choice(rng, ['app', 'branch', 'web'], n, [5, 1, 3])})
    return Scenario('gzip-compressed CSV, 3,000 rows, an id column that is not used, segmented by channel.',
                    'scores.csv.gz', data, ['--label', 'label', '--score', 'score', '--segment', 'channel'])


def jsonl() -> Scenario:
    rng = np.random.default_rng(SEED + 15)
    n = 300
    y, s = synthetic(rng, n)
    records = []
    for i in range(n):
        record: dict = {'fraud': bool(y[i]), 'score': float(s[i]), 'region': int(rng.integers(1, 4))}
        if i % 7 == 0:
            record['score'] = f'{s[i]:.3f}'  # a number as a JSON string is still a number
        if i % 23 == 0:
            record['fraud'] = None
        if i % 29 == 0:
            del record['score']  # an absent key is a missing value
        if i % 31 == 0:
            record['region'] = None
        records.append(record)
    return Scenario(
        'JSON Lines: boolean labels with --positive true, scores as JSON numbers and as strings, null and '
        'absent keys as missing values, numeric segment values (compared as their text).',
        'scores.jsonl', drift_scenarios.jsonl_text(records).encode('utf-8'),
        ['--label', 'fraud', '--score', 'score', '--positive', 'true', '--segment', 'region'])


def one_class() -> Scenario:
    rng = np.random.default_rng(SEED + 16)
    n = 120
    _, s = synthetic(rng, n)
    return Scenario(
        'Only negative labels: rocAuc and gini are null, precision, recall and f1 are 0 (zero_division=0).',
        'one-class.csv', csv_bytes({'label': ['0'] * n, 'score': [f'{v:.3f}' for v in s]}),
        ['--label', 'label', '--score', 'score'])


def unicode_segments() -> Scenario:
    rng = np.random.default_rng(SEED + 17)
    n = 400
    y, s = synthetic(rng, n)
    # Code point order differs from UTF-16 order: U+FF5A (fullwidth z) < U+1F600 (an emoji, a surrogate pair).
    values = ['Zürich', 'zebra', 'Ångström', '\uff5a', '\U0001f600', 'a']
    return Scenario(
        'Segment values sorted by code point, where that differs from UTF-16 order (U+FF5A before U+1F600) '
        'and from locale order (uppercase before lowercase, accented letters last).',
        'unicode.csv', csv_bytes({'label': [str(v) for v in y], 'score': [f'{v:.3f}' for v in s],
                                  'segment': drift_scenarios.choice(rng, values, n)}),
        ['--label', 'label', '--score', 'score', '--segment', 'segment'])


SCENARIOS_BUILT: dict[str, Callable[[], Scenario]] = {
    'churn': churn,
    'churn-shifted': churn_shifted,
    'credit-baseline': credit_baseline,
    'credit-current': credit_current,
    'missing-skipped': missing_skipped,
    'ties': ties,
    'positive-yes': positive_yes,
    'threshold-0.3': threshold_03,
    'gzip-csv': gzip_csv,
    'jsonl': jsonl,
    'one-class': one_class,
    'unicode-segments': unicode_segments,
}


def build(name: str, builder: Callable[[], Scenario]) -> dict:
    scenario = builder()
    target = SCENARIOS / name
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    drift_scenarios.write_bytes(target / scenario.file, scenario.data)
    path = target / scenario.file
    report = evaluate(ref.read_table(str(path)), parse_args(scenario.args), str(path))
    args = {'description': scenario.description, 'file': scenario.file, 'args': scenario.args}
    (target / 'args.json').write_text(json.dumps(args, indent=2, ensure_ascii=False) + '\n', encoding='utf-8')
    (target / 'expected.json').write_text(
        json.dumps(report, indent=2, ensure_ascii=False, allow_nan=False) + '\n', encoding='utf-8')
    return {'name': name, 'report': report, 'description': scenario.description,
            'size': sum(p.stat().st_size for p in target.iterdir())}


def number(value: float | None) -> str:
    return 'null' if value is None else f'{value:.4f}'


def write_index(summaries: list[dict]) -> None:
    lines = [
        '# Evaluate scenarios (generated)',
        '',
        'Written by `/usr/bin/python3 scripts/golden/performance.py` (scikit-learn 1.2, numpy 1.24, pandas 1.5);',
        'do not edit by hand. Each directory holds one input file, `args.json` and `expected.json`, the report of',
        'the reference evaluation in that script (the spec\'s sklearn calls) for that file and those flags.',
        '',
        'A test runs `driftwatch evaluate DIR/<file> --format json <args...>` and compares with `expected.json`:',
        'the same segments in the same order, equal strings and nulls, numbers to a relative error of 1e-6',
        '(absolute 1e-9 near 0).',
        '',
        '| scenario | rows | skipped | segments | accuracy | rocAuc | logLoss | bytes |',
        '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ]
    for s in summaries:
        r = s['report']
        m = r['metrics']
        lines.append(f"| `{s['name']}` | {r['rows']:,} | {r['skipped']:,} | {len(r['segments'])} | "
                     f"{number(m['accuracy'])} | {number(m['rocAuc'])} | {number(m['logLoss'])} | {s['size']:,} |")
    lines.append('')
    for s in summaries:
        lines.append(f"- `{s['name']}`: {s['description']}")
    (SCENARIOS / 'README.md').write_text('\n'.join(lines) + '\n', encoding='utf-8')


def main() -> int:
    size = write_golden()
    print(f'{GOLDEN.relative_to(ROOT)}: {size:,} bytes')
    SCENARIOS.mkdir(parents=True, exist_ok=True)
    for stale in SCENARIOS.iterdir():
        if stale.is_dir() and stale.name not in SCENARIOS_BUILT:
            shutil.rmtree(stale)
    summaries = []
    for name, builder in SCENARIOS_BUILT.items():
        summary = build(name, builder)
        summaries.append(summary)
        m = summary['report']['metrics']
        print(f"{name:18} {summary['size']:>9,} bytes  rows {summary['report']['rows']:>5}  "
              f"accuracy {number(m['accuracy'])}  gini {number(m['gini'])}", flush=True)
    write_index(summaries)
    total = sum(s['size'] for s in summaries)
    print(f'total {total:,} bytes in {len(summaries)} scenarios')
    return 0


if __name__ == '__main__':
    sys.exit(main())
