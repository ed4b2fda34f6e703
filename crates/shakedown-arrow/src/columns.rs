//! The column builders of a record: one per JSON object of docs/SCHEMA.md §2, each filled from the
//! verdict's typed facts exactly as `shakedown::json` writes them (the same strings, the same
//! `null`s, field for field; the tests compare every fixture's columns with its JSON records).
//!
//! Each object's builder appends one row at a time (`add`), a `null` row for an object that does
//! not apply (its children get `null`s, hidden by the parent's), and makes its arrays with the
//! types and nullability of [`crate::schema()`] (`finish`): a builder that disagrees with the
//! schema is an error there, not a wrong file.

use std::fmt::{Display, Write as _};
use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Float64Builder, Int64Builder, ListBuilder, StringBuilder,
    TimestampMicrosecondBuilder,
};
use arrow_array::{ArrayRef, ListArray, RecordBatch, StructArray};
use arrow_buffer::{NullBuffer, NullBufferBuilder, OffsetBuffer};
use arrow_schema::{ArrowError, DataType, Field, FieldRef, Fields, SchemaRef};
use shakedown::tls::{CertificateInfo, ClientHello, ServerHello, TlsVersion};
use shakedown::verdict::{
    AlertRecord, Cause, CredsspFacts, Evidence, HopLimits, RdpFacts, SchannelEvent, TcpFacts,
    TlsFacts,
};
use shakedown::{PerSide, Timestamp, Verdict};

/// A string column, written to in place (no `String` per value).
struct Text(StringBuilder);

impl Text {
    fn new() -> Self {
        Text(StringBuilder::new())
    }

    fn add(&mut self, s: &str) {
        self.0.append_value(s);
    }

    fn add_option(&mut self, s: Option<&str>) {
        self.0.append_option(s);
    }

    /// A value's `Display` text.
    fn add_display(&mut self, d: impl Display) {
        // Writing into the builder's buffer cannot fail; the empty append ends the value.
        let _ = write!(self.0, "{d}");
        self.0.append_value("");
    }

    fn add_null(&mut self) {
        self.0.append_null();
    }

    fn finish(&mut self) -> ArrayRef {
        Arc::new(self.0.finish())
    }
}

/// A list of strings column (items never null).
struct Texts(ListBuilder<StringBuilder>);

impl Texts {
    fn new() -> Self {
        let item = Arc::new(Field::new_list_field(DataType::Utf8, false));
        Texts(ListBuilder::new(StringBuilder::new()).with_field(item))
    }

    fn add<S: AsRef<str>>(&mut self, items: impl IntoIterator<Item = S>) {
        for s in items {
            self.0.values().append_value(s);
        }
        self.0.append(true);
    }

    /// Items written by their `Display` text.
    fn add_display<D: Display>(&mut self, items: impl IntoIterator<Item = D>) {
        for d in items {
            let _ = write!(self.0.values(), "{d}");
            self.0.values().append_value("");
        }
        self.0.append(true);
    }

    fn add_null(&mut self) {
        self.0.append(false);
    }

    fn finish(&mut self) -> ArrayRef {
        Arc::new(self.0.finish())
    }
}

/// A time column: microseconds since 1970 in UTC, as the JSON's times are written (truncated to
/// the microsecond).
struct Times(TimestampMicrosecondBuilder);

impl Times {
    fn new() -> Self {
        Times(TimestampMicrosecondBuilder::new().with_timezone(crate::schema::UTC))
    }

    fn add(&mut self, t: Timestamp) {
        self.0.append_value(micros(t));
    }

    fn add_option(&mut self, t: Option<Timestamp>) {
        self.0.append_option(t.map(micros));
    }

    fn finish(&mut self) -> ArrayRef {
        Arc::new(self.0.finish())
    }
}

fn micros(t: Timestamp) -> i64 {
    t.secs()
        .saturating_mul(1_000_000)
        .saturating_add(i64::from(t.subsec_nanos() / 1_000))
}

/// An integer as the schema's `Int64` (every count fits).
fn int(n: impl TryInto<i64>) -> i64 {
    n.try_into().unwrap_or(i64::MAX)
}

fn ints() -> Int64Builder {
    Int64Builder::new()
}

fn finish_int(b: &mut Int64Builder) -> ArrayRef {
    Arc::new(b.finish())
}

fn finish_bool(b: &mut BooleanBuilder) -> ArrayRef {
    Arc::new(b.finish())
}

/// The fields of a struct (or list-of-struct) field of the schema.
fn struct_fields(field: &Field) -> Result<&Fields, ArrowError> {
    match field.data_type() {
        DataType::Struct(fields) => Ok(fields),
        DataType::List(item) => struct_fields(item),
        other => Err(ArrowError::SchemaError(format!(
            "{} is {other}, not a struct",
            field.name()
        ))),
    }
}

/// The item field of a list field of the schema.
fn list_item(field: &Field) -> Result<&FieldRef, ArrowError> {
    match field.data_type() {
        DataType::List(item) => Ok(item),
        other => Err(ArrowError::SchemaError(format!(
            "{} is {other}, not a list",
            field.name()
        ))),
    }
}

