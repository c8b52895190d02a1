//! Text helpers for the inspector: body classification, pretty-printing without parsing values,
//! line spans for virtual text views, hex dumps, status meanings and rate-limit headers.

/// What the inspector does with a body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyKind {
    Empty,
    Json,
    Text,
    Binary,
}

fn is_binary_type(content_type: &str) -> bool {
    [
        "image/",
        "audio/",
        "video/",
        "font/",
        "application/octet-stream",
        "application/pdf",
        "application/zip",
        "application/gzip",
    ]
    .iter()
    .any(|p| content_type.starts_with(p))
}

/// The longest prefix of `bytes` that is UTF-8, forgiving a character cut at the end (truncation).
pub fn utf8_prefix(bytes: &[u8]) -> Option<&str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Some(text),
        Err(e) if e.error_len().is_none() => std::str::from_utf8(&bytes[..e.valid_up_to()]).ok(),
        Err(_) => None,
    }
}

pub fn classify(content_type: Option<&str>, bytes: &[u8]) -> BodyKind {
    if bytes.is_empty() {
        return BodyKind::Empty;
    }
    let ct = content_type.unwrap_or("").trim().to_ascii_lowercase();
    let text = utf8_prefix(bytes).filter(|t| !t.contains('\0'));
    match text {
        None => BodyKind::Binary,
        Some(_) if is_binary_type(&ct) => BodyKind::Binary,
        Some(_) if ct.contains("json") => BodyKind::Json,
        Some(t) if (ct.is_empty() || ct.starts_with("text/plain")) && t.trim_start().starts_with(['{', '[']) => {
            BodyKind::Json
        }
        Some(_) => BodyKind::Text,
    }
}

/// Indentation stops growing here, so 10,000 levels of nesting do not become 100 MB of spaces.
pub const MAX_INDENT_LEVELS: usize = 64;

/// Re-indents JSON text (two spaces) token by token: values, including numbers, are copied verbatim,
/// and nothing recurses. Meant for text that is valid JSON.
pub fn pretty(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 2);
    let mut depth = 0usize;
    let mut i = 0;
    let newline = |out: &mut Vec<u8>, depth: usize| {
        out.push(b'\n');
        out.resize(out.len() + depth.min(MAX_INDENT_LEVELS) * 2, b' ');
    };
    let next_significant = |mut j: usize| {
        while j < bytes.len() && matches!(bytes[j], b' ' | b'\t' | b'\n' | b'\r') {
            j += 1;
        }
        j
    };
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'"' => {
                let start = i;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i = (i + 1).min(bytes.len());
                out.extend_from_slice(&bytes[start..i]);
                continue;
            }
            b'{' | b'[' => {
                let j = next_significant(i + 1);
                if matches!(bytes.get(j), Some(b'}' | b']')) {
                    out.push(b);
                    out.push(bytes[j]);
                    i = j + 1;
                    continue;
                }
                out.push(b);
                depth += 1;
                newline(&mut out, depth);
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(b);
            }
            b',' => {
                out.push(b',');
                newline(&mut out, depth);
            }
            b':' => out.extend_from_slice(b": "),
            b' ' | b'\t' | b'\n' | b'\r' => {}
            _ => out.push(b),
        }
        i += 1;
    }
    out
}

/// Line spans of `bytes` for a virtual text view: split at `\n` (a trailing `\r` dropped) and wrapped
/// every `wrap` bytes at a character boundary, so a 20 MB one-line body is many short rows.
pub fn line_spans(bytes: &[u8], wrap: usize) -> Vec<(u32, u32)> {
    let wrap = wrap.max(4);
    let mut spans = Vec::with_capacity(bytes.len() / 64 + 1);
    let mut start = 0usize;
    while start < bytes.len() {
        let limit = (start + wrap).min(bytes.len());
        let (end, next) = match bytes[start..limit].iter().position(|&b| b == b'\n') {
            Some(p) => {
                let end = start + p;
                let end = if end > start && bytes[end - 1] == b'\r' { end - 1 } else { end };
                (end, start + p + 1)
            }
            None if limit == bytes.len() => (limit, limit),
            None => {
                let mut cut = limit;
                // Back up to a UTF-8 character boundary.
                while cut > start + 1 && (bytes[cut] & 0xC0) == 0x80 {
                    cut -= 1;
                }
                (cut, cut)
            }
        };
        spans.push((start as u32, end as u32));
        start = next;
    }
    if spans.is_empty() || bytes.last() == Some(&b'\n') {
        spans.push((bytes.len() as u32, bytes.len() as u32));
    }
    spans
}

/// `offset  hex bytes  |ascii|` lines for the first `limit` bytes, 16 per line.
pub fn hex_dump(bytes: &[u8], limit: usize) -> Vec<String> {
    bytes[..bytes.len().min(limit)]
        .chunks(16)
        .enumerate()
        .map(|(n, chunk)| {
            let hex: Vec<String> = chunk.iter().map(|b| format!("{b:02x}")).collect();
            let ascii: String =
                chunk.iter().map(|&b| if b.is_ascii_graphic() || b == b' ' { b as char } else { '.' }).collect();
            format!("{:08x}  {:<47}  |{ascii}|", n * 16, hex.join(" "))
        })
        .collect()
}

