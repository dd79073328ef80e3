#!/usr/bin/env python3
"""Reads compare-forms.sh's JSON lines on stdin; prints one Markdown table per
layout: req/s and p99 of every server, and inlet-forms against the Node seed."""
import json
import sys

runs = [json.loads(line) for line in sys.stdin if line.startswith("{")]
servers = []
for run in runs:
    if run["target"] not in servers:
        servers.append(run["target"])
for layout in dict.fromkeys(r["layout"] for r in runs):
    print(f"\n**{layout}**\n")
    head = "| mix | conns | " + " | ".join(f"{s} req/s (p99 ms)" for s in servers)
    head += " | always × node | interval × node |"
    print(head)
    print("|---|---:|" + "---:|" * (len(servers) + 2))
    keys = dict.fromkeys((r["mix"], r["connections"]) for r in runs if r["layout"] == layout)
    for mix, conns in keys:
        by = {r["target"]: r for r in runs
              if r["layout"] == layout and r["mix"] == mix and r["connections"] == conns}
        cells = []
        for s in servers:
            r = by.get(s)
            cells.append(f"{r['req_per_s']:,.0f} ({r['p99_ms']:.1f})" if r else "–")
        node = by.get("node-seed", {}).get("req_per_s")
        ratio = lambda s: f"{by[s]['req_per_s'] / node:.2f}×" if node and s in by else "–"
        print(f"| {mix} | {conns} | " + " | ".join(cells)
              + f" | {ratio('inlet-forms')} | {ratio('inlet-forms-interval')} |")
