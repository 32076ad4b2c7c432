#!/usr/bin/env python3
"""Reference implementation of docs/drift-spec.md (version 1) with pandas + scipy.

    /usr/bin/python3 scripts/golden/reference_drift.py BASELINE CURRENT [--numeric a,b] [--categorical c,d]
        [--exclude x,y] [--segment col] [--method M[:T]] [--threshold T]
        [--feature-method name=M[:T] ...] [--drift-share S]

Prints the spec's report as JSON. Written to be read next to the spec, not to be fast: every value is read
as text first (`dtype=str`, no pandas NA handling) and the spec's own missing rule and number grammar are
applied, so pandas' defaults (which treat `n/a`, `#N/A`, `nan`, ... as missing) never leak in. The statistics
are exactly the calls the spec names (numpy 1.24 / scipy 1.10).

Choices where the spec is silent are marked CHOICE in the comments below.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import math
import re
import sys
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.spatial.distance import jensenshannon
from scipy.stats import chi2_contingency, ks_2samp, wasserstein_distance

SPEC_VERSION = 1

#: The spec's missing tokens; compared exactly (case-sensitive, no trimming).
MISSING_TOKENS = frozenset(['', 'NA', 'NaN', 'null', 'None'])

#: CHOICE: "parses as a finite number" = an ASCII decimal number with optional sign, fraction and exponent,
#: blanks (space, tab) allowed around it. This is the subset of Python's `float()` grammar without `inf`,
#: `nan`, `1_000`, non-ASCII digits and other whitespace; the value must also be finite (so `1e400` is text).
NUMBER_PATTERN = re.compile(r'[ \t]*[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[ \t]*')

#: Decile probabilities, written as i/10 (not linspace) so they are the doubles nearest to 0.1 ... 0.9.
DECILES = [i / 10 for i in range(1, 10)]
PROPORTION_FLOOR = 0.0001
WASSERSTEIN_MIN_SCALE = 0.001
AUTO_TEST_MAX_BASELINE = 1000

NUMERIC_METHODS = ('ks', 'psi', 'jensenShannon', 'wasserstein')
CATEGORICAL_METHODS = ('chi2', 'psi', 'jensenShannon')
ALL_METHODS = ('ks', 'chi2', 'psi', 'jensenShannon', 'wasserstein')
P_VALUE_METHODS = ('ks', 'chi2')
DEFAULT_THRESHOLDS = {'ks': 0.05, 'chi2': 0.05, 'psi': 0.1, 'jensenShannon': 0.1, 'wasserstein': 0.1}
DEFAULT_DRIFT_SHARE = 0.5


class SpecError(Exception):
    """Bad input or flags: the message names the file, column or flag."""


# ---------------------------------------------------------------------------------------------------------
# Reading: every format becomes a DataFrame of str (missing values still as their raw text).


def _format_of(path: str) -> tuple[str, bool]:
    lower = path.lower()
    gz = lower.endswith('.gz')
    if gz:
        lower = lower[:-3]
    for ext, kind in (('.csv', 'csv'), ('.tsv', 'tsv'), ('.jsonl', 'jsonl'), ('.ndjson', 'jsonl'), ('.parquet', 'parquet')):
        if lower.endswith(ext):
            return kind, gz
    raise SpecError(f'{path}: unknown format (expected .csv, .tsv, .jsonl, .ndjson or .parquet, optionally .gz)')


def _json_text(value: object, path: str, line: int, key: str) -> str:
    # json.loads is called with parse_int/parse_float=str, so numbers arrive as their raw token text.
    if value is None:
        return ''
    if isinstance(value, str):
        # CHOICE: a JSON string goes through the same rules as a CSV field: "" / "NA" / ... are missing and
        # "1.5" is a number.
        return value
    if value is True:
        return 'true'
    if value is False:
        return 'false'
    raise SpecError(f'{path}:{line}: field {key!r} holds a nested {type(value).__name__}, not a scalar')


def read_jsonl(path: str, gz: bool) -> pd.DataFrame:
    opener = gzip.open if gz else open
    rows: list[dict[str, str]] = []
    columns: dict[str, None] = {}  # CHOICE: columns in order of first appearance over all lines
    with opener(path, 'rt', encoding='utf-8-sig', newline='') as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip() == '':
                continue  # CHOICE: blank lines are skipped
            try:
                record = json.loads(line, parse_int=str, parse_float=str, parse_constant=str)
            except json.JSONDecodeError as error:
                raise SpecError(f'{path}:{number}: not JSON: {error}') from error
            if not isinstance(record, dict):
                raise SpecError(f'{path}:{number}: a JSON Lines record must be an object')
            row = {}
            for key, value in record.items():
                columns.setdefault(key, None)
                row[key] = _json_text(value, path, number, key)
            rows.append(row)
    # CHOICE: a key absent from a record is a missing value.
    names = list(columns)
    return pd.DataFrame({name: [row.get(name, '') for row in rows] for name in names}, columns=names, dtype=object)


def read_parquet(path: str) -> pd.DataFrame:
    try:
        frame = pd.read_parquet(path)
    except ImportError as error:
        raise SpecError(f'{path}: reading Parquet needs pyarrow or fastparquet, which this Python lacks') from error

    def text(value: object) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return ''
        if isinstance(value, (bool, np.bool_)):
            return 'true' if value else 'false'
        if isinstance(value, (float, np.floating)):
            return repr(float(value))
        return str(value)

    return pd.DataFrame({c: [text(v) for v in frame[c].tolist()] for c in frame.columns}, dtype=object)


def read_table(path: str) -> pd.DataFrame:
    kind, gz = _format_of(path)
    if kind == 'jsonl':
        return read_jsonl(path, gz)
    if kind == 'parquet':
        return read_parquet(path)
    # RFC 4180 via pandas' C parser: quoted commas, "" for a quote, newlines inside quotes kept as they are
    # (CHOICE: a CRLF inside a quoted field stays CRLF in the label), CRLF or LF rows, BOM dropped.
    try:
        frame = pd.read_csv(
            path,
            sep='\t' if kind == 'tsv' else ',',
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            encoding='utf-8-sig',
            compression='gzip' if gz else None,
            quotechar='"',
            doublequote=True,
            skip_blank_lines=True,  # CHOICE: blank lines are not rows
            engine='c',
        )
    except pd.errors.ParserError as error:
        raise SpecError(f'{path}: {error}') from error
    # Short rows come back as NaN even with na_filter=False: they are missing (empty) fields.
    return frame.fillna('')


# ---------------------------------------------------------------------------------------------------------
# Values


def missing_mask(values: pd.Series) -> np.ndarray:
    return values.isin(MISSING_TOKENS).to_numpy()


def number_mask(values: pd.Series) -> np.ndarray:
    """True where the text is a finite number by the spec's grammar (checked on non-missing text only)."""
    grammar = values.str.fullmatch(NUMBER_PATTERN).to_numpy(dtype=bool)
    finite = np.zeros(len(values), dtype=bool)
    idx = np.flatnonzero(grammar)
    if len(idx):
        parsed = np.array([float(s) for s in values.to_numpy()[idx]], dtype=np.float64)
        finite[idx] = np.isfinite(parsed)
    return finite


