#!/usr/bin/env python3
"""shakedown on a Spark cluster: the verdicts of many captures as one Parquet dataset.

The captures (paths, folders or globs; local, HDFS or S3 through the cluster's Hadoop file system)
are listed on the driver and dealt over a few tasks per core, biggest first and round-robin, so each
task gets a share of the big ones (Spark's cost per task, tens of milliseconds, is as much as a
small capture's analysis: one task per capture would spend most of a folder of small ones on it).
Each executor analyses its capture with the Python package ``shakedown`` (installed there, see the
README's "On a Spark cluster"), reading it as a stream: a local file directly, anything else
through ``pyarrow.fs``, so no capture is ever read whole into memory. The records go back to
Spark as Arrow batches (``mapInArrow``) and are written as

- ``OUTPUT/verdicts``: one row per connection, the columns of docs/SCHEMA.md §10, plus ``error``
  (null). A file that cannot be read (missing, not a capture, a read error) is one row with its
  name in ``capture``, the problem in ``error`` and nulls elsewhere: never a failed job.
- ``OUTPUT/failures_by_cause_and_server``: per server and cause code, the connections and the
  failed ones (the counts ``shakedown summary`` gives).

Usage::

    spark-submit examples/spark/shakedown_job.py --output OUT 's3a://bucket/captures/2026-11-*/'
    python3 examples/spark/shakedown_job.py --master 'local[2]' --output /tmp/out tests/fixtures
"""

from __future__ import annotations

import argparse
import sys
import urllib.parse
import warnings
from typing import Iterator, List, Tuple

#: The column added to the records: why a file gave no records (null for a record).
ERROR = "error"

#: Tasks per core the captures are dealt over: a few, so that a core finishing early takes more.
TASKS_PER_CORE = 2


def output_schema():
    """The records' Arrow schema (top-level columns nullable, for the error rows) plus ``error``."""
    import pyarrow as pa
    import shakedown

    fields = [f.with_nullable(True) for f in shakedown.schema()]
    return pa.schema(fields + [pa.field(ERROR, pa.string())], metadata=shakedown.schema().metadata)


def list_captures(spark, inputs: List[str]) -> List[Tuple[str, int]]:
    """Every file under `inputs` (globs expanded, folders walked), as (URI, size), biggest first,
    through the cluster's Hadoop file system. An input matching nothing is returned as it is (its
    task then reports it as an error row)."""
    jvm = spark.sparkContext._jvm
    conf = spark.sparkContext._jsc.hadoopConfiguration()
    found = {}
    for given in inputs:
        path = jvm.org.apache.hadoop.fs.Path(given)
        fs = path.getFileSystem(conf)
        statuses = fs.globStatus(path)
        if not statuses:
            found[given] = 0
            continue
        for status in statuses:
            if status.isDirectory():
                files = fs.listFiles(status.getPath(), True)
                while files.hasNext():
                    f = files.next()
                    found[f.getPath().toString()] = f.getLen()
            else:
                found[status.getPath().toString()] = status.getLen()
    return sorted(found.items(), key=lambda item: (-item[1], item[0]))


def open_capture(uri: str):
    """What ``shakedown`` reads: a local path as it is, anything else as a pyarrow input stream."""
    parsed = urllib.parse.urlparse(uri)
    if parsed.scheme in ("", "file"):
        return urllib.parse.unquote(parsed.path) if parsed.scheme else uri
    from pyarrow import fs

    filesystem, path = fs.FileSystem.from_uri(uri.replace("s3a://", "s3://", 1))
    return filesystem.open_input_stream(path)


def analyze_one(uri: str, schema) -> Iterator:
    """The record batches of one capture, or its error row."""
    import pyarrow as pa
    import shakedown

    source = None
    try:
        source = open_capture(uri)
        with warnings.catch_warnings():
            # A capture cut short still gives every record (as on the command line).
            warnings.simplefilter("ignore", shakedown.CaptureWarning)
            table = shakedown.analyze_table(source, names=[uri], jobs=1)
    except (shakedown.CaptureError, OSError) as e:
        reason = e.reason if isinstance(e, shakedown.CaptureError) else str(e)
        yield pa.RecordBatch.from_pylist([{"capture": uri, ERROR: reason}], schema=schema)
        return
    finally:
        if source is not None and hasattr(source, "close"):
            source.close()
    errors = pa.nulls(table.num_rows, pa.string())
    for batch in table.append_column(ERROR, errors).to_batches():
        yield pa.RecordBatch.from_arrays(batch.columns, schema=schema)


def analyze_partition(batches: Iterator) -> Iterator:
    """``mapInArrow``: paths in, records out."""
    schema = output_schema()
    for batch in batches:
        for uri in batch.column("path").to_pylist():
            yield from analyze_one(uri, schema)


def run(spark, inputs: List[str], output: str) -> None:
    """Analyses every capture under `inputs` and writes the two datasets under `output`."""
    from pyspark.sql import functions as F
    from pyspark.sql.pandas.types import from_arrow_schema

    # Times as Parquet's microsecond timestamps (not the legacy INT96), as shakedown writes them.
    spark.conf.set("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
    if __name__ != "__main__":
        # Imported (not run by spark-submit): the executors need this module to unpickle the
        # partition function.
        spark.sparkContext.addPyFile(__file__)
    captures = list_captures(spark, inputs)
    if not captures:
        raise SystemExit("no capture found under " + " ".join(inputs))
    tasks = min(len(captures), max(1, spark.sparkContext.defaultParallelism) * TASKS_PER_CORE)
    dealt = [[uri for uri, _ in captures[t::tasks]] for t in range(tasks)]
    paths = spark.sparkContext.parallelize(range(tasks), tasks).flatMap(lambda t: [(u,) for u in dealt[t]])
    frame = spark.createDataFrame(paths, "path string")
    verdicts = frame.mapInArrow(analyze_partition, from_arrow_schema(output_schema()))
    verdicts.write.mode("overwrite").parquet(f"{output}/verdicts")

    written = spark.read.parquet(f"{output}/verdicts").where(F.col(ERROR).isNull())
    aggregate = (
        written.groupBy("server", F.col("cause.code").alias("cause"))
        .agg(
            F.count(F.lit(1)).alias("connections"),
            F.sum(F.when(F.col("outcome") == "failed", 1).otherwise(0)).alias("failures"),
        )
        .orderBy(F.desc("failures"), "server", "cause")
    )
    aggregate.write.mode("overwrite").parquet(f"{output}/failures_by_cause_and_server")


def main(argv: List[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("inputs", nargs="+", help="capture files, folders or globs (any Hadoop URI)")
    parser.add_argument("--output", required=True, help="folder (any Hadoop URI) for the datasets")
    parser.add_argument("--master", help="Spark master when not run by spark-submit, e.g. local[2]")
    args = parser.parse_args(argv)

    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("shakedown")
    if args.master:
        builder = builder.master(args.master)
    spark = builder.getOrCreate()
    try:
        run(spark, args.inputs, args.output)
    finally:
        spark.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
