#!/usr/bin/env python3
"""The event feed's benchmark table (docs/gateway.md) from the JSON lines of
tests/bench/compare-feed.sh on stdin: medians over rounds, per load, layout
and backend."""
import json
import statistics
import sys
from collections import defaultdict

runs = defaultdict(list)
for line in sys.stdin:
    line = line.strip()
    if line.startswith("{"):
        run = json.loads(line)
        runs[(run["load"], run["layout"], run["backend"])].append(run)


def median(values):
    return statistics.median(values) if values else float("nan")


print("| load | layout | backend | posts/s | published / dropped | deliveries/s | p50 ms | p99 ms | missing (sampled) / short subscribers | server CPU ms per 1000 posts |")
print("|---|---|---|---|---|---|---|---|---|---|")
for (load, layout, backend), group in sorted(runs.items()):
    if load == "publish":
        posts = median([r["requests"] for r in group])
        rate = median([r["req_per_s"] for r in group])
        published = median([r["published"] for r in group])
        dropped = median([r["dropped"] for r in group])
        cpu = median([r["server_cpu_s"] * 1e6 / max(r["requests"], 1) for r in group])
        print(f"| publish | {layout} | {backend} | {rate:,.0f} | {published:,.0f} / {dropped:,.0f} of {posts:,.0f} | | | | | {cpu:,.0f} |")
    else:
        rate = median([r["posts_per_s"] for r in group])
        deliveries = median([r["deliveries_per_s"] for r in group])
        p50 = median([r["p50_ms"] for r in group])
        p99 = median([r["p99_ms"] for r in group])
        missing = median([r["missing"] for r in group])
        short = median([r.get("short_subscribers", 0) for r in group])
        cpu = median([r["server_cpu_s"] * 1e6 / max(r["posts"], 1) for r in group])
        print(f"| fanout (1000 subscribers) | {layout} | {backend} | {rate:,.0f} | | {deliveries:,.0f} | {p50:.1f} | {p99:.1f} | {missing:.0f} / {short:.0f} | {cpu:,.0f} |")
print(f"\n{sum(len(g) for g in runs.values())} runs; medians over rounds.")
