//! Builds upstream URLs from a path template and values without ever letting input leave the base.
//!
//! Each segment is decoded once, checked, and *pushed* onto the configured base (which percent-encodes
//! it); nothing user-supplied is ever resolved with `Url::join`, which follows `//host`, `..` and
//! schemes. The result is checked again to be under the base, on the same origin.

use url::Url;

const MAX_PATH_LEN: usize = 2_048;
const MAX_SEGMENTS: usize = 64;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("the path is empty: give a path under the environment's API base, such as /bank/wallet/")]
    Empty,
    #[error("the path is longer than {MAX_PATH_LEN} characters")]
    TooLong,
    #[error("the path has more than {MAX_SEGMENTS} segments")]
    TooManySegments,
    #[error("give a path, not a URL: the environment decides scheme and host ({0:?} is not allowed)")]
    NotAPath(String),
    #[error("the path may not contain {0}; put query parameters in the query fields")]
    ForbiddenCharacter(&'static str),
    #[error("the path has an empty segment (\"//\"); only a trailing slash is allowed")]
    EmptySegment,
    #[error("the path has a dot segment ({0:?}), which could leave the API base")]
    DotSegment(String),
    #[error("segment {0:?} has an encoded '/' or '\\', which could change the path upstream")]
    EncodedSeparator(String),
    #[error("segment {0:?} has a malformed percent-escape")]
    BadEscape(String),
    #[error("path parameter {{{0}}} has no value")]
    MissingParam(String),
    #[error("path parameter {{{name}}}: {reason}")]
    BadParam { name: String, reason: String },
    #[error("segment {0:?} has an unmatched brace")]
    Brace(String),
    #[error("query parameter names may not be empty or contain control characters")]
    BadQuery,
    #[error("the built URL left the API base")]
    Escaped,
}

/// Builds `base + path` with `{name}` placeholders filled from `params` and `query` appended.
pub fn build_url(
    base: &Url,
    path: &str,
    params: &[(String, String)],
    query: &[(String, String)],
) -> Result<Url, PathError> {
    if path.len() > MAX_PATH_LEN {
        return Err(PathError::TooLong);
    }
    if path.chars().any(char::is_control) {
        return Err(PathError::ForbiddenCharacter("control characters"));
    }
    if path.contains('\\') {
        return Err(PathError::ForbiddenCharacter("a backslash"));
    }
    if path.contains('#') {
        return Err(PathError::ForbiddenCharacter("'#'"));
    }
    if path.contains('?') {
        return Err(PathError::ForbiddenCharacter("'?'"));
    }
    if path.starts_with("//") || looks_like_url(path) {
        return Err(PathError::NotAPath(path.to_owned()));
    }
    let relative = path.strip_prefix('/').unwrap_or(path);
    if relative.is_empty() {
        return Err(PathError::Empty);
    }
    let raw_segments: Vec<&str> = relative.split('/').collect();
    if raw_segments.len() > MAX_SEGMENTS {
        return Err(PathError::TooManySegments);
    }
    let last = raw_segments.len() - 1;
    let mut segments = Vec::with_capacity(raw_segments.len());
    for (index, raw) in raw_segments.iter().enumerate() {
        if raw.is_empty() {
            if index == last {
                segments.push(String::new());
                continue;
            }
            return Err(PathError::EmptySegment);
        }
        let segment = match placeholder(raw)? {
            Some(name) => param_value(name, params)?,
            None => literal_segment(raw)?,
        };
        segments.push(segment);
    }

    let mut url = base.clone();
    {
        let mut path_segments = url.path_segments_mut().map_err(|()| PathError::Escaped)?;
        // The base ends in '/', which leaves one empty segment to replace.
        path_segments.pop_if_empty();
        for segment in &segments {
            path_segments.push(segment);
        }
    }
    for (name, value) in query {
        if name.is_empty() || name.chars().any(char::is_control) || value.chars().any(|c| c.is_control()) {
            return Err(PathError::BadQuery);
        }
    }
    if !query.is_empty() {
        let mut pairs = url.query_pairs_mut();
        for (name, value) in query {
            pairs.append_pair(name, value);
        }
    }
    if url.origin() != base.origin() || !url.path().starts_with(base.path()) || url.fragment().is_some() {
        return Err(PathError::Escaped);
    }
    Ok(url)
}

