#!/usr/bin/env python3
"""Turns compare-smtp.sh's JSON lines (stdin) into the markdown table of docs/smtp.md:
messages/s and p50/p99 per message for each server, size and layout, with
inlet-smtp's ratio to each peer."""
import json
import statistics
import sys
from collections import defaultdict

runs = defaultdict(list)
for line in sys.stdin:
    line = line.strip()
    if line.startswith('{'):
        r = json.loads(line)
        runs[(r['layout'], r['message_bytes'], r['label'])].append(r)


def med(key, field):
    values = [r[field] for r in runs.get(key, [])]
    return statistics.median(values) if values else None


print('| layout | message | inlet-smtp msgs/s | p50 / p99 ms | node-seed msgs/s | p50 / p99 ms | aiosmtpd msgs/s | p50 / p99 ms | × node | × aiosmtpd |')
print('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
for layout in ('shared', 'pinned'):
    for size in (4096, 102400):
        cells, rates = [], {}
        for name in ('inlet-smtp', 'node-seed', 'aiosmtpd'):
            key = (layout, size, name)
            rate = med(key, 'msgs_per_s')
            rates[name] = rate
            cells.append('—' if rate is None else f'{rate:,.0f}')
            p50, p99 = med(key, 'p50_ms'), med(key, 'p99_ms')
            cells.append('—' if p50 is None else f'{p50:.2f} / {p99:.2f}')
        if rates['inlet-smtp'] is None:
            continue
        ratio = lambda peer: '—' if not rates[peer] else f"{rates['inlet-smtp'] / rates[peer]:.2f}×"
        label = f'{size // 1024} KiB'
        print(f"| {layout} | {label} | " + ' | '.join(cells) + f" | {ratio('node-seed')} | {ratio('aiosmtpd')} |")
