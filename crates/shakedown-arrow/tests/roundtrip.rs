//! Every fixture's records, as Arrow columns and in a Parquet file, hold exactly the JSON records:
//! the batch written back as JSON (times in the JSON's format) equals `shakedown::json::line`'s record
//! field by field, and the Parquet file read back equals the batch.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::RecordBatch;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::Value;
use shakedown::{Config, Verdict};
use shakedown_arrow::parquet::ParquetWriter;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

/// The shared public corpus (`SHAKEDOWN_CORPUS`, else `../shared/corpus` beside the project), if
/// present: more shapes of records (RDP, old TLS, odd hellos) than the fixtures.
fn corpus() -> Option<PathBuf> {
    let dir = match std::env::var_os("SHAKEDOWN_CORPUS") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"),
    };
    dir.is_dir().then_some(dir)
}

/// Every capture under the fixtures folder (and the corpus, when present), with its key log when
/// it has one.
fn captures() -> Vec<(PathBuf, Option<PathBuf>)> {
    fn walk(dir: &Path, out: &mut Vec<(PathBuf, Option<PathBuf>)>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().flatten().collect();
        entries.sort_by_key(|e| e.path());
        for e in entries {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if matches!(
                p.extension().and_then(|x| x.to_str()),
                Some("pcap" | "pcapng")
            ) {
                let keys = p.with_extension("keys");
                out.push((p, keys.exists().then_some(keys)));
            }
        }
    }
    let mut out = Vec::new();
    walk(&fixtures(), &mut out);
    assert!(out.len() > 50, "fixtures not found");
    if let Some(corpus) = corpus() {
        walk(&corpus, &mut out);
    }
    out
}

fn verdicts(path: &Path, keys: Option<&Path>) -> Vec<Verdict> {
    let mut config = Config::default();
    if let Some(keys) = keys {
        let mut log = shakedown::decrypt::KeyLog::new();
        log.add(std::fs::read(keys).unwrap());
        config.key_log = Some(Arc::new(log));
    }
    let mut verdicts = Vec::new();
    shakedown::analyze(
        &mut shakedown::capture::open(path).unwrap(),
        &config,
        &mut verdicts,
    )
    .unwrap();
    verdicts
}

/// The batch's rows as JSON objects, nulls written, times formatted as the JSON records write them.
fn rows_as_json(batch: &RecordBatch) -> Vec<Value> {
    let mut out = Vec::new();
    let mut writer = arrow_json::WriterBuilder::new()
        .with_explicit_nulls(true)
        .with_timestamp_tz_format("%Y-%m-%dT%H:%M:%S%.6fZ".to_string())
        .build::<_, arrow_json::writer::LineDelimited>(&mut out);
    writer.write(batch).unwrap();
    writer.finish().unwrap();
    String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The first difference between two JSON values, as a path.
fn difference(path: &str, a: &Value, b: &Value) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let (kx, ky): (Vec<_>, Vec<_>) = (x.keys().collect(), y.keys().collect());
            if kx != ky {
                return Some(format!("{path}: keys {kx:?} != {ky:?}"));
            }
            x.iter()
                .find_map(|(k, v)| difference(&format!("{path}.{k}"), v, &y[k]))
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (v, w))| difference(&format!("{path}[{i}]"), v, w)),
        _ if a == b => None,
        _ => Some(format!("{path}: {a} != {b}")),
    }
}

#[test]
fn every_fixture_s_columns_hold_its_json_records() {
    let mut rows = 0;
    for (path, keys) in captures() {
        let name = path.display().to_string();
        let verdicts = verdicts(&path, keys.as_deref());
        let batch = shakedown_arrow::record_batch(&verdicts, &name).unwrap();
        assert_eq!(batch.schema(), shakedown_arrow::schema());
        let back = rows_as_json(&batch);
        assert_eq!(back.len(), verdicts.len(), "{name}");
        for (v, row) in verdicts.iter().zip(&back) {
            let record: serde_json::Value =
                serde_json::from_str(&shakedown::json::line(v, &name)).expect("JSON");
            if let Some(d) = difference("", &record, row) {
                panic!("{name} conn {}: {d}", v.conn);
            }
        }
        rows += back.len();
    }
    assert!(rows > 80, "only {rows} records");
}

#[test]
fn parquet_files_read_back_as_the_batches() {
    for (path, keys) in captures() {
        let name = path.display().to_string();
        let verdicts = verdicts(&path, keys.as_deref());
        let mut writer = ParquetWriter::new(Vec::new()).unwrap();
        for v in &verdicts {
            writer.write(v, &name).unwrap();
        }
        assert_eq!(writer.rows(), verdicts.len() as u64);
        let file = bytes::Bytes::from(writer.finish().unwrap());
        let builder = ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
        let kv = builder
            .metadata()
            .file_metadata()
            .key_value_metadata()
            .cloned()
            .unwrap_or_default();
        assert!(
            kv.iter().any(|k| k.key == "shakedown.schema"
                && k.value.as_deref() == Some(&*shakedown::json::SCHEMA_VERSION.to_string())),
            "{kv:?}"
        );
        let batches: Vec<RecordBatch> = builder.build().unwrap().collect::<Result<_, _>>().unwrap();
        let read =
            arrow_select::concat::concat_batches(&shakedown_arrow::schema(), &batches).unwrap();
        let written = shakedown_arrow::record_batch(&verdicts, &name).unwrap();
        assert_eq!(read, written, "{name}");
    }
}

#[test]
fn batches_are_bounded_and_in_order() {
    let path = fixtures().join("lower/many-connections.pcapng");
    let verdicts = verdicts(&path, None);
    assert!(verdicts.len() > 4);
    let mut batcher = shakedown_arrow::Batcher::new(2).unwrap();
    let mut sizes = Vec::new();
    let mut conns = Vec::new();
    let mut take = |b: RecordBatch| {
        sizes.push(b.num_rows());
        let conn = b.column_by_name("conn").unwrap();
        let conn = conn
            .as_any()
            .downcast_ref::<arrow_array::Int64Array>()
            .unwrap();
        conns.extend(conn.values().iter().copied());
    };
    for v in &verdicts {
        if let Some(b) = batcher.push(v, "x").unwrap() {
            take(b);
        }
    }
    if let Some(b) = batcher.flush().unwrap() {
        take(b);
    }
    assert!(sizes.iter().all(|n| (1..=2).contains(n)), "{sizes:?}");
    let expected: Vec<i64> = verdicts.iter().map(|v| v.conn as i64).collect();
    assert_eq!(conns, expected);
}