fn looks_like_url(path: &str) -> bool {
    // A scheme is letters/digits/+/-/. before the first ':' that comes before any '/'.
    match path.find(':') {
        Some(colon) => {
            let head = &path[..colon];
            !head.contains('/') && !head.is_empty()
        }
        None => false,
    }
}

/// `{name}` → `Some(name)`; a literal → `None`; a stray brace is an error.
fn placeholder(raw: &str) -> Result<Option<&str>, PathError> {
    if let Some(name) = raw.strip_prefix('{').and_then(|r| r.strip_suffix('}')) {
        if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
            return Ok(Some(name));
        }
    }
    if raw.contains('{') || raw.contains('}') {
        return Err(PathError::Brace(raw.to_owned()));
    }
    Ok(None)
}

fn param_value(name: &str, params: &[(String, String)]) -> Result<String, PathError> {
    let value = params
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| PathError::MissingParam(name.to_owned()))?;
    let bad = |reason: &str| PathError::BadParam { name: name.to_owned(), reason: reason.to_owned() };
    if is_dot_segment(value) {
        return Err(bad("'.' and '..' (even followed by ';…') are not values"));
    }
    if value.contains('/') || value.contains('\\') {
        return Err(bad("a value may not contain '/' or '\\'"));
    }
    if value.chars().any(char::is_control) {
        return Err(bad("a value may not contain control characters"));
    }
    // A value is taken literally: `%` is sent as `%25`, so it cannot smuggle an encoded separator.
    Ok(value.to_owned())
}

/// `.` or `..`, alone or followed by `;` matrix parameters (`..;`, `..;jsessionid=x`, `.;`): servlet
/// containers drop what follows `;` and then read the segment as a dot segment, leaving the base.
fn is_dot_segment(decoded: &str) -> bool {
    matches!(decoded.split(';').next(), Some("." | ".."))
}

