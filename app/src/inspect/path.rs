//! The JSONPath of a node (RFC 9535 syntax, shorthand `.name` where allowed) and the node at a path.

use super::index::{Index, Kind, NONE};
use crate::wire::PathStep;

fn is_shorthand(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || !c.is_ascii())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || !c.is_ascii())
}

/// `name` as an RFC 9535 single-quoted string literal.
fn quoted(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 2);
    out.push('\'');
    for c in name.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// `$.data[0].payer.name`, `$['a key'][2]`: a query that selects exactly this node.
pub fn jsonpath_of(index: &Index, bytes: &[u8], id: u32) -> String {
    let mut steps = Vec::new();
    let mut current = id;
    while index.node(current).parent != NONE {
        let node = index.node(current);
        steps.push(match index.key(bytes, current) {
            Some(key) if is_shorthand(&key) => format!(".{key}"),
            Some(key) => format!("[{}]", quoted(&key)),
            None => format!("[{}]", node.position),
        });
        current = node.parent;
    }
    let mut path = String::from("$");
    for step in steps.iter().rev() {
        path.push_str(step);
    }
    path
}

/// The node a normalized path points at (first member when keys repeat).
pub fn locate(index: &Index, bytes: &[u8], steps: &[PathStep]) -> Option<u32> {
    if index.is_empty() {
        return None;
    }
    let mut current = 0u32;
    for step in steps {
        let kind = index.node(current).kind;
        current = match (step, kind) {
            (PathStep::Name(name), Kind::Object) => {
                index.children(current).find(|&c| index.key(bytes, c).is_some_and(|k| k == name.as_str()))?
            }
            (PathStep::Index(i), Kind::Array) => index.children(current).nth(usize::try_from(*i).ok()?)?,
            _ => return None,
        };
    }
    Some(current)
}

#[cfg(test)]
mod tests {
    use super::super::index::parse;
    use super::*;

    #[test]
    fn paths_use_shorthand_where_rfc_9535_allows_and_quote_otherwise() {
        let body = r#"{"data": [{"payer": {"name": "x"}}], "a key": 1, "it's": 2, "9lives": 3, "ação": 4}"#.as_bytes();
        let index = parse(body).unwrap();
        let paths: Vec<_> = (0..index.len() as u32).map(|id| jsonpath_of(&index, body, id)).collect();
        assert_eq!(
            paths,
            [
                "$",
                "$.data",
                "$.data[0]",
                "$.data[0].payer",
                "$.data[0].payer.name",
                "$['a key']",
                r"$['it\'s']",
                "$['9lives']",
                "$.ação"
            ]
        );
    }

    #[test]
    fn normalized_paths_lead_back_to_their_node() {
        let body = br#"{"data": [{"id": 1}, {"id": 2, "tags": ["a", "b"]}]}"#;
        let index = parse(body).unwrap();
        let steps =
            [PathStep::Name("data".into()), PathStep::Index(1), PathStep::Name("tags".into()), PathStep::Index(1)];
        let found = locate(&index, body, &steps).unwrap();
        assert_eq!(index.raw(body, found), br#""b""#);
        assert_eq!(locate(&index, body, &[]), Some(0));
        assert_eq!(locate(&index, body, &[PathStep::Index(0)]), None);
        assert_eq!(locate(&index, body, &[PathStep::Name("data".into()), PathStep::Index(9)]), None);
    }
}
