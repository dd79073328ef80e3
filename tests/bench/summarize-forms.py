#!/usr/bin/env python3
"""Reads compare-forms.sh's JSON lines on stdin; prints one Markdown table per
layout: req/s and p99 of every server (the median over rounds, and the
rounds' range when there are several), and inlet-forms against the Node seed
(and, when it ran, inlet-forms-postgres against the journal);
then, where the runs carry the server's CPU time, a table of CPU microseconds
per request (median over rounds), which does not follow the disk's fsync
latency the way req/s does."""
import json
import statistics
import sys

runs = [json.loads(line) for line in sys.stdin if line.startswith("{")]
servers = []
for run in runs:
    if run["target"] not in servers:
        servers.append(run["target"])
pg = int("inlet-forms-postgres" in servers)
for layout in dict.fromkeys(r["layout"] for r in runs):
    print(f"\n**{layout}**\n")
    head = "| mix | conns | " + " | ".join(f"{s} req/s (p99 ms)" for s in servers)
    head += " | always × node | interval × node |" + (" postgres × journal |" if pg else "")
    print(head)
    print("|---|---:|" + "---:|" * (len(servers) + 2 + pg))
    keys = dict.fromkeys((r["mix"], r["connections"]) for r in runs if r["layout"] == layout)
    for mix, conns in keys:
        by = {}
        spread = {}
        for s in servers:
            mine = [r for r in runs if r["target"] == s and r["layout"] == layout
                    and r["mix"] == mix and r["connections"] == conns]
            if mine:
                rates = [r["req_per_s"] for r in mine]
                by[s] = {"req_per_s": statistics.median(rates),
                         "p99_ms": statistics.median(r["p99_ms"] for r in mine)}
                spread[s] = f" [{min(rates) / 1000:.1f}–{max(rates) / 1000:.1f}k]" if len(mine) > 1 else ""
        cells = []
        for s in servers:
            r = by.get(s)
            cells.append(f"{r['req_per_s']:,.0f} ({r['p99_ms']:.1f}){spread[s]}" if r else "–")
        node = by.get("node-seed", {}).get("req_per_s")
        ratio = lambda s: f"{by[s]['req_per_s'] / node:.2f}×" if node and s in by else "–"
        journal = by.get("inlet-forms", {}).get("req_per_s")
        pg_cell = ""
        if pg:
            pg_rate = by.get("inlet-forms-postgres", {}).get("req_per_s")
            pg_cell = f" {pg_rate / journal:.2f}× |" if pg_rate and journal else " – |"
        print(f"| {mix} | {conns} | " + " | ".join(cells)
              + f" | {ratio('inlet-forms')} | {ratio('inlet-forms-interval')} |" + pg_cell)

    if not any("server_cpu_s" in r for r in runs if r["layout"] == layout):
        continue
    print(f"\nCPU per request, {layout} (µs, user + system of every server thread; lower is better)\n")
    print("| mix | conns | " + " | ".join(servers) + " | always × node | interval × node |")
    print("|---|---:|" + "---:|" * (len(servers) + 2))
    for mix, conns in keys:
        cpu = {}
        for s in servers:
            mine = [r for r in runs if r["target"] == s and r["layout"] == layout
                    and r["mix"] == mix and r["connections"] == conns
                    and "server_cpu_s" in r and r["requests"] > 0]
            if mine:
                cpu[s] = statistics.median(r["server_cpu_s"] * 1e6 / r["requests"] for r in mine)
        node = cpu.get("node-seed")
        ratio = lambda s: f"{cpu[s] / node:.2f}×" if node and s in cpu else "–"
        cells = [f"{cpu[s]:.1f}" if s in cpu else "–" for s in servers]
        print(f"| {mix} | {conns} | " + " | ".join(cells)
              + f" | {ratio('inlet-forms')} | {ratio('inlet-forms-interval')} |")
