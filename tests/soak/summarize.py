#!/usr/bin/env python3
"""Reads tests/soak/run.sh's JSON lines on stdin and prints a Markdown table:
per service, RSS / descriptors / threads at the start, after the warm-up and
at the end, and the largest later value; then the verdict."""
import json
import sys

samples, verdict = [], None
for line in sys.stdin:
    line = line.strip()
    if not line.startswith("{"):
        continue
    value = json.loads(line)
    if "service" in value:
        samples.append(value)
    elif "passed" in value:
        verdict = value

if not samples:
    sys.exit("no samples")
last_second = max(s["second"] for s in samples)
warmup = (verdict["minutes"] * 60 / 5) if verdict else last_second / 5
print("| service | measure | first | after warm-up | max later | last |")
print("|---|---|---:|---:|---:|---:|")
for service in sorted({s["service"] for s in samples}):
    mine = [s for s in samples if s["service"] == service]
    base = [s for s in mine if s["second"] <= warmup][-1]
    later = [s for s in mine if s["second"] > warmup] or [base]
    for measure in ("rss_kib", "fds", "threads"):
        print(f"| {service} | {measure} | {mine[0][measure]} | {base[measure]} | "
              f"{max(s[measure] for s in later)} | {mine[-1][measure]} |")
if verdict:
    print()
    print(f"{verdict['minutes']} min: {verdict['posts']} posts, {verdict['uploads']} uploads, "
          f"{verdict['echoes']} echoes, {verdict['events_seen']} events seen, {verdict['mails']} mails; "
          f"{verdict['failed_requests']} failed, {verdict['missing_items']} missing; "
          f"{'passed' if verdict['passed'] else 'FAILED'}")
