#!/usr/bin/env python3
"""Turns compare-ws.sh's JSON lines (stdin) into the markdown tables of docs/gateway.md:
round trips per second and RTT for each server, connection count and layout,
with inlet-gateway's ratio to each peer, and the fan-out rate."""
import json
import statistics
import sys
from collections import defaultdict

runs = defaultdict(list)
for line in sys.stdin:
    line = line.strip()
    if not line.startswith('{'):
        continue
    r = json.loads(line)
    runs[(r['layout'], r['load'], r['connections'], r.get('pipeline', 0), r['label'])].append(r)


def med(key, field):
    values = [r[field] for r in runs.get(key, [])]
    return statistics.median(values) if values else None


def fmt(value, digits=0):
    return '—' if value is None else f'{value:,.{digits}f}'


for layout in ('shared', 'pinned'):
    print(f'\n**{layout}**\n')
    print('| load | conns | in flight | inlet-gateway msgs/s | p50 / p99 ms | node-seed msgs/s | p50 / p99 ms | aiohttp msgs/s | p50 / p99 ms | × node | × aiohttp |')
    print('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
    pipelines = sorted({k[3] for k in runs if k[1] in ('hello', 'echo')})
    for load, pipeline, conns in [(l, p, c) for l in ('hello', 'echo') for p in pipelines for c in (20, 100, 1000)]:
            cells = []
            rates = {}
            for name in ('inlet-gateway', 'node-seed', 'aiohttp'):
                key = (layout, load, conns, pipeline, name)
                rate = med(key, 'msgs_per_s')
                rates[name] = rate
                cells.append(fmt(rate))
                p50, p99 = med(key, 'p50_ms'), med(key, 'p99_ms')
                cells.append('—' if p50 is None else f'{p50:.2f} / {p99:.2f}')
            ratio = lambda peer: '—' if not rates[peer] or not rates['inlet-gateway'] else f"{rates['inlet-gateway'] / rates[peer]:.2f}×"
            if rates['inlet-gateway'] is None:
                continue
            print(f"| {load} | {conns} | {pipeline} | " + ' | '.join(cells) + f" | {ratio('node-seed')} | {ratio('aiohttp')} |")
    fan = med((layout, 'fanout', 1000, 0, 'inlet-gateway'), 'deliveries_per_s')
    if fan is not None:
        print(f'\nFan-out, 1000 subscribers: **{fmt(fan)} deliveries/s**.')
