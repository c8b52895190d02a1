//! JSONPath (RFC 9535) over a stored response body, with errors that say what to fix.
//!
//! Evaluated here rather than in the browser: the browser keeps a compact index of the body, not a
//! `serde_json::Value`, and building one in WASM for a 20 MB body costs seconds and hundreds of MB.

use app::wire::{JsonPathAnswer, JsonPathMatch, PathStep, JSONPATH_MAX_MATCHES, JSONPATH_VALUE_PREVIEW};
use serde_json_path::{JsonPath, PathElement};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsonPathError {
    #[error("the expression is empty: start with $, e.g. $.data[*].status")]
    Empty,
    /// `column` is 1-based, counted in characters of the expression.
    #[error("invalid JSONPath at column {column}: {message}")]
    Expression { column: usize, message: String },
    #[error("the body is not valid JSON ({0}), so it cannot be filtered with JSONPath")]
    NotJson(String),
}

/// Parses `expression` alone, so errors are reported before any body is touched.
pub fn parse(expression: &str) -> Result<JsonPath, JsonPathError> {
    let trimmed = expression.trim();
    if trimmed.is_empty() {
        return Err(JsonPathError::Empty);
    }
    JsonPath::parse(trimmed)
        .map_err(|error| JsonPathError::Expression { column: error.position(), message: error.message().to_owned() })
}

/// Runs `expression` over `body`, listing at most `JSONPATH_MAX_MATCHES` matches.
pub fn evaluate(body: &[u8], expression: &str) -> Result<JsonPathAnswer, JsonPathError> {
    let started = crate::clock::Stopwatch::start();
    let path = parse(expression)?;
    // serde_json stops at 128 levels of nesting (an error, never a stack overflow); the tree and
    // search in the browser have no such limit.
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|error| {
        let reason = if error.to_string().contains("recursion limit") {
            "it nests deeper than 128 levels".to_owned()
        } else {
            error.to_string()
        };
        JsonPathError::NotJson(reason)
    })?;
    let located = path.query_located(&value);
    let total = located.len();
    let matches = located
        .iter()
        .take(JSONPATH_MAX_MATCHES)
        .map(|node| {
            let steps = node
                .location()
                .iter()
                .map(|element| match element {
                    PathElement::Name(name) => PathStep::Name((*name).to_owned()),
                    PathElement::Index(index) => PathStep::Index(*index as u64),
                })
                .collect();
            let text = serde_json::to_string(node.node()).unwrap_or_default();
            let (value, value_truncated) = preview(text);
            JsonPathMatch { path: node.location().to_string(), steps, value, value_truncated }
        })
        .collect();
    Ok(JsonPathAnswer { total, matches, elapsed_ms: started.elapsed().as_secs_f64() * 1000.0 })
}

fn preview(text: String) -> (String, bool) {
    match text.char_indices().nth(JSONPATH_VALUE_PREVIEW) {
        Some((cut, _)) => (text[..cut].to_owned(), true),
        None => (text, false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] =
        br#"{"data": [{"status": "paid", "value": 10.5}, {"status": "error", "value": 3}], "total": 2}"#;

    #[test]
    fn a_filter_selects_the_matching_nodes_with_normalized_paths() {
        let answer = evaluate(BODY, "$.data[?@.status == 'paid'].value").unwrap();
        assert_eq!(answer.total, 1);
        assert_eq!(answer.matches[0].path, "$['data'][0]['value']");
        assert_eq!(
            answer.matches[0].steps,
            vec![PathStep::Name("data".into()), PathStep::Index(0), PathStep::Name("value".into())]
        );
        assert_eq!(answer.matches[0].value, "10.5");
        assert_eq!(evaluate(BODY, "$..status").unwrap().total, 2);
        assert_eq!(evaluate(BODY, "$.nothing").unwrap().total, 0);
    }

    #[test]
    fn a_syntax_error_names_its_column() {
        let error = evaluate(BODY, "$.data[?@.status == ]").unwrap_err();
        let JsonPathError::Expression { column, message } = &error else { panic!("{error:?}") };
        assert!(*column > 1 && *column <= 21, "{error}");
        assert!(!message.is_empty());
        assert!(error.to_string().starts_with("invalid JSONPath at column"), "{error}");
    }

    #[test]
    fn expressions_that_do_not_start_at_the_root_or_are_empty_are_refused() {
        let error = parse("data[0]").unwrap_err();
        assert!(matches!(error, JsonPathError::Expression { .. }), "{error:?}");
        assert_eq!(parse("   ").unwrap_err(), JsonPathError::Empty);
        assert!(matches!(parse("$[?length(@) > ]"), Err(JsonPathError::Expression { .. })));
    }

    #[test]
    fn invalid_or_too_deep_json_gives_a_clear_error_instead_of_a_crash() {
        assert!(matches!(evaluate(b"{\"a\": ", "$.a"), Err(JsonPathError::NotJson(_))));
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        let error = evaluate(deep.as_bytes(), "$").unwrap_err();
        assert_eq!(error, JsonPathError::NotJson("it nests deeper than 128 levels".into()));
    }

    #[test]
    fn long_values_are_cut_and_flagged() {
        let body = format!("{{\"s\": \"{}\"}}", "é".repeat(1_000));
        let answer = evaluate(body.as_bytes(), "$.s").unwrap();
        assert!(answer.matches[0].value_truncated);
        assert_eq!(answer.matches[0].value.chars().count(), JSONPATH_VALUE_PREVIEW);
    }
}