/// A struct array of `field`'s type from its children, with `nulls` for the rows that are `null`.
fn struct_array(
    field: &Field,
    children: Vec<ArrayRef>,
    nulls: Option<NullBuffer>,
) -> Result<ArrayRef, ArrowError> {
    Ok(Arc::new(StructArray::try_new(
        struct_fields(field)?.clone(),
        children,
        nulls,
    )?))
}

/// The `field` (by name) of `fields`.
fn child<'a>(fields: &'a Fields, name: &str) -> Result<&'a FieldRef, ArrowError> {
    fields
        .find(name)
        .map(|(_, f)| f)
        .ok_or_else(|| ArrowError::SchemaError(format!("no field {name}")))
}

/// `{"a": n, "b": n}` (`frames`, `packets`, `tls.client_hello_size`, a hop limit range, ...).
struct Pair {
    a: Int64Builder,
    b: Int64Builder,
    valid: NullBufferBuilder,
}

impl Pair {
    fn new() -> Self {
        Pair {
            a: ints(),
            b: ints(),
            valid: NullBufferBuilder::new(0),
        }
    }

    fn add(&mut self, a: i64, b: i64) {
        self.a.append_value(a);
        self.b.append_value(b);
        self.valid.append_non_null();
    }

    fn add_sides<T: Copy + TryInto<i64>>(&mut self, p: &PerSide<T>) {
        self.add(int(p.client), int(p.server));
    }

    fn add_null(&mut self) {
        self.a.append_null();
        self.b.append_null();
        self.valid.append_null();
    }

    fn finish(&mut self, field: &Field) -> Result<ArrayRef, ArrowError> {
        let children = vec![finish_int(&mut self.a), finish_int(&mut self.b)];
        struct_array(field, children, self.valid.finish())
    }
}

/// A list of objects: the offsets, and the objects' columns (`T`).
struct ListOf<T> {
    offsets: Vec<i32>,
    items: T,
}

impl<T> ListOf<T> {
    fn new(items: T) -> Self {
        ListOf {
            offsets: vec![0],
            items,
        }
    }

    /// Ends a row after `count` items were added to `items`.
    fn end_row(&mut self, count: usize) {
        let last = self.offsets.last().copied().unwrap_or(0);
        self.offsets
            .push(last.saturating_add(i32::try_from(count).unwrap_or(i32::MAX)));
    }

    fn finish(
        &mut self,
        field: &Field,
        items: impl FnOnce(&mut T, &Field) -> Result<ArrayRef, ArrowError>,
    ) -> Result<ArrayRef, ArrowError> {
        let item = list_item(field)?;
        let values = items(&mut self.items, item)?;
        let offsets = OffsetBuffer::new(std::mem::replace(&mut self.offsets, vec![0]).into());
        Ok(Arc::new(ListArray::try_new(
            Arc::clone(item),
            offsets,
            values,
            None,
        )?))
    }
}

/// `alerts[]` items.
struct Alerts {
    from: Text,
    level: Text,
    description: Text,
    code: Int64Builder,
    encrypted: BooleanBuilder,
    inferred: BooleanBuilder,
    decrypted: BooleanBuilder,
    time: Times,
    frame: Int64Builder,
}

impl Alerts {
    fn new() -> Self {
        Alerts {
            from: Text::new(),
            level: Text::new(),
            description: Text::new(),
            code: ints(),
            encrypted: BooleanBuilder::new(),
            inferred: BooleanBuilder::new(),
            decrypted: BooleanBuilder::new(),
            time: Times::new(),
            frame: ints(),
        }
    }

    fn add(&mut self, a: &AlertRecord) {
        self.from.add(a.from.as_str());
        match a.alert.level.map(|l| l.0) {
            Some(2) => self.level.add("fatal"),
            Some(1) => self.level.add("warning"),
            Some(other) => self.level.add_display(format_args!("0x{other:02x}")),
            None => self.level.add_null(),
        }
        match a.alert.description {
            Some(d) => {
                self.description.add_display(d);
                self.code.append_value(i64::from(d.0));
            }
            None => {
                self.description.add_null();
                self.code.append_null();
            }
        }
        self.encrypted.append_value(a.alert.encrypted);
        self.inferred.append_value(a.inferred);
        self.decrypted.append_value(a.decrypted);
        self.time.add(a.at.ts);
        self.frame.append_value(int(a.at.frame));
    }

    fn finish(&mut self, field: &Field) -> Result<ArrayRef, ArrowError> {
        let children = vec![
            self.from.finish(),
            self.level.finish(),
            self.description.finish(),
            finish_int(&mut self.code),
            finish_bool(&mut self.encrypted),
            finish_bool(&mut self.inferred),
            finish_bool(&mut self.decrypted),
            self.time.finish(),
            finish_int(&mut self.frame),
        ];
        struct_array(field, children, None)
    }
}

/// The `rdp` object.
struct Rdp {
    cookie: Text,
    requested_protocols: Texts,
    selected_protocol: Text,
    failure: Text,
    routing_token: Text,
    request_flags: Int64Builder,
    response_flags: Int64Builder,
    failure_code: Int64Builder,
    correlation_id: Text,
    confirmed: BooleanBuilder,
    anomalies: Texts,
    credssp: Credssp,
    valid: NullBufferBuilder,
}

