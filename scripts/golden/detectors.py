#!/usr/bin/env python3
"""Golden streams for the concept-drift detectors (lambdas/core/concept-drift), from River's documentation.

    /usr/bin/python3 scripts/golden/detectors.py

Writes test/fixtures/golden/detectors.json. River itself is not installed here (no PyPI), so the expected
detections are the outputs River prints in the examples of its documentation (riverml.xyz, `river.drift`
ADWIN 0.13-0.19, PageHinkley with `mode="both"`, `drift.binary.DDM`), and this script regenerates the very
streams those examples feed, with Python's own `random` (Mersenne Twister; `choices` is stable across
Python 3 versions), so the TypeScript test replays them bit for bit.

Each stream is stored as a string of digits (every value is a single digit 0-9).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

OUT = Path(__file__).resolve().parents[2] / "test" / "fixtures" / "golden" / "detectors.json"


def digits(values: list[int]) -> str:
    assert all(0 <= v <= 9 for v in values)
    return "".join(str(v) for v in values)


def main() -> None:
    # river.drift.ADWIN and river.drift.PageHinkley examples: 1000 values from {0, 1}, then 1000 from {4..7}.
    rng = random.Random(12345)
    two_distributions = rng.choices([0, 1], k=1000) + rng.choices(range(4, 8), k=1000)
    # river.drift.binary.DDM example: error rate 0.5 for 1000 values, then 0.7.
    rng = random.Random(42)
    error_rate_rise = rng.choices([0, 1], k=1000) + rng.choices([0, 1], k=1000, weights=[0.3, 0.7])
    cases = [
        {
            "name": "ADWIN, River's example (0/1 then 4..7)",
            "method": "adwin",
            "stream": digits(two_distributions),
            "detections": [1023],
        },
        {
            "name": "Page-Hinkley (both directions), River's example (0/1 then 4..7)",
            "method": "page-hinkley",
            "stream": digits(two_distributions),
            "detections": [1006],
        },
        {
            "name": "DDM, River's example (error rate 0.5 then 0.7)",
            "method": "ddm",
            "stream": digits(error_rate_rise),
            "detections": [1334],
            # River prints the first warning of each warning period: 1084 before the drift, 1492 after it.
            "firstWarnings": [1084, 1492],
        },
    ]
    OUT.write_text(json.dumps({"source": "River documentation examples", "cases": cases}, indent=1) + "\n")


if __name__ == "__main__":
    main()
