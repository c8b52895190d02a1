//! JSON-schema helpers for the request form: value checks for parameters, body skeletons, and
//! body validation reported as warnings (staff may still send a body that breaks the schema).
//!
//! Pure functions over `serde_json::Value`, so they run in the browser and are tested on the host.

use serde_json::{Map, Value};

use crate::wire::Parameter;

/// Deeper nesting than this is cut: a55 bodies are shallow, and recursive schemas must end.
const MAX_DEPTH: usize = 12;

/// One schema problem in a body, with the JSON path where it was found (`$.customer.email`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchemaWarning {
    pub path: String,
    pub message: String,
}

impl std::fmt::Display for SchemaWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Why a parameter value would be refused by the API, or `None` when it looks right.
pub fn check_param(param: &Parameter, value: &str) -> Option<String> {
    let value = value.trim();
    if value.is_empty() {
        return param.required.then(|| "required".to_owned());
    }
    if !param.enum_values.is_empty() && !param.enum_values.iter().any(|v| v == value) {
        return Some(format!("must be one of {}", param.enum_values.join(", ")));
    }
    match param.schema_type.as_str() {
        "integer" if value.parse::<i64>().is_err() => return Some("must be a whole number".into()),
        "number" if value.parse::<f64>().map_or(true, |n| !n.is_finite()) => return Some("must be a number".into()),
        "boolean" if value != "true" && value != "false" => return Some("must be true or false".into()),
        _ => {}
    }
    param.format.as_deref().and_then(|format| check_format(format, value))
}

/// Checks the string formats a55 uses; unknown formats are accepted.
fn check_format(format: &str, value: &str) -> Option<String> {
    let ok = match format {
        "uuid" => is_uuid(value),
        "date" => is_date(value),
        "date-time" => {
            value.len() > 10
                && is_date(&value[..10])
                && value.as_bytes().get(10).is_some_and(|b| *b == b'T' || *b == b' ')
        }
        "email" => value.split_once('@').is_some_and(|(user, host)| !user.is_empty() && host.contains('.')),
        "uri" | "url" => value.starts_with("https://") || value.starts_with("http://"),
        _ => true,
    };
    (!ok).then(|| format!("must be a {format}"))
}

fn is_uuid(value: &str) -> bool {
    let groups: Vec<&str> = value.split('-').collect();
    groups.len() == 5
        && groups.iter().zip([8, 4, 4, 4, 12]).all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

fn is_date(value: &str) -> bool {
    let parts: Vec<&str> = value.split('-').collect();
    parts.len() == 3
        && parts.iter().zip([4, 2, 2]).all(|(p, n)| p.len() == n && p.chars().all(|c| c.is_ascii_digit()))
        && matches!(parts[1].parse::<u8>(), Ok(1..=12))
        && matches!(parts[2].parse::<u8>(), Ok(1..=31))
}

/// A body that has every property of the schema, filled with its example, default, first enum
/// value, or an empty value of the right type: a starting point when the document has no example.
pub fn skeleton(schema: &Value) -> Value {
    skeleton_at(schema, 0)
}

fn skeleton_at(schema: &Value, depth: usize) -> Value {
    if depth > MAX_DEPTH {
        return Value::Null;
    }
    for key in ["example", "default"] {
        if let Some(value) = schema.get(key) {
            return value.clone();
        }
    }
    if let Some(first) = schema.get("enum").and_then(Value::as_array).and_then(|values| values.first()) {
        return first.clone();
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(first) = schema.get(key).and_then(Value::as_array).and_then(|s| s.first()) {
            return skeleton_at(first, depth + 1);
        }
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        let mut merged = Map::new();
        for part in all {
            if let Value::Object(object) = skeleton_at(part, depth + 1) {
                merged.extend(object);
            }
        }
        return Value::Object(merged);
    }
    match schema_type(schema) {
        Some("object") => {
            let mut object = Map::new();
            if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
                for (name, property) in properties {
                    object.insert(name.clone(), skeleton_at(property, depth + 1));
                }
            }
            Value::Object(object)
        }
        Some("array") => match schema.get("items") {
            Some(items) => Value::Array(vec![skeleton_at(items, depth + 1)]),
            None => Value::Array(Vec::new()),
        },
        Some("string") => Value::String(String::new()),
        Some("integer" | "number") => Value::from(0),
        Some("boolean") => Value::Bool(false),
        _ => Value::Null,
    }
}