/// Decodes a literal segment once and refuses what could mean something else upstream.
fn literal_segment(raw: &str) -> Result<String, PathError> {
    let bytes = raw.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let valid = bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit);
            if !valid {
                return Err(PathError::BadEscape(raw.to_owned()));
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    let decoded = percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .map_err(|_| PathError::BadEscape(raw.to_owned()))?
        .into_owned();
    if decoded.contains('/') || decoded.contains('\\') {
        return Err(PathError::EncodedSeparator(raw.to_owned()));
    }
    if is_dot_segment(&decoded) {
        return Err(PathError::DotSegment(raw.to_owned()));
    }
    if decoded.chars().any(char::is_control) {
        return Err(PathError::ForbiddenCharacter("control characters"));
    }
    // Unicode look-alikes of '/' are sent encoded, so they stay inside their segment.
    Ok(decoded)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("https://api.partner.example/api/v1/").unwrap()
    }

    fn build(path: &str) -> Result<String, PathError> {
        build_url(&base(), path, &[], &[]).map(|u| u.to_string())
    }

    #[test]
    fn a_template_is_filled_and_keeps_its_trailing_slash() {
        let url = build_url(
            &base(),
            "/bank/wallet/charge/{charge_uuid}/refund/{wallet_uuid}/",
            &[("charge_uuid".into(), "c-1".into()), ("wallet_uuid".into(), "w 2".into())],
            &[("page".into(), "2".into()), ("filter".into(), "status:confirmed".into())],
        )
        .unwrap();
        assert_eq!(
            url.as_str(),
            "https://api.partner.example/api/v1/bank/wallet/charge/c-1/refund/w%202/?page=2&filter=status%3Aconfirmed"
        );
        assert_eq!(build("/wallets").unwrap(), "https://api.partner.example/api/v1/wallets");
        assert_eq!(build("bank/public/charge").unwrap(), "https://api.partner.example/api/v1/bank/public/charge");
    }

    #[test]
    fn attempts_to_leave_the_base_are_refused() {
        let cases = [
            "//evil.example/x",
            "///evil.example/x",
            "\\\\evil.example/x",
            "/\\evil.example/x",
            "/\t/evil.example/x",
            "/\n/evil.example",
            "/\r/x",
            "https://evil.example/x",
            "HTTPS://evil.example",
            "http:evil.example",
            "javascript:alert(1)",
            "file:///etc/passwd",
            "../admin",
            "%2e%2e/admin",
            ".%2e/admin",
            "%2E%2E/",
            "a/%2e%2e/%2e%2e/admin",
            "/v1/../../admin",
            "..%2fadmin",
            "a%2fb",
            "a%5cb",
            "%2F%2Fevil.example",
            "payments?x=1",
            "payments#frag",
            "a//b",
            "/",
            "",
            "a/%zz",
            "a/%2",
            "a/{x",
        ];
        for case in cases {
            assert!(build(case).is_err(), "{case:?} was accepted: {:?}", build(case));
        }
    }

    #[test]
    fn double_encoding_is_sent_literally_and_stays_under_the_base() {
        assert_eq!(build("%252e%252e/admin").unwrap(), "https://api.partner.example/api/v1/%252e%252e/admin");
    }

    #[test]
    fn userinfo_lookalikes_do_not_change_the_host() {
        let url = build_url(&base(), "@evil.example/x", &[], &[]).unwrap();
        assert_eq!(url.host_str(), Some("api.partner.example"));
        let url = build_url(&base(), "a/:443@evil.example", &[], &[]).unwrap();
        assert_eq!(url.host_str(), Some("api.partner.example"));
    }

    #[test]
    fn unicode_slash_lookalikes_stay_inside_their_segment() {
        let url = build_url(&base(), "a／b/c∕d", &[], &[]).unwrap();
        assert_eq!(url.path(), "/api/v1/a%EF%BC%8Fb/c%E2%88%95d");
    }

    #[test]
    fn a_dot_segment_followed_by_matrix_parameters_is_refused_in_every_spelling() {
        for path in [
            "/a/..;/admin",
            "/a/.;/b",
            "/a/..;jsessionid=x/admin",
            "/a/%2e%2e;/admin",
            "/a/%2E.;x/admin",
            "/a/.%2e;/admin",
            "/a/..%3b/admin",
            "/a/..%3B/admin",
            "/a/%2e%2e%3b/admin",
            "..;/admin",
        ] {
            let error = build(path).unwrap_err();
            assert!(matches!(error, PathError::DotSegment(_)), "{path}: {error}");
            assert!(error.to_string().contains("dot segment"), "{path}: {error}");
        }
        // A `;` elsewhere is ordinary text.
        assert!(build("/a/x..;/b").is_ok());
        assert!(build("/a/;/b").is_ok());
        for value in ["..;", ".;", "..;x=1"] {
            let result = build_url(&base(), "/charge/{id}/", &[("id".into(), value.into())], &[]);
            assert!(result.is_err(), "{value:?} accepted as a value");
        }
    }

    #[test]
    fn parameter_values_cannot_add_segments() {
        for value in ["..", ".", "a/b", "a\\b", "x\ny", ""] {
            let result = build_url(&base(), "/charge/{id}/", &[("id".into(), value.into())], &[]);
            assert!(result.is_err(), "{value:?} accepted");
        }
        let url = build_url(&base(), "/charge/{id}/", &[("id".into(), "%2e%2e".into())], &[]).unwrap();
        assert_eq!(url.path(), "/api/v1/charge/%252e%252e/");
    }

    #[test]
    fn a_missing_parameter_names_the_placeholder() {
        let error = build_url(&base(), "/charge/{charge_uuid}/", &[], &[]).unwrap_err();
        assert_eq!(error.to_string(), "path parameter {charge_uuid} has no value");
    }

    /// Pieces an attacker would combine: separators, dots, escapes (valid, broken, double, overlong),
    /// query and fragment marks, userinfo and port marks, schemes, hosts, Unicode look-alikes and
    /// control characters.
    #[rustfmt::skip]
    const ALPHABET: &[&str] = &[
        "/", "//", ".", "..", "%", "%2e", "%2E", "%2f", "%2F", "%5c", "%5C", "%25", "%252e", "%252f", "%00", "%0a",
        "%0D", "%20", "%3f", "%23", "%40", "%3A", "%E2%88%95", "%EF%BC%8F", "%C0%AF", "%c0%ae", "%zz", "\\", "?",
        "#", "@", ":", ";", "%3b", "%3B", "..;", ".;", ";jsessionid=x", "~", "{", "}", "{id}", "a", "b", "v1", "admin", "evil.example", "127.0.0.2", "http:",
        "https://", "file:", "javascript:", "／", "∕", "⁄", "．", "é", "\u{202e}", "\t", "\n", "\r", "\0",
        "\u{b}", " ", "\u{7f}", "\u{85}",
    ];

    fn adversarial() -> impl proptest::strategy::Strategy<Value = String> {
        proptest::collection::vec(proptest::sample::select(ALPHABET), 0..14).prop_map(|parts| parts.concat())
    }

    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 4_000, ..ProptestConfig::default() })]

        #[test]
        fn every_accepted_path_stays_on_the_configured_origin_under_the_base(
            path in adversarial(),
            value in adversarial(),
            base_index in 0usize..3,
        ) {
            let bases = [
                "https://api.partner.example/api/v1/",
                "http://127.0.0.1:8443/v1/",
                "https://core-manager.a55.tech/",
            ];
            let base = Url::parse(bases[base_index]).unwrap();
            let params = [("id".to_owned(), value)];
            if let Ok(url) = build_url(&base, &path, &params, &[]) {
                prop_assert_eq!(url.scheme(), base.scheme(), "{:?} -> {}", path, url);
                prop_assert_eq!(url.host_str(), base.host_str(), "{:?} -> {}", path, url);
                prop_assert_eq!(url.port_or_known_default(), base.port_or_known_default(), "{:?} -> {}", path, url);
                prop_assert!(url.username().is_empty() && url.password().is_none(), "{:?} -> {}", path, url);
                prop_assert!(url.fragment().is_none() && url.query().is_none(), "{:?} -> {}", path, url);
                prop_assert!(url.path().starts_with(base.path()), "{:?} -> {}", path, url);
                prop_assert!(!url.as_str().chars().any(char::is_control), "{:?} -> {:?}", path, url.as_str());
                let below = &url.path()[base.path().len()..];
                let segments: Vec<&str> = below.split('/').collect();
                for (index, segment) in segments.iter().enumerate() {
                    let decoded = percent_encoding::percent_decode_str(segment).decode_utf8_lossy();
                    prop_assert!(
                        !segment.is_empty() || index == segments.len() - 1,
                        "empty segment: {:?} -> {}", path, url
                    );
                    let before_matrix = decoded.split(';').next().unwrap_or_default();
                    prop_assert!(
                        before_matrix != "." && before_matrix != "..",
                        "dot segment (matrix parameters are dropped by servlet containers): {:?} -> {}", path, url
                    );
                    prop_assert!(
                        !decoded.contains('/') && !decoded.contains('\\'),
                        "separator inside a segment: {:?} -> {}", path, url
                    );
                }
                // Another parser reading the URL text sees the same URL (no parser differential).
                let reparsed = Url::parse(url.as_str()).unwrap();
                prop_assert_eq!(reparsed, url);
            }
        }
    }

    #[test]
    fn the_adversarial_alphabet_builds_enough_accepted_paths_for_the_property_to_bite() {
        use proptest::strategy::ValueTree as _;
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        let base = base();
        let accepted = (0..2_000)
            .filter(|_| {
                let path = adversarial().new_tree(&mut runner).unwrap().current();
                build_url(&base, &path, &[("id".into(), "v".into())], &[]).is_ok()
            })
            .count();
        assert!(accepted >= 100, "only {accepted} of 2000 generated paths were accepted");
    }

    #[test]
    fn huge_paths_are_refused() {
        assert_eq!(build(&"a".repeat(3000)), Err(PathError::TooLong));
        assert_eq!(build(&"a/".repeat(100)), Err(PathError::TooManySegments));
    }
}