/// The `rdp.credssp` object.
struct Credssp {
    version: Int64Builder,
    server_version: Int64Builder,
    auth: Text,
    error_code: Text,
    error_name: Text,
    requests: Pair,
    client_pub_key_auth: BooleanBuilder,
    server_pub_key_auth: BooleanBuilder,
    client_auth_info: BooleanBuilder,
    early_user_authorization: Text,
    valid: NullBufferBuilder,
}

impl Credssp {
    fn new() -> Self {
        Credssp {
            version: ints(),
            server_version: ints(),
            auth: Text::new(),
            error_code: Text::new(),
            error_name: Text::new(),
            requests: Pair::new(),
            client_pub_key_auth: BooleanBuilder::new(),
            server_pub_key_auth: BooleanBuilder::new(),
            client_auth_info: BooleanBuilder::new(),
            early_user_authorization: Text::new(),
            valid: NullBufferBuilder::new(0),
        }
    }

    fn add(&mut self, c: Option<&CredsspFacts>) {
        let Some(c) = c else {
            self.version.append_null();
            self.server_version.append_null();
            self.auth.add_null();
            self.error_code.add_null();
            self.error_name.add_null();
            self.requests.add_null();
            self.client_pub_key_auth.append_null();
            self.server_pub_key_auth.append_null();
            self.client_auth_info.append_null();
            self.early_user_authorization.add_null();
            self.valid.append_null();
            return;
        };
        self.version.append_option(c.client_version.map(i64::from));
        self.server_version
            .append_option(c.server_version.map(i64::from));
        self.auth.add_option(c.auth.map(|a| a.as_str()));
        match c.error {
            Some((code, _)) => {
                self.error_code.add_display(NtStatusHex(code.0));
                self.error_name.add_option(code.name());
            }
            None => {
                self.error_code.add_null();
                self.error_name.add_null();
            }
        }
        self.requests.add_sides(&c.requests);
        self.client_pub_key_auth
            .append_value(c.client_pub_key_auth.is_some());
        self.server_pub_key_auth
            .append_value(c.server_pub_key_auth.is_some());
        self.client_auth_info
            .append_value(c.client_auth_info.is_some());
        match &c.early_user_authorization {
            Some((r, _)) => self.early_user_authorization.add_display(r),
            None => self.early_user_authorization.add_null(),
        }
        self.valid.append_non_null();
    }

    fn finish(&mut self, field: &Field) -> Result<ArrayRef, ArrowError> {
        let f = struct_fields(field)?;
        let children = vec![
            finish_int(&mut self.version),
            finish_int(&mut self.server_version),
            self.auth.finish(),
            self.error_code.finish(),
            self.error_name.finish(),
            self.requests.finish(child(f, "requests")?)?,
            finish_bool(&mut self.client_pub_key_auth),
            finish_bool(&mut self.server_pub_key_auth),
            finish_bool(&mut self.client_auth_info),
            self.early_user_authorization.finish(),
        ];
        struct_array(field, children, self.valid.finish())
    }
}

/// An NTSTATUS as `0x` and eight upper-case hex digits, as the JSON writes it (`0xC000006D`).
struct NtStatusHex(u32);

impl Display for NtStatusHex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "0x{:08X}", self.0)
    }
}

impl Rdp {
    fn new() -> Self {
        Rdp {
            cookie: Text::new(),
            requested_protocols: Texts::new(),
            selected_protocol: Text::new(),
            failure: Text::new(),
            routing_token: Text::new(),
            request_flags: ints(),
            response_flags: ints(),
            failure_code: ints(),
            correlation_id: Text::new(),
            confirmed: BooleanBuilder::new(),
            anomalies: Texts::new(),
            credssp: Credssp::new(),
            valid: NullBufferBuilder::new(0),
        }
    }

    fn add(&mut self, r: Option<&RdpFacts>) {
        let Some(r) = r else {
            self.cookie.add_null();
            self.requested_protocols.add_null();
            self.selected_protocol.add_null();
            self.failure.add_null();
            self.routing_token.add_null();
            self.request_flags.append_null();
            self.response_flags.append_null();
            self.failure_code.append_null();
            self.correlation_id.add_null();
            self.confirmed.append_null();
            self.anomalies.add_null();
            self.credssp.add(None);
            self.valid.append_null();
            return;
        };
        self.cookie
            .add_option(r.cookie.as_deref().map(str::trim_end));
        match r.requested {
            Some(p) => self.requested_protocols.add(p.names()),
            None => self.requested_protocols.add_null(),
        }
        self.selected_protocol
            .add_option(r.selected.map(|p| p.selected_name()).as_deref());
        match r.failure {
            Some(f) => {
                self.failure.add_display(f);
                self.failure_code.append_value(i64::from(f.0));
            }
            None => {
                self.failure.add_null();
                self.failure_code.append_null();
            }
        }
        self.routing_token.add_option(r.routing_token.as_deref());
        self.request_flags
            .append_option(r.request_flags.map(i64::from));
        self.response_flags
            .append_option(r.response_flags.map(i64::from));
        match &r.correlation_id {
            Some(id) => self.correlation_id.add_display(Hex(id)),
            None => self.correlation_id.add_null(),
        }
        self.confirmed.append_value(r.confirmed);
        self.anomalies.add(r.anomalies.iter());
        self.credssp.add(r.credssp.as_ref());
        self.valid.append_non_null();
    }

