//! The `/sim/large` payload: the charge list of `bench/bigjson.py`, written straight into a buffer.
//!
//! Records and formatting are byte-identical to the Python generator (`json.dumps` with its default
//! separators and float repr). The generator only checks the size every 500 records, which overshoots a
//! 1 MB target by about 12%; `batch` selects that check interval, 1 (the default) stops at the first
//! record that reaches the target, and 500 reproduces bigjson.py byte for byte.

use std::fmt::{self, Write as _};

use axum::body::Bytes;

use super::{lock, Simulator};

pub(crate) const MIN_MB: f64 = 0.1;
pub(crate) const MAX_MB: f64 = 50.0;
pub(crate) const MAX_BATCH: usize = 500;
const CACHE_ENTRIES: usize = 4;

const STATUSES: [&str; 7] = ["confirmed", "pending", "issued", "canceled", "paid", "refunded", "error"];

/// Target size in bytes and size-check interval.
pub(crate) type CacheKey = (usize, usize);

/// Python's `repr(round(x, 2))`: both round the exact binary value, then print the shortest round-trip form.
fn write_py_money(out: &mut String, value: f64) -> fmt::Result {
    let rounded: f64 = format!("{value:.2}").parse().map_err(|_| fmt::Error)?;
    // `{:?}` keeps the ".0" of integral values, as Python's repr does; values here never reach exponent form.
    write!(out, "{rounded:?}")
}

fn write_record(out: &mut String, i: usize) -> fmt::Result {
    let status = STATUSES[i % STATUSES.len()];
    let type_charge = if i.is_multiple_of(3) { "pix" } else { "credit_card" };
    write!(
        out,
        "{{\"charge_uuid\": \"{i:08x}-5e4f-4a3b-8c2d-{i:012x}\", \
         \"wallet_uuid\": \"2f0c1b7e-3d4a-4e59-9c1a-1b2c3d4e5f60\", \
         \"status\": \"{status}\", \"type_charge\": \"{type_charge}\", \"value\": "
    )?;
    write_py_money(out, 10.0 + (i as f64 * 7.31) % 990.0)?;
    let message =
        if i.is_multiple_of(5) { "[{\"code\": \"CARD_DECLINED\", \"source\": \"acquirer\"}]" } else { "null" };
    write!(
        out,
        ", \"currency\": \"BRL\", \"installment_count\": {count}, \
         \"payer\": {{\"name\": \"Cliente {i}\", \"email\": \"cliente{i}@example.com.br\", \"tax_id\": \"{i:011}\"}}, \
         \"items\": [{{\"name\": \"Produto\", \"quantity\": {quantity}, \"unit_amount\": 9.9}}], \
         \"message\": {message}, \"created\": \"2026-11-{day:02}T12:{minute:02}:00Z\"}}",
        count = 1 + i % 12,
        quantity = 1 + i % 3,
        day = 1 + i % 28,
        minute = i % 60,
    )
}

fn header(records: usize) -> String {
    format!("{{\"page\": 1, \"limit\": {records}, \"total\": {records}, \"data\": [")
}

/// The smallest list (growing `batch` records at a time) whose JSON is at least `target` bytes.
pub(crate) fn charges_page(target: usize, batch: usize) -> Result<Vec<u8>, fmt::Error> {
    let batch = batch.clamp(1, MAX_BATCH);
    let mut records = String::with_capacity(target + 64 * 1024);
    let mut count = 0;
    loop {
        for _ in 0..batch {
            if count > 0 {
                records.push_str(", ");
            }
            write_record(&mut records, count)?;
            count += 1;
        }
        let size = header(count).len() + records.len() + 2;
        if size >= target {
            break;
        }
    }
    let head = header(count);
    let mut out = Vec::with_capacity(head.len() + records.len() + 2);
    out.extend_from_slice(head.as_bytes());
    out.extend_from_slice(records.as_bytes());
    out.extend_from_slice(b"]}");
    Ok(out)
}

/// bigjson.py's `int(float(mb) * 1_000_000)`.
pub(crate) fn target_bytes(mb: f64) -> usize {
    (mb * 1_000_000.0) as usize
}

/// Cached because benchmarks ask for the same size repeatedly and 50 MB takes a noticeable time to build.
pub(crate) async fn cached_page(sim: &Simulator, key: CacheKey) -> Result<Bytes, String> {
    {
        let mut cache = lock(&sim.inner.large_cache);
        if let Some(pos) = cache.iter().position(|(k, _)| *k == key) {
            if let Some(entry) = cache.remove(pos) {
                let bytes = entry.1.clone();
                cache.push_front(entry);
                return Ok(bytes);
            }
        }
    }
    let (target, batch) = key;
    let built = tokio::task::spawn_blocking(move || charges_page(target, batch))
        .await
        .map_err(|e| format!("generator task failed: {e}"))?
        .map_err(|e| format!("generator failed: {e}"))?;
    let bytes = Bytes::from(built);
    let mut cache = lock(&sim.inner.large_cache);
    if !cache.iter().any(|(k, _)| *k == key) {
        cache.push_front((key, bytes.clone()));
        cache.truncate(CACHE_ENTRIES);
    }
    Ok(bytes)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    #[test]
    fn batch_500_reproduces_bigjson_py_byte_for_byte() {
        // `python3 bench/bigjson.py 0.1 | wc -c; … | sha256sum`
        let out = charges_page(target_bytes(0.1), 500).unwrap();
        assert_eq!(out.len(), 222_375);
        assert_eq!(
            hex::encode(Sha256::digest(&out)),
            "53734483c86b9c290f7b7d633996af881cd4bee833d3929d796412250d4dd25f"
        );
    }

    #[test]
    fn the_first_records_match_the_python_text() {
        let out = charges_page(1, 1).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "{\"page\": 1, \"limit\": 1, \"total\": 1, \"data\": [{\"charge_uuid\": \"00000000-5e4f-4a3b-8c2d-000000000000\", \
             \"wallet_uuid\": \"2f0c1b7e-3d4a-4e59-9c1a-1b2c3d4e5f60\", \"status\": \"confirmed\", \"type_charge\": \"pix\", \
             \"value\": 10.0, \"currency\": \"BRL\", \"installment_count\": 1, \"payer\": {\"name\": \"Cliente 0\", \
             \"email\": \"cliente0@example.com.br\", \"tax_id\": \"00000000000\"}, \"items\": [{\"name\": \"Produto\", \
             \"quantity\": 1, \"unit_amount\": 9.9}], \"message\": [{\"code\": \"CARD_DECLINED\", \"source\": \"acquirer\"}], \
             \"created\": \"2026-11-01T12:00:00Z\"}]}"
        );
    }

    #[test]
    fn per_record_batches_stop_at_the_first_record_reaching_the_target() {
        let target = target_bytes(0.5);
        let out = charges_page(target, 1).unwrap();
        assert!(out.len() >= target);
        assert!(out.len() < target + 600, "{}", out.len());
        let parsed: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let n = parsed["data"].as_array().unwrap().len();
        assert_eq!(parsed["limit"], n);
        assert_eq!(parsed["total"], n);
    }

    #[test]
    fn money_is_printed_like_python_repr() {
        let mut s = String::new();
        for v in [10.0, 17.31, 999.99, 0.1 + 0.2, 9.9, 12.345_000_1] {
            write_py_money(&mut s, v).unwrap();
            s.push(' ');
        }
        assert_eq!(s, "10.0 17.31 999.99 0.3 9.9 12.35 ");
    }
}
