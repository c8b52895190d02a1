//! A compact index of a JSON document: one `Node` per value, in document (pre-order) order.
//!
//! Values are never copied: nodes hold byte spans into the body, so numbers keep every digit, keys
//! keep their order (and duplicates), and only the rows on screen are ever decoded. The scanner is
//! an explicit-stack state machine: nesting depth costs heap, never call stack.

use std::borrow::Cow;

/// "No such span / node".
pub const NONE: u32 = u32::MAX;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Object,
    Array,
    String,
    Number,
    Bool,
    Null,
}

impl Kind {
    pub fn is_container(self) -> bool {
        matches!(self, Self::Object | Self::Array)
    }
    pub fn css(self) -> &'static str {
        match self {
            Self::Object => "object",
            Self::Array => "array",
            Self::String => "string",
            Self::Number => "number",
            Self::Bool => "bool",
            Self::Null => "null",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Node {
    pub kind: Kind,
    pub depth: u32,
    pub parent: u32,
    /// Raw key bytes between the quotes (still escaped); `NONE` for array items and the root.
    pub key_start: u32,
    pub key_end: u32,
    /// The value's bytes; strings include their quotes.
    pub start: u32,
    pub end: u32,
    pub children: u32,
    /// Last node of this node's subtree (itself for leaves): the subtree is `id..=last`.
    pub last: u32,
    /// Position among its parent's children.
    pub position: u32,
}

/// Where and why a body is not JSON.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub offset: usize,
    /// 1-based.
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
    pub message: String,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}, column {} (byte {}): {}", self.line, self.column, self.offset, self.message)
    }
}

#[derive(Debug)]
pub struct Index {
    pub nodes: Vec<Node>,
    pub max_depth: u32,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Value,
    ObjectFirst,
    ObjectKey,
    Colon,
    ArrayFirst,
    AfterValue,
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// 1-based line and column (in characters) of byte `offset`.
pub fn line_col(bytes: &[u8], offset: usize) -> (usize, usize) {
    let offset = offset.min(bytes.len());
    let before = &bytes[..offset];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
    let column = String::from_utf8_lossy(&before[line_start..]).chars().count() + 1;
    (line, column)
}

fn error(bytes: &[u8], offset: usize, message: impl Into<String>) -> ParseError {
    let (line, column) = line_col(bytes, offset);
    ParseError { offset, line, column, message: message.into() }
}

fn describe(bytes: &[u8], i: usize) -> String {
    match bytes.get(i) {
        None => "the end of the body".to_owned(),
        Some(&b) if b.is_ascii_graphic() => format!("'{}'", b as char),
        Some(&b) => format!("byte 0x{b:02x}"),
    }
}

/// Bytes a string scan must stop at: the closing quote, an escape, or a control character (an error).
const STRING_STOP: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = true;
        b += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

fn scan_string(bytes: &[u8], start: usize) -> Result<usize, ParseError> {
    let mut j = start + 1;
    loop {
        // Ordinary characters in one tight loop; the match below sees only the bytes that matter.
        j += bytes.get(j..).map_or(0, |rest| rest.iter().take_while(|&&b| !STRING_STOP[b as usize]).count());
        match bytes.get(j) {
            None => return Err(error(bytes, start, "this string is never closed (missing \")")),
            Some(b'"') => return Ok(j + 1),
            Some(b'\\') => match bytes.get(j + 1) {
                Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => j += 2,
                Some(b'u') => {
                    let hex = bytes.get(j + 2..j + 6).filter(|h| h.iter().all(u8::is_ascii_hexdigit));
                    if hex.is_none() {
                        return Err(error(bytes, j, "\\u must be followed by 4 hex digits"));
                    }
                    j += 6;
                }
                _ => return Err(error(bytes, j, format!("invalid escape \\{}", describe(bytes, j + 1)))),
            },
            Some(&b) if b < 0x20 => {
                return Err(error(bytes, j, "control character inside a string (it must be escaped)"))
            }
            Some(_) => j += 1,
        }
    }
}

fn scan_number(bytes: &[u8], start: usize) -> Result<usize, ParseError> {
    let digits = |mut j: usize| {
        while bytes.get(j).is_some_and(u8::is_ascii_digit) {
            j += 1;
        }
        j
    };
    let mut j = start;
    if bytes.get(j) == Some(&b'-') {
        j += 1;
    }
    match bytes.get(j) {
        Some(b'0') => j += 1,
        Some(b'1'..=b'9') => j = digits(j),
        _ => return Err(error(bytes, j, format!("expected a digit, found {}", describe(bytes, j)))),
    }
    if bytes.get(j) == Some(&b'.') {
        let after = digits(j + 1);
        if after == j + 1 {
            return Err(error(bytes, j + 1, "expected a digit after the decimal point"));
        }
        j = after;
    }
    if matches!(bytes.get(j), Some(b'e' | b'E')) {
        j += 1;
        if matches!(bytes.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        let after = digits(j);
        if after == j {
            return Err(error(bytes, j, "expected a digit in the exponent"));
        }
        j = after;
    }
    if bytes.get(j).is_some_and(|b| b.is_ascii_digit()) {
        return Err(error(bytes, start, "numbers may not have leading zeros"));
    }
    Ok(j)
}

/// Indexes `bytes` (which must be the whole body), or says where it stops being JSON.
pub fn parse(bytes: &[u8]) -> Result<Index, ParseError> {
    if let Err(e) = std::str::from_utf8(bytes) {
        return Err(error(bytes, e.valid_up_to(), "the body is not valid UTF-8"));
    }
    if bytes.len() >= NONE as usize {
        return Err(error(bytes, 0, "the body is too large to index (4 GB or more)"));
    }
    let mut scanner = Scanner {
        bytes,
        nodes: Vec::with_capacity(bytes.len() / 32 + 1),
        stack: Vec::new(),
        key: (NONE, NONE),
        max_depth: 0,
        i: if bytes.starts_with(b"\xEF\xBB\xBF") { 3 } else { 0 },
    };
    let mut state = State::Value;
    loop {
        scanner.skip_whitespace();
        state = match state {
            State::Value => scanner.value()?,
            State::ObjectFirst | State::ObjectKey => scanner.key(state == State::ObjectFirst)?,
            State::Colon => scanner.colon()?,
            State::ArrayFirst => scanner.array_first(),
            State::AfterValue => match scanner.after_value()? {
                Some(state) => state,
                None => return Ok(Index { nodes: scanner.nodes, max_depth: scanner.max_depth }),
            },
        };
    }
}

/// The scanner's position and what it has built so far; each method handles one `State`.
struct Scanner<'a> {
    bytes: &'a [u8],
    nodes: Vec<Node>,
    /// Open containers, innermost last.
    stack: Vec<u32>,
    /// The key span of the value about to be read (`NONE` outside objects).
    key: (u32, u32),
    max_depth: u32,
    i: usize,
}

impl Scanner<'_> {
    fn skip_whitespace(&mut self) {
        while self.i < self.bytes.len() && is_ws(self.bytes[self.i]) {
            self.i += 1;
        }
    }