/// The schema's type; an object is implied by `properties`, an array by `items`.
fn schema_type(schema: &Value) -> Option<&str> {
    match schema.get("type") {
        Some(Value::String(kind)) => Some(kind.as_str()),
        // OpenAPI 3.1 allows `type: [string, "null"]`: the first non-null one is the shape.
        Some(Value::Array(kinds)) => kinds.iter().filter_map(Value::as_str).find(|k| *k != "null"),
        _ if schema.get("properties").is_some() => Some("object"),
        _ if schema.get("items").is_some() => Some("array"),
        _ => None,
    }
}

fn allows_null(schema: &Value) -> bool {
    schema.get("nullable").and_then(Value::as_bool).unwrap_or(false)
        || matches!(schema.get("type"), Some(Value::Array(kinds)) if kinds.iter().any(|k| k == "null"))
        || schema.get("type").is_some_and(|t| t == "null")
}

/// Everything in `value` that the schema does not allow, in document order.
pub fn validate(schema: &Value, value: &Value) -> Vec<SchemaWarning> {
    let mut warnings = Vec::new();
    validate_at(schema, value, "$", 0, &mut warnings);
    warnings
}

fn validate_at(schema: &Value, value: &Value, path: &str, depth: usize, out: &mut Vec<SchemaWarning>) {
    if depth > MAX_DEPTH || !schema.is_object() {
        return;
    }
    let push =
        |out: &mut Vec<SchemaWarning>, message: String| out.push(SchemaWarning { path: path.to_owned(), message });
    if value.is_null() {
        if !allows_null(schema) && schema_type(schema).is_some() {
            push(out, format!("is null, but should be {}", schema_type(schema).unwrap_or("a value")));
        }
        return;
    }
    validate_combinators(schema, value, path, depth, out);
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array) {
        if !allowed.contains(value) {
            let list: Vec<String> = allowed.iter().map(Value::to_string).collect();
            push(out, format!("{value} is not one of {}", list.join(", ")));
            return;
        }
    }
    let Some(kind) = schema_type(schema) else { return };
    let fits = match kind {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "integer" => value.as_f64().is_some_and(|n| n.fract() == 0.0),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        _ => true,
    };
    if !fits {
        push(out, format!("should be {} {kind}, found {}", article(kind), json_kind(value)));
        return;
    }
    let problems = match value {
        Value::Object(object) => {
            validate_object(schema, object, path, depth, out);
            Vec::new()
        }
        Value::Array(items) => {
            if let Some(schema_items) = schema.get("items") {
                for (index, item) in items.iter().enumerate() {
                    validate_at(schema_items, item, &format!("{path}[{index}]"), depth + 1, out);
                }
            }
            array_bounds(schema, items.len())
        }
        Value::String(text) => string_bounds(schema, text),
        Value::Number(number) => number_bounds(schema, number),
        _ => Vec::new(),
    };
    for message in problems {
        push(out, message);
    }
}

/// `allOf` (every part applies) and `oneOf`/`anyOf` (at least one option must fit).
fn validate_combinators(schema: &Value, value: &Value, path: &str, depth: usize, out: &mut Vec<SchemaWarning>) {
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        for part in all {
            validate_at(part, value, path, depth + 1, out);
        }
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(options) = schema.get(key).and_then(Value::as_array) {
            let fits = options.iter().any(|option| {
                let mut scratch = Vec::new();
                validate_at(option, value, path, depth + 1, &mut scratch);
                scratch.is_empty()
            });
            if !fits {
                out.push(SchemaWarning {
                    path: path.to_owned(),
                    message: format!("matches none of the {} allowed shapes", options.len()),
                });
            }
        }
    }
}