def parse_numbers(values: pd.Series, present: np.ndarray, path: str, column: str) -> np.ndarray:
    """Float per row; NaN where missing. Fails when a present value is not a finite number."""
    out = np.full(len(values), np.nan)
    text = values.to_numpy()
    ok = number_mask(values)
    bad = present & ~ok
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise SpecError(f'{path}: column {column!r}, data row {row + 1}: {text[row]!r} is not a finite number')
    idx = np.flatnonzero(present)
    out[idx] = [float(s) for s in text[idx]]
    return out


# ---------------------------------------------------------------------------------------------------------
# Statistics: one function per test, exactly the reference calls of the spec.


def decile_edges(baseline: np.ndarray) -> np.ndarray:
    """The distinct values of numpy.quantile(b, [0.1 ... 0.9]) (linear interpolation), ascending."""
    return np.unique(np.quantile(baseline, DECILES))


def floored_proportions(counts: np.ndarray) -> np.ndarray:
    """count / n with a zero proportion replaced by 0.0001 and no renormalisation."""
    counts = np.asarray(counts, dtype=np.float64)
    p = counts / counts.sum()
    p[p == 0] = PROPORTION_FLOOR
    return p


def bin_counts(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts per bin, bin i = (edge[i-1], edge[i]], open at both ends: len(edges) + 1 bins."""
    return np.bincount(np.searchsorted(edges, values, side='left'), minlength=len(edges) + 1)


def psi(p_baseline: np.ndarray, p_current: np.ndarray) -> float:
    return float(np.sum((p_current - p_baseline) * np.log(p_current / p_baseline)))


def js_distance(p_baseline: np.ndarray, p_current: np.ndarray) -> float:
    return float(jensenshannon(p_baseline, p_current))


def numeric_tests(b: np.ndarray, c: np.ndarray) -> dict:
    ks = ks_2samp(b, c)
    edges = decile_edges(b)
    pb = floored_proportions(bin_counts(b, edges))
    pc = floored_proportions(bin_counts(c, edges))
    scale = max(float(np.std(b)), WASSERSTEIN_MIN_SCALE)
    return {
        'ks': {'statistic': float(ks.statistic), 'pValue': float(ks.pvalue)},
        'psi': {'value': psi(pb, pc)},
        'jensenShannon': {'value': js_distance(pb, pc)},
        'wasserstein': {'value': float(wasserstein_distance(b, c)) / scale},
    }


def categorical_tests(counts_b: np.ndarray, counts_c: np.ndarray) -> dict:
    """Counts aligned over the union of categories (any order: the results do not depend on it)."""
    if len(counts_b) < 2:
        chi2 = {'statistic': 0.0, 'pValue': 1.0}
    else:
        statistic, p_value, _dof, _expected = chi2_contingency([counts_b, counts_c], correction=False)
        chi2 = {'statistic': float(statistic), 'pValue': float(p_value)}
    pb = floored_proportions(counts_b)
    pc = floored_proportions(counts_c)
    return {'chi2': chi2, 'psi': {'value': psi(pb, pc)}, 'jensenShannon': {'value': js_distance(pb, pc)}}


def aligned_counts(b: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Counts of each label on both sides over the union of labels (sorted; raw strings)."""
    vb = pd.Series(b, dtype=object).value_counts()
    vc = pd.Series(c, dtype=object).value_counts()
    labels = sorted(set(vb.index) | set(vc.index))
    return (
        vb.reindex(labels, fill_value=0).to_numpy(dtype=np.int64),
        vc.reindex(labels, fill_value=0).to_numpy(dtype=np.int64),
    )


# ---------------------------------------------------------------------------------------------------------
# Decision


@dataclass
class MethodSetting:
    method: str  # 'auto' or one of ALL_METHODS
    threshold: float | None = None


def parse_method_setting(text: str, flag: str) -> MethodSetting:
    parts = text.split(':')
    if len(parts) > 2 or parts[0] == '':
        raise SpecError(f'{flag}: expected METHOD[:THRESHOLD], got {text!r}')
    name = parts[0]
    if name == 'auto':
        if len(parts) == 2:
            raise SpecError(f'{flag}: auto takes no threshold')
        return MethodSetting('auto')
    method = next((m for m in ALL_METHODS if m.lower() == name.lower()), None)
    if method is None:
        raise SpecError(f'{flag}: unknown method {name!r} (use auto, {", ".join(ALL_METHODS)})')
    if len(parts) == 1:
        return MethodSetting(method)
    try:
        threshold = float(parts[1])
    except ValueError as error:
        raise SpecError(f'{flag}: threshold {parts[1]!r} is not a number') from error
    if not math.isfinite(threshold) or threshold < 0:
        raise SpecError(f'{flag}: threshold {parts[1]!r} is not a number >= 0')
    return MethodSetting(method, threshold)


def applies_to(method: str, feature_type: str) -> bool:
    return method in (NUMERIC_METHODS if feature_type == 'numeric' else CATEGORICAL_METHODS)


def choose_method(feature_type: str, baseline_count: int, for_all: MethodSetting | None,
                  for_feature: MethodSetting | None) -> tuple[str, float]:
    """Per-feature setting wins (CHOICE: `name=auto` means auto even when --method is set), then the setting
    for all features where it fits the type, then auto."""
    chosen: MethodSetting | None = None
    if for_feature is not None:
        if for_feature.method != 'auto':
            chosen = for_feature
    elif for_all is not None and for_all.method != 'auto' and applies_to(for_all.method, feature_type):
        chosen = for_all
    if chosen is None:
        small = baseline_count <= AUTO_TEST_MAX_BASELINE
        if feature_type == 'numeric':
            chosen = MethodSetting('ks' if small else 'wasserstein')
        else:
            chosen = MethodSetting('chi2' if small else 'jensenShannon')
    threshold = chosen.threshold if chosen.threshold is not None else DEFAULT_THRESHOLDS[chosen.method]
    return chosen.method, float(threshold)


def is_drifted(method: str, score: float, threshold: float) -> bool:
    return score < threshold if method in P_VALUE_METHODS else score >= threshold


# ---------------------------------------------------------------------------------------------------------
# Report


@dataclass
class Options:
    numeric: list[str] = field(default_factory=list)
    categorical: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    segment: str | None = None
    method: MethodSetting | None = None
    feature_methods: dict[str, MethodSetting] = field(default_factory=dict)
    drift_share: float = DEFAULT_DRIFT_SHARE


@dataclass
class Column:
    """One feature on one side: per row, whether present, and the value (float or str)."""
    present: np.ndarray
    values: np.ndarray  # float64 (NaN when missing) or object (str)


def feature_entry(name: str, segment: dict | None, feature_type: str, b: Column, c: Column,
                  rows_b: np.ndarray | None, rows_c: np.ndarray | None, options: Options) -> dict | None:
    pb = b.present if rows_b is None else b.present & rows_b
    pc = c.present if rows_c is None else c.present & rows_c
    n_rows_b = len(pb) if rows_b is None else int(rows_b.sum())
    n_rows_c = len(pc) if rows_c is None else int(rows_c.sum())
    count_b, count_c = int(pb.sum()), int(pc.sum())
    if count_b == 0 or count_c == 0:
        return None  # no test entry when a side has no non-missing value
    vb, vc = b.values[pb], c.values[pc]
    if feature_type == 'numeric':
        tests = numeric_tests(vb, vc)
    else:
        tests = categorical_tests(*aligned_counts(vb, vc))
    method, threshold = choose_method(feature_type, count_b, options.method, options.feature_methods.get(name))
    test = tests[method]
    score = test['pValue'] if 'pValue' in test else test['value']
    return {
        'feature': name,
        'segment': segment,
        'type': feature_type,
        'missing': {'baseline': n_rows_b - count_b, 'current': n_rows_c - count_c},
        'method': method,
        'score': score,
        'threshold': threshold,
        'drifted': is_drifted(method, score, threshold),
        'tests': tests,
        'count': {'baseline': count_b, 'current': count_c},
    }


def drift_report(baseline: pd.DataFrame, current: pd.DataFrame, options: Options,
                 baseline_name: str = 'baseline', current_name: str = 'current') -> dict:
    columns_b = list(baseline.columns)
    columns_c = set(current.columns)
    for flag, names in (('--numeric', options.numeric), ('--categorical', options.categorical),
                        ('--exclude', options.exclude), ('--segment', [options.segment] if options.segment else []),
                        ('--feature-method', list(options.feature_methods))):
        for name in names:
            if name not in columns_b:
                raise SpecError(f'{flag}: no column {name!r} in {baseline_name}')
    both = set(options.numeric) & set(options.categorical)
    if both:
        raise SpecError(f'--numeric and --categorical both name {sorted(both)}')
    if options.segment is not None and options.segment not in columns_c:
        raise SpecError(f'--segment: no column {options.segment!r} in {current_name}')

    # CHOICE: features are the baseline's columns, in its order, that the current file also has.
    skip = set(options.exclude) | ({options.segment} if options.segment else set())
    features = [c for c in columns_b if c not in skip and c in columns_c]
    for name in options.feature_methods:
        if name not in features:
            raise SpecError(f'--feature-method: {name!r} is not a feature')

    types: dict[str, str] = {}
    sides: dict[str, tuple[Column, Column]] = {}
    for name in features:
        tb, tc = baseline[name].astype(str), current[name].astype(str)
        present_b, present_c = ~missing_mask(tb), ~missing_mask(tc)
        if name in options.categorical:
            feature_type = 'categorical'
        elif name in options.numeric:
            feature_type = 'numeric'
        else:
            # Vacuously numeric when both sides are all missing (it then gets no entry anyway).
            numeric = (number_mask(tb) | ~present_b).all() and (number_mask(tc) | ~present_c).all()
            feature_type = 'numeric' if numeric else 'categorical'
        types[name] = feature_type
        if feature_type == 'numeric':
            col_b = Column(present_b, parse_numbers(tb, present_b, baseline_name, name))
            col_c = Column(present_c, parse_numbers(tc, present_c, current_name, name))
        else:
            col_b = Column(present_b, tb.to_numpy(dtype=object))
            col_c = Column(present_c, tc.to_numpy(dtype=object))
        sides[name] = (col_b, col_c)
        if name in options.feature_methods:
            setting = options.feature_methods[name]
            if setting.method != 'auto' and not applies_to(setting.method, feature_type):
                raise SpecError(f'--feature-method: {setting.method} does not apply to {name!r}, a {feature_type} feature')

    entries = []
    for name in features:
        entry = feature_entry(name, None, types[name], *sides[name], None, None, options)
        if entry is not None:
            entries.append(entry)
    overall = len(entries)
    drifted = sum(1 for e in entries if e['drifted'])

    if options.segment is not None:
        seg_b = baseline[options.segment].astype(str)
        seg_c = current[options.segment].astype(str)
        # Rows whose segment value is missing belong to no segment. Values sort by code point (CHOICE).
        values = sorted((set(seg_b[~missing_mask(seg_b)]) | set(seg_c[~missing_mask(seg_c)])))
        seg_b_values, seg_c_values = seg_b.to_numpy(), seg_c.to_numpy()
        for value in values:
            rows_b, rows_c = seg_b_values == value, seg_c_values == value
            ref = {'column': options.segment, 'value': value}
            for name in features:
                entry = feature_entry(name, ref, types[name], *sides[name], rows_b, rows_c, options)
                if entry is not None:
                    entries.append(entry)

    # CHOICE: with no whole-dataset entry, driftShare is 0 and the dataset has not drifted.
    share = drifted / overall if overall else 0.0
    return {
        'rows': {'baseline': len(baseline), 'current': len(current)},
        'datasetDrift': bool(overall > 0 and share >= options.drift_share),
        'driftShare': share,
        'features': entries,
    }


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(',') if name.strip()]


