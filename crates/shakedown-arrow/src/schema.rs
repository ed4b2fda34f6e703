//! The Arrow schema of a connection record: the JSON record of docs/SCHEMA.md §2, column for
//! field, in the same order, with the same names and the same strings for enumerations.
//!
//! The types follow one rule per kind of JSON value (docs/SCHEMA.md §10):
//!
//! | JSON | Arrow |
//! |---|---|
//! | integer | `Int64` (signed, which every engine reads, Spark included) |
//! | number (`duration_ms`) | `Float64` |
//! | boolean | `Boolean` |
//! | string | `Utf8` |
//! | time (RFC 3339 string) | `Timestamp(Microsecond, "+00:00")`: UTC: the same instant, to the microsecond as in JSON |
//! | object | `Struct` with the object's fields |
//! | array | `List` of the items (items are never null) |
//!
//! A field is nullable exactly where the JSON value can be `null`; a child of a struct that is
//! null is null too. Lists are never null where JSON writes `[]` for "none".

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};

/// Version of the layout, the JSON records' `schema` ([`shakedown::json::SCHEMA_VERSION`]): the
/// columns are the JSON fields of that version, typed by the rules above. It goes up with the
/// JSON's.
pub const SCHEMA_VERSION: u32 = shakedown::json::SCHEMA_VERSION;

/// The key under which the schema's metadata (and a Parquet file's key-value metadata) carries
/// [`SCHEMA_VERSION`], as a decimal string.
pub const SCHEMA_VERSION_KEY: &str = "shakedown.schema";

/// The Arrow schema of the connection records, with [`SCHEMA_VERSION_KEY`] in its metadata.
///
/// ```
/// let schema = shakedown_arrow::schema();
/// assert_eq!(schema.field(0).name(), "schema");
/// assert_eq!(schema.metadata()["shakedown.schema"], shakedown::json::SCHEMA_VERSION.to_string());
/// let cause = schema.field_with_name("cause").unwrap();
/// assert!(!cause.is_nullable());
/// ```
pub fn schema() -> SchemaRef {
    static SCHEMA: OnceLock<SchemaRef> = OnceLock::new();
    Arc::clone(SCHEMA.get_or_init(|| {
        let metadata =
            HashMap::from([(SCHEMA_VERSION_KEY.to_string(), SCHEMA_VERSION.to_string())]);
        Arc::new(Schema::new_with_metadata(record_fields(), metadata))
    }))
}

/// Whether a column can be null.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Null {
    /// Never null.
    No,
    /// `null` in JSON when unknown or not applicable.
    Yes,
}

fn field(name: &str, data_type: DataType, null: Null) -> Field {
    Field::new(name, data_type, null == Null::Yes)
}

fn int(name: &str, null: Null) -> Field {
    field(name, DataType::Int64, null)
}

fn text(name: &str, null: Null) -> Field {
    field(name, DataType::Utf8, null)
}

fn flag(name: &str) -> Field {
    field(name, DataType::Boolean, Null::No)
}

/// The time zone of the time columns: UTC, written as an offset (a zone name would need the time
/// zone database, chrono-tz, to be read by arrow-rs).
pub(crate) const UTC: &str = "+00:00";

fn time(name: &str, null: Null) -> Field {
    let utc = Some(Arc::from(UTC));
    field(name, DataType::Timestamp(TimeUnit::Microsecond, utc), null)
}

/// A list of non-null items.
fn list(name: &str, item: DataType, null: Null) -> Field {
    field(
        name,
        DataType::List(Arc::new(Field::new_list_field(item, false))),
        null,
    )
}

fn texts(name: &str, null: Null) -> Field {
    list(name, DataType::Utf8, null)
}

fn object(name: &str, fields: Vec<Field>, null: Null) -> Field {
    field(name, DataType::Struct(Fields::from(fields)), null)
}

/// A list of objects.
fn objects(name: &str, fields: Vec<Field>) -> Field {
    list(name, DataType::Struct(Fields::from(fields)), Null::No)
}

/// `{"a": n, "b": n}` with two integers.
fn pair(name: &str, a: &str, b: &str, null: Null) -> Field {
    object(name, vec![int(a, Null::No), int(b, Null::No)], null)
}

/// `{"client": n, "server": n}`.
fn sides(name: &str) -> Field {
    pair(name, "client", "server", Null::No)
}

/// docs/SCHEMA.md §2.1, in the order the JSON writes it.
fn record_fields() -> Vec<Field> {
    use Null::{No, Yes};
    vec![
        int("schema", No),
        text("capture", No),
        int("conn", No),
        text("client", No),
        text("server", No),
        text("client_inferred_from", No),
        time("start", No),
        time("end", No),
        field("duration_ms", DataType::Float64, No),
        pair("frames", "first", "last", No),
        sides("packets"),
        sides("bytes"),
        text("protocol", No),
        text("outcome", No),
        text("stage", No),
        text("first_fin", Yes),
        text("first_rst", Yes),
        text("closed_by", Yes),
        text("close_kind", Yes),
        objects("alerts", alert_fields()),
        object("rdp", rdp_fields(), Yes),
        object("tls", tls_fields(), Yes),
        object("cause", cause_fields(), No),
        text("wireshark_filter", No),
        object("tcp", tcp_fields(), No),
        flag("unfinished"),
    ]
}

