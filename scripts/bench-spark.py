#!/usr/bin/env python3
"""The Spark job (examples/spark/shakedown_job.py) on one machine, `local[1]` against `local[2]`
(or any masters given), over one folder of captures: each master takes its turn for RUNS rounds and
its fastest round counts (the job's run, not the start of the JVM). Prints the seconds, the
captures' MB/s and each master's speed-up over the first. Run it with the Python that has
`shakedown`, `pyspark`, `pandas` and `pyarrow` installed (see the README's "On a Spark cluster").

    python3 scripts/bench-spark.py [--pin] DIR [RUNS] [MASTER...]

With --pin each round runs in its own process tree (driver, JVM, Python workers) held to as many
CPU cores as the master has threads (`local[N]` on cores 0..N-1), after a round that warms its JVM
up: how the job scales with cores.
Without it every master has the whole machine, and `local[1]` already keeps more than one core
busy (the executor's Python worker and its JVM thread work side by side).

Forty captures of 25 MB from the deterministic generator (different seeds, so different traffic):
    cargo build --release -p shakedown-benches --bin shakedown-gen
    for i in $(seq 1 40); do
      target/release/shakedown-gen --seed $i --size 25M -o DIR/gen-$i.pcap
    done
"""

import os
import re
import subprocess
import sys
import tempfile
import time

# The executors run this Python (the one with shakedown and pyarrow), not whatever `python3` is.
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "examples", "spark"))


def one_round(master, folder, output):
    """Seconds the job takes on `master` (a fresh session, started before the clock runs)."""
    import shakedown_job  # the job itself, as the Spark test imports it
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master(master)
        .appName("shakedown-bench")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    try:
        start = time.perf_counter()
        shakedown_job.run(spark, [folder], output)
        return time.perf_counter() - start
    finally:
        spark.stop()


def threads(master):
    """The task threads of a `local[N]` master (1 for `local`, every core for `local[*]`)."""
    m = re.fullmatch(r"local(?:\[(\d+|\*)\])?", master)
    if not m or m.group(1) in (None, "*"):
        return os.cpu_count() if m and m.group(1) == "*" else 1
    return int(m.group(1))


def pinned_round(master, folder, output):
    """One round in a new process held to `threads(master)` cores (the JVM it starts inherits),
    after a round that warms that JVM up."""
    cores = set(range(min(threads(master), os.cpu_count() or 1)))
    done = subprocess.run(
        [sys.executable, __file__, "--one", master, folder, output],
        preexec_fn=lambda: os.sched_setaffinity(0, cores),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        check=True,
    )
    return float(done.stdout.strip().splitlines()[-1])


def main(argv):
    if argv[:1] == ["--one"]:
        # A first round warms the JVM up (as the rounds after the first do in one process).
        master, folder, output = argv[1:4]
        one_round(master, folder, output)
        print(one_round(master, folder, output))
        return
    pin = argv[:1] == ["--pin"]
    argv = argv[1:] if pin else argv
    if not argv:
        raise SystemExit(__doc__)
    folder = os.path.abspath(argv[0])
    runs = int(argv[1]) if len(argv) > 1 else 2
    masters = argv[2:] or ["local[1]", "local[2]"]
    files = [os.path.join(folder, f) for f in os.listdir(folder)]
    total = sum(os.path.getsize(f) for f in files if os.path.isfile(f))
    best = {}
    with tempfile.TemporaryDirectory() as out:
        for _ in range(runs):
            for master in masters:
                run = pinned_round if pin else one_round
                secs = run(master, folder, os.path.join(out, "run"))
                best[master] = min(best.get(master, secs), secs)
    first = best[masters[0]]
    how = "each master on as many cores as threads" if pin else "the whole machine"
    print(f"{len(files)} captures, {total / 1e6:.0f} MB, best of {runs} rounds, {how}")
    for master in masters:
        secs = best[master]
        print(f"{master:>10}  {secs:7.2f} s  {total / 1e6 / secs:7.1f} MB/s  {first / secs:5.2f}x")


if __name__ == "__main__":
    main(sys.argv[1:])