    fn finish(&mut self, field: &Field) -> Result<ArrayRef, ArrowError> {
        let f = struct_fields(field)?;
        let children = vec![
            self.cookie.finish(),
            self.requested_protocols.finish(),
            self.selected_protocol.finish(),
            self.failure.finish(),
            self.routing_token.finish(),
            finish_int(&mut self.request_flags),
            finish_int(&mut self.response_flags),
            finish_int(&mut self.failure_code),
            self.correlation_id.finish(),
            finish_bool(&mut self.confirmed),
            self.anomalies.finish(),
            self.credssp.finish(child(f, "credssp")?)?,
        ];
        struct_array(field, children, self.valid.finish())
    }
}

/// Bytes as lowercase hex digits.
struct Hex<'a>(&'a [u8]);

impl Display for Hex<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

/// A version as SCHEMA.md names it (`shakedown::json::version_name`) without a `String` for the
/// named ones.
fn add_version(t: &mut Text, v: TlsVersion) {
    match v.name() {
        Some(name) => t.add(name),
        None => t.add(&shakedown::json::version_name(v)),
    }
}

/// A 16-bit code as its IANA name, else `0x%04x`.
fn code16(name: Option<&'static str>, value: u16) -> Code16 {
    Code16(name, value)
}

struct Code16(Option<&'static str>, u16);

impl Display for Code16 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(name) => f.write_str(name),
            None => write!(f, "0x{:04x}", self.1),
        }
    }
}

/// A `client_hello` or `second_client_hello` object.
struct Hello {
    legacy_version: Text,
    supported_versions: Texts,
    cipher_suites: Texts,
    sni: Text,
    alpn: Texts,
    supported_groups: Texts,
    signature_algorithms: Texts,
    key_share_groups: Texts,
    highest_version: Text,
    record_version: Text,
    sslv2_format: BooleanBuilder,
    ja3: Text,
    ja3_hash: Text,
    ja4: Text,
    valid: NullBufferBuilder,
}

impl Hello {
    fn new() -> Self {
        Hello {
            legacy_version: Text::new(),
            supported_versions: Texts::new(),
            cipher_suites: Texts::new(),
            sni: Text::new(),
            alpn: Texts::new(),
            supported_groups: Texts::new(),
            signature_algorithms: Texts::new(),
            key_share_groups: Texts::new(),
            highest_version: Text::new(),
            record_version: Text::new(),
            sslv2_format: BooleanBuilder::new(),
            ja3: Text::new(),
            ja3_hash: Text::new(),
            ja4: Text::new(),
            valid: NullBufferBuilder::new(0),
        }
    }

    fn add(&mut self, ch: Option<&ClientHello>) {
        let Some(ch) = ch else {
            for t in [
                &mut self.legacy_version,
                &mut self.sni,
                &mut self.highest_version,
                &mut self.record_version,
                &mut self.ja3,
                &mut self.ja3_hash,
                &mut self.ja4,
            ] {
                t.add_null();
            }
            for l in [
                &mut self.supported_versions,
                &mut self.cipher_suites,
                &mut self.alpn,
                &mut self.supported_groups,
                &mut self.signature_algorithms,
                &mut self.key_share_groups,
            ] {
                l.add_null();
            }
            self.sslv2_format.append_null();
            self.valid.append_null();
            return;
        };
        let ja3 = ch.ja3();
        add_version(&mut self.legacy_version, ch.legacy_version);
        self.supported_versions.add(
            ch.supported_versions
                .iter()
                .map(|v| shakedown::json::version_name(*v)),
        );
        self.cipher_suites
            .add_display(ch.cipher_suites.iter().map(|c| code16(c.name(), c.0)));
        self.sni.add_option(ch.sni.as_deref());
        self.alpn.add(ch.alpn.iter());
        self.supported_groups
            .add_display(ch.supported_groups.iter().map(|g| code16(g.name(), g.0)));
        self.signature_algorithms.add_display(
            ch.signature_algorithms
                .iter()
                .map(|a| code16(a.name(), a.0)),
        );
        self.key_share_groups
            .add_display(ch.key_share_groups.iter().map(|g| code16(g.name(), g.0)));
        add_version(&mut self.highest_version, ch.highest_version());
        add_version(&mut self.record_version, ch.record_version);
        self.sslv2_format.append_value(ch.sslv2_format);
        self.ja3.add(&ja3.full);
        self.ja3_hash.add(&ja3.hash);
        self.ja4.add(&ch.ja4());
        self.valid.append_non_null();
    }