fn validate_object(
    schema: &Value,
    object: &serde_json::Map<String, Value>,
    path: &str,
    depth: usize,
    out: &mut Vec<SchemaWarning>,
) {
    let properties = schema.get("properties").and_then(Value::as_object);
    let closed = schema.get("additionalProperties").is_some_and(|a| a == &Value::Bool(false));
    for (name, item) in object {
        match properties.and_then(|p| p.get(name)) {
            Some(property) => validate_at(property, item, &format!("{path}.{name}"), depth + 1, out),
            None if closed => out.push(SchemaWarning {
                path: format!("{path}.{name}"),
                message: "is not a property the schema knows".into(),
            }),
            None => {
                if let Some(extra) = schema.get("additionalProperties").filter(|a| a.is_object()) {
                    validate_at(extra, item, &format!("{path}.{name}"), depth + 1, out);
                }
            }
        }
    }
    // Missing properties come after the problems in what was written, which matter more.
    if let Some(required) = schema.get("required").and_then(Value::as_array) {
        for name in required.iter().filter_map(Value::as_str) {
            if !object.contains_key(name) {
                out.push(SchemaWarning {
                    path: path.to_owned(),
                    message: format!("is missing required property {name:?}"),
                });
            }
        }
    }
}

fn array_bounds(schema: &Value, len: usize) -> Vec<String> {
    let mut problems = Vec::new();
    if let Some(min) = schema.get("minItems").and_then(Value::as_u64) {
        if (len as u64) < min {
            problems.push(format!("has {len} items, at least {min} expected"));
        }
    }
    problems
}

fn string_bounds(schema: &Value, text: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let length = text.chars().count() as u64;
    if let Some(min) = schema.get("minLength").and_then(Value::as_u64) {
        if length < min {
            problems.push(format!("is {length} characters long, at least {min} expected"));
        }
    }
    if let Some(max) = schema.get("maxLength").and_then(Value::as_u64) {
        if length > max {
            problems.push(format!("is {length} characters long, at most {max} allowed"));
        }
    }
    if let Some(problem) = schema.get("format").and_then(Value::as_str).and_then(|f| check_format(f, text)) {
        problems.push(problem);
    }
    problems
}

fn number_bounds(schema: &Value, number: &serde_json::Number) -> Vec<String> {
    let mut problems = Vec::new();
    let n = number.as_f64().unwrap_or_default();
    if let Some(min) = schema.get("minimum").and_then(Value::as_f64) {
        if n < min {
            problems.push(format!("is {number}, at least {min} expected"));
        }
    }
    if let Some(max) = schema.get("maximum").and_then(Value::as_f64) {
        if n > max {
            problems.push(format!("is {number}, at most {max} allowed"));
        }
    }
    problems
}

