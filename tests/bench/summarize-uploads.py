#!/usr/bin/env python3
"""Reads compare-uploads.sh's JSON lines on stdin and prints a Markdown table:
per layout and load, each server's median MB/s, files/s, p50/p99 latency and
peak RSS (and its growth over the RSS before the load) over the rounds, plus
the disk's dd rate."""
import json
import statistics
import sys
from collections import defaultdict

SERVERS = ["inlet-uploads", "inlet-uploads-interval", "inlet-uploads-swept", "inlet-uploads-s3",
           "node-seed", "aiohttp"]
LOADS = {"big": "1 × 1 GiB multipart, 1 conn", "small": "1000 × 64 KiB multipart, 8 conns",
         "put": "50 kB PUTs, 8 conns"}

runs = defaultdict(list)
disk = []
ceiling = defaultdict(list)
for line in sys.stdin:
    line = line.strip()
    if not line.startswith("{"):
        continue
    row = json.loads(line)
    if row["protocol"] == "disk":
        disk.append(row["mb_per_s"])
    elif row["protocol"] == "ceiling":
        ceiling[row["layout"]].append(row["files_per_s"])
    else:
        runs[(row["layout"], row["load"], row["label"])].append(row)

def med(rows, key):
    return statistics.median(r[key] for r in rows)

def cpu_per_file(rows, key):
    """The median CPU per stored file in ms, or "—" when not measured (or 0)."""
    values = [r[key] * 1000 / r["files"] for r in rows if r.get(key)]
    return f"{statistics.median(values):.2f}" if values else "—"

if disk:
    print(f"disk (dd bs=1M count=1024 conv=fdatasync): {statistics.median(disk):.0f} MB/s\n")
for layout, rates in ceiling.items():
    print(f"ceiling, {layout} (inlet-bench ceiling: 50 kB files, write + fsync + link + fsync folder, 8 threads): "
          f"{statistics.median(rates):,.0f} files/s [{min(rates):,.0f}–{max(rates):,.0f}]\n")
print("| layout | load | server | MB/s | files/s | p50 ms | p99 ms | peak RSS MiB | RSS growth MiB "
      "| server CPU ms/file | S3 server CPU ms/file | rounds |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
for layout in ["shared", "pinned"]:
    for load, what in LOADS.items():
        for server in SERVERS:
            rows = runs.get((layout, load, server))
            if not rows:
                continue
            rss = statistics.median((r["rss_peak_bytes"] or 0) for r in rows) / 2**20
            growth = statistics.median(
                max(0, (r["rss_peak_bytes"] or 0) - (r["rss_before_bytes"] or 0)) for r in rows) / 2**20
            cpu = cpu_per_file(rows, "server_cpu_s")
            store_cpu = cpu_per_file(rows, "store_cpu_s")
            errors = sum(r["errors"] for r in rows)
            note = f" ({errors} errors)" if errors else ""
            print(f"| {layout} | {what} | {server} | {med(rows, 'mb_per_s'):.0f} | "
                  f"{med(rows, 'files_per_s'):.1f} | {med(rows, 'p50_ms'):.1f} | "
                  f"{med(rows, 'p99_ms'):.1f} | {rss:.0f} | {growth:.0f} | {cpu} | {store_cpu} | {len(rows)}{note} |")
