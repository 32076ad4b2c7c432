#!/usr/bin/env python3
"""Golden values for Benjamini-Hochberg (lambdas/core/stats/fdr.ts), from statsmodels.

    /usr/bin/python3 scripts/golden/fdr.py

Writes test/fixtures/golden/fdr.json: for each case, the raw p-values, and what
`statsmodels.stats.multitest.multipletests(p, alpha, method="fdr_bh")` returns: the adjusted p-values and
which hypotheses it rejects at `alpha`. Debian's scipy 1.10 predates `scipy.stats.false_discovery_control`,
so statsmodels (`apt-get install python3-statsmodels`) is the reference. Deterministic (fixed seed).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import statsmodels
from statsmodels.stats.multitest import multipletests

OUT = Path(__file__).resolve().parents[2] / 'test' / 'fixtures' / 'golden' / 'fdr.json'


def cases() -> list[tuple[str, list[float], float]]:
    rng = np.random.default_rng(16)
    out: list[tuple[str, list[float], float]] = [
        ('one p-value', [0.03], 0.05),
        ('textbook (Benjamini & Hochberg 1995, 15 tests)',
         [0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459, 0.324, 0.4262, 0.5719,
          0.6528, 0.759, 1.0], 0.05),
        ('ties and exact zeros and ones', [0.0, 0.0, 0.01, 0.01, 0.01, 0.5, 1.0, 1.0], 0.05),
        ('unsorted, step-up rescues a larger p', [0.04, 0.041, 0.042, 0.043, 0.9], 0.05),
        ('nothing significant', [0.2, 0.5, 0.8, 0.3], 0.05),
        ('at q = 0.1', [0.001, 0.02, 0.03, 0.04, 0.05, 0.2], 0.1),
    ]
    for size in (12, 72, 500):
        null = rng.uniform(size=size)
        signal = rng.uniform(size=size // 6) * 1e-4
        p = np.concatenate([null, signal])
        rng.shuffle(p)
        out.append((f'{size} nulls and {size // 6} signals', [float(x) for x in p], 0.05))
    return out


def main() -> None:
    records = []
    for name, p, alpha in cases():
        reject, adjusted, _, _ = multipletests(np.array(p), alpha=alpha, method='fdr_bh')
        records.append({'name': name, 'alpha': alpha, 'pValues': p,
                        'adjusted': [float(x) for x in adjusted], 'reject': [bool(x) for x in reject]})
    document = {'generator': f'statsmodels {statsmodels.__version__}, numpy {np.__version__}',
                'cases': records}
    OUT.write_text(json.dumps(document, indent=1, sort_keys=True) + '\n')
    print(f'wrote {OUT} ({len(records)} cases)')


if __name__ == '__main__':
    main()
