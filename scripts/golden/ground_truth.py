#!/usr/bin/env python3
"""Golden values for `driftwatch evaluate CAPTURE --ground-truth GT` (lambdas/core/performance/ground-truth.ts):
SageMaker Data Capture files and delayed labels, joined with pandas and evaluated with scikit-learn 1.2.

    /usr/bin/python3 scripts/golden/ground_truth.py

Writes test/fixtures/ground-truth/churn/:
    capture/<endpoint>/<variant>/yyyy/mm/dd/hh/*.jsonl   2,000 churn rows as captured requests of 1 to 3 rows
    ground-truth/yyyy/mm/dd/hh/*.jsonl                   SageMaker ground-truth records (CSV, JSON, BASE64)
    ground-truth/extra/labels.csv                        a label table: inferenceId, label, labelTime
    args.json, expected.json                             the flags and the report of the reference join

The reference join (Model Monitor's rule): a captured row's id is its record's inferenceId when it has one,
else its eventId; a ground-truth record labels the rows of its request in order; the last label of a
duplicated id wins, by file order (files without the yyyy/mm/dd/hh layout first, by path, then the others by
that layout), then by line. Deterministic: a rerun writes identical bytes.
"""

from __future__ import annotations

import base64
import json
import shutil
import sys
import uuid
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import performance as perf  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / 'test' / 'fixtures' / 'ground-truth' / 'churn'
SEED = 20261207
ROWS = 2000
START = pd.Timestamp('2026-12-07T00:00:00Z')