    fn finish(&mut self, field: &Field) -> Result<ArrayRef, ArrowError> {
        let children = vec![
            self.legacy_version.finish(),
            self.supported_versions.finish(),
            self.cipher_suites.finish(),
            self.sni.finish(),
            self.alpn.finish(),
            self.supported_groups.finish(),
            self.signature_algorithms.finish(),
            self.key_share_groups.finish(),
            self.highest_version.finish(),
            self.record_version.finish(),
            finish_bool(&mut self.sslv2_format),
            self.ja3.finish(),
            self.ja3_hash.finish(),
            self.ja4.finish(),
        ];
        struct_array(field, children, self.valid.finish())
    }
}

/// The `server_hello` object.
struct ServerHelloColumns {
    version: Text,
    cipher_suite: Text,
    hello_retry_request: BooleanBuilder,
    legacy_version: Text,
    key_share_group: Text,
    ja3s: Text,
    ja3s_hash: Text,
    valid: NullBufferBuilder,
}

impl ServerHelloColumns {
    fn new() -> Self {
        ServerHelloColumns {
            version: Text::new(),
            cipher_suite: Text::new(),
            hello_retry_request: BooleanBuilder::new(),
            legacy_version: Text::new(),
            key_share_group: Text::new(),
            ja3s: Text::new(),
            ja3s_hash: Text::new(),
            valid: NullBufferBuilder::new(0),
        }
    }

    /// The ServerHello, or the HelloRetryRequest when no ServerHello followed it (`hrr`: there
    /// was a HelloRetryRequest).
    fn add(&mut self, sh: Option<(&ServerHello, bool)>) {
        let Some((sh, hrr)) = sh else {
            for t in [
                &mut self.version,
                &mut self.cipher_suite,
                &mut self.legacy_version,
                &mut self.key_share_group,
                &mut self.ja3s,
                &mut self.ja3s_hash,
            ] {
                t.add_null();
            }
            self.hello_retry_request.append_null();
            self.valid.append_null();
            return;
        };
        let ja3s = sh.ja3s();
        add_version(&mut self.version, sh.version);
        self.cipher_suite
            .add_display(code16(sh.cipher_suite.name(), sh.cipher_suite.0));
        self.hello_retry_request.append_value(hrr);
        add_version(&mut self.legacy_version, sh.legacy_version);
        match sh.key_share_group {
            Some(g) => self.key_share_group.add_display(code16(g.name(), g.0)),
            None => self.key_share_group.add_null(),
        }
        self.ja3s.add(&ja3s.full);
        self.ja3s_hash.add(&ja3s.hash);
        self.valid.append_non_null();
    }

    fn finish(&mut self, field: &Field) -> Result<ArrayRef, ArrowError> {
        let children = vec![
            self.version.finish(),
            self.cipher_suite.finish(),
            finish_bool(&mut self.hello_retry_request),
            self.legacy_version.finish(),
            self.key_share_group.finish(),
            self.ja3s.finish(),
            self.ja3s_hash.finish(),
        ];
        struct_array(field, children, self.valid.finish())
    }
}

/// The `certificate` object.
struct Certificate {
    subject: Text,
    issuer: Text,
    not_before: Times,
    not_after: Times,
    key_type: Text,
    chain_length: Int64Builder,
    self_signed: BooleanBuilder,
    dns_names: Texts,
    valid: NullBufferBuilder,
}

impl Certificate {
    fn new() -> Self {
        Certificate {
            subject: Text::new(),
            issuer: Text::new(),
            not_before: Times::new(),
            not_after: Times::new(),
            key_type: Text::new(),
            chain_length: ints(),
            self_signed: BooleanBuilder::new(),
            dns_names: Texts::new(),
            valid: NullBufferBuilder::new(0),
        }
    }

    fn add(&mut self, c: Option<&CertificateInfo>) {
        let Some(c) = c else {
            self.subject.add_null();
            self.issuer.add_null();
            self.not_before.add_option(None);
            self.not_after.add_option(None);
            self.key_type.add_null();
            self.chain_length.append_null();
            self.self_signed.append_null();
            self.dns_names.add_null();
            self.valid.append_null();
            return;
        };
        self.subject.add(&c.subject);
        self.issuer.add(&c.issuer);
        self.not_before.add_option(c.not_before);
        self.not_after.add_option(c.not_after);
        match &c.key_type {
            Some(k) => self.key_type.add_display(k),
            None => self.key_type.add_null(),
        }
        self.chain_length.append_value(int(c.chain_len));
        self.self_signed.append_value(c.self_signed);
        self.dns_names.add(c.dns_names.iter());
        self.valid.append_non_null();
    }

    fn finish(&mut self, field: &Field) -> Result<ArrayRef, ArrowError> {
        let children = vec![
            self.subject.finish(),
            self.issuer.finish(),
            self.not_before.finish(),
            self.not_after.finish(),
            self.key_type.finish(),
            finish_int(&mut self.chain_length),
            finish_bool(&mut self.self_signed),
            self.dns_names.finish(),
        ];
        struct_array(field, children, self.valid.finish())
    }
}

/// The `tls` object.
struct Tls {
    version: Text,
    client_hello: Hello,
    server_hello: ServerHelloColumns,
    certificate: Certificate,
    second_client_hello: Hello,
    certificate_requested: BooleanBuilder,
    client_hello_size: Pair,
    application_records: Pair,
    anomalies: Texts,
    decryption: Text,
    valid: NullBufferBuilder,
}

