"""The Spark job in local mode (`local[2]`) over the fixtures plus a file that is not a capture:
the same verdicts as the command line, the bad file as one error row, and the aggregate equal to
`shakedown summary --json`'s counts. Run by .ci/run (which installs pyspark and Java 17)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

pyspark = pytest.importorskip("pyspark")
pq = pytest.importorskip("pyarrow.parquet")

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "python" / "tests"))
from conftest import FIXTURES, as_json, assert_same_records, run_cli  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import shakedown_job  # noqa: E402

if not shutil.which("java"):
    pytest.skip("no Java (Debian: openjdk-17-jre-headless)", allow_module_level=True)


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    os.environ["PYSPARK_PYTHON"] = sys.executable  # the executors' Python has the package
    session = (
        SparkSession.builder.master("local[2]")
        .appName("shakedown-test")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate()
    )
    yield session
    session.stop()


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """A folder of every fixture capture (flat, with unique names) and one file that is not one."""
    folder = tmp_path_factory.mktemp("captures")
    for path in sorted(FIXTURES.rglob("*")):
        if path.suffix in (".pcap", ".pcapng"):
            shutil.copy(path, folder / str(path.relative_to(FIXTURES)).replace("/", "__"))
    (folder / "notes.pcap").write_text("these are notes, not a capture\n")
    return folder


def test_the_job_gives_the_cli_verdicts_an_error_row_and_the_summary_counts(spark, inputs, tmp_path):
    output = tmp_path / "out"
    shakedown_job.run(spark, [str(inputs)], str(output))
    rows = pq.read_table(output / "verdicts").to_pylist()

    errors = [r for r in rows if r["error"] is not None]
    assert [Path(r["capture"]).name for r in errors] == ["notes.pcap"]
    assert "not a pcap or pcapng capture" in errors[0]["error"]

    records = [{k: v for k, v in r.items() if k != "error"} for r in rows if r["error"] is None]
    for r in records:
        r["capture"] = Path(r["capture"].removeprefix("file:")).name
    records.sort(key=lambda r: (r["capture"], r["conn"]))
    names = sorted(p.name for p in inputs.iterdir() if p.name != "notes.pcap")
    cli = run_cli("--json", "-j", "1", *[inputs / n for n in names])
    expected = [json.loads(line) for line in cli.stdout.decode().splitlines()]
    for r in expected:
        r["capture"] = Path(r["capture"]).name
    expected.sort(key=lambda r: (r["capture"], r["conn"]))
    assert_same_records(as_json(records), expected, "spark")

    aggregate = pq.read_table(output / "failures_by_cause_and_server").to_pylist()
    summary = json.loads(run_cli("summary", "--json", inputs, check_status=False).stdout)
    causes = Counter()
    failures = Counter()
    for row in aggregate:
        causes[row["cause"]] += row["connections"]
        failures[row["server"]] += row["failures"]
    assert dict(causes) == summary["causes"]
    assert sum(failures.values()) == summary["failures"]
    for server in summary["servers"]:
        assert failures[server["server"]] == server["failures"]
        by_cause = {r["cause"]: r["failures"] for r in aggregate if r["server"] == server["server"] and r["failures"]}
        assert by_cause == {c["cause"]: c["count"] for c in server["causes"]}


def test_the_readme_s_pyspark_queries_run(spark, inputs, tmp_path, capsys):
    import re

    readme = (FIXTURES.parents[1] / "README.md").read_text()
    start = readme.index("### On a Spark cluster\n")
    examples = re.findall(r"```python\n(.*?)```", readme[start : readme.index("\n## ", start)], re.S)
    assert examples
    output = tmp_path / "readme-out"
    shakedown_job.run(spark, [str(inputs)], str(output))
    for code in examples:
        exec(compile(code, "README.md", "exec"), {"spark": spark, "out": str(output)})
    shown = capsys.readouterr().out
    assert "certificate_rejected" in shown and "client_ip" in shown


def test_the_job_runs_from_the_command_line(inputs, tmp_path):
    output = tmp_path / "cli-out"
    one = sorted(inputs.iterdir())[0]
    done = subprocess.run(
        [sys.executable, shakedown_job.__file__, "--master", "local[1]", "--output", str(output), str(one)],
        capture_output=True,
        timeout=300,
        env={**os.environ, "PYSPARK_PYTHON": sys.executable},
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    assert pq.read_table(output / "verdicts").num_rows >= 1
