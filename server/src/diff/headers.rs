//! Response headers of the two sides, compared by name (case-insensitive, repeated values joined).

use std::collections::BTreeMap;

use app::wire::{ChangeKind, HeaderChange};

/// Headers that differ on every request: listed, never counted as a difference.
const EXPECTED: [&str; 10] = [
    "date",
    "x-request-id",
    "x-amzn-requestid",
    "x-amzn-trace-id",
    "x-amz-cf-id",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
    "content-length",
    "etag",
    "age",
];

fn by_name(headers: &[(String, String)]) -> BTreeMap<String, String> {
    let mut map: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in headers {
        map.entry(name.trim().to_ascii_lowercase())
            .and_modify(|joined| {
                joined.push_str(", ");
                joined.push_str(value);
            })
            .or_insert_with(|| value.clone());
    }
    map
}

/// Differences by header name, real ones first, then the expected ones; alphabetical within each.
pub fn diff_headers(left: &[(String, String)], right: &[(String, String)]) -> Vec<HeaderChange> {
    let (l, r) = (by_name(left), by_name(right));
    let mut out = Vec::new();
    for name in l.keys().chain(r.keys().filter(|k| !l.contains_key(*k))) {
        let (a, b) = (l.get(name), r.get(name));
        let kind = match (a, b) {
            (Some(a), Some(b)) if a == b => continue,
            (Some(_), Some(_)) => ChangeKind::Changed,
            (Some(_), None) => ChangeKind::Removed,
            _ => ChangeKind::Added,
        };
        out.push(HeaderChange {
            name: name.clone(),
            kind,
            left: a.cloned(),
            right: b.cloned(),
            expected: EXPECTED.contains(&name.as_str()),
        });
    }
    out.sort_by(|x, y| (x.expected, &x.name).cmp(&(y.expected, &y.name)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn headers_differ_by_name_ignoring_case_and_request_ids_are_expected_differences() {
        let left = pairs(&[("Content-Type", "application/json"), ("X-Request-Id", "req_1"), ("Vary", "a")]);
        let right = pairs(&[("content-type", "application/json"), ("x-request-id", "req_2"), ("x-env", "prod")]);
        let changes = diff_headers(&left, &right);
        let summary: Vec<(&str, ChangeKind, bool)> =
            changes.iter().map(|c| (c.name.as_str(), c.kind, c.expected)).collect();
        assert_eq!(
            summary,
            vec![
                ("vary", ChangeKind::Removed, false),
                ("x-env", ChangeKind::Added, false),
                ("x-request-id", ChangeKind::Changed, true),
            ]
        );
    }

    #[test]
    fn repeated_headers_are_compared_as_one_joined_value() {
        let left = pairs(&[("Link", "a"), ("Link", "b")]);
        let right = pairs(&[("link", "a, b")]);
        assert!(diff_headers(&left, &right).is_empty());
    }
}
