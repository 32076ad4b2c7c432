#!/usr/bin/env python3
"""Golden values for the statistics core (lambdas/core/stats), from numpy 1.24 / scipy 1.10.

    /usr/bin/python3 scripts/golden/stats.py

Writes test/fixtures/golden/stats.json. Deterministic (fixed seed, sorted keys, Python's shortest
round-trip float repr), so a rerun with the same numpy/scipy (Debian's python3-scipy) rewrites identical
bytes. The TypeScript tests read the file and never run Python.

Samples are stored once, by name, in `samples`, and cases refer to them. Each sample is encoded so that both
languages decode the very same doubles:
    {"values": [1.5, 2.0]}                           the doubles themselves (JSON keeps them exact)
    {"scale": 100, "ints": [150, 200]}               value = int / scale (one correctly rounded division)
    {"scale": 1, "levels": [0, 1], "counts": [3, 2]}  level / scale repeated count times (heavy ties)

Sections (every expected value is what the named numpy/scipy call returns):
    quantile        np.quantile(x, q) for several q, np.unique of the deciles, bin counts of probes
    ks              scipy.stats.ks_2samp(b, c) and which path scipy took (exact, exact->asymp, asymp)
    kstwo           scipy.stats.kstwo.sf(d, n) over every branch of kolmogn, with the branch name
    smirnov         scipy.special.smirnov(n, x)
    proportions     PSI and scipy.spatial.distance.jensenshannon over floored proportions of counts
    numeric_bins    the numeric PSI / Jensen-Shannon pipeline end to end: edges -> counts -> PSI, JS
    wasserstein     scipy.stats.wasserstein_distance(u, v)
    std             numpy.std(x) (ddof 0)
    chi2            scipy.stats.chi2_contingency([b, c], correction=False) statistic and p-value
    chi2_sf         scipy.stats.chi2.sf(x, dof)
    gammaincc       scipy.special.gammaincc(a, x)
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import scipy
from scipy import special, stats
from scipy.spatial.distance import jensenshannon
from scipy.stats._stats_py import _compute_prob_outside_square
from scipy.stats._stats_pythran import _compute_outer_prob_inside_method

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / 'test' / 'fixtures' / 'golden' / 'stats.json'
SEED = 20240611
DECILES = [i / 10 for i in range(1, 10)]
QUANTILE_PROBABILITIES = [0.0, *DECILES, 1.0, 0.25, 0.75, 1 / 3, 0.05, 0.95, 0.999]
PROPORTION_FLOOR = 0.0001
KS_MAX_EXACT = 10_000

rng = np.random.default_rng(SEED)
samples: dict[str, dict] = {}


# ---------------------------------------------------------------------------------------------------------
# Samples


def decode(encoded: dict) -> np.ndarray:
    if 'values' in encoded:
        return np.asarray(encoded['values'], dtype=np.float64)
    if 'ints' in encoded:
        return np.asarray(encoded['ints'], dtype=np.int64) / encoded['scale']
    levels = np.asarray(encoded['levels'], dtype=np.int64) / encoded['scale']
    return np.repeat(levels, encoded['counts'])


def add_values(name: str, values) -> str:
    samples[name] = {'values': [float(v) for v in values]}
    return name


def add_ints(name: str, values: np.ndarray, scale: int) -> str:
    """Rounds to multiples of 1/scale and stores the integers."""
    samples[name] = {'scale': scale, 'ints': np.round(np.asarray(values) * scale).astype(np.int64).tolist()}
    return name


def add_levels(name: str, levels, counts, scale: int = 1) -> str:
    samples[name] = {'scale': scale, 'levels': [int(v) for v in levels], 'counts': [int(c) for c in counts]}
    return name


def sample(name: str) -> np.ndarray:
    return decode(samples[name])


# ---------------------------------------------------------------------------------------------------------
# quantile / decile edges / bins


def quantile_case(name: str, sample_name: str) -> dict:
    x = np.sort(sample(sample_name))
    quantiles = np.quantile(x, QUANTILE_PROBABILITIES)
    edges = np.unique(np.quantile(x, DECILES))
    # Probes: the data, every edge exactly and one ulp either side, and values beyond both ends.
    probe_values = np.concatenate(
        [sample(sample_name), edges, np.nextafter(edges, -np.inf), np.nextafter(edges, np.inf), [x[0] - 1, x[-1] + 1]]
    )
    probes = add_values(f'{name}/probes', probe_values)
    counts = np.bincount(np.searchsorted(edges, probe_values, side='left'), minlength=len(edges) + 1)
    return {
        'name': name,
        'sample': sample_name,
        'q': QUANTILE_PROBABILITIES,
        'quantiles': quantiles.tolist(),
        'edges': edges.tolist(),
        'probes': probes,
        'bins': np.searchsorted(edges, probe_values, side='left').tolist(),
        'binCounts': counts.tolist(),
    }


def quantile_cases() -> list[dict]:
    cases = []
    for n in (1, 2, 3, 4, 5, 7, 10, 11, 13, 20, 21, 31, 99, 101):
        cases.append(quantile_case(f'continuous n={n}', add_ints(f'q/continuous{n}', rng.normal(0, 10, n), 1000)))
    for n in (2, 3, 6, 9, 10, 12, 25, 50, 97, 1000):
        levels = rng.integers(0, 4, n)
        cases.append(quantile_case(f'ties n={n}', add_ints(f'q/ties{n}', levels * 1.5, 10)))
    cases.append(quantile_case('constant', add_levels('q/constant', [7], [40])))
    cases.append(quantile_case('constant single', add_values('q/single', [-3.25])))
    cases.append(quantile_case('two values mostly one', add_levels('q/mostly-one', [0, 1], [95, 5])))
    cases.append(quantile_case('duplicates at deciles', add_levels('q/dup', [1, 2, 3, 4, 5], [10, 10, 10, 10, 10])))
    cases.append(quantile_case('negative and zero', add_values('q/negzero', [-0.0, 0.0, -1e-300, 1e-300, -2.5, 3])))
    cases.append(quantile_case('wide magnitudes', add_values('q/wide', [1e-12, 3.3e-9, 7.0, 1e6, 2.5e15, -4e20])))
    cases.append(quantile_case('decimal grid', add_ints('q/decimal', np.arange(0, 3.7, 0.1), 10)))
    cases.append(quantile_case('large continuous', add_ints('q/large', rng.lognormal(3, 1, 20_000), 10_000)))
    # Sizes where numpy's (n - 1) * q differs from the general n*q + 1 - q - 1 in the last bit.
    for n in (8, 18, 28, 46, 56, 57, 111):
        cases.append(quantile_case(f'index rounding n={n}', add_ints(f'q/rounding{n}', rng.normal(1e3, 1e3, n), 1)))
    return cases


# ---------------------------------------------------------------------------------------------------------
# Kolmogorov-Smirnov


def ks_path(n1: int, n2: int, d: float) -> str:
    """Which branch of scipy 1.10's ks_2samp (two-sided, auto) produced the p-value."""
    if max(n1, n2) > KS_MAX_EXACT:
        return 'asymp'
    g = math.gcd(n1, n2)
    lcm = (n1 // g) * n2
    h = int(np.round(d * lcm))
    if h == 0:
        return 'exact'
    prob = _compute_prob_outside_square(n1, h) if n1 == n2 else _compute_outer_prob_inside_method(n1, n2, g, h)
    return 'exact' if 0 <= prob <= 1 else 'exact->asymp'


def ks_case(name: str, b_name: str, c_name: str) -> dict:
    b = sample(b_name)
    c = sample(c_name)
    result = stats.ks_2samp(b, c)
    return {
        'name': name,
        'b': b_name,
        'c': c_name,
        'statistic': float(result.statistic),
        'pValue': float(result.pvalue),
        'path': ks_path(len(b), len(c), float(result.statistic)),
    }


def ks_cases() -> list[dict]:
    cases = []
    # Tiny samples, including every tie pattern of small integers.
    for n1 in (1, 2, 3):
        for n2 in (1, 2, 3):
            for trial in range(6):
                b = add_values(f'ks/tiny{n1}x{n2}-{trial}/b', rng.integers(0, 4, n1))
                c = add_values(f'ks/tiny{n1}x{n2}-{trial}/c', rng.integers(0, 4, n2))
                cases.append(ks_case(f'tiny {n1} x {n2} #{trial}', b, c))
    # Equal sizes shifted by h positions: D = h/n exactly. For many (n, h) scipy's closed form rounds to
    # 1.0000000000000002 and it falls back to the asymptotic p-value.
    square_shifts = ((5, 1), (7, 1), (7, 2), (13, 1), (30, 1), (30, 3), (36, 1), (50, 5), (120, 8), (400, 13), (1000, 1),
                     (60, 2), (135, 3), (390, 5), (1248, 9), (2561, 13))
    for n, h in square_shifts:
        b = add_ints(f'ks/square{n}/b', np.arange(n), 1)
        c = add_ints(f'ks/square{n}-{h}/c', np.arange(n) + h - 0.5, 2)
        cases.append(ks_case(f'equal sizes n={n} shifted by {h}', b, c))
    for n in (1, 2, 4, 10, 57, 250, 999):
        b = add_ints(f'ks/equal{n}/b', rng.normal(0, 1, n), 1000)
        c = add_ints(f'ks/equal{n}/c', rng.normal(0.3, 1.2, n), 1000)
        cases.append(ks_case(f'equal sizes random n={n}', b, c))
    # Unequal sizes, continuous and discrete.
    for trial in range(40):
        n1, n2 = (int(v) for v in rng.integers(1, 160, 2))
        shift = float(rng.choice([0.0, 0.2, 0.5, 1.5]))
        b = add_ints(f'ks/random{trial}/b', rng.normal(0, 1, n1), 100)
        c = add_ints(f'ks/random{trial}/c', rng.normal(shift, 1, n2), 100)
        cases.append(ks_case(f'random {n1} x {n2} shift {shift}', b, c))
    for trial in range(20):
        n1, n2 = (int(v) for v in rng.integers(2, 700, 2))
        levels = int(rng.integers(2, 6))
        b = add_levels(f'ks/discrete{trial}/b', range(levels), rng.multinomial(n1, np.full(levels, 1 / levels)))
        p = rng.dirichlet(np.full(levels, 3.0))
        c = add_levels(f'ks/discrete{trial}/c', range(levels), rng.multinomial(n2, p))
        cases.append(ks_case(f'discrete {levels} levels {n1} x {n2}', b, c))
    # Identical samples: D = 0, p = 1.
    for n in (1, 3, 100):
        s = add_ints(f'ks/identical{n}', rng.normal(0, 1, n), 1000)
        cases.append(ks_case(f'identical n={n}', s, s))
    # Disjoint samples: D = 1, p from ~1e-3 down to far below 1e-100 (and to 0 by underflow).
    for n1, n2 in ((1, 1), (3, 2), (10, 10), (50, 40), (200, 200), (500, 400), (700, 650), (3000, 2000)):
        b = add_levels(f'ks/disjoint{n1}x{n2}/b', [0], [n1])
        c = add_levels(f'ks/disjoint{n1}x{n2}/c', [1], [n2])
        cases.append(ks_case(f'disjoint {n1} x {n2}', b, c))
    # At the exact path's limit.
    big_b = add_ints('ks/big10000', rng.normal(0, 1, 10_000), 1000)
    cases.append(ks_case('exact 10000 x 9000', big_b, add_ints('ks/big9000', rng.normal(0.03, 1, 9_000), 1000)))
    cases.append(ks_case('exact 10000 x 10000', big_b, add_ints('ks/big10000b', rng.normal(0.02, 1, 10_000), 1000)))
    cases.append(ks_case('exact 10000 x 9999', big_b, add_ints('ks/big9999', rng.normal(0.05, 1.1, 9_999), 1000)))
    ties_b = add_levels('ks/ties10000', range(12), rng.multinomial(10_000, np.full(12, 1 / 12)))
    ties_c = add_levels('ks/ties9990', range(12), rng.multinomial(9_990, rng.dirichlet(np.full(12, 50.0))))
    cases.append(ks_case('exact with heavy ties 10000 x 9990', ties_b, ties_c))
    # Asymptotic: kstwo.sf(D, round(n1 n2 / (n1 + n2))).
    big_30000 = add_ints('ks/big30000', rng.normal(0.02, 1, 30_000), 1000)
    big_12000 = add_ints('ks/big12000', rng.normal(0, 1, 12_000), 1000)
    cases.append(ks_case('asymp 12000 x 30000', big_12000, big_30000))
    cases.append(ks_case('asymp 12000 x 30000 shifted', big_12000, add_ints('ks/big30000s', rng.normal(0.1, 1, 30_000), 1000)))
    cases.append(ks_case('asymp 12000 x 9000', big_12000, 'ks/big9000'))
    odd = add_ints('ks/big10001', rng.normal(0, 1, 10_001), 1000)
    cases.append(ks_case('asymp 10001 x 10001 (en = 5000.5, rounds to even)', odd, add_ints('ks/big10001b', rng.normal(0.04, 1, 10_001), 1000)))
    cases.append(ks_case('asymp 10001 x 10001 identical', odd, odd))
    for n2 in (1, 2, 7, 30, 100, 141, 400):
        c = add_ints(f'ks/asymp-small{n2}', rng.normal(0.4, 1, n2), 1000)
        cases.append(ks_case(f'asymp 10001 x {n2}', odd, c))
    cases.append(ks_case('asymp disjoint 12000 x 10', big_12000, add_levels('ks/far10', [100], [10])))
    cases.append(ks_case('asymp far tail 12000 x 2000', big_12000, add_ints('ks/tail2000', rng.normal(0.25, 1, 2_000), 1000)))
    cases.append(ks_case('asymp heavy ties 12000 x 11000', add_levels('ks/ties12000', range(8), rng.multinomial(12_000, np.full(8, 1 / 8))),
                         add_levels('ks/ties11000', range(8), rng.multinomial(11_000, rng.dirichlet(np.full(8, 400.0))))))
    return cases


def kolmogn_branch(n: int, x: float) -> str:
    """The branch of scipy's _kolmogn(n, x, cdf=False) (for labelling only)."""
    if x <= 0.5 / n:
        return 'support-lower'
    if x >= 1.0:
        return 'support-upper'
    t = n * x
    if t <= 1.0:
        return 'ruben-gambino-low'
    if t >= n - 1:
        return 'ruben-gambino-high'
    if x >= 0.5:
        return 'smirnov-x>=0.5'
    nxsq = t * x
    if n <= 140:
        if nxsq <= 0.754693:
            return 'durbin'
        if nxsq <= 4:
            return 'pomeranz'
        return 'smirnov-small-n'
    if nxsq >= 370.0:
        return 'zero'
    if nxsq >= 2.2:
        return 'smirnov'
    if n <= 100000 and n * x**1.5 <= 1.4:
        return 'durbin'
    return 'pelz-good'


def kstwo_cases() -> list[list]:
    cases = []
    sizes = [1, 2, 3, 4, 5, 8, 10, 17, 25, 50, 99, 140, 141, 150, 300, 1000, 4321, 10_000, 50_000, 100_000, 100_001, 250_000, 2_000_000]
    for n in sizes:
        points = set()
        # Branch boundaries in d: 1/2n, 1/n, 1 - 1/n, 0.5, and the n·d² thresholds.
        for d in (0.5 / n, 1 / n, 1 - 1 / n, 0.5, 1.0):
            points.update([d, float(np.nextafter(d, 0)), float(np.nextafter(d, 1))])
        for threshold in (0.754693, 4.0, 2.2, 18.0, 370.0):
            points.add(math.sqrt(threshold / n))
        points.add((1.4 / n) ** (2 / 3))
        points.update(float(v) for v in rng.uniform(0, 1, 12))
        points.update(float(v) for v in np.exp(rng.uniform(np.log(0.3 / n), np.log(1.0), 24)))
        points.update(float(v) / math.sqrt(n) for v in rng.uniform(0.2, 3.0, 16))
        for d in sorted(p for p in points if 0 < p <= 1):
            cases.append([d, n, float(stats.kstwo.sf(d, n)), kolmogn_branch(n, d)])
    return cases


def smirnov_cases() -> list[list]:
    cases = []
    for n in (1, 2, 3, 5, 10, 37, 100, 140, 500, 1012, 1013, 5000, 50_000):
        xs = set(float(v) for v in rng.uniform(0, 1, 10)) | set(float(v) / math.sqrt(n) for v in rng.uniform(0.5, 6, 10))
        xs |= {0.0, 1.0, 1 / n, 0.5, 1 - 1 / n}
        for x in sorted(v for v in xs if 0 <= v <= 1):
            cases.append([n, x, float(special.smirnov(n, x))])
    return cases


# ---------------------------------------------------------------------------------------------------------
# PSI and Jensen-Shannon


def floored_proportions(counts) -> np.ndarray:
    counts = np.asarray(counts, dtype=np.float64)
    p = counts / counts.sum()
    p[p == 0] = PROPORTION_FLOOR
    return p


def psi(pb: np.ndarray, pc: np.ndarray) -> float:
    return float(np.sum((pc - pb) * np.log(pc / pb)))


def proportion_case(name: str, counts_b, counts_c) -> dict:
    pb = floored_proportions(counts_b)
    pc = floored_proportions(counts_c)
    return {
        'name': name,
        'baselineCounts': [int(v) for v in counts_b],
        'currentCounts': [int(v) for v in counts_c],
        'baselineProportions': pb.tolist(),
        'currentProportions': pc.tolist(),
        'psi': psi(pb, pc),
        'jensenShannon': float(jensenshannon(pb, pc)),
    }


def proportion_cases() -> list[dict]:
    cases = [
        proportion_case('identical', [5, 5, 10], [5, 5, 10]),
        proportion_case('same proportions, different totals', [1, 2, 3], [100, 200, 300]),
        proportion_case('single bin', [10], [3]),
        proportion_case('empty bin in current', [10, 20, 30, 40], [0, 25, 35, 40]),
        proportion_case('empty bin in baseline', [0, 20, 30, 50], [5, 20, 30, 45]),
        proportion_case('empty in both', [0, 5, 5], [0, 7, 3]),
        proportion_case('disjoint', [10, 0], [0, 10]),
        proportion_case('tiny counts', [1, 0, 0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
        proportion_case('huge counts', [10**12, 3 * 10**11, 7], [2 * 10**12, 10**11, 9 * 10**9]),
        proportion_case('nearly identical huge counts', [10**12, 10**12 + 1], [10**12 + 1, 10**12]),
    ]
    for trial in range(30):
        k = int(rng.choice([2, 3, 10, 10, 10, 25, 60, 300]))
        nb, nc = (int(v) for v in rng.integers(1, 5000, 2))
        pb = rng.dirichlet(np.full(k, 0.7))
        pc = rng.dirichlet(np.full(k, 0.7)) if trial % 3 == 0 else pb
        cases.append(proportion_case(f'random {k} bins #{trial}', rng.multinomial(nb, pb), rng.multinomial(nc, pc)))
    return cases


def numeric_bins_case(name: str, b_name: str, c_name: str) -> dict:
    b = sample(b_name)
    c = sample(c_name)
    edges = np.unique(np.quantile(b, DECILES))
    counts_b = np.bincount(np.searchsorted(edges, b, side='left'), minlength=len(edges) + 1)
    counts_c = np.bincount(np.searchsorted(edges, c, side='left'), minlength=len(edges) + 1)
    pb = floored_proportions(counts_b)
    pc = floored_proportions(counts_c)
    return {
        'name': name,
        'b': b_name,
        'c': c_name,
        'edges': edges.tolist(),
        'baselineCounts': counts_b.tolist(),
        'currentCounts': counts_c.tolist(),
        'psi': psi(pb, pc),
        'jensenShannon': float(jensenshannon(pb, pc)),
    }


def numeric_bins_cases() -> list[dict]:
    return [
        numeric_bins_case('continuous 10000 x 9000', 'ks/big10000', 'ks/big9000'),
        numeric_bins_case('heavy ties 10000 x 9990', 'ks/ties10000', 'ks/ties9990'),
        numeric_bins_case('discrete small', 'ks/discrete3/b', 'ks/discrete3/c'),
        numeric_bins_case('tiny', 'ks/tiny3x2-1/b', 'ks/tiny3x2-1/c'),
        numeric_bins_case('constant baseline', 'q/constant', 'q/ties50'),
        numeric_bins_case('current beyond baseline', 'ks/big12000', 'ks/far10'),
    ]


# ---------------------------------------------------------------------------------------------------------
# Wasserstein and standard deviation


def wasserstein_cases() -> list[dict]:
    pairs = [
        ('single values', add_values('w/one-a', [0.0]), add_values('w/one-b', [2.5])),
        ('identical', 'ks/equal57/b', 'ks/equal57/b'),
        ('ties', 'ks/discrete0/b', 'ks/discrete0/c'),
        ('equal sizes', 'ks/equal250/b', 'ks/equal250/c'),
        ('unequal sizes', 'ks/random1/b', 'ks/random1/c'),
        ('disjoint', 'ks/disjoint50x40/b', 'ks/disjoint50x40/c'),
        ('10000 x 9000', 'ks/big10000', 'ks/big9000'),
        ('12000 x 30000', 'ks/big12000', 'ks/big30000'),
        ('heavy ties 10000 x 9990', 'ks/ties10000', 'ks/ties9990'),
        ('one value against many', 'ks/asymp-small1', 'ks/big10001'),
    ]
    for trial in range(15):
        n1, n2 = (int(v) for v in rng.integers(1, 300, 2))
        u = add_ints(f'w/random{trial}/u', rng.standard_t(3, n1) * 5, 100)
        v = add_ints(f'w/random{trial}/v', rng.standard_t(3, n2) * 4 + 1, 100)
        pairs.append((f'random {n1} x {n2}', u, v))
    return [
        {'name': name, 'u': u, 'v': v, 'distance': float(stats.wasserstein_distance(sample(u), sample(v)))}
        for name, u, v in pairs
    ]


def std_cases() -> list[dict]:
    names = ['q/single', 'q/constant', 'q/continuous2', 'q/continuous7', 'q/continuous101', 'ks/big10000', 'ks/big30000',
             'ks/ties10000', 'q/large', 'q/wide']
    names.append(add_ints('std/offset', 1e9 + rng.normal(0, 1e-3, 5_000), 10_000))
    names.append(add_values('std/cancel', [1e16, 1.0, -1e16, 3.0, 2.0**-30, 7.5]))
    for n in (8, 9, 127, 128, 129, 255, 256, 1000, 1025):
        names.append(add_values(f'std/n{n}', rng.exponential(3, n)))
    return [{'sample': name, 'std': float(np.std(sample(name)))} for name in names]


# ---------------------------------------------------------------------------------------------------------
# Chi-square


def chi2_case(name: str, counts_b, counts_c) -> dict:
    counts_b = [int(v) for v in counts_b]
    counts_c = [int(v) for v in counts_c]
    if len(counts_b) < 2:
        statistic, p_value = 0.0, 1.0  # the spec's rule for fewer than 2 categories
    else:
        statistic, p_value, _dof, _expected = stats.chi2_contingency([counts_b, counts_c], correction=False)
    return {'name': name, 'baseline': counts_b, 'current': counts_c, 'statistic': float(statistic), 'pValue': float(p_value)}


def chi2_cases() -> list[dict]:
    cases = [
        chi2_case('one category', [10], [7]),
        chi2_case('two categories', [10, 20], [20, 10]),
        chi2_case('two categories, identical proportions', [10, 20], [30, 60]),
        chi2_case('a category on one side only', [40, 0, 60], [35, 5, 60]),
        chi2_case('tiny counts', [1, 0], [0, 1]),
        chi2_case('tiny p-value', [400, 100], [100, 400]),
        chi2_case('p-value near 1e-200', [600, 400], [300, 700]),
        chi2_case('p-value underflow', [5000, 0], [0, 5000]),
        chi2_case('huge counts', [10**12, 2 * 10**12, 3 * 10**12], [10**12 + 10**6, 2 * 10**12, 3 * 10**12 - 10**6]),
        chi2_case('huge counts identical', [10**13, 10**13], [10**13, 10**13]),
    ]
    for k in (3, 5, 12, 41, 42, 60, 150, 401, 402, 1000, 3000):
        for trial in range(3):
            p = rng.dirichlet(np.full(k, 2.0))
            nb = int(rng.integers(k, 40 * k))
            nc = int(rng.integers(k, 40 * k))
            q = p if trial == 0 else rng.dirichlet(np.full(k, 2.0)) if trial == 1 else 0.8 * p + 0.2 * rng.dirichlet(np.full(k, 2.0))
            b = rng.multinomial(nb, p)
            c = rng.multinomial(nc, q)
            keep = (b + c) > 0  # scipy raises on a zero column; the drift code never has one
            cases.append(chi2_case(f'{k} categories #{trial}', b[keep], c[keep]))
    return cases


def chi2_sf_cases() -> list[list]:
    cases = []
    for dof in (1, 2, 3, 4, 5, 9, 10, 39, 40, 41, 42, 60, 100, 399, 400, 401, 402, 1000, 5000, 10**5, 10**6):
        xs = {0.0, 1e-300, 1e-10, 0.5, 1.0, 2.2, float(dof), dof * 0.7, dof * 1.3, dof * 0.69, dof * 1.31}
        xs |= {dof + k * math.sqrt(2 * dof) for k in (-4, -2, -1, -0.1, 0.1, 1, 2, 4, 6, 10, 30)}
        xs |= set(float(v) for v in np.exp(rng.uniform(np.log(1e-3), np.log(50 * dof + 2000), 12)))
        # Where the p-value is near 1e-100 and 1e-200.
        for target in (1e-100, 1e-200, 1e-300):
            xs.add(float(stats.chi2.isf(target, dof)))
        for x in sorted(v for v in xs if v >= 0 and math.isfinite(v)):
            cases.append([x, dof, float(stats.chi2.sf(x, dof))])
    return cases


def gammaincc_cases() -> list[list]:
    cases = []
    for _ in range(600):
        a = float(np.exp(rng.uniform(np.log(0.05), np.log(1e6))))
        if rng.uniform() < 0.5:
            x = abs(a * (1 + rng.normal() * min(0.5, 3 / math.sqrt(a))))
        else:
            x = float(np.exp(rng.uniform(np.log(1e-3), np.log(2e6))))
        cases.append([a, x, float(special.gammaincc(a, x))])
    return cases


# ---------------------------------------------------------------------------------------------------------


def main() -> None:
    sections = {
        'quantile': quantile_cases(),
        'ks': ks_cases(),
        'kstwo': kstwo_cases(),
        'smirnov': smirnov_cases(),
        'proportions': proportion_cases(),
        'numericBins': numeric_bins_cases(),
        'wasserstein': wasserstein_cases(),
        'std': std_cases(),
        'chi2': chi2_cases(),
        'chi2Sf': chi2_sf_cases(),
        'gammaincc': gammaincc_cases(),
    }
    document = {'generator': {'script': 'scripts/golden/stats.py', 'numpy': np.__version__, 'scipy': scipy.__version__, 'seed': SEED}}
    document.update(sections)
    document['samples'] = samples
    # One entry per line keeps the file diffable; the numbers are Python's shortest round-trip repr.
    lines = ['{']
    keys = list(document)
    for index, key in enumerate(keys):
        value = document[key]
        comma = ',' if index < len(keys) - 1 else ''
        if isinstance(value, list):
            items = [json.dumps(item, separators=(',', ':'), allow_nan=False) for item in value]
            lines.append(f'{json.dumps(key)}:[')
            lines.extend(f'{item},' if i < len(items) - 1 else item for i, item in enumerate(items))
            lines.append(f']{comma}')
        elif key == 'samples':
            names = sorted(value)
            lines.append(f'{json.dumps(key)}:{{')
            for i, name in enumerate(names):
                item = json.dumps(value[name], separators=(',', ':'), allow_nan=False)
                lines.append(f'{json.dumps(name)}:{item}' + (',' if i < len(names) - 1 else ''))
            lines.append(f'}}{comma}')
        else:
            lines.append(f'{json.dumps(key)}:{json.dumps(value, separators=(",", ":"))}{comma}')
    lines.append('}')
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text('\n'.join(lines) + '\n')
    counts = {key: len(value) for key, value in sections.items()}
    print(f'wrote {OUTPUT.relative_to(ROOT)} ({OUTPUT.stat().st_size / 1e6:.2f} MB): {counts}')


if __name__ == '__main__':
    main()
