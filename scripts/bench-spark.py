#!/usr/bin/env python3
"""The Spark job (examples/spark/shakedown_job.py) on one machine, `local[1]` against `local[2]`
(or any masters given), over one folder of captures: each master takes its turn for RUNS rounds and
its fastest round counts (the job's run, not the start of the JVM). Prints the seconds, the
captures' MB/s and each master's speed-up over the first. Run it with the Python that has
`shakedown`, `pyspark`, `pandas` and `pyarrow` installed (see the README's "On a Spark cluster").

    python3 scripts/bench-spark.py DIR [RUNS] [MASTER...]

Forty captures of 25 MB from the deterministic generator (different seeds, so different traffic):
    cargo build --release -p shakedown-benches --bin shakedown-gen
    for i in $(seq 1 40); do
      target/release/shakedown-gen --seed $i --size 25M -o DIR/gen-$i.pcap
    done
"""

import os
import sys
import tempfile
import time

# The executors run this Python (the one with shakedown and pyarrow), not whatever `python3` is.
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "examples", "spark"))

import shakedown_job  # noqa: E402  (the job itself, as the Spark test imports it)


def one_round(master, folder, output):
    """Seconds the job takes on `master` (a fresh session, started before the clock runs)."""
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


def main(argv):
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
                secs = one_round(master, folder, os.path.join(out, "run"))
                best[master] = min(best.get(master, secs), secs)
    first = best[masters[0]]
    print(f"{len(files)} captures, {total / 1e6:.0f} MB, best of {runs} rounds")
    for master in masters:
        secs = best[master]
        print(f"{master:>10}  {secs:7.2f} s  {total / 1e6 / secs:7.1f} MB/s  {first / secs:5.2f}x")


if __name__ == "__main__":
    main(sys.argv[1:])