    fn fail(&self, message: impl Into<String>) -> ParseError {
        error(self.bytes, self.i, message)
    }

    /// A value starts here: records its node, and enters it if it is a container.
    fn value(&mut self) -> Result<State, ParseError> {
        let (bytes, i) = (self.bytes, self.i);
        let (kind, end) = match bytes.get(i) {
            Some(b'{') => (Kind::Object, NONE as usize),
            Some(b'[') => (Kind::Array, NONE as usize),
            Some(b'"') => (Kind::String, scan_string(bytes, i)?),
            Some(b'-' | b'0'..=b'9') => (Kind::Number, scan_number(bytes, i)?),
            Some(b't') if bytes[i..].starts_with(b"true") => (Kind::Bool, i + 4),
            Some(b'f') if bytes[i..].starts_with(b"false") => (Kind::Bool, i + 5),
            Some(b'n') if bytes[i..].starts_with(b"null") => (Kind::Null, i + 4),
            _ => return Err(self.fail(format!("expected a value, found {}", describe(bytes, i)))),
        };
        let id = self.nodes.len() as u32;
        let parent = self.stack.last().copied().unwrap_or(NONE);
        let mut position = 0;
        if let Some(p) = self.nodes.get_mut(parent as usize) {
            position = p.children;
            p.children += 1;
        }
        let depth = self.stack.len() as u32;
        self.max_depth = self.max_depth.max(depth);
        let (key_start, key_end) = std::mem::replace(&mut self.key, (NONE, NONE));
        self.nodes.push(Node {
            kind,
            depth,
            parent,
            key_start,
            key_end,
            start: i as u32,
            end: end as u32,
            children: 0,
            last: id,
            position,
        });
        Ok(match kind {
            Kind::Object | Kind::Array => {
                self.stack.push(id);
                self.i += 1;
                if kind == Kind::Object {
                    State::ObjectFirst
                } else {
                    State::ArrayFirst
                }
            }
            _ => {
                self.i = end;
                State::AfterValue
            }
        })
    }