impl Tls {
    fn new() -> Self {
        Tls {
            version: Text::new(),
            client_hello: Hello::new(),
            server_hello: ServerHelloColumns::new(),
            certificate: Certificate::new(),
            second_client_hello: Hello::new(),
            certificate_requested: BooleanBuilder::new(),
            client_hello_size: Pair::new(),
            application_records: Pair::new(),
            anomalies: Texts::new(),
            decryption: Text::new(),
            valid: NullBufferBuilder::new(0),
        }
    }

    fn add(&mut self, t: Option<&TlsFacts>) {
        let Some(t) = t else {
            self.version.add_null();
            self.client_hello.add(None);
            self.server_hello.add(None);
            self.certificate.add(None);
            self.second_client_hello.add(None);
            self.certificate_requested.append_null();
            self.client_hello_size.add_null();
            self.application_records.add_null();
            self.anomalies.add_null();
            self.decryption.add_null();
            self.valid.append_null();
            return;
        };
        match t.version {
            Some(v) => add_version(&mut self.version, v),
            None => self.version.add_null(),
        }
        self.client_hello.add(t.client_hello.as_ref());
        let server_hello = match (&t.server_hello, &t.hello_retry_request) {
            (Some(sh), hrr) => Some((sh, hrr.is_some())),
            (None, Some(hrr)) => Some((hrr, true)),
            (None, None) => None,
        };
        self.server_hello.add(server_hello);
        self.certificate.add(t.certificate.as_ref());
        self.second_client_hello.add(t.second_client_hello.as_ref());
        self.certificate_requested
            .append_value(t.certificate_requested);
        match t.client_hello_at {
            Some(_) => self.client_hello_size.add(
                i64::from(t.client_hello_bytes),
                i64::from(t.client_hello_segments),
            ),
            None => self.client_hello_size.add_null(),
        }
        self.application_records.add_sides(&t.application_records);
        self.anomalies.add_display(t.anomalies.iter());
        self.decryption.add_option(t.decryption.map(|d| d.as_str()));
        self.valid.append_non_null();
    }

    fn finish(&mut self, field: &Field) -> Result<ArrayRef, ArrowError> {
        let f = struct_fields(field)?;
        let children = vec![
            self.version.finish(),
            self.client_hello.finish(child(f, "client_hello")?)?,
            self.server_hello.finish(child(f, "server_hello")?)?,
            self.certificate.finish(child(f, "certificate")?)?,
            self.second_client_hello
                .finish(child(f, "second_client_hello")?)?,
            finish_bool(&mut self.certificate_requested),
            self.client_hello_size
                .finish(child(f, "client_hello_size")?)?,
            self.application_records
                .finish(child(f, "application_records")?)?,
            self.anomalies.finish(),
            self.decryption.finish(),
        ];
        struct_array(field, children, self.valid.finish())
    }
}

/// `cause.evidence[]` items.
struct EvidenceItems {
    frame: Int64Builder,
    side: Text,
    what: Text,
}

impl EvidenceItems {
    fn add(&mut self, e: &Evidence) {
        self.frame.append_value(int(e.at.frame));
        self.side.add_option(e.side.map(|s| s.as_str()));
        self.what.add_display(e.what);
    }

    fn finish(&mut self, field: &Field) -> Result<ArrayRef, ArrowError> {
        let children = vec![
            finish_int(&mut self.frame),
            self.side.finish(),
            self.what.finish(),
        ];
        struct_array(field, children, None)
    }
}

/// `cause.schannel_events[]` items.
struct EventItems {
    id: Int64Builder,
    logged_by: Text,
    alert_code: Int64Builder,
    message: Text,
}

impl EventItems {
    fn add(&mut self, e: &SchannelEvent) {
        self.id.append_value(i64::from(e.id));
        self.logged_by.add(e.logged_by.as_str());
        self.alert_code.append_option(e.alert_code.map(i64::from));
        self.message.add(e.message);
    }

    fn finish(&mut self, field: &Field) -> Result<ArrayRef, ArrowError> {
        let children = vec![
            finish_int(&mut self.id),
            self.logged_by.finish(),
            finish_int(&mut self.alert_code),
            self.message.finish(),
        ];
        struct_array(field, children, None)
    }
}

/// The `cause` object.
struct CauseColumns {
    code: Text,
    confidence: Text,
    evidence: ListOf<EvidenceItems>,
    explanation: Text,
    schannel_event: Int64Builder,
    hints: Texts,
    schannel_events: ListOf<EventItems>,
}

impl CauseColumns {
    fn new() -> Self {
        CauseColumns {
            code: Text::new(),
            confidence: Text::new(),
            evidence: ListOf::new(EvidenceItems {
                frame: ints(),
                side: Text::new(),
                what: Text::new(),
            }),
            explanation: Text::new(),
            schannel_event: ints(),
            hints: Texts::new(),
            schannel_events: ListOf::new(EventItems {
                id: ints(),
                logged_by: Text::new(),
                alert_code: ints(),
                message: Text::new(),
            }),
        }
    }

