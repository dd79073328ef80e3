#!/usr/bin/env python3
"""Reads compare-builds.sh's JSON lines on stdin; prints, per build, the
median throughput, p99, peak RSS and server CPU per request over the rounds."""
import json
import statistics
import sys

runs = [json.loads(line) for line in sys.stdin if line.startswith("{")]
print("| build | binary | per second | p99 ms | peak RSS MiB | CPU µs/request | rounds |")
print("|---|---|---:|---:|---:|---:|---:|")
for build in dict.fromkeys(r["build"] for r in runs):
    mine = [r for r in runs if r["build"] == build]
    # Files for uploads; round trips or messages (rate × time) otherwise.
    done = lambda r: max(r.get("files") or r.get("msgs_per_s", 0) * r["seconds"], 1)
    rate = statistics.median(done(r) / r["seconds"] for r in mine)
    p99 = statistics.median(r["p99_ms"] for r in mine)
    rss = statistics.median((r.get("rss_peak_bytes") or 0) for r in mine) / 2**20
    cpu = statistics.median(r["server_cpu_s"] * 1e6 / done(r) for r in mine)
    print(f"| {build} | {mine[0]['binary'].rsplit('/', 1)[-1]} | {rate:,.0f} | {p99:.1f} | {rss:.1f} | {cpu:.1f} | {len(mine)} |")
