#!/usr/bin/env python3
"""Golden values for CBPE, the performance estimate before labels arrive (lambdas/core/performance/cbpe.ts and
`driftwatch estimate`), from scikit-learn 1.2 (Debian's python3-sklearn 1.2.1, numpy 1.24, scipy 1.10).

    /usr/bin/python3 scripts/golden/cbpe.py

Writes
    test/fixtures/golden/cbpe.json           cases: reference scores and labels, current scores, threshold ->
                                             the fitted calibrator, the calibrated probabilities, the estimate
    test/fixtures/estimate/churn-months/     reference.csv, month-1.csv ... month-6.csv, args.json, expected.json
Deterministic (fixed seeds), so a rerun with the same libraries rewrites identical bytes.

The reference CBPE, with p = IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1).fit(s_ref, y_ref)
.predict(s) and pred = s >= threshold:
    confusion     TP = sum(pred p), FP = sum(pred (1 - p)), FN = sum((1 - pred) p), TN = sum((1 - pred)(1 - p))
    accuracy      (TP + TN) / n
    precision     TP / (TP + FP), 0 when TP + FP = 0
    recall        TP / (TP + FN), 0 when TP + FN = 0
    f1            2 precision recall / (precision + recall), 0 when both are 0
    rocAuc        roc_auc_score(y2, s2, sample_weight=w2) with every row twice: once positive with weight p,
                  once negative with weight 1 - p (the expected ROC curve; checked against the trapezoid
                  of TPR(t) = sum_{s>=t} p / sum p over FPR(t) = sum_{s>=t} (1 - p) / sum (1 - p));
                  None when sum p or sum (1 - p) is 0
    gini          2 rocAuc - 1
    logLoss       log_loss(y2, s2, sample_weight=w2, labels=[0, 1])
    brier         brier_score_loss(y2, s2, sample_weight=w2)
    positiveRate  mean(p)

churn-months: mlc_churn (real data, 5,000 customers). 1,500 random customers are the reference month; a
logistic regression fitted on them scores everyone. Each of six later months draws 800 of the other 3,500
customers, weighted more and more towards heavy daytime callers and international plans (covariate shift:
the customers change, the relation between features and churn does not). expected.json holds per month the
estimate (the CBPE reference above) and the realized metrics (performance.py's sklearn metrics on the
month's labels).
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, str(Path(__file__).resolve().parent))
import performance  # noqa: E402
import reference_drift as ref  # noqa: E402
import scenarios as drift_scenarios  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / 'test' / 'fixtures' / 'golden' / 'cbpe.json'
ESTIMATE = ROOT / 'test' / 'fixtures' / 'estimate'
SEED = 20261207


# ---------------------------------------------------------------------------------------------------------
# The reference CBPE


def calibrator(ref_s: np.ndarray, ref_y: np.ndarray) -> IsotonicRegression:
    return IsotonicRegression(out_of_bounds='clip', y_min=0, y_max=1).fit(ref_s, ref_y)


def trapezoid_auc(s: np.ndarray, p: np.ndarray) -> float:
    thresholds = np.unique(s)[::-1]
    tpr = [0.0] + [p[s >= t].sum() / p.sum() for t in thresholds]
    fpr = [0.0] + [(1 - p)[s >= t].sum() / (1 - p).sum() for t in thresholds]
    return float(np.trapz(tpr, fpr))


def estimate(s: np.ndarray, p: np.ndarray, threshold: float) -> tuple[dict, dict]:
    s = np.asarray(s, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    n = len(s)
    pred = (s >= threshold).astype(np.float64)
    tp = float(np.sum(pred * p))
    fp = float(np.sum(pred * (1 - p)))
    fn = float(np.sum((1 - pred) * p))
    tn = float(np.sum((1 - pred) * (1 - p)))
    precision = tp / (tp + fp) if tp + fp > 0 else 0.0
    recall = tp / (tp + fn) if tp + fn > 0 else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    y2 = np.r_[np.ones(n), np.zeros(n)]
    s2 = np.r_[s, s]
    w2 = np.r_[p, 1 - p]
    if p.sum() > 0 and (1 - p).sum() > 0:
        auc = float(roc_auc_score(y2, s2, sample_weight=w2))
        assert abs(auc - trapezoid_auc(s, p)) < 1e-12, (auc, trapezoid_auc(s, p))
    else:
        auc = None
    metrics = {
        'accuracy': (tp + tn) / n,
        'precision': precision,
        'recall': recall,
        'f1': f1,
        'rocAuc': auc,
        'gini': None if auc is None else 2 * auc - 1,
        'logLoss': float(log_loss(y2, s2, sample_weight=w2, labels=[0, 1])),
        'brier': float(brier_score_loss(y2, s2, sample_weight=w2)),
        'positiveRate': float(p.mean()),
    }
    assert tuple(metrics) == performance.METRIC_NAMES
    confusion = {'truePositives': tp, 'falsePositives': fp, 'trueNegatives': tn, 'falseNegatives': fn}
    return metrics, confusion


# ---------------------------------------------------------------------------------------------------------
# Cases of the core functions


def cases() -> list[dict]:
    rng = np.random.default_rng(SEED)
    out: list[dict] = []

    def add(name: str, ref_s, ref_y, cur_s, threshold: float = 0.5) -> None:
        ref_s = np.asarray(ref_s, dtype=np.float64)
        ref_y = np.asarray(ref_y, dtype=np.int64)
        cur_s = np.asarray(cur_s, dtype=np.float64)
        iso = calibrator(ref_s, ref_y)
        p = iso.predict(cur_s)
        metrics, confusion = estimate(cur_s, p, threshold)
        out.append({
            'name': name,
            'reference': {'scores': [float(v) for v in ref_s], 'labels': [int(v) for v in ref_y]},
            'current': [float(v) for v in cur_s],
            'threshold': threshold,
            'knots': {'x': [float(v) for v in iso.X_thresholds_], 'y': [float(v) for v in iso.y_thresholds_]},
            'probabilities': [float(v) for v in p],
            'metrics': metrics,
            'confusion': confusion,
        })

    # A model that is over-confident: the true rate is s^1.5, so the calibrator bends the scores.
    s = rng.beta(2, 3, size=500)
    y = (rng.random(500) < s ** 1.5).astype(np.int64)
    current = rng.beta(3, 2, size=400)
    add('miscalibrated-500', s, y, current)
    for threshold in (0.0, 0.3, 0.7, 1.0):
        add(f'miscalibrated-500-threshold-{threshold}', s, y, current, threshold)
    # Scores with two decimals: ties within both tables, and current scores exactly on knots.
    s2 = np.round(rng.beta(2, 2, size=800), 2)
    y2 = (rng.random(800) < s2).astype(np.int64)
    add('ties-2-decimals', s2, y2, np.round(rng.beta(2, 2, size=600), 2))
    # Current scores outside the reference range are clipped to its ends.
    s3 = 0.2 + 0.6 * rng.random(300)
    y3 = (rng.random(300) < s3).astype(np.int64)
    add('outside-reference-range', s3, y3, rng.random(300))
    # A label rate that falls in the middle: adjacent violators are pooled into long blocks.
    s4 = rng.random(400)
    y4 = (rng.random(400) < np.where((s4 > 0.3) & (s4 < 0.6), 0.9 - s4, s4)).astype(np.int64)
    add('pooled-blocks', s4, y4, rng.random(300))
    # Degenerate references: one class (every p is 0), one distinct score (a constant), perfectly separable.
    add('one-class-reference', rng.random(50), np.zeros(50), rng.random(40))
    add('one-class-positive-reference', rng.random(50), np.ones(50), rng.random(40))
    add('single-score-reference', np.full(30, 0.4), (rng.random(30) < 0.4).astype(np.int64), rng.random(20))
    add('separable', [0.1, 0.2, 0.3, 0.7, 0.8, 0.9], [0, 0, 0, 1, 1, 1], rng.random(50))
    add('single-current-row', s, y, [0.55])
    add('all-current-tied', s, y, np.full(25, 0.45))
    # Larger, for the sums.
    s5 = np.round(rng.beta(1.5, 4, size=5000), 4)
    y5 = (rng.random(5000) < np.clip(s5 * 1.2, 0, 1)).astype(np.int64)
    add('large-5000', s5, y5, np.round(rng.beta(2, 4, size=5000), 4))
    return out


# ---------------------------------------------------------------------------------------------------------
# churn-months: the estimate against realized performance over months that shift


FEATURES = ['international_plan', 'voice_mail_plan', 'total_day_minutes', 'total_eve_minutes',
            'total_intl_calls', 'number_customer_service_calls']
MONTHS = 6
MONTH_ROWS = 800
REFERENCE_ROWS = 1500
ARGS = ['--label', 'churn', '--score', 'score', '--positive', 'yes', '--segment', 'area_code']


def features(data: pd.DataFrame) -> np.ndarray:
    return np.column_stack([
        (data['international_plan'] == 'yes').astype(float),
        (data['voice_mail_plan'] == 'yes').astype(float),
        data['total_day_minutes'],
        data['total_eve_minutes'],
        data['total_intl_calls'],
        data['number_customer_service_calls'],
    ])


def month_file(data: pd.DataFrame, scores: np.ndarray) -> bytes:
    return performance.csv_bytes({'churn': data['churn'].tolist(), 'score': performance.score_text(scores),
                                  'area_code': data['area_code'].tolist()})


def estimate_report(reference: pd.DataFrame, current: pd.DataFrame, threshold: float = 0.5) -> dict:
    """The `driftwatch estimate --format json` report for churn-style files (label, score, segment)."""
    ref_s = reference['score'].astype(float).to_numpy()
    ref_y = (reference['churn'] == 'yes').astype(np.int64).to_numpy()
    cur_s = current['score'].astype(float).to_numpy()
    iso = calibrator(ref_s, ref_y)
    p = iso.predict(cur_s)
    metrics, confusion = estimate(cur_s, p, threshold)
    segments = []
    values = current['area_code'].to_numpy(dtype=object)
    for value in sorted(set(values)):
        mask = values == value
        seg_metrics, seg_confusion = estimate(cur_s[mask], p[mask], threshold)
        segments.append({'column': 'area_code', 'value': value, 'rows': int(mask.sum()), 'metrics': seg_metrics,
                         'confusion': seg_confusion})
    low, high = float(iso.X_min_), float(iso.X_max_)
    return {
        'rows': len(cur_s),
        'skipped': 0,
        'threshold': threshold,
        'estimated': True,
        'metrics': metrics,
        'confusion': confusion,
        'segments': segments,
        'reference': {'rows': len(ref_s), 'skipped': 0, 'positiveRate': float(ref_y.mean()),
                      'scoreRange': [low, high]},
        'outsideReferenceRange': int(((cur_s < low) | (cur_s > high)).sum()),
    }


def churn_months() -> list[dict]:
    frame = performance.read_data('mlc_churn.csv')
    rng = np.random.default_rng(SEED + 1)
    order = rng.permutation(len(frame))
    reference = frame.iloc[np.sort(order[:REFERENCE_ROWS])].reset_index(drop=True)
    pool = frame.iloc[np.sort(order[REFERENCE_ROWS:])].reset_index(drop=True)
    scaler = StandardScaler().fit(features(reference))
    model = LogisticRegression(max_iter=1000).fit(scaler.transform(features(reference)), reference['churn'] == 'yes')

    def predict(data: pd.DataFrame) -> np.ndarray:
        return model.predict_proba(scaler.transform(features(data)))[:, 1]

    target = ESTIMATE / 'churn-months'
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    drift_scenarios.write_bytes(target / 'reference.csv', month_file(reference, predict(reference)))
    ref_table = ref.read_table(str(target / 'reference.csv'))
    # The shift: heavier daytime use and more international plans, a little more every month.
    day = ((pool['total_day_minutes'] - reference['total_day_minutes'].mean()) /
           reference['total_day_minutes'].std()).to_numpy()
    intl = (pool['international_plan'] == 'yes').to_numpy().astype(float)
    months = []
    for month in range(1, MONTHS + 1):
        strength = 0.25 * (month - 1)
        weights = np.exp(strength * day + 0.8 * strength * intl)
        rows = rng.choice(len(pool), size=MONTH_ROWS, replace=False, p=weights / weights.sum())
        data = pool.iloc[np.sort(rows)]
        name = f'month-{month}.csv'
        drift_scenarios.write_bytes(target / name, month_file(data, predict(data)))
        table = ref.read_table(str(target / name))
        realized = performance.evaluate(table, performance.parse_args(ARGS), str(target / name))
        months.append({'file': name, 'estimate': estimate_report(ref_table, table), 'realized': realized})
    args = {
        'description': 'mlc_churn: a reference month of 1,500 customers scored by a logistic regression fitted '
                       'on them, and six months of 800 customers each drawn from the other 3,500 with weights '
                       'that favour heavy daytime callers and international plans more every month.',
        'reference': 'reference.csv',
        'args': ARGS,
    }
    (target / 'args.json').write_text(json.dumps(args, indent=2) + '\n', encoding='utf-8')
    (target / 'expected.json').write_text(json.dumps({'months': months}, indent=2, allow_nan=False) + '\n',
                                          encoding='utf-8')
    return months


def main() -> int:
    document = {'generator': {'sklearn': sklearn.__version__, 'numpy': np.__version__, 'seed': SEED},
                'cases': cases()}
    GOLDEN.write_text(json.dumps(document, separators=(',', ':'), allow_nan=False) + '\n', encoding='utf-8')
    print(f'{GOLDEN.relative_to(ROOT)}: {GOLDEN.stat().st_size:,} bytes, {len(document["cases"])} cases')
    print('month  rows  estimated accuracy  realized accuracy  error   estimated rocAuc  realized rocAuc')
    for month in churn_months():
        e = month['estimate']['metrics']
        r = month['realized']['metrics']
        print(f"{month['file']:12} {month['estimate']['rows']:>4}  {e['accuracy']:.4f}  {r['accuracy']:.4f}  "
              f"{e['accuracy'] - r['accuracy']:+.4f}  {e['rocAuc']:.4f}  {r['rocAuc']:.4f}")
    return 0


if __name__ == '__main__':
    sys.exit(main())
