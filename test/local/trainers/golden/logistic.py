"""Golden values for test/local/trainers/logistic.test.ts, from scikit-learn 1.2.

A small seeded dataset with numeric and categorical columns (and a few missing values), encoded the way
local/trainers/encoding.ts does it (numeric: standardised with the population std, missing -> mean;
categorical: one-hot over levels sorted by count desc then code point, missing -> all zeros), and fitted
with LogisticRegression(C = 1 / (n * l2)), whose objective equals the trainer's
mean log loss + l2/2 * ||w||^2 up to the factor n.

Run from the repository root:  /usr/bin/python3 test/local/trainers/golden/logistic.py
"""

import io
import json
import pathlib

import numpy as np
import pandas as pd
import sklearn
from sklearn.linear_model import LogisticRegression

rng = np.random.default_rng(20240611)
n = 300
x1 = rng.normal(50, 10, n)
x2 = rng.exponential(2.0, n)
plan = rng.choice(["basic", "plus", "pro"], size=n, p=[0.5, 0.3, 0.2])
margin = -1 + 0.08 * (x1 - 50) - 0.6 * (x2 - 2) + np.select([plan == "plus", plan == "pro"], [0.8, -1.2], 0)
y = (rng.random(n) < 1 / (1 + np.exp(-margin))).astype(int)
frame = pd.DataFrame({"x1": np.round(x1, 3), "x2": np.round(x2, 3), "plan": plan, "label": np.where(y == 1, "yes", "no")})
frame.loc[[3, 17, 101], "x1"] = np.nan
frame.loc[[5, 250], "plan"] = None
csv = frame.to_csv(index=False)

data = pd.read_csv(io.StringIO(csv), keep_default_na=True)
columns = []
names = []
for name in ["x1", "x2"]:
    values = data[name]
    mean = values.mean()
    std = values.std(ddof=0)
    columns.append(((values - mean) / std).fillna(0.0).to_numpy())
    names.append(name)
counts = data["plan"].value_counts()
levels = sorted(counts.index, key=lambda level: (-counts[level], level))
for level in levels:
    columns.append((data["plan"] == level).astype(float).to_numpy())
    names.append(f"plan={level}")
X = np.column_stack(columns)
labels = (data["label"] == "yes").astype(int).to_numpy()

cases = []
for l2 in [0.01, 0.1]:
    model = LogisticRegression(C=1 / (n * l2), solver="newton-cg", tol=1e-8, max_iter=10_000).fit(X, labels)
    cases.append(
        {
            "l2": l2,
            "weights": model.coef_[0].tolist(),
            "intercept": float(model.intercept_[0]),
            "firstProbabilities": model.predict_proba(X[:5])[:, 1].tolist(),
        }
    )

out = pathlib.Path(__file__).with_name("logistic.json")
out.write_text(
    json.dumps({"generator": f"scikit-learn {sklearn.__version__}", "csv": csv, "encodedNames": names, "cases": cases}, indent=2)
    + "\n"
)
print(f"wrote {out}")
