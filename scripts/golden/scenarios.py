#!/usr/bin/env python3
"""Builds the end-to-end drift scenarios under test/fixtures/scenarios/<name>/.

    /usr/bin/python3 scripts/golden/scenarios.py [--only NAME ...]

Each scenario directory holds the two input files, `args.json` (the `driftwatch drift` flags) and
`expected.json`, the report of reference_drift.py for exactly those files and flags. Also copies the real data
to test/fixtures/data/. Deterministic: fixed seeds, gzip without timestamps, so a rerun rewrites identical
bytes (with the same numpy/scipy, Debian's 1.24 / 1.10).

args.json:
    {"description": "...", "baseline": "baseline.csv", "current": "current.csv", "args": ["--exclude", "churn"]}
A test runs `driftwatch drift <dir>/<baseline> <dir>/<current> --format json <args...>` and compares the
report with expected.json (numbers to a relative 1e-6, absolute 1e-9 near 0; fields beyond the spec's, such as
`count`, `sampled` or `metadata`, are not compared).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import reference_drift as ref  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / 'test' / 'fixtures' / 'scenarios'
DATA = ROOT / 'test' / 'fixtures' / 'data'
SHARED_DATA = ROOT.parent / 'shared' / 'data'

Row = list[str]


# ---------------------------------------------------------------------------------------------------------
# Writing


def _needs_quotes(field: str) -> bool:
    return any(ch in field for ch in ',"\r\n') or field != field.strip(' ')


def _quote(field: str) -> str:
    return '"' + field.replace('"', '""') + '"'


def csv_text(header: Row, rows: list[Row], *, crlf: bool = False, bom: bool = False,
             quote_text: bool = False, quote_header: bool = False, final_newline: bool = True,
             force_quotes: frozenset[tuple[int, int]] = frozenset()) -> str:
    """RFC 4180 text, quoting only where needed, except: quote_text quotes every non-empty field that is not
    a number (like R's write.csv), force_quotes the (row, column) cells listed (a quoted number, or `""`)."""
    def cell(field: str, quote: bool) -> str:
        if quote or _needs_quotes(field):
            return _quote(field)
        if quote_text and field != '' and not ref.NUMBER_PATTERN.fullmatch(field):
            return _quote(field)
        return field

    eol = '\r\n' if crlf else '\n'
    lines = [','.join(cell(h, quote_header) for h in header)]
    lines += [','.join(cell(f, (r, c) in force_quotes) for c, f in enumerate(row)) for r, row in enumerate(rows)]
    text = eol.join(lines) + (eol if final_newline else '')
    return ('\ufeff' if bom else '') + text


def jsonl_text(records: list[dict]) -> str:
    return ''.join(json.dumps(r, ensure_ascii=False, separators=(', ', ': ')) + '\n' for r in records)


def write_bytes(path: Path, data: bytes) -> None:
    if path.name.endswith('.gz'):
        buffer = io.BytesIO()
        # No file name and mtime 0 in the header: the same input gives the same bytes.
        with gzip.GzipFile(filename='', mode='wb', fileobj=buffer, compresslevel=9, mtime=0) as gz:
            gz.write(data)
        data = buffer.getvalue()
    path.write_bytes(data)


# ---------------------------------------------------------------------------------------------------------
# Value helpers (all formatting is explicit, so files do not depend on numpy's repr)


def fmt(values: np.ndarray, decimals: int) -> list[str]:
    return [f'{v:.{decimals}f}' for v in values]


def fmt_g(values: np.ndarray, digits: int = 6) -> list[str]:
    return [f'{v:.{digits}g}' for v in values]


def with_missing(values: list[str], rng: np.random.Generator, rate: float,
                 tokens: tuple[str, ...] = ('', 'NA')) -> list[str]:
    out = list(values)
    for i in np.flatnonzero(rng.random(len(out)) < rate):
        out[i] = tokens[int(rng.integers(len(tokens)))]
    return out


def choice(rng: np.random.Generator, labels: list[str], n: int, weights: list[float] | None = None) -> list[str]:
    p = None if weights is None else np.asarray(weights, dtype=float) / np.sum(weights)
    return [labels[i] for i in rng.choice(len(labels), size=n, p=p)]


def columns_to_rows(columns: dict[str, list[str]]) -> tuple[Row, list[Row]]:
    header = list(columns)
    n = len(next(iter(columns.values())))
    assert all(len(v) == n for v in columns.values()), {k: len(v) for k, v in columns.items()}
    return header, [[columns[h][i] for h in header] for i in range(n)]


def read_real(name: str) -> tuple[Row, list[Row]]:
    with open(SHARED_DATA / name, newline='', encoding='utf-8') as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


# ---------------------------------------------------------------------------------------------------------
# Scenarios


@dataclass
class Files:
    """What a scenario builder returns: file name -> bytes, which files are compared, and the flags."""
    description: str
    files: dict[str, bytes]
    baseline: str
    current: str
    args: list[str]


def churn_split(seed: int) -> tuple[Row, list[Row], list[Row]]:
    header, rows = read_real('mlc_churn.csv')
    order = np.random.default_rng(seed).permutation(len(rows))
    half = len(rows) // 2
    return header, [rows[i] for i in order[:half]], [rows[i] for i in order[half:]]


def churn_halves() -> Files:
    header, base, cur = churn_split(101)
    return Files(
        'mlc_churn (real data) split at random into two halves of 2,500: no drift expected. '
        '18 features, 2,500 baseline values each, so auto picks wasserstein / jensenShannon.',
        {'baseline.csv': csv_text(header, base, quote_text=True, quote_header=True).encode(),
         'current.csv': csv_text(header, cur, quote_text=True, quote_header=True).encode()},
        'baseline.csv', 'current.csv', ['--exclude', 'churn'],
    )


def churn_shifted() -> Files:
    header, base, cur = churn_split(101)
    rng = np.random.default_rng(102)
    col = {name: i for i, name in enumerate(header)}
    shifted = []
    for row in cur:
        row = list(row)
        if row[col['international_plan']] == 'no' and rng.random() < 0.25:
            row[col['international_plan']] = 'yes'
        minutes = round(float(row[col['total_day_minutes']]) * 1.2 + 10, 1)
        row[col['total_day_minutes']] = f'{minutes:g}'
        row[col['total_day_charge']] = f'{round(minutes * 0.17, 2):g}'
        shifted.append(row)
    return Files(
        'The same churn halves with the current half shifted: a quarter of the "no" international plans become '
        '"yes", day minutes x1.2 + 10 (and the day charge with them). Segmented by area_code (3 values, ~600-1,250 '
        'rows each, so some segments use ks and some wasserstein).',
        {'baseline.csv': csv_text(header, base, quote_text=True, quote_header=True).encode(),
         'current.csv': csv_text(header, shifted, quote_text=True, quote_header=True).encode()},
        'baseline.csv', 'current.csv', ['--exclude', 'churn', '--segment', 'area_code'],
    )


def credit_segment() -> Files:
    header, rows = read_real('credit_data.csv')
    rng = np.random.default_rng(201)
    order = rng.permutation(len(rows))
    half = len(rows) // 2
    base = [rows[i] for i in order[:half]]
    status = header.index('Status')
    # Current: the other half with half of the "good" applicants dropped, so bad credit is over-represented.
    cur = [rows[i] for i in order[half:] if rows[i][status] != 'good' or rng.random() < 0.5]
    return Files(
        'credit_data (real data, empty fields are missing: Income, Assets, Debt, Home, Marital, Job) split in two; '
        'the current side keeps only half of the "good" applicants. Segmented by Home (7 values; the 6 rows with '
        'no Home belong to no segment; small segments such as "ignore" get exact KS with ties).',
        {'baseline.csv': csv_text(header, base, quote_text=True, quote_header=True).encode(),
         'current.csv': csv_text(header, cur, quote_text=True, quote_header=True).encode()},
        'baseline.csv', 'current.csv', ['--exclude', 'Status', '--segment', 'Home'],
    )


def small_ties() -> Files:
    rng = np.random.default_rng(301)

    def side(n: int, shift: int) -> dict[str, list[str]]:
        return {
            'stars': [str(v) for v in np.clip(rng.integers(1, 6, n) + shift, 1, 5)],
            'rating': fmt(np.round(rng.normal(3 + shift * 0.5, 1, n) * 2) / 2, 1),
            'identical': [str(v) for v in np.tile([1, 2, 2, 3, 3, 3], n)[:n]],
            'sparse': with_missing(fmt(rng.normal(0, 1, n), 2), rng, 0.85),
            'color': choice(rng, ['red', 'green', 'blue'], n, [1, 1, 1] if shift == 0 else [3, 1, 1]),
            'size': choice(rng, ['S', 'M', 'L'] + (['XL'] if shift else []), n),
        }

    b, c = side(20, 0), side(25, 1)
    b['sparse'][:3] = ['0.10', '0.10', '-0.50']  # at least a few baseline values
    c['sparse'][:2] = ['0.10', '1.20']
    hb, rb = columns_to_rows(b)
    hc, rc = columns_to_rows(c)
    return Files(
        'n < 30 (20 vs 25 rows): exact two-sample KS with heavy ties (integer stars, half-point ratings, an '
        'identical-pattern column), a mostly missing column (6 vs 4 values), chi2 with a category only in current.',
        {'baseline.csv': csv_text(hb, rb).encode(), 'current.csv': csv_text(hc, rc).encode()},
        'baseline.csv', 'current.csv', [],
    )


def synthetic_columns(rng: np.random.Generator, n: int, shift: float) -> dict[str, list[str]]:
    """A varied table: shift 0 is the baseline; shift > 0 moves some columns a little."""
    return {
        'normal': fmt(rng.normal(50 + 2 * shift, 10, n), 3),
        'lognormal': fmt_g(rng.lognormal(3 + 0.1 * shift, 0.8, n), 6),
        'exponential': with_missing(fmt(rng.exponential(2 * (1 + 0.2 * shift), n), 4), rng, 0.03),
        'uniform': fmt(rng.uniform(0, 1, n), 5),
        'counts': [str(v) for v in rng.poisson(3 + shift, n)],
        'bimodal': fmt(np.where(rng.random(n) < 0.3 + 0.1 * shift, rng.normal(-2, 0.5, n), rng.normal(3, 1, n)), 2),
        'plan': with_missing(choice(rng, ['basic', 'plus', 'pro', 'team', 'enterprise'], n,
                                    [40, 25, 20 + 10 * shift, 10, 5]), rng, 0.02, ('', 'NA', 'null')),
        'region': choice(rng, [f'r{i:02d}' for i in range(30)], n, list(range(30, 0, -1))),
    }


def medium_5000() -> Files:
    rng = np.random.default_rng(401)
    hb, rb = columns_to_rows(synthetic_columns(rng, 5000, 0))
    hc, rc = columns_to_rows(synthetic_columns(rng, 5000, 0.3))
    return Files(
        '5,000 vs 5,000 synthetic rows, 6 numeric (normal, lognormal, exponential with missing, uniform, Poisson '
        'counts, bimodal) and 2 categorical (5 and 30 levels), slightly shifted: exact KS (both sizes <= 10,000).',
        {'baseline.csv': csv_text(hb, rb).encode(), 'current.csv': csv_text(hc, rc).encode()},
        'baseline.csv', 'current.csv', [],
    )


def ks_boundary() -> Files:
    rng = np.random.default_rng(501)

    def side(n: int, shift: float, missing: int) -> dict[str, list[str]]:
        cols = {
            'all_present': fmt(rng.normal(shift, 1, n), 2),
            'one_missing': fmt(rng.normal(shift, 1, n), 2),
            'two_missing': fmt(rng.normal(shift, 1, n), 2),
        }
        if missing:
            cols['one_missing'][7] = ''
            cols['two_missing'][11] = 'NA'
            cols['two_missing'][12] = ''
        return cols

    hb, rb = columns_to_rows(side(10_000, 0, 0))
    hc, rc = columns_to_rows(side(10_001, 0.03, 1))
    return Files(
        'scipy ks_2samp auto switches from exact to asymptotic when a side has more than 10,000 values: '
        'all_present is 10,000 vs 10,001 (asymptotic), one_missing 10,000 vs 10,000 (exact, equal sizes), '
        'two_missing 10,000 vs 9,999 (exact, unequal sizes). Values to 2 decimals, so with ties.',
        {'baseline.csv': csv_text(hb, rb).encode(), 'current.csv': csv_text(hc, rc).encode()},
        'baseline.csv', 'current.csv', ['--method', 'ks'],
    )


def auto_boundary() -> Files:
    rng = np.random.default_rng(511)

    def side(n: int, shift: float) -> dict[str, list[str]]:
        cols = {
            'num_1001': fmt(rng.normal(shift, 1, n), 3),
            'num_1000': fmt(rng.normal(shift, 1, n), 3),
            'cat_1001': choice(rng, ['a', 'b', 'c', 'd'], n, [4, 3, 2 + shift, 1]),
            'cat_1000': choice(rng, ['a', 'b', 'c', 'd'], n, [4, 3, 2 + shift, 1]),
        }
        cols['num_1000'][0] = 'NaN'
        cols['cat_1000'][0] = 'None'
        return cols

    hb, rb = columns_to_rows(side(1001, 0))
    hc, rc = columns_to_rows(side(900, 0.2))
    return Files(
        "The auto decision's boundary: 1,001 baseline rows; *_1001 have 1,001 baseline values (wasserstein / "
        'jensenShannon), *_1000 have one missing so 1,000 (ks / chi2).',
        {'baseline.csv': csv_text(hb, rb).encode(), 'current.csv': csv_text(hc, rc).encode()},
        'baseline.csv', 'current.csv', [],
    )


def large_150k() -> Files:
    rng = np.random.default_rng(601)

    def side(n: int, shift: float) -> dict[str, list[str]]:
        return {
            'latency_ms': fmt(rng.lognormal(4 + 0.01 * shift, 0.5, n), 1),
            'amount': with_missing(fmt(rng.normal(100 + 0.3 * shift, 25, n), 2), rng, 0.01),
            'items': [str(v) for v in rng.poisson(4, n)],
            'ratio': fmt(rng.beta(2, 5 + 0.05 * shift, n), 3),
            'device': choice(rng, ['ios', 'android', 'web', 'tv', 'other', 'kiosk', 'car', 'watch'], n,
                             [30, 30, 25, 5 + shift, 4, 3, 2, 1]),
            'country': with_missing(choice(rng, [f'C{i:02d}' for i in range(40)], n,
                                           list(np.linspace(10, 1, 40))), rng, 0.005),
        }

    hb, rb = columns_to_rows(side(150_000, 0))
    hc, rc = columns_to_rows(side(150_000, 1))
    return Files(
        '150,000 vs 150,000 rows, gzip CSV: asymptotic KS, ties (1-3 decimals, Poisson counts), light missing, '
        'very slight shifts so p-values are not all 0 or 1. Below the CLI sample cap (250,000), so exact agreement.',
        {'baseline.csv.gz': csv_text(hb, rb).encode(), 'current.csv.gz': csv_text(hc, rc).encode()},
        'baseline.csv.gz', 'current.csv.gz', [],
    )


def rfc4180_quoting() -> Files:
    rng = np.random.default_rng(701)
    comments = ['plain', 'a,b', 'say "hi"', 'line1\nline2', '"quoted whole"', ' padded ', 'comma, "and" quote\nand newline',
                'trailing,']
    cities = ['Portland, OR', 'Austin, TX', 'Zürich', 'São Paulo', '東京']

    def side(n: int, shift: int) -> dict[str, list[str]]:
        amount = fmt(rng.normal(20 + shift, 5, n), 2)
        return {
            'id': [str(i) for i in range(n)],
            'comment': with_missing(choice(rng, comments, n, [5, 3, 3, 2, 2, 2, 1 + shift, 1]), rng, 0.05, ('',)),
            'amount, usd': amount,
            'city': choice(rng, cities, n),
        }

    hb, rb = columns_to_rows(side(60, 0))
    hc, rc = columns_to_rows(side(50, 2))
    # Quoted numbers are still numbers; a quoted empty field is missing.
    quoted = {(r, 2) for r in range(0, len(rb), 7)}
    empty = next(r for r, row in enumerate(rb) if row[1] == '')
    quoted.add((empty, 1))
    base = csv_text(hb, rb, crlf=True, bom=True, quote_header=True, force_quotes=frozenset(quoted))
    cur = csv_text(hc, rc, final_newline=False)
    return Files(
        'RFC 4180: baseline with a UTF-8 BOM, CRLF rows and a quoted header (one name holds a comma); categorical '
        'labels holding commas, doubled quotes, LF newlines inside quotes, leading/trailing spaces and non-ASCII; '
        'quoted numbers; a quoted empty field (missing). Current: LF rows, no final newline. id excluded.',
        {'baseline.csv': base.encode('utf-8'), 'current.csv': cur.encode('utf-8')},
        'baseline.csv', 'current.csv', ['--exclude', 'id'],
    )


def gzip_csv() -> Files:
    rng = np.random.default_rng(801)
    hb, rb = columns_to_rows(synthetic_columns(rng, 2000, 0))
    hc, rc = columns_to_rows(synthetic_columns(rng, 1500, 3))
    return Files(
        'gzip-compressed baseline, plain current (1,500 rows), strongly shifted: most features drift and the '
        'dataset drifts.',
        {'baseline.csv.gz': csv_text(hb, rb).encode(), 'current.csv': csv_text(hc, rc).encode()},
        'baseline.csv.gz', 'current.csv', [],
    )


def jsonl() -> Files:
    rng = np.random.default_rng(901)

    def records(n: int, shift: float) -> list[dict]:
        out = []
        for i in range(n):
            r: dict = {
                'user': f'u{i}',
                'age': int(rng.integers(18, 80)),
                'income': float(np.round(rng.lognormal(10 + shift, 0.4), 2)),
                'score_text': f'{rng.normal(0.5 + shift / 10, 0.1):.4f}',
                'tier': ['free', 'silver', 'gold'][int(rng.choice(3, p=[0.6 - shift / 4, 0.3, 0.1 + shift / 4]))],
                'note': None if rng.random() < 0.2 else ['ok', 'late', 'NA'][int(rng.integers(3))],
            }
            if rng.random() < 0.05:
                r['income'] = None
            if i % 17 == 5:
                del r['tier']  # an absent key is a missing value
            out.append(r)
        return out

    base = records(400, 0)
    cur = records(300, 0.4)
    return Files(
        'JSON Lines: baseline plain, current gzip. JSON numbers (ints and floats), numbers as JSON strings '
        '(score_text, still numeric), null and the string "NA" as missing, a key absent from some records '
        '(missing there). user excluded.',
        {'baseline.jsonl': jsonl_text(base).encode(), 'current.jsonl.gz': jsonl_text(cur).encode()},
        'baseline.jsonl', 'current.jsonl.gz', ['--exclude', 'user'],
    )


def constant_column() -> Files:
    rng = np.random.default_rng(1001)

    def side(n: int, current: bool) -> dict[str, list[str]]:
        return {
            'const_same': ['7'] * n,
            'const_moved': ['7.5' if current else '7'] * n,
            'near_const': ['0'] * (n - 3) + ['1', '2', '3'],
            'const_cat': ['x'] * n,
            'swap_cat': ['b' if current else 'a'] * n,
            'normal': fmt(rng.normal(0, 1, n), 3),
        }

    hb, rb = columns_to_rows(side(1500, False))
    hc, rc = columns_to_rows(side(1200, True))
    return Files(
        'Degenerate columns: a constant equal on both sides (KS 0/1, Wasserstein 0), a constant that moves '
        '(std floor 0.001 makes Wasserstein 500), all deciles equal (a single edge, 2 bins), a one-category '
        'categorical (chi2 0 / 1), and disjoint single categories.',
        {'baseline.csv': csv_text(hb, rb).encode(), 'current.csv': csv_text(hc, rc).encode()},
        'baseline.csv', 'current.csv', [],
    )


def all_missing_side() -> Files:
    rng = np.random.default_rng(1101)
    tokens = ('', 'NA', 'NaN', 'null', 'None')

    def side(n: int, current: bool) -> dict[str, list[str]]:
        region = choice(rng, ['east', 'west'] + (['south'] if current else []), n)
        region = with_missing(region, rng, 0.05, ('', 'NA'))
        return {
            'region': region,
            'gone': [tokens[i % 5] for i in range(n)] if current else fmt(rng.normal(0, 1, n), 2),
            'arrives': fmt(rng.normal(0, 1, n), 2) if current else [tokens[i % 5] for i in range(n)],
            'empty_both': [tokens[(i + 2) % 5] for i in range(n)],
            'tokens': with_missing(fmt(rng.normal(0.2 if current else 0, 1, n), 2), rng, 0.3, tokens),
            'not_missing': with_missing(fmt(rng.normal(0, 1, n), 2), rng, 0.1, ('n/a', 'nan', 'NULL', 'none', '-')),
            'west_only': [v if r == 'west' else '' for v, r in zip(fmt(rng.normal(0, 1, n), 2), region)]
            if not current else fmt(rng.normal(0, 1, n), 2),
        }

    hb, rb = columns_to_rows(side(300, False))
    hc, rc = columns_to_rows(side(250, True))
    return Files(
        'Missing values: gone (all missing in current) and arrives (all missing in baseline) and empty_both get '
        'no entry; tokens mixes every missing token (empty, NA, NaN, null, None); not_missing holds n/a, nan, '
        'NULL, none, "-" which are NOT missing, so it is categorical. Segmented by region: missing region values '
        'are in no segment, "south" only exists in current (no entries), west_only has values only in the '
        'baseline "west" segment.',
        {'baseline.csv': csv_text(hb, rb).encode(), 'current.csv': csv_text(hc, rc).encode()},
        'baseline.csv', 'current.csv', ['--segment', 'region'],
    )


def forced_categorical() -> Files:
    rng = np.random.default_rng(1201)

    def side(n: int, shift: float) -> dict[str, list[str]]:
        return {
            'zip': choice(rng, ['01234', '1234', '98101', '98101.0', '10001'], n, [3, 1, 3, 1, 2 + shift * 4]),
            'code': choice(rng, ['1', '1.0', '01', '2', '+2'], n),
            'rating': [str(v) for v in rng.integers(1, 6, n)],
            'score': with_missing(fmt(rng.normal(shift, 1, n), 3), rng, 0.05),
            'rating_auto': [str(v) for v in rng.integers(1, 6, n)],
        }

    hb, rb = columns_to_rows(side(400, 0))
    hc, rc = columns_to_rows(side(350, 0.5))
    return Files(
        'Numeric-looking columns forced --categorical: labels are the raw text, so "01234" / "1234", '
        '"98101" / "98101.0" and "1" / "1.0" / "01" / "+2" / "2" are different categories; --numeric on a column '
        'that would be numeric anyway; rating_auto is the same kind of data left to inference (numeric).',
        {'baseline.csv': csv_text(hb, rb).encode(), 'current.csv': csv_text(hc, rc).encode()},
        'baseline.csv', 'current.csv', ['--categorical', 'zip,code', '--categorical', 'rating', '--numeric', 'score'],
    )


def exclude() -> Files:
    rng = np.random.default_rng(1301)

    def side(n: int, shift: float) -> dict[str, list[str]]:
        return {
            'id': [f'{i:06d}' for i in range(n)],
            'f1': fmt(rng.normal(shift, 1, n), 3),
            'label': choice(rng, ['0', '1'], n),
            'channel': choice(rng, ['web', 'app', 'store'], n),
            'prediction': fmt(rng.random(n), 4),
            'f2': fmt(rng.gamma(2, 2, n), 3),
        }

    hb, rb = columns_to_rows(side(800, 0))
    hc, rc = columns_to_rows(side(700, 0.2))
    return Files(
        '--exclude given twice, once with a list: id, label and prediction are not features.',
        {'baseline.csv': csv_text(hb, rb).encode(), 'current.csv': csv_text(hc, rc).encode()},
        'baseline.csv', 'current.csv', ['--exclude', 'id', '--exclude', 'label,prediction'],
    )


def method_columns(rng: np.random.Generator, n: int, shift: float) -> dict[str, list[str]]:
    return {
        'amount': fmt(rng.lognormal(3 + 0.1 * shift, 0.7, n), 2),
        'tenure': [str(v) for v in rng.integers(0, 60 + int(10 * shift), n)],
        'balance': with_missing(fmt(rng.normal(1000 + 150 * shift, 300, n), 1), rng, 0.02),
        'channel': choice(rng, ['web', 'app', 'store', 'phone'], n, [4, 3 + 2 * shift, 2, 1]),
        'segment_code': choice(rng, ['A', 'B', 'C'], n, [1, 1, 1 + shift]),
    }


def method_psi() -> Files:
    rng = np.random.default_rng(1401)
    hb, rb = columns_to_rows(method_columns(rng, 3000, 0))
    hc, rc = columns_to_rows(method_columns(rng, 2500, 1))
    return Files(
        '--method psi:0.2 for every feature (PSI applies to both types), with per-feature overrides: amount uses '
        'ks at 0.01, channel chi2 at its default 0.05, tenure back to auto (wasserstein); --drift-share 0.4.',
        {'baseline.csv': csv_text(hb, rb).encode(), 'current.csv': csv_text(hc, rc).encode()},
        'baseline.csv', 'current.csv',
        ['--method', 'psi:0.2', '--feature-method', 'amount=ks:0.01', '--feature-method', 'channel=chi2',
         '--feature-method', 'tenure=auto', '--drift-share', '0.4'],
    )


def method_by_type() -> Files:
    rng = np.random.default_rng(1501)
    hb, rb = columns_to_rows(method_columns(rng, 3000, 0))
    hc, rc = columns_to_rows(method_columns(rng, 2500, 0.5))
    return Files(
        '--method ks:0.01 applies to numeric features only; categorical ones fall back to auto (jensenShannon at '
        '0.1, 3,000 baseline values); segment_code overridden to psi (default 0.1), balance to wasserstein at 0.05.',
        {'baseline.csv': csv_text(hb, rb).encode(), 'current.csv': csv_text(hc, rc).encode()},
        'baseline.csv', 'current.csv',
        ['--method', 'ks:0.01', '--feature-method', 'segment_code=psi', '--feature-method', 'balance=wasserstein:0.05'],
    )


def method_js_all_types() -> Files:
    rng = np.random.default_rng(1601)
    hb, rb = columns_to_rows(method_columns(rng, 600, 0))
    hc, rc = columns_to_rows(method_columns(rng, 500, 0.5))
    return Files(
        '--method jensenShannon:0.05 applies to both types (600 rows, where auto would pick ks / chi2); channel '
        'is set to chi2 at 0.01 per feature.',
        {'baseline.csv': csv_text(hb, rb).encode(), 'current.csv': csv_text(hc, rc).encode()},
        'baseline.csv', 'current.csv', ['--method', 'jensenShannon:0.05', '--feature-method', 'channel=chi2:0.01'],
    )


def method_chi2_numeric_auto() -> Files:
    rng = np.random.default_rng(1701)
    hb, rb = columns_to_rows(method_columns(rng, 600, 0))
    hc, rc = columns_to_rows(method_columns(rng, 500, 0.5))
    return Files(
        '--method chi2:0.01 fits categorical features only: numeric ones use auto (ks, 600 baseline values).',
        {'baseline.csv': csv_text(hb, rb).encode(), 'current.csv': csv_text(hc, rc).encode()},
        'baseline.csv', 'current.csv', ['--method', 'chi2:0.01'],
    )


def mixed_type() -> Files:
    rng = np.random.default_rng(1801)

    def side(n: int, current: bool) -> dict[str, list[str]]:
        # Small integers: a mixed column becomes categorical with a few dozen labels, as real ones do.
        def ints(low: int, high: int) -> list[str]:
            return [str(v) for v in rng.integers(low, high, n)]

        def plant(values: list[str], token: str, every: int, offset: int) -> list[str]:
            return [token if i % every == offset else v for i, v in enumerate(values)]

        forms = ['.5', '5.', '+3', '-2e-3', '1E3', ' 7 ', '\t8', '0', '-0.0', '12345678901234567890', '1e-300']
        return {
            'mostly_numbers': plant(ints(18, 40), 'unknown', 50, 3),
            'with_inf': plant(ints(0, 10), 'inf', 1000, 10),
            'with_infinity': plant(ints(0, 10), '-Infinity', 1000, 4),
            'overflow': plant(ints(0, 10), '1e400', 1000, 2),
            'underscore': plant(ints(0, 10), '1_000', 1000, 5),
            'hex': plant(ints(0, 10), '0x10', 1000, 9) if current else ints(0, 10),
            'number_forms': [forms[int(k)] for k in rng.integers(0, len(forms), n)],
            'yes_no': choice(rng, ['true', 'false'], n),
            'text_in_current_only': plant(ints(0, 12), 'n.a.', 9, 0) if current else ints(0, 12),
        }

    hb, rb = columns_to_rows(side(600, False))
    hc, rc = columns_to_rows(side(550, True))
    return Files(
        'Type inference: a column is numeric only if every non-missing value on both sides is a finite number. '
        'Categorical here: numbers with "unknown", with "inf", with "-Infinity", with "1e400" (overflows), with '
        '"1_000", with "0x10" (current only), true/false, and a column that is text only in current. Numeric: '
        'number_forms (".5", "5.", "+3", "-2e-3", "1E3", " 7 ", "\\t8", "-0.0", 20 digits, "1e-300").',
        {'baseline.csv': csv_text(hb, rb).encode(), 'current.csv': csv_text(hc, rc).encode()},
        'baseline.csv', 'current.csv', [],
    )


SCENARIOS_BUILT: dict[str, Callable[[], Files]] = {
    'churn-halves': churn_halves,
    'churn-shifted': churn_shifted,
    'credit-segment': credit_segment,
    'small-ties': small_ties,
    'medium-5000': medium_5000,
    'auto-boundary': auto_boundary,
    'ks-boundary': ks_boundary,
    'large-150k': large_150k,
    'rfc4180-quoting': rfc4180_quoting,
    'gzip-csv': gzip_csv,
    'jsonl': jsonl,
    'constant-column': constant_column,
    'all-missing-side': all_missing_side,
    'forced-categorical': forced_categorical,
    'exclude': exclude,
    'method-psi': method_psi,
    'method-by-type': method_by_type,
    'method-js-all-types': method_js_all_types,
    'method-chi2-numeric-auto': method_chi2_numeric_auto,
    'mixed-type': mixed_type,
}


# ---------------------------------------------------------------------------------------------------------
# Checks and output


def check_csv_reader(path: Path) -> None:
    """pandas' C parser and Python's csv module must read a fixture the same way (RFC 4180 sanity check)."""
    opener = gzip.open if path.name.endswith('.gz') else open
    with opener(path, 'rt', encoding='utf-8-sig', newline='') as handle:
        rows = [row for row in csv.reader(handle, strict=True) if row]
    frame = ref.read_table(str(path))
    assert list(frame.columns) == rows[0], (path, list(frame.columns)[:5], rows[0][:5])
    assert frame.values.tolist() == rows[1:], f'{path}: pandas and csv disagree'


def build(name: str, builder: Callable[[], Files]) -> dict:
    scenario = builder()
    target = SCENARIOS / name
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for file_name, data in scenario.files.items():
        write_bytes(target / file_name, data)
        if '.csv' in file_name:
            check_csv_reader(target / file_name)
    argv = [str(target / scenario.baseline), str(target / scenario.current), *scenario.args]
    baseline_path, current_path, options = ref.parse_args(argv)
    report = ref.drift_report(ref.read_table(baseline_path), ref.read_table(current_path), options,
                              scenario.baseline, scenario.current)
    args = {'description': scenario.description, 'baseline': scenario.baseline, 'current': scenario.current,
            'args': scenario.args}
    (target / 'args.json').write_text(json.dumps(args, indent=2, ensure_ascii=False) + '\n', encoding='utf-8')
    (target / 'expected.json').write_text(json.dumps(report, indent=2, ensure_ascii=False, allow_nan=False) + '\n',
                                          encoding='utf-8')
    size = sum(p.stat().st_size for p in target.iterdir())
    entries = report['features']
    return {
        'name': name,
        'size': size,
        'rows': report['rows'],
        'entries': len(entries),
        'segmentEntries': sum(1 for e in entries if e['segment'] is not None),
        'methods': sorted({e['method'] for e in entries}),
        'driftShare': report['driftShare'],
        'datasetDrift': report['datasetDrift'],
        'description': scenario.description,
    }


def copy_real_data() -> None:
    DATA.mkdir(parents=True, exist_ok=True)
    for name in ('mlc_churn.csv', 'credit_data.csv'):
        shutil.copyfile(SHARED_DATA / name, DATA / name)
    (DATA / 'README.md').write_text(
        '# Real data for tests\n\n'
        '- `mlc_churn.csv`: 5,000 telecom customers, 19 features and the `churn` label (yes/no); the `mlc_churn`\n'
        '  data set (originally the MLC++ churn data).\n'
        '- `credit_data.csv`: 4,454 credit applicants, 13 features and `Status` (good/bad); empty fields are\n'
        '  missing values; the `credit_data` data set.\n\n'
        'Both come from the R package modeldata 1.1.0 (Debian package `r-cran-modeldata`), MIT licence,\n'
        'copyright the modeldata authors. Copied unchanged by `scripts/golden/scenarios.py`, which also splits\n'
        'them into the `churn-*` and `credit-*` scenarios under `../scenarios/`.\n',
        encoding='utf-8')


def write_index(summaries: list[dict]) -> None:
    lines = [
        '# Drift scenarios (generated)',
        '',
        'Written by `/usr/bin/python3 scripts/golden/scenarios.py` (numpy 1.24, scipy 1.10, pandas 1.5); do not',
        'edit by hand. Each directory holds the baseline and current inputs, `args.json` and `expected.json`, the',
        'report of `scripts/golden/reference_drift.py` for those files and flags.',
        '',
        'A test runs `driftwatch drift DIR/<baseline> DIR/<current> --format json <args...>` and compares with',
        '`expected.json`: the same entries in the same order, equal strings and booleans, numbers to a relative',
        'error of 1e-6 (absolute 1e-9 near 0). Fields the spec does not define (`count`, `sampled`, ...) are not',
        'compared.',
        '',
        '| scenario | rows (baseline / current) | entries (segment) | methods | driftShare | bytes |',
        '| --- | --- | --- | --- | --- | --- |',
    ]
    for s in summaries:
        lines.append(f"| `{s['name']}` | {s['rows']['baseline']:,} / {s['rows']['current']:,} | {s['entries']} "
                     f"({s['segmentEntries']}) | {', '.join(s['methods'])} | {s['driftShare']:.3f}"
                     f"{' (drift)' if s['datasetDrift'] else ''} | {s['size']:,} |")
    lines.append('')
    for s in summaries:
        lines.append(f"- `{s['name']}`: {s['description']}")
    (SCENARIOS / 'README.md').write_text('\n'.join(lines) + '\n', encoding='utf-8')


def main() -> int:
    parser = argparse.ArgumentParser(description='Regenerates the drift scenario fixtures.')
    parser.add_argument('--only', nargs='*', help='build only these scenarios (the index is not rewritten)')
    args = parser.parse_args()
    names = args.only or list(SCENARIOS_BUILT)
    unknown = [n for n in names if n not in SCENARIOS_BUILT]
    if unknown:
        parser.error(f'unknown scenarios {unknown}')
    copy_real_data()
    SCENARIOS.mkdir(parents=True, exist_ok=True)
    if not args.only:
        for stale in SCENARIOS.iterdir():
            if stale.is_dir() and stale.name not in SCENARIOS_BUILT:
                shutil.rmtree(stale)
    summaries = []
    for name in names:
        summary = build(name, SCENARIOS_BUILT[name])
        summaries.append(summary)
        print(f"{name:26} {summary['size']:>10,} bytes  {summary['entries']:>4} entries  "
              f"driftShare {summary['driftShare']:.3f}", flush=True)
    if not args.only:
        write_index(summaries)
        total = sum(s['size'] for s in summaries)
        print(f'total {total:,} bytes in {len(summaries)} scenarios')
    return 0


if __name__ == '__main__':
    sys.exit(main())