/// What a status means for someone calling the a55 API.
pub fn status_meaning(status: u16) -> &'static str {
    let specific = match status {
        200 => "success",
        201 => "created",
        202 => "accepted for processing",
        204 => "success, no body",
        301 | 302 | 303 | 307 | 308 => "redirect (not followed by the console)",
        304 => "not modified",
        400 => "the request is invalid: see the body for the fields",
        401 => "the token is missing, expired or rejected",
        403 => "the token is valid but not allowed to do this",
        404 => "no such resource or route",
        405 => "method not allowed on this route",
        409 => "conflict with the resource's current state",
        415 => "unsupported content type",
        422 => "well-formed but semantically invalid",
        429 => "rate limited: wait before retrying",
        500 => "the API failed internally",
        502 => "bad gateway in front of the API",
        503 => "the API is unavailable",
        504 => "a gateway in front of the API timed out",
        _ => "",
    };
    if !specific.is_empty() {
        return specific;
    }
    match status / 100 {
        1 => "informational",
        2 => "success",
        3 => "redirect",
        4 => "client error",
        _ => "server error",
    }
}

/// `X-RateLimit-*` and `Retry-After` headers, which the summary calls out.
pub fn rate_limit_headers(headers: &[(String, String)]) -> Vec<(String, String)> {
    headers
        .iter()
        .filter(|(name, _)| {
            let name = name.to_ascii_lowercase();
            name.starts_with("x-ratelimit-") || name.starts_with("ratelimit") || name == "retry-after"
        })
        .cloned()
        .collect()
}

/// Text that fits a row: at most `max` characters, and whether it was cut.
pub fn clip(text: &str, max: usize) -> (&str, bool) {
    match text.char_indices().nth(max) {
        Some((cut, _)) => (&text[..cut], true),
        None => (text, false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_classified_by_type_and_content() {
        assert_eq!(classify(Some("application/json"), b""), BodyKind::Empty);
        assert_eq!(classify(Some("application/json; charset=utf-8"), b"{}"), BodyKind::Json);
        assert_eq!(classify(Some("application/problem+json"), b"oops"), BodyKind::Json);
        assert_eq!(classify(None, b"  [1]"), BodyKind::Json);
        assert_eq!(classify(Some("text/html"), b"<script>x</script>"), BodyKind::Text);
        assert_eq!(classify(Some("text/html"), b"{\"looks\": \"json\"}"), BodyKind::Text);
        assert_eq!(classify(Some("application/xml"), b"<a/>"), BodyKind::Text);
        assert_eq!(classify(Some("text/plain"), b"a\0b"), BodyKind::Binary);
        assert_eq!(classify(None, b"\xff\xfe"), BodyKind::Binary);
        assert_eq!(classify(Some("image/png"), b"PNG"), BodyKind::Binary);
        assert_eq!(classify(Some("text/plain"), "cut é".as_bytes().split_last().unwrap().1), BodyKind::Text);
    }

    #[test]
    fn pretty_printing_reindents_and_keeps_values_verbatim() {
        let out = pretty(br#"{"a":[1,2.50e3,{}],"b":{"c":"x, {y}: \"z\""},"d":[ ]}"#);
        let expected = "{\n  \"a\": [\n    1,\n    2.50e3,\n    {}\n  ],\n  \"b\": {\n    \"c\": \"x, {y}: \\\"z\\\"\"\n  },\n  \"d\": []\n}";
        assert_eq!(String::from_utf8(out).unwrap(), expected);
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        let deep = pretty(deep.as_bytes());
        assert!(deep.len() < 20_000 * (MAX_INDENT_LEVELS * 2 + 2), "indentation is capped");
    }

    #[test]
    fn line_spans_split_lines_and_wrap_long_ones_at_character_boundaries() {
        assert_eq!(line_spans(b"ab\r\ncd\n", 100), [(0, 2), (4, 6), (7, 7)]);
        assert_eq!(line_spans(b"abcdefghij", 4), [(0, 4), (4, 8), (8, 10)]);
        let text = "ééééé".as_bytes();
        let spans = line_spans(text, 5);
        assert!(spans.iter().all(|&(s, e)| std::str::from_utf8(&text[s as usize..e as usize]).is_ok()), "{spans:?}");
        assert_eq!(line_spans(b"", 10), [(0, 0)]);
    }

    #[test]
    fn hex_dumps_show_offsets_bytes_and_printable_text() {
        let lines = hex_dump(b"AB\0\xffhello world, more!", 4096);
        assert_eq!(lines[0], "00000000  41 42 00 ff 68 65 6c 6c 6f 20 77 6f 72 6c 64 2c  |AB..hello world,|");
        assert_eq!(lines[1], "00000010  20 6d 6f 72 65 21                                | more!|");
        assert_eq!(hex_dump(&[0; 100], 32).len(), 2);
    }

    #[test]
    fn statuses_have_meanings_and_rate_limit_headers_are_picked_out() {
        assert_eq!(status_meaning(429), "rate limited: wait before retrying");
        assert_eq!(status_meaning(418), "client error");
        let headers = vec![
            ("x-ratelimit-remaining".to_owned(), "0".to_owned()),
            ("content-type".to_owned(), "application/json".to_owned()),
            ("Retry-After".to_owned(), "30".to_owned()),
        ];
        let picked: Vec<_> = rate_limit_headers(&headers).into_iter().map(|(n, _)| n).collect();
        assert_eq!(picked, ["x-ratelimit-remaining", "Retry-After"]);
        assert_eq!(clip("héllo", 2), ("hé", true));
        assert_eq!(clip("hé", 2), ("hé", false));
    }
}