def parse_args(argv: list[str]) -> tuple[str, str, Options]:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('baseline')
    parser.add_argument('current')
    parser.add_argument('--numeric', action='append', default=[], type=_names)
    parser.add_argument('--categorical', action='append', default=[], type=_names)
    parser.add_argument('--exclude', action='append', default=[], type=_names)
    parser.add_argument('--segment')
    parser.add_argument('--method', help='METHOD[:THRESHOLD] for every feature it applies to')
    parser.add_argument('--threshold', type=float, help='threshold of --method (same as --method M:T)')
    parser.add_argument('--feature-method', action='append', default=[], help='FEATURE=METHOD[:THRESHOLD]')
    parser.add_argument('--drift-share', type=float, default=DEFAULT_DRIFT_SHARE)
    parser.add_argument('--format', choices=['json'], default='json', help='accepted for symmetry with the CLI')
    args = parser.parse_args(argv)

    options = Options(
        numeric=[n for group in args.numeric for n in group],
        categorical=[n for group in args.categorical for n in group],
        exclude=[n for group in args.exclude for n in group],
        segment=args.segment,
        drift_share=args.drift_share,
    )
    if not 0 < options.drift_share <= 1:
        raise SpecError(f'--drift-share: expected a share in (0, 1], got {args.drift_share}')
    if args.method is not None:
        options.method = parse_method_setting(args.method, '--method')
    if args.threshold is not None:
        if options.method is None or options.method.method == 'auto' or options.method.threshold is not None:
            raise SpecError('--threshold needs --method with a method and no :THRESHOLD of its own')
        options.method.threshold = args.threshold
    for item in args.feature_method:
        name, sep, setting = item.rpartition('=')
        if not sep or not name:
            raise SpecError(f'--feature-method: expected FEATURE=METHOD[:THRESHOLD], got {item!r}')
        if name in options.feature_methods:
            raise SpecError(f'--feature-method: {name!r} is given twice')
        options.feature_methods[name] = parse_method_setting(setting, f'--feature-method {name}')
    return args.baseline, args.current, options


def main(argv: list[str]) -> int:
    try:
        baseline_path, current_path, options = parse_args(argv)
        report = drift_report(read_table(baseline_path), read_table(current_path), options, baseline_path, current_path)
    except SpecError as error:
        print(f'reference_drift: {error}', file=sys.stderr)
        return 1
    out = io.TextIOWrapper(sys.stdout.buffer, encoding='utf-8')
    out.write(json.dumps(report, indent=2, ensure_ascii=False, allow_nan=False) + '\n')
    out.flush()
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