fn article(kind: &str) -> &'static str {
    if kind.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a number",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ParamLocation;
    use serde_json::json;

    fn param(schema_type: &str, required: bool) -> Parameter {
        Parameter {
            name: "p".into(),
            location: ParamLocation::Query,
            required,
            description: String::new(),
            schema_type: schema_type.into(),
            enum_values: vec![],
            example: None,
            format: None,
        }
    }

    #[test]
    fn parameter_values_are_checked_against_type_enum_format_and_required() {
        assert_eq!(check_param(&param("string", true), " "), Some("required".into()));
        assert_eq!(check_param(&param("string", false), ""), None);
        assert_eq!(check_param(&param("integer", false), "12"), None);
        assert_eq!(check_param(&param("integer", false), "1.5"), Some("must be a whole number".into()));
        assert_eq!(check_param(&param("number", false), "1.5"), None);
        assert_eq!(check_param(&param("number", false), "abc"), Some("must be a number".into()));
        assert_eq!(check_param(&param("boolean", false), "yes"), Some("must be true or false".into()));
        let status = Parameter { enum_values: vec!["paid".into(), "pending".into()], ..param("string", false) };
        assert_eq!(check_param(&status, "paid"), None);
        assert_eq!(check_param(&status, "done"), Some("must be one of paid, pending".into()));
        let uuid = Parameter { format: Some("uuid".into()), ..param("string", true) };
        assert_eq!(check_param(&uuid, "2f0c1b7e-3d4a-4e59-9c1a-1b2c3d4e5f60"), None);
        assert_eq!(check_param(&uuid, "2f0c1b7e"), Some("must be a uuid".into()));
        let date = Parameter { format: Some("date".into()), ..param("string", false) };
        assert_eq!(check_param(&date, "2026-11-29"), None);
        assert_eq!(check_param(&date, "2026-13-01"), Some("must be a date".into()));
    }

    fn charge_schema() -> Value {
        json!({
            "type": "object",
            "required": ["wallet_uuid", "value", "payer"],
            "properties": {
                "wallet_uuid": {"type": "string", "format": "uuid"},
                "value": {"type": "number", "minimum": 0.01},
                "currency": {"type": "string", "enum": ["BRL", "USD"]},
                "installments": {"type": "integer", "default": 1},
                "capture": {"type": "boolean"},
                "payer": {
                    "type": "object",
                    "required": ["email"],
                    "properties": {
                        "email": {"type": "string", "format": "email"},
                        "name": {"type": "string", "example": "Maria Silva"},
                        "phone": {"type": "string", "nullable": true}
                    }
                },
                "items": {"type": "array", "items": {"type": "object", "properties": {"sku": {"type": "string"}}}},
                "method": {"oneOf": [{"type": "string"}, {"type": "object", "properties": {"pix": {"type": "boolean"}}}]}
            }
        })
    }

    #[test]
    fn a_skeleton_has_every_property_with_examples_defaults_enums_and_nested_objects() {
        let body = skeleton(&charge_schema());
        assert_eq!(
            body,
            json!({
                "wallet_uuid": "",
                "value": 0,
                "currency": "BRL",
                "installments": 1,
                "capture": false,
                "payer": {"email": "", "name": "Maria Silva", "phone": ""},
                "items": [{"sku": ""}],
                "method": ""
            })
        );
    }

    #[test]
    fn a_recursive_schema_gives_a_finite_skeleton() {
        let mut schema = json!({"type": "object", "properties": {}});
        for _ in 0..40 {
            schema = json!({"type": "object", "properties": {"child": schema}});
        }
        let text = serde_json::to_string(&skeleton(&schema)).unwrap();
        assert!(text.len() < 400, "{text}");
    }

    #[test]
    fn a_valid_body_has_no_warnings() {
        let body = json!({
            "wallet_uuid": "2f0c1b7e-3d4a-4e59-9c1a-1b2c3d4e5f60",
            "value": 10.5,
            "currency": "BRL",
            "payer": {"email": "a@b.co", "phone": null},
            "items": [{"sku": "x"}],
            "method": {"pix": true}
        });
        assert_eq!(validate(&charge_schema(), &body), vec![]);
    }

    #[test]
    fn schema_problems_are_reported_with_their_json_path() {
        let body = json!({
            "wallet_uuid": "nope",
            "value": "10",
            "currency": "EUR",
            "installments": 1.5,
            "payer": {"name": 3},
            "items": [{"sku": 1}],
            "method": 7
        });
        let warnings: Vec<String> = validate(&charge_schema(), &body).iter().map(ToString::to_string).collect();
        assert_eq!(
            warnings,
            vec![
                "$.wallet_uuid: must be a uuid",
                "$.value: should be a number, found a string",
                "$.currency: \"EUR\" is not one of \"BRL\", \"USD\"",
                "$.installments: should be an integer, found a number",
                "$.payer.name: should be a string, found an integer",
                "$.payer: is missing required property \"email\"",
                "$.items[0].sku: should be a string, found an integer",
                "$.method: matches none of the 2 allowed shapes",
            ]
        );
        let top: Vec<String> = validate(&charge_schema(), &json!([])).iter().map(ToString::to_string).collect();
        assert_eq!(top, vec!["$: should be an object, found an array"]);
    }

    #[test]
    fn closed_objects_flag_unknown_properties() {
        let schema = json!({"type": "object", "additionalProperties": false, "properties": {"a": {"type": "string"}}});
        let warnings = validate(&schema, &json!({"a": "x", "b": 1}));
        assert_eq!(
            warnings,
            vec![SchemaWarning { path: "$.b".into(), message: "is not a property the schema knows".into() }]
        );
    }
}
