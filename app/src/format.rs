//! Small, pure formatting helpers used by the UI (and unit-tested on the host).

/// `1536` → `1.5 KB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KB", "MB", "GB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// Milliseconds with a unit that reads well: `0.8 ms`, `12 ms`, `1.24 s`.
pub fn duration_ms(ms: f64) -> String {
    if ms < 10.0 {
        format!("{ms:.1} ms")
    } else if ms < 1000.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{:.2} s", ms / 1000.0)
    }
}

/// A countdown as `m:ss` (or `h:mm:ss`); negative values are shown as `0:00`.
pub fn countdown(seconds: f64) -> String {
    let total = if seconds.is_finite() && seconds > 0.0 { seconds.floor() as u64 } else { 0 };
    let (h, m, s) = (total / 3600, (total % 3600) / 60, total % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// Unix milliseconds as `YYYY-MM-DD HH:MM:SS UTC` (shown until the browser can use local time).
pub fn utc_timestamp(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC", rest / 3600, (rest % 3600) / 60, rest % 60)
}

/// Pretty-prints JSON text, or returns `None` when it is not JSON.
pub fn pretty_json(text: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    serde_json::to_string_pretty(&value).ok()
}

/// Names of the `{placeholders}` in a path template, in order.
pub fn path_placeholders(template: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let Some(len) = rest[start..].find('}') else { break };
        let name = &rest[start + 1..start + len];
        if !name.is_empty() && !names.iter().any(|n| n == name) {
            names.push(name.to_owned());
        }
        rest = &rest[start + len + 1..];
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_counts_use_decimal_units() {
        assert_eq!(bytes(999), "999 B");
        assert_eq!(bytes(1_536), "1.5 KB");
        assert_eq!(bytes(20_000_000), "20.0 MB");
    }

    #[test]
    fn durations_pick_a_readable_unit() {
        assert_eq!(duration_ms(0.84), "0.8 ms");
        assert_eq!(duration_ms(12.4), "12 ms");
        assert_eq!(duration_ms(1240.0), "1.24 s");
    }

    #[test]
    fn countdown_shows_minutes_and_seconds_and_never_goes_negative() {
        assert_eq!(countdown(3599.9), "59:59");
        assert_eq!(countdown(3600.0), "1:00:00");
        assert_eq!(countdown(-5.0), "0:00");
        assert_eq!(countdown(f64::NAN), "0:00");
    }

    #[test]
    fn utc_timestamps_are_civil_dates() {
        assert_eq!(utc_timestamp(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc_timestamp(1_795_000_000_000), "2026-11-18 11:06:40 UTC");
        assert_eq!(utc_timestamp(951_782_400_000), "2000-02-29 00:00:00 UTC");
    }

    #[test]
    fn pretty_json_keeps_key_order_and_rejects_non_json() {
        assert_eq!(pretty_json(r#"{"b":1,"a":2}"#).unwrap(), "{\n  \"b\": 1,\n  \"a\": 2\n}");
        assert!(pretty_json("<html>").is_none());
    }

    #[test]
    fn placeholders_are_listed_once_in_order() {
        assert_eq!(
            path_placeholders("/bank/wallet/charge/{charge_uuid}/refund/{wallet_uuid}/"),
            vec!["charge_uuid", "wallet_uuid"]
        );
        assert!(path_placeholders("/wallets").is_empty());
        assert_eq!(path_placeholders("/a/{x}/{x}/{"), vec!["x"]);
    }
}