    fn add(&mut self, c: &Cause) {
        self.code.add(c.code.as_str());
        self.confidence.add(c.confidence.as_str());
        for e in &c.evidence {
            self.evidence.items.add(e);
        }
        self.evidence.end_row(c.evidence.len());
        self.explanation.add(&c.explanation);
        self.schannel_event
            .append_option(c.schannel_event.map(|e| i64::from(e.id)));
        self.hints.add(c.hints.iter());
        let mut events = 0;
        for e in c.schannel_event.iter().chain(c.related_events.iter()) {
            self.schannel_events.items.add(e);
            events += 1;
        }
        self.schannel_events.end_row(events);
    }

    fn finish(&mut self, field: &Field) -> Result<ArrayRef, ArrowError> {
        let f = struct_fields(field)?;
        let children = vec![
            self.code.finish(),
            self.confidence.finish(),
            self.evidence
                .finish(child(f, "evidence")?, |items, item| items.finish(item))?,
            self.explanation.finish(),
            finish_int(&mut self.schannel_event),
            self.hints.finish(),
            self.schannel_events
                .finish(child(f, "schannel_events")?, |items, item| {
                    items.finish(item)
                })?,
        ];
        struct_array(field, children, None)
    }
}

/// The `tcp` object.
struct Tcp {
    syn: BooleanBuilder,
    syn_ack: BooleanBuilder,
    first_fin_frame: Int64Builder,
    first_rst_frame: Int64Builder,
    gaps: Pair,
    gap_bytes: Pair,
    retransmitted_bytes: Pair,
    overlap_conflicts: Pair,
    hop_limits_client: Pair,
    hop_limits_server: Pair,
    cut_segments: Pair,
    acked_bytes: Pair,
    duplicate_frames: Pair,
    largest_segment: Pair,
}

impl Tcp {
    fn new() -> Self {
        Tcp {
            syn: BooleanBuilder::new(),
            syn_ack: BooleanBuilder::new(),
            first_fin_frame: ints(),
            first_rst_frame: ints(),
            gaps: Pair::new(),
            gap_bytes: Pair::new(),
            retransmitted_bytes: Pair::new(),
            overlap_conflicts: Pair::new(),
            hop_limits_client: Pair::new(),
            hop_limits_server: Pair::new(),
            cut_segments: Pair::new(),
            acked_bytes: Pair::new(),
            duplicate_frames: Pair::new(),
            largest_segment: Pair::new(),
        }
    }

    fn add(&mut self, t: &TcpFacts) {
        self.syn.append_value(t.syn.is_some());
        self.syn_ack.append_value(t.syn_ack.is_some());
        self.first_fin_frame
            .append_option(t.first_fin.map(|m| int(m.at.frame)));
        self.first_rst_frame
            .append_option(t.first_rst.map(|m| int(m.at.frame)));
        self.gaps.add_sides(&t.gaps);
        self.gap_bytes.add_sides(&t.gap_bytes);
        self.retransmitted_bytes.add_sides(&t.retransmitted_bytes);
        self.overlap_conflicts.add_sides(&t.overlap_conflicts);
        let range = |pair: &mut Pair, r: Option<HopLimits>| match r {
            Some(r) => pair.add(i64::from(r.min), i64::from(r.max)),
            None => pair.add_null(),
        };
        range(&mut self.hop_limits_client, t.hop_limits.client);
        range(&mut self.hop_limits_server, t.hop_limits.server);
        self.cut_segments.add_sides(&t.cut_segments);
        self.acked_bytes.add_sides(&t.acked_bytes);
        self.duplicate_frames.add_sides(&t.duplicate_frames);
        self.largest_segment.add_sides(&t.largest_segment);
    }

    fn finish(&mut self, field: &Field) -> Result<ArrayRef, ArrowError> {
        let f = struct_fields(field)?;
        let hop_limits = child(f, "hop_limits")?;
        let h = struct_fields(hop_limits)?;
        let hop_children = vec![
            self.hop_limits_client.finish(child(h, "client")?)?,
            self.hop_limits_server.finish(child(h, "server")?)?,
        ];
        let children = vec![
            finish_bool(&mut self.syn),
            finish_bool(&mut self.syn_ack),
            finish_int(&mut self.first_fin_frame),
            finish_int(&mut self.first_rst_frame),
            self.gaps.finish(child(f, "gaps")?)?,
            self.gap_bytes.finish(child(f, "gap_bytes")?)?,
            self.retransmitted_bytes
                .finish(child(f, "retransmitted_bytes")?)?,
            self.overlap_conflicts
                .finish(child(f, "overlap_conflicts")?)?,
            struct_array(hop_limits, hop_children, None)?,
            self.cut_segments.finish(child(f, "cut_segments")?)?,
            self.acked_bytes.finish(child(f, "acked_bytes")?)?,
            self.duplicate_frames
                .finish(child(f, "duplicate_frames")?)?,
            self.largest_segment.finish(child(f, "largest_segment")?)?,
        ];
        struct_array(field, children, None)
    }
}

