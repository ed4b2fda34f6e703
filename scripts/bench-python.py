#!/usr/bin/env python3
"""The Python package against the command line on one capture, one thread each: `shakedown -j 1
--json CAPTURE > /dev/null` (and `--parquet`) next to `shakedown.analyze_table(CAPTURE, jobs=1)`
and `list(shakedown.analyze(CAPTURE, jobs=1))`, taking turns for RUNS rounds (warm page cache);
each one's fastest round counts, by wall time and by CPU time (the CPU time is steadier on a shared
machine). Run it with the Python that has the package installed (`pip install ./python`).

    python3 scripts/bench-python.py CAPTURE [SHAKEDOWN_BINARY] [RUNS]

A capture of the wanted size comes from the deterministic generator:
    cargo run --release -p shakedown-benches --bin shakedown-gen -- --seed 1 --size 1G -o /tmp/gen.pcap
"""

import os
import resource
import subprocess
import sys
import tempfile
import time

import shakedown


def cli(binary, *args):
    def run():
        subprocess.run([binary, "-j", "1", *args], stdout=subprocess.DEVNULL, check=False)

    return run


def timed(run):
    """(wall, CPU) seconds of one run: this process's and its children's CPU time."""
    before = os.times()
    start = time.perf_counter()
    run()
    wall = time.perf_counter() - start
    after = os.times()
    cpu = sum(after[:4]) - sum(before[:4])
    return wall, cpu


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    capture = sys.argv[1]
    binary = sys.argv[2] if len(sys.argv) > 2 else "target/release/shakedown"
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    size = os.path.getsize(capture)
    with open(capture, "rb") as f:  # warm the page cache
        while f.read(1 << 24):
            pass
    parquet = os.path.join(tempfile.mkdtemp(), "bench.parquet")
    rows = shakedown.analyze_table(capture, jobs=1).num_rows
    contenders = {
        "shakedown -j 1 --json": cli(binary, "--json", capture),
        "shakedown -j 1 --parquet": cli(binary, "--parquet", parquet, capture),
        "analyze_table(jobs=1)": lambda: shakedown.analyze_table(capture, jobs=1),
        "list(analyze(jobs=1))": lambda: list(shakedown.analyze(capture, jobs=1)),
    }
    best = {name: (float("inf"), float("inf")) for name in contenders}
    for _ in range(runs):
        for name, run in contenders.items():
            wall, cpu = timed(run)
            best[name] = (min(best[name][0], wall), min(best[name][1], cpu))
    os.remove(parquet)
    print(f"{capture}: {size / 1e6:.0f} MB, {rows} connections, best of {runs} rounds")
    base_wall, base_cpu = best["shakedown -j 1 --json"]
    for name, (wall, cpu) in best.items():
        print(
            f"  {name:26} {size / 1e6 / wall:7.0f} MB/s  wall {wall:6.3f} s ({wall / base_wall:4.2f}x)"
            f"  CPU {cpu:6.3f} s ({cpu / base_cpu:4.2f}x)"
        )


if __name__ == "__main__":
    main()
