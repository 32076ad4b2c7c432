#!/usr/bin/env python3
"""The benchmark's pandas + scipy reference: the drift report of docs/drift-spec.md for two CSV files.

    /usr/bin/python3 bench/reference.py BASELINE.csv CURRENT.csv [--out FILE]

What a competent pandas user would write, not a straw man: pandas' C parser reads each file once, numeric
columns straight into float64 (the spec's missing tokens as NaN) and text columns as `category` (so labels
are stored once), then every feature gets exactly the scipy/numpy calls of scripts/golden/reference_drift.py
(imported, so the statistics are the golden ones), on values sorted once up front. Single-threaded, like
pandas and scipy.

Column types are guessed from the first rows and confirmed on the whole file: a guessed-numeric column
that fails to parse as float (or holds inf) is read again as text, which then makes it categorical as the
spec says. This trusts pandas' float parser for what counts as a number (it accepts a few spellings the
spec's grammar does not, such as `inf`, which the finiteness check catches); the golden fixtures use
reference_drift.py, which applies the spec's grammar exactly.

Timings per phase (read_csv of each side, tests) and the peak RSS after each go into `metadata`, as the
spec allows extra fields.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'scripts' / 'golden'))
import reference_drift as ref  # noqa: E402

SNIFF_ROWS = 10_000
NA_VALUES = sorted(ref.MISSING_TOKENS)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def guess_numeric(path: str) -> tuple[list[str], set[str]]:
    """Header and the columns whose first rows are all numbers (by the spec's grammar) or missing."""
    head = pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False, nrows=SNIFF_ROWS,
                       encoding='utf-8-sig')
    numeric = set()
    for name in head.columns:
        text = head[name]
        if (ref.number_mask(text) | text.isin(ref.MISSING_TOKENS).to_numpy()).all():
            numeric.add(name)
    return list(head.columns), numeric


def read_side(path: str, numeric: set[str]) -> pd.DataFrame:
    dtypes = {name: (np.float64 if name in numeric else 'category') for name in pd.read_csv(path, nrows=0).columns}
    return pd.read_csv(path, dtype=dtypes, keep_default_na=False, na_values=NA_VALUES, encoding='utf-8-sig',
                       engine='c')


def read_both(baseline: str, current: str, timings: dict) -> tuple[pd.DataFrame, pd.DataFrame, set[str]]:
    columns, numeric = guess_numeric(baseline)
    numeric &= guess_numeric(current)[1]
    while True:
        try:
            started = time.perf_counter()
            b = read_side(baseline, numeric)
            timings['readBaseline'] = (time.perf_counter() - started) * 1000
            timings['rssAfterReadBaselineMB'] = peak_rss_mb()
            started = time.perf_counter()
            c = read_side(current, numeric)
            timings['readCurrent'] = (time.perf_counter() - started) * 1000
            timings['rssAfterReadCurrentMB'] = peak_rss_mb()
        except ValueError as error:
            # A guessed-numeric column holds text further down: find it and read it as text.
            bad = next((name for name in sorted(numeric) if f"'{name}'" in str(error) or name in str(error)), None)
            if bad is None:
                raise
            numeric.discard(bad)
            continue
        infinite = {name for name in numeric if np.isinf(b[name].to_numpy()).any() or np.isinf(c[name].to_numpy()).any()}
        if not infinite:
            return b, c, numeric
        numeric -= infinite


def drift_report(b: pd.DataFrame, c: pd.DataFrame, numeric: set[str]) -> dict:
    entries = []
    for name in b.columns:
        if name not in c.columns:
            continue
        if name in numeric:
            vb, vc = b[name].to_numpy(), c[name].to_numpy()
            present_b, present_c = ~np.isnan(vb), ~np.isnan(vc)
            feature_type = 'numeric'
        else:
            vb, vc = b[name], c[name]
            present_b, present_c = vb.notna().to_numpy(), vc.notna().to_numpy()
            feature_type = 'categorical'
        count_b, count_c = int(present_b.sum()), int(present_c.sum())
        if count_b == 0 or count_c == 0:
            continue
        if feature_type == 'numeric':
            # Sorted once here: scipy sorts again inside ks_2samp and wasserstein_distance, which is much
            # cheaper on sorted input. The results do not depend on the order.
            tests = ref.numeric_tests(np.sort(vb[present_b]), np.sort(vc[present_c]))
        else:
            counts_b = vb.value_counts(dropna=True)
            counts_c = vc.value_counts(dropna=True)
            labels = sorted(set(counts_b.index[counts_b > 0]) | set(counts_c.index[counts_c > 0]))
            tests = ref.categorical_tests(counts_b.reindex(labels, fill_value=0).to_numpy(np.int64),
                                          counts_c.reindex(labels, fill_value=0).to_numpy(np.int64))
        method, threshold = ref.choose_method(feature_type, count_b, None, None)
        test = tests[method]
        score = test['pValue'] if 'pValue' in test else test['value']
        entries.append({
            'feature': name, 'segment': None, 'type': feature_type,
            'missing': {'baseline': len(b) - count_b, 'current': len(c) - count_c},
            'method': method, 'score': score, 'threshold': threshold,
            'drifted': ref.is_drifted(method, score, threshold), 'tests': tests,
            'count': {'baseline': count_b, 'current': count_c},
        })
    drifted = sum(1 for e in entries if e['drifted'])
    share = drifted / len(entries) if entries else 0.0
    return {
        'rows': {'baseline': len(b), 'current': len(c)},
        'datasetDrift': bool(entries and share >= ref.DEFAULT_DRIFT_SHARE),
        'driftShare': share,
        'features': entries,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description='pandas + scipy drift report (benchmark reference)')
    parser.add_argument('baseline')
    parser.add_argument('current')
    parser.add_argument('--out', help='write the report here instead of stdout')
    args = parser.parse_args()

    started = time.perf_counter()
    timings: dict = {}
    b, c, numeric = read_both(args.baseline, args.current, timings)
    tests_started = time.perf_counter()
    report = drift_report(b, c, numeric)
    timings['tests'] = (time.perf_counter() - tests_started) * 1000
    timings['total'] = (time.perf_counter() - started) * 1000
    timings['peakRssMB'] = peak_rss_mb()
    report['metadata'] = {'implementation': 'pandas + scipy (bench/reference.py)',
                          'versions': {'numpy': np.__version__, 'pandas': pd.__version__,
                                       'scipy': __import__('scipy').__version__},
                          'timings': timings}
    text = json.dumps(report, indent=2, allow_nan=False) + '\n'
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text, encoding='utf-8')
    else:
        sys.stdout.write(text)
    return 0


if __name__ == '__main__':
    sys.exit(main())