/// §2.2 `alerts[]` (and §7 `decrypted`).
fn alert_fields() -> Vec<Field> {
    use Null::{No, Yes};
    vec![
        text("from", No),
        text("level", Yes),
        text("description", Yes),
        int("code", Yes),
        flag("encrypted"),
        flag("inferred"),
        flag("decrypted"),
        time("time", No),
        int("frame", No),
    ]
}

/// §2.3 `rdp`.
fn rdp_fields() -> Vec<Field> {
    use Null::{No, Yes};
    vec![
        text("cookie", Yes),
        texts("requested_protocols", Yes),
        text("selected_protocol", Yes),
        text("failure", Yes),
        text("routing_token", Yes),
        int("request_flags", Yes),
        int("response_flags", Yes),
        int("failure_code", Yes),
        text("correlation_id", Yes),
        flag("confirmed"),
        texts("anomalies", No),
        object("credssp", credssp_fields(), Yes),
    ]
}

/// §7 `rdp.credssp` (with a key log, NLA selected).
fn credssp_fields() -> Vec<Field> {
    use Null::Yes;
    vec![
        int("version", Yes),
        int("server_version", Yes),
        text("auth", Yes),
        text("error_code", Yes),
        text("error_name", Yes),
        sides("requests"),
        flag("client_pub_key_auth"),
        flag("server_pub_key_auth"),
        flag("client_auth_info"),
        text("early_user_authorization", Yes),
    ]
}

/// §2.4 `tls` (and §7 `decryption`).
fn tls_fields() -> Vec<Field> {
    use Null::{No, Yes};
    vec![
        text("version", Yes),
        object("client_hello", client_hello_fields(), Yes),
        object("server_hello", server_hello_fields(), Yes),
        object("certificate", certificate_fields(), Yes),
        object("second_client_hello", client_hello_fields(), Yes),
        flag("certificate_requested"),
        pair("client_hello_size", "bytes", "segments", Yes),
        sides("application_records"),
        texts("anomalies", No),
        text("decryption", Yes),
    ]
}

/// §2.5 `tls.client_hello`, `tls.second_client_hello`.
fn client_hello_fields() -> Vec<Field> {
    use Null::{No, Yes};
    vec![
        text("legacy_version", No),
        texts("supported_versions", No),
        texts("cipher_suites", No),
        text("sni", Yes),
        texts("alpn", No),
        texts("supported_groups", No),
        texts("signature_algorithms", No),
        texts("key_share_groups", No),
        text("highest_version", No),
        text("record_version", No),
        flag("sslv2_format"),
        text("ja3", No),
        text("ja3_hash", No),
        text("ja4", No),
    ]
}

/// §2.6 `tls.server_hello`.
fn server_hello_fields() -> Vec<Field> {
    use Null::{No, Yes};
    vec![
        text("version", No),
        text("cipher_suite", No),
        flag("hello_retry_request"),
        text("legacy_version", No),
        text("key_share_group", Yes),
        text("ja3s", No),
        text("ja3s_hash", No),
    ]
}

/// §2.7 `tls.certificate`.
fn certificate_fields() -> Vec<Field> {
    use Null::{No, Yes};
    vec![
        text("subject", No),
        text("issuer", No),
        time("not_before", Yes),
        time("not_after", Yes),
        text("key_type", Yes),
        int("chain_length", No),
        flag("self_signed"),
        texts("dns_names", No),
    ]
}

/// §2.8 `cause`, with §2.9 `evidence[]` and §2.10 `schannel_events[]`.
fn cause_fields() -> Vec<Field> {
    use Null::{No, Yes};
    vec![
        text("code", No),
        text("confidence", No),
        objects(
            "evidence",
            vec![int("frame", No), text("side", Yes), text("what", No)],
        ),
        text("explanation", No),
        int("schannel_event", Yes),
        texts("hints", No),
        objects(
            "schannel_events",
            vec![
                int("id", No),
                text("logged_by", No),
                int("alert_code", Yes),
                text("message", No),
            ],
        ),
    ]
}

/// §2.11 `tcp`.
fn tcp_fields() -> Vec<Field> {
    use Null::{No, Yes};
    let range = |side: &str| pair(side, "min", "max", Yes);
    vec![
        flag("syn"),
        flag("syn_ack"),
        int("first_fin_frame", Yes),
        int("first_rst_frame", Yes),
        sides("gaps"),
        sides("gap_bytes"),
        sides("retransmitted_bytes"),
        sides("overlap_conflicts"),
        object("hop_limits", vec![range("client"), range("server")], No),
        sides("cut_segments"),
        sides("acked_bytes"),
        sides("duplicate_frames"),
        sides("largest_segment"),
    ]
}