    /// Inside an object, where a key (or, right after `{`, the closing brace) must come.
    fn key(&mut self, first: bool) -> Result<State, ParseError> {
        match self.bytes.get(self.i) {
            Some(b'"') => {
                let end = scan_string(self.bytes, self.i)?;
                self.key = ((self.i + 1) as u32, (end - 1) as u32);
                self.i = end;
                Ok(State::Colon)
            }
            Some(b'}') if first => {
                close(&mut self.nodes, &mut self.stack, self.i);
                self.i += 1;
                Ok(State::AfterValue)
            }
            Some(b'}') => Err(self.fail("trailing comma before }")),
            _ => Err(self.fail(format!("expected a key in double quotes, found {}", describe(self.bytes, self.i)))),
        }
    }

    fn colon(&mut self) -> Result<State, ParseError> {
        if self.bytes.get(self.i) != Some(&b':') {
            return Err(self.fail(format!("expected ':' after the key, found {}", describe(self.bytes, self.i))));
        }
        self.i += 1;
        Ok(State::Value)
    }

    /// Right after `[`: an empty array closes at once, anything else is its first value.
    fn array_first(&mut self) -> State {
        if self.bytes.get(self.i) == Some(&b']') {
            close(&mut self.nodes, &mut self.stack, self.i);
            self.i += 1;
            State::AfterValue
        } else {
            State::Value
        }
    }

    /// After a value: a separator or the end of the enclosing container; `None` when the document ended.
    fn after_value(&mut self) -> Result<Option<State>, ParseError> {
        let Some(&open) = self.stack.last() else {
            if self.i == self.bytes.len() {
                return Ok(None);
            }
            return Err(
                self.fail(format!("unexpected {} after the end of the JSON value", describe(self.bytes, self.i)))
            );
        };
        let is_object = self.nodes[open as usize].kind == Kind::Object;
        let next = match (self.bytes.get(self.i), is_object) {
            (Some(b','), true) => State::ObjectKey,
            (Some(b','), false) => State::Value,
            (Some(b'}'), true) | (Some(b']'), false) => {
                close(&mut self.nodes, &mut self.stack, self.i);
                State::AfterValue
            }
            (_, true) => {
                return Err(
                    self.fail(format!("expected ',' or '}}' in an object, found {}", describe(self.bytes, self.i)))
                )
            }
            (_, false) => {
                return Err(
                    self.fail(format!("expected ',' or ']' in an array, found {}", describe(self.bytes, self.i)))
                )
            }
        };
        self.i += 1;
        Ok(Some(next))
    }
}

fn close(nodes: &mut [Node], stack: &mut Vec<u32>, i: usize) {
    let last = nodes.len() as u32 - 1;
    if let Some(id) = stack.pop() {
        let node = &mut nodes[id as usize];
        node.end = i as u32 + 1;
        node.last = last;
    }
}

impl Index {
    pub fn len(&self) -> usize {
        self.nodes.len()
    }
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }
    pub fn node(&self, id: u32) -> &Node {
        &self.nodes[id as usize]
    }
    /// Direct children of `id`, in order.
    pub fn children(&self, id: u32) -> impl Iterator<Item = u32> + '_ {
        let node = self.nodes[id as usize];
        let mut next = id + 1;
        std::iter::from_fn(move || {
            if node.children == 0 || next > node.last {
                return None;
            }
            let current = next;
            next = self.nodes[current as usize].last + 1;
            Some(current)
        })
    }
    pub fn raw<'a>(&self, bytes: &'a [u8], id: u32) -> &'a [u8] {
        let n = self.node(id);
        &bytes[n.start as usize..n.end as usize]
    }
    pub fn key_raw<'a>(&self, bytes: &'a [u8], id: u32) -> Option<&'a [u8]> {
        let n = self.node(id);
        (n.key_start != NONE).then(|| &bytes[n.key_start as usize..n.key_end as usize])
    }
    /// The decoded key, if this node is an object member.
    pub fn key<'a>(&self, bytes: &'a [u8], id: u32) -> Option<Cow<'a, str>> {
        self.key_raw(bytes, id).map(unescape)
    }
}