/// Every column of the records (docs/SCHEMA.md §2.1, in order).
pub(crate) struct RecordColumns {
    rows: usize,
    schema: Int64Builder,
    capture: Text,
    conn: Int64Builder,
    client: Text,
    server: Text,
    client_inferred_from: Text,
    start: Times,
    end: Times,
    duration_ms: Float64Builder,
    frames: Pair,
    packets: Pair,
    bytes: Pair,
    protocol: Text,
    outcome: Text,
    stage: Text,
    first_fin: Text,
    first_rst: Text,
    closed_by: Text,
    close_kind: Text,
    alerts: ListOf<Alerts>,
    rdp: Rdp,
    tls: Tls,
    cause: CauseColumns,
    wireshark_filter: Text,
    tcp: Tcp,
    unfinished: BooleanBuilder,
}

impl RecordColumns {
    pub(crate) fn new() -> Self {
        RecordColumns {
            rows: 0,
            schema: ints(),
            capture: Text::new(),
            conn: ints(),
            client: Text::new(),
            server: Text::new(),
            client_inferred_from: Text::new(),
            start: Times::new(),
            end: Times::new(),
            duration_ms: Float64Builder::new(),
            frames: Pair::new(),
            packets: Pair::new(),
            bytes: Pair::new(),
            protocol: Text::new(),
            outcome: Text::new(),
            stage: Text::new(),
            first_fin: Text::new(),
            first_rst: Text::new(),
            closed_by: Text::new(),
            close_kind: Text::new(),
            alerts: ListOf::new(Alerts::new()),
            rdp: Rdp::new(),
            tls: Tls::new(),
            cause: CauseColumns::new(),
            wireshark_filter: Text::new(),
            tcp: Tcp::new(),
            unfinished: BooleanBuilder::new(),
        }
    }

    /// Rows added since the last [`RecordColumns::finish`].
    pub(crate) fn rows(&self) -> usize {
        self.rows
    }

    /// Adds the record of `v` (its `capture` field as given).
    pub(crate) fn add(&mut self, v: &Verdict, capture: &str) {
        self.rows += 1;
        self.schema
            .append_value(i64::from(shakedown::json::SCHEMA_VERSION));
        self.capture.add(capture);
        self.conn.append_value(int(v.conn));
        self.client.add_display(v.client);
        self.server.add_display(v.server);
        self.client_inferred_from
            .add(v.client_inferred_from.as_str());
        self.start.add(v.start.ts);
        self.end.add(v.end.ts);
        self.duration_ms
            .append_value(v.end.ts.millis_since(v.start.ts));
        self.frames.add(int(v.start.frame), int(v.end.frame));
        self.packets.add_sides(&v.packets);
        self.bytes.add_sides(&v.bytes);
        self.protocol.add(v.protocol.as_str());
        self.outcome.add(v.outcome.as_str());
        self.stage.add(v.stage.as_str());
        self.first_fin
            .add_option(v.tcp.first_fin.map(|m| m.side.as_str()));
        self.first_rst
            .add_option(v.tcp.first_rst.map(|m| m.side.as_str()));
        self.closed_by
            .add_option(v.closed_by.map(|(side, _)| side.as_str()));
        self.close_kind
            .add_option(v.closed_by.map(|(_, kind)| kind.as_str()));
        for a in &v.alerts {
            self.alerts.items.add(a);
        }
        self.alerts.end_row(v.alerts.len());
        self.rdp.add(v.rdp.as_ref());
        self.tls.add(v.tls.as_ref());
        self.cause.add(&v.cause);
        self.wireshark_filter.add(&v.wireshark_filter);
        self.tcp.add(&v.tcp);
        self.unfinished.append_value(v.unfinished);
    }

    /// The rows added so far as a batch of `schema`; the builders start again empty.
    pub(crate) fn finish(&mut self, schema: &SchemaRef) -> Result<RecordBatch, ArrowError> {
        self.rows = 0;
        let f = schema.fields();
        let columns = vec![
            finish_int(&mut self.schema),
            self.capture.finish(),
            finish_int(&mut self.conn),
            self.client.finish(),
            self.server.finish(),
            self.client_inferred_from.finish(),
            self.start.finish(),
            self.end.finish(),
            Arc::new(self.duration_ms.finish()) as ArrayRef,
            self.frames.finish(child(f, "frames")?)?,
            self.packets.finish(child(f, "packets")?)?,
            self.bytes.finish(child(f, "bytes")?)?,
            self.protocol.finish(),
            self.outcome.finish(),
            self.stage.finish(),
            self.first_fin.finish(),
            self.first_rst.finish(),
            self.closed_by.finish(),
            self.close_kind.finish(),
            self.alerts
                .finish(child(f, "alerts")?, |items, item| items.finish(item))?,
            self.rdp.finish(child(f, "rdp")?)?,
            self.tls.finish(child(f, "tls")?)?,
            self.cause.finish(child(f, "cause")?)?,
            self.wireshark_filter.finish(),
            self.tcp.finish(child(f, "tcp")?)?,
            finish_bool(&mut self.unfinished),
        ];
        RecordBatch::try_new(Arc::clone(schema), columns)
    }
}
