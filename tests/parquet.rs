//! `--parquet` and `summary --parquet` from the command line (in-process): the file holds one row
//! per JSON record, in the same order, whatever `-j`, with the schema version in its metadata.
//! (Field-by-field equality with the JSON is checked in crates/shakedown-arrow and, reading the
//! file with pyarrow and DuckDB, in python/tests.)

use std::path::{Path, PathBuf};

use arrow_array::{Array, Int64Array, RecordBatch, StringArray};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::Value;
use shakedown_tests::{fixture, fixtures, run_cli};

/// A path for an output file under the temporary directory, removed on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str) -> TempFile {
        TempFile(std::env::temp_dir().join(format!("shakedown-{}-{name}", std::process::id())))
    }

    fn arg(&self) -> String {
        self.0.to_string_lossy().into_owned()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The file's (capture, conn) of every row and its `shakedown.schema` metadata.
fn read(path: &Path) -> (Vec<(String, i64)>, Option<String>) {
    let file = std::fs::File::open(path).unwrap();
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
    let version = builder
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .and_then(|kv| kv.iter().find(|k| k.key == "shakedown.schema"))
        .and_then(|k| k.value.clone());
    let mut rows = Vec::new();
    for batch in builder.build().unwrap() {
        let batch: RecordBatch = batch.unwrap();
        let column = |name: &str| batch.column_by_name(name).unwrap().clone();
        let capture = column("capture");
        let capture = capture.as_any().downcast_ref::<StringArray>().unwrap();
        let conn = column("conn");
        let conn = conn.as_any().downcast_ref::<Int64Array>().unwrap();
        assert_eq!(capture.null_count(), 0);
        for i in 0..batch.num_rows() {
            rows.push((capture.value(i).to_string(), conn.value(i)));
        }
    }
    (rows, version)
}

fn json_rows(stdout: &str) -> Vec<(String, i64)> {
    stdout
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (
                v["capture"].as_str().unwrap().to_string(),
                v["conn"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn captures() -> Vec<String> {
    [
        "lower/many-connections.pcapng",
        "tls/no-shared-cipher.pcap",
        "rdp/tls-ok.pcap",
    ]
    .iter()
    .map(|c| fixture(c))
    .collect()
}

#[test]
fn parquet_rows_follow_the_json_lines_for_any_jobs() {
    let expected_version = shakedown::json::SCHEMA_VERSION.to_string();
    for jobs in ["1", "3"] {
        let file = TempFile::new(&format!("conns-{jobs}.parquet"));
        let mut args = vec!["--json", "-j", jobs, "--parquet"];
        let out = file.arg();
        args.push(&out);
        let caps = captures();
        args.extend(caps.iter().map(String::as_str));
        let (code, stdout, stderr) = run_cli(&args);
        assert_eq!(code, 1, "{stderr}");
        let (rows, version) = read(&file.0);
        assert!(rows.len() > 5);
        assert_eq!(rows, json_rows(&stdout));
        assert_eq!(version.as_deref(), Some(expected_version.as_str()));
    }
}

#[test]
fn parquet_alone_replaces_the_report_and_follows_the_filters() {
    let file = TempFile::new("failed.parquet");
    let out = file.arg();
    let caps = captures();
    let mut args = vec!["--failed", "--parquet", &out];
    args.extend(caps.iter().map(String::as_str));
    let (code, stdout, stderr) = run_cli(&args);
    assert_eq!((code, stdout.as_str()), (1, ""), "{stderr}");
    args.insert(0, "--json");
    args.retain(|a| *a != "--parquet" && *a != out);
    let (_, json, _) = run_cli(&args);
    assert_eq!(read(&file.0).0, json_rows(&json));
}

#[test]
fn summary_writes_every_counted_record_in_file_order() {
    let file = TempFile::new("summary.parquet");
    let out = file.arg();
    let dir = fixtures().join("tls").to_string_lossy().into_owned();
    let (code, stdout, stderr) =
        run_cli(&["summary", "--json", "-j", "2", "--parquet", &out, &dir]);
    assert_eq!(code, 1, "{stderr}");
    let summary: Value = serde_json::from_str(&stdout).unwrap();
    let (rows, _) = read(&file.0);
    assert_eq!(rows.len() as u64, summary["connections"].as_u64().unwrap());
    let mut files: Vec<_> = rows.iter().map(|r| r.0.clone()).collect();
    files.dedup();
    let mut sorted = files.clone();
    sorted.sort();
    assert_eq!(files, sorted, "rows in the order of the files");
}

#[test]
fn an_unwritable_parquet_file_is_an_error() {
    let caps = captures();
    let (code, _, stderr) = run_cli(&["--parquet", "/nonexistent/dir/x.parquet", &caps[0]]);
    assert_eq!(code, 2);
    assert!(stderr.contains("cannot create"), "{stderr}");
}