/// Decodes the inside of a JSON string (already validated). Lone surrogates become U+FFFD.
pub fn unescape(raw: &[u8]) -> Cow<'_, str> {
    if !raw.contains(&b'\\') {
        // The common case (masking decodes every key): a plain check, not the lossy decoder's walk.
        return match std::str::from_utf8(raw) {
            Ok(text) => Cow::Borrowed(text),
            Err(_) => String::from_utf8_lossy(raw),
        };
    }
    let text = String::from_utf8_lossy(raw);
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some('u') => {
                let hex = |chars: &mut std::str::Chars<'_>| {
                    let digits: String = chars.by_ref().take(4).collect();
                    u32::from_str_radix(&digits, 16).ok()
                };
                let Some(first) = hex(&mut chars) else {
                    out.push('\u{FFFD}');
                    continue;
                };
                let code = if (0xD800..0xDC00).contains(&first) {
                    let mut look = chars.clone();
                    if look.next() == Some('\\') && look.next() == Some('u') {
                        match hex(&mut look) {
                            Some(low) if (0xDC00..0xE000).contains(&low) => {
                                chars = look;
                                0x10000 + ((first - 0xD800) << 10) + (low - 0xDC00)
                            }
                            _ => 0xFFFD,
                        }
                    } else {
                        0xFFFD
                    }
                } else {
                    first
                };
                out.push(char::from_u32(code).unwrap_or('\u{FFFD}'));
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_come_in_document_order_with_spans_counts_and_subtrees() {
        let body = br#"{"a": [1, {"b": null}], "c": "x\"y", "d": {}}"#;
        let index = parse(body).unwrap();
        let kinds: Vec<_> = index.nodes.iter().map(|n| n.kind).collect();
        use Kind::*;
        assert_eq!(kinds, [Object, Array, Number, Object, Null, String, Object]);
        assert_eq!(index.node(0).children, 3);
        assert_eq!(index.node(0).last, 6);
        assert_eq!(index.node(1).last, 4);
        assert_eq!(index.children(0).collect::<Vec<_>>(), [1, 5, 6]);
        assert_eq!(index.key(body, 5).unwrap(), "c");
        assert_eq!(index.raw(body, 5), br#""x\"y""#);
        assert_eq!(index.raw(body, 1), br#"[1, {"b": null}]"#);
        assert_eq!(index.node(4).depth, 3);
        assert_eq!(index.node(3).position, 1);
        assert_eq!(index.key(body, 2), None);
    }

    #[test]
    fn errors_give_line_column_and_a_reason() {
        let error = parse(b"{\n  \"ok\": true,\n  \"items\": [1, 2,, 3]\n}\n").unwrap_err();
        assert_eq!((error.line, error.column), (3, 18));
        assert!(error.message.contains("expected a value"), "{error}");
        let cases: [(&[u8], &str); 9] = [
            (b"", "expected a value"),
            (b"{\"a\": 1,}", "trailing comma"),
            (b"[1 2]", "expected ',' or ']'"),
            (b"{\"a\" 1}", "expected ':'"),
            (b"\"abc", "never closed"),
            (b"01", "leading zeros"),
            (b"[1.]", "after the decimal point"),
            (b"{} x", "after the end"),
            (b"\"\\x\"", "invalid escape"),
        ];
        for (body, expected) in cases {
            let error = parse(body).unwrap_err();
            assert!(error.message.contains(expected), "{:?}: {error}", String::from_utf8_lossy(body));
        }
        assert!(parse(b"[\"\xff\"]").unwrap_err().message.contains("UTF-8"));
        assert!(parse(b"[\"a\x01\"]").unwrap_err().message.contains("control character"));
    }

    #[test]
    fn ten_thousand_levels_of_nesting_index_without_recursion() {
        let depth = 10_000;
        let body = format!("{}\"bottom\"{}", "{\"a\":".repeat(depth), "}".repeat(depth));
        let index = parse(body.as_bytes()).unwrap();
        assert_eq!(index.len(), depth + 1);
        assert_eq!(index.max_depth as usize, depth);
        assert_eq!(index.node(depth as u32).kind, Kind::String);
        let arrays = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(parse(arrays.as_bytes()).unwrap().len(), 100_000);
    }

    #[test]
    fn numbers_keep_every_digit_and_keys_keep_order_and_duplicates() {
        let body = br#"{"b": 123456789012345678901234567890, "10": 1e-400, "a": 3, "a": 4}"#;
        let index = parse(body).unwrap();
        assert_eq!(index.raw(body, 1), b"123456789012345678901234567890");
        assert_eq!(index.raw(body, 2), b"1e-400");
        let keys: Vec<_> = index.children(0).map(|c| index.key(body, c).unwrap().into_owned()).collect();
        assert_eq!(keys, ["b", "10", "a", "a"]);
    }

    #[test]
    fn escapes_decode_including_surrogate_pairs() {
        assert_eq!(unescape(br"a\nb\u00e9\ud83d\ude00\/"), "a\nbé😀/");
        assert_eq!(unescape(br"\ud83d x"), "\u{FFFD} x");
        assert_eq!(unescape(b"plain"), "plain");
    }
}