def main() -> int:
    rng = np.random.default_rng(SEED)
    data = pd.read_csv(ROOT / 'test' / 'fixtures' / 'performance' / 'churn' / 'churn.csv', dtype=str,
                       keep_default_na=False).iloc[:ROWS]
    minutes = pd.read_csv(ROOT / 'test' / 'fixtures' / 'data' / 'mlc_churn.csv', dtype=str,
                          keep_default_na=False)['total_day_minutes'].iloc[:ROWS].to_numpy()
    if OUT.exists():
        shutil.rmtree(OUT)
    ids = lambda: str(uuid.UUID(bytes=rng.bytes(16), version=4))  # noqa: E731

    # Captured requests: 1 to 3 rows each; every other request carries an inferenceId.
    requests = []
    at = 0
    while at < ROWS:
        size = int(rng.integers(1, 4))
        rows = list(range(at, min(at + size, ROWS)))
        at += size
        n = len(requests)
        time = START + pd.Timedelta(seconds=int(n * 7))
        requests.append({'rows': rows, 'eventId': ids(), 'inferenceId': ids() if n % 2 == 0 else None,
                         'time': time})
    captured = []  # one entry per row: id, record index, row in record
    files: dict[Path, list[str]] = {}
    for n, request in enumerate(requests):
        variant = 'AllTraffic' if n % 3 else 'Canary'
        time: pd.Timestamp = request['time']
        path = (OUT / 'capture' / 'churn-endpoint' / variant / time.strftime('%Y/%m/%d/%H') /
                f"{time.minute // 10 * 10:02d}-00-000-{variant.lower()}.jsonl")
        metadata = {'eventId': request['eventId'], 'inferenceTime': time.strftime('%Y-%m-%dT%H:%M:%SZ')}
        if request['inferenceId'] is not None:
            metadata['inferenceId'] = request['inferenceId']
        record = {
            'captureData': {
                'endpointInput': {'observedContentType': 'text/csv', 'mode': 'INPUT', 'encoding': 'CSV',
                                  'data': '\n'.join(f"{data['area_code'].iat[r]},{minutes[r]}"
                                                    for r in request['rows'])},
                'endpointOutput': {'observedContentType': 'text/csv', 'mode': 'OUTPUT', 'encoding': 'CSV',
                                   'data': '\n'.join(data['score'].iat[r] for r in request['rows'])},
            },
            'eventMetadata': metadata,
            'eventVersion': '0',
        }
        files.setdefault(path, []).append(json.dumps(record))
        key = request['inferenceId'] or request['eventId']
        for k, r in enumerate(request['rows']):
            captured.append({'row': r, 'id': key, 'k': k, 'time': time})
    for path, lines in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text('\n'.join(lines) + '\n', encoding='utf-8')

    # Labels: ~70% of requests in SageMaker records over two hourly files, 40 of them labelled again in the
    # second file with the opposite label (the last wins), 25 labels of predictions never captured, one bad
    # record; 10% more of the requests in a label table with the time the label was known.
    order = rng.permutation(len(requests))
    sagemaker = sorted(order[: int(0.7 * len(requests))])
    table = sorted(order[int(0.7 * len(requests)): int(0.8 * len(requests))])
    flip = set(int(i) for i in rng.choice(sagemaker, 40, replace=False))
    truth = data['churn'].to_numpy()
    other = {'yes': 'no', 'no': 'yes'}

    def gt_record(n: int, labels: list[str], style: int) -> str:
        request = requests[n]
        key = request['inferenceId'] or request['eventId']
        if style == 0:
            payload = {'data': '\n'.join(labels), 'encoding': 'CSV'}
        elif style == 1:
            payload = {'data': json.dumps(labels if len(labels) > 1 else labels[0]), 'encoding': 'JSON'}
        else:
            payload = {'data': base64.b64encode(','.join(labels).encode()).decode(), 'encoding': 'BASE64'}
        return json.dumps({'groundTruthData': payload, 'eventMetadata': {'eventId': key}, 'eventVersion': '0'})

    first, second = [], []
    final: dict[str, list[str]] = {}
    for i, n in enumerate(sagemaker):
        labels = [truth[r] for r in requests[n]['rows']]
        key = requests[n]['inferenceId'] or requests[n]['eventId']
        if n in flip:
            first.append(gt_record(n, [other[v] for v in labels], i % 3))
            second.append(gt_record(n, labels, (i + 1) % 3))
        else:
            (first if i % 2 else second).append(gt_record(n, labels, i % 3))
        final[key] = labels
    for _ in range(25):
        second.append(json.dumps({'groundTruthData': {'data': 'yes', 'encoding': 'CSV'},
                                  'eventMetadata': {'eventId': ids()}, 'eventVersion': '0'}))
    bad_line = 17
    first.insert(bad_line - 1, json.dumps({'groundTruthData': {'data': '!!!', 'encoding': 'BASE64'},
                                           'eventMetadata': {'eventId': ids()}, 'eventVersion': '0'}))
    gt = OUT / 'ground-truth'
    (gt / '2026/12/07/00').mkdir(parents=True)
    (gt / '2026/12/07/03').mkdir(parents=True)
    (gt / '2026/12/07/00/labels-1.jsonl').write_text('\n'.join(first) + '\n', encoding='utf-8')
    (gt / '2026/12/07/03/labels-2.jsonl').write_text('\n'.join(second) + '\n', encoding='utf-8')
    (gt / 'extra').mkdir()
    table_rows = []
    delays = []
    for n in table:
        request = requests[n]
        if len(request['rows']) != 1:
            continue  # a label table has one label per id: one-row requests only
        key = request['inferenceId'] or request['eventId']
        delay = int(rng.integers(600, 3 * 86400))
        known = request['time'] + pd.Timedelta(seconds=delay)
        table_rows.append({'inferenceId': key, 'label': truth[request['rows'][0]],
                           'labelTime': known.strftime('%Y-%m-%dT%H:%M:%SZ')})
        final[key] = [truth[request['rows'][0]]]
        delays.append(delay)
    pd.DataFrame(table_rows).to_csv(gt / 'extra' / 'labels.csv', index=False)

    # The reference join and evaluation.
    frame = pd.DataFrame({
        'score': data['score'].to_numpy(),
        'area_code': data['area_code'].to_numpy(),
        'churn': [final[c['id']][c['k']] if c['id'] in final and c['k'] < len(final[c['id']]) else ''
                  for c in sorted(captured, key=lambda c: c['row'])],
    })
    args = ['--label', 'churn', '--score', 'score', '--positive', 'yes', '--segment', 'area_code']
    report = perf.evaluate(frame, perf.parse_args(args), 'joined')
    joined = int((frame['churn'] != '').sum())
    delays_arr = np.array(delays, dtype=np.float64)
    report['groundTruth'] = {
        'captured': ROWS,
        'joined': joined,
        'coverage': joined / ROWS,
        'uncaptured': 25,
        'duplicates': len(flip),
        'badRecords': 1,
        'firstBadRecord': {'file': 'ground-truth/2026/12/07/00/labels-1.jsonl', 'line': bad_line,
                           'reason': 'groundTruthData.data: undecodable base64'},
        'delaySeconds': {'count': len(delays), 'p50': float(np.percentile(delays_arr, 50)),
                         'p90': float(np.percentile(delays_arr, 90)), 'max': float(delays_arr.max())},
    }
    args_doc = {
        'description': 'mlc_churn scores as 2,000 captured rows (requests of 1 to 3 rows, every other with an '
                       'inferenceId, two variants) and delayed labels: SageMaker records in CSV, JSON and base64, '
                       f'{len(flip)} duplicated with the opposite label first, 25 for predictions never captured, '
                       'one bad record, and a label table with label times.',
        'capture': 'capture',
        'groundTruth': 'ground-truth',
        'args': args + ['--capture-features', 'area_code,total_day_minutes', '--ground-truth-time', 'labelTime'],
    }
    (OUT / 'args.json').write_text(json.dumps(args_doc, indent=2) + '\n', encoding='utf-8')
    (OUT / 'expected.json').write_text(json.dumps(report, indent=2) + '\n', encoding='utf-8')
    print(f"{OUT.relative_to(ROOT)}: {ROWS} captured, {joined} joined, accuracy "
          f"{report['metrics']['accuracy']:.4f}, duplicates {len(flip)}, delays {len(delays)}")
    return 0


if __name__ == '__main__':
    sys.exit(main())
