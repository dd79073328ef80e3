#!/usr/bin/env python3
"""How long inlet-forms takes to start on a journal of N records.

For each N: writes N records (about 190 bytes each, like a small form post)
as segment files of store.segment_bytes, starts the service once so it builds
the segments' indexes, then times start-ups from spawn to the first
`/readyz` 200, with the page cache warm and (when this user may drop it)
cold. Prints one line per N, and the journal's own `elapsed_ms` log figure.

    cargo build --release -p inlet-forms
    python3 tests/bench/forms-startup.py target/release/inlet-forms 10000 10000000
"""

import http.client
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

SEGMENT_BYTES = 64 * 1024 * 1024
RUNS = 5


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_journal(forms_dir, records):
    journal = os.path.join(forms_dir, "journal")
    os.makedirs(journal)
    serial, size, out = 0, SEGMENT_BYTES, None
    chunk = []
    for n in range(records):
        line = (
            '{"id":"00000000-0000-7000-8000-%012x","received_at":"2026-11-26T10:00:00.000000Z",'
            '"content_type":"application/x-www-form-urlencoded",'
            '"fields":{"userinput1":"hello %d","userinput2":"world"}}\n' % (n, n)
        ).encode()
        if size + len(line) > SEGMENT_BYTES:
            if out:
                out.write(b"".join(chunk))
                out.close()
            chunk = []
            serial += 1
            size = 0
            out = open(os.path.join(journal, "%010d.jsonl" % serial), "wb")
        chunk.append(line)
        size += len(line)
        if len(chunk) >= 20000:
            out.write(b"".join(chunk))
            chunk = []
    out.write(b"".join(chunk))
    out.close()
    return serial


def drop_caches():
    try:
        subprocess.run(["sync"], check=True)
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
        return True
    except OSError:
        return False


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def start_once(binary, data_dir, log_path):
    """Seconds from spawn to /readyz 200, the logged elapsed_ms, RSS at ready."""
    port, admin_port = free_port(), free_port()
    # /readyz is asked on the admin listener, where it needs no credential.
    env = dict(
        os.environ,
        INLET_DATA_DIR=data_dir,
        INLET_LISTEN="127.0.0.1:%d" % port,
        INLET_ADMIN_LISTEN="127.0.0.1:%d" % admin_port,
    )
    env.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
    with open(log_path, "w") as log:
        started = time.monotonic()
        proc = subprocess.Popen([binary], env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = started + 600
            while True:
                if proc.poll() is not None:
                    raise SystemExit("inlet-forms exited; see " + log_path)
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", admin_port, timeout=1)
                    conn.request("GET", "/readyz")
                    if conn.getresponse().status == 200:
                        ready = time.monotonic() - started
                        break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit("not ready in 600 s")
                time.sleep(0.001)
            rss = rss_kib(proc.pid)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)
    text = open(log_path).read()
    logged = re.search(r"elapsed_ms[=:\" ]*(\d+)", text)
    return ready, int(logged.group(1)) if logged else None, rss


def main():
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    binary = os.path.abspath(sys.argv[1])
    can_drop = drop_caches()
    print("records     segments  first start  warm (median)  cold (median)  journal log  RSS at ready")
    for records in map(int, sys.argv[2:]):
        work = tempfile.mkdtemp(prefix="forms-startup.", dir=os.environ.get("BENCH_DIR"))
        try:
            segments = write_journal(os.path.join(work, "forms"), records)
            log = os.path.join(work, "forms.log")
            first, _, _ = start_once(binary, work, log)
            warm = [start_once(binary, work, log) for _ in range(RUNS)]
            cold = []
            if can_drop:
                for _ in range(3):
                    drop_caches()
                    cold.append(start_once(binary, work, log)[0])
            print(
                "%-11d %-9d %8.3f s   %9.3f s    %12s   %6s ms    %d MiB"
                % (
                    records,
                    segments,
                    first,
                    statistics.median(r[0] for r in warm),
                    ("%.3f s" % statistics.median(cold)) if cold else "n/a",
                    statistics.median(r[1] for r in warm if r[1] is not None),
                    statistics.median(r[2] for r in warm) // 1024,
                ),
                flush=True,
            )
        finally:
            shutil.rmtree(work)


if __name__ == "__main__":
    main()
