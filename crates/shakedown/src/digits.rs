//! Decimal digits without the formatting machinery, for text built once per record or hello
//! (fingerprints, endpoints, filters).

/// The decimal digits of `v`, written into the end of `buf`.
pub(crate) fn decimal(v: u16, buf: &mut [u8; 5]) -> &[u8] {
    let mut start = buf.len();
    let mut rest = v;
    while let Some(start_next) = start.checked_sub(1) {
        start = start_next;
        if let Some(d) = buf.get_mut(start) {
            // `rest % 10` is a single digit.
            *d = b'0' + (rest % 10) as u8;
        }
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    buf.get(start..).unwrap_or_default()
}
