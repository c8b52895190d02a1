//! Spec drift: two OpenAPI documents of the same API compared operation by operation (operations,
//! parameters, request and response schemas through `$ref` with cycles cut, response codes) into
//! ranked changes with stable keys (pure, unit-tested).
//!
//! Documents are read as JSON values rather than `openapiv3` types: a `$ref` may point anywhere in
//! the document, and 3.0 and 3.1 spellings (`nullable`, type lists) compare as what they mean.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use app::wire::{SpecChange, SpecChangeKind, SpecComparison};
use serde_json::Value;

const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
/// Schemas nest this deep at most before the walk stops: real APIs stay far below, and a
/// pathological document cannot make the diff run away.
const MAX_DEPTH: usize = 32;
/// `$ref` hops followed for one value (a chain of aliases), after which it counts as unresolved.
const MAX_HOPS: usize = 16;

/// A baseline's spec part: (left, right, change key) of every accepted change.
pub type KnownSpec = HashSet<(String, String, String)>;

/// Every change from `left` to `right`, ranked: kind (breaking first), then operation, then pointer.
pub fn diff(left: &Value, right: &Value) -> Vec<SpecChange> {
    let (left, right) = (Doc { root: left }, Doc { root: right });
    let (left_ops, right_ops) = (left.operations(), right.operations());
    let mut out = Changes::default();
    for (key, op) in &left_ops {
        match right_ops.get(key) {
            None => out.push(SpecChangeKind::OperationRemoved, key, &op.display, "", Some(op.display.clone()), None),
            Some(other) => diff_operation(&mut out, key, &left, op, &right, other),
        }
    }
    for (key, op) in right_ops.iter().filter(|(key, _)| !left_ops.contains_key(*key)) {
        out.push(SpecChangeKind::OperationAdded, key, &op.display, "", None, Some(op.display.clone()));
    }
    let mut changes = out.0;
    changes.sort_by(|a, b| (a.kind, &a.operation, &a.pointer).cmp(&(b.kind, &b.operation, &b.pointer)));
    changes
}

/// Marks the changes of `comparison` that the baseline does not know as new.
pub fn judge(comparison: &mut SpecComparison, known: Option<&KnownSpec>) {
    for change in &mut comparison.changes {
        change.new =
            known.is_none_or(|k| !k.contains(&(comparison.left.clone(), comparison.right.clone(), change.key.clone())));
    }
}

/// What a baseline keeps of comparisons.
pub fn known_of(comparisons: &[SpecComparison]) -> KnownSpec {
    comparisons
        .iter()
        .flat_map(|s| s.changes.iter().map(|c| (s.left.clone(), s.right.clone(), c.key.clone())))
        .collect()
}

#[derive(Default)]
struct Changes(Vec<SpecChange>);

impl Changes {
    fn push(
        &mut self,
        kind: SpecChangeKind,
        op_key: &str,
        operation: &str,
        pointer: &str,
        before: Option<String>,
        after: Option<String>,
    ) {
        self.0.push(SpecChange {
            key: format!("{kind:?}|{op_key}|{pointer}"),
            kind,
            operation: operation.to_owned(),
            pointer: pointer.to_owned(),
            before,
            after,
            new: true,
        });
    }
}

struct Doc<'a> {
    root: &'a Value,
}

struct Operation<'a> {
    /// `GET /bank/wallet/charge/{charge_uuid}/` as written.
    display: String,
    /// The path template's parameter names in order.
    path_names: Vec<String>,
    item: &'a Value,
    op: &'a Value,
}

/// `/a/{id}/b` → `/a/{}/b`: two documents naming a path parameter differently describe one operation.
fn normalise(path: &str) -> (String, Vec<String>) {
    let (mut out, mut names, mut rest) = (String::with_capacity(path.len()), Vec::new(), path);
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else { break };
        out.push_str(&rest[..open]);
        out.push_str("{}");
        names.push(rest[open + 1..open + close].to_owned());
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    (out, names)
}

fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

fn join(pointer: &str, segment: &str) -> String {
    if pointer.is_empty() {
        escape(segment)
    } else {
        format!("{pointer}/{}", escape(segment))
    }
}

impl<'a> Doc<'a> {
    /// Follows `$ref`s (local JSON pointers); the name of the last one is the schema's identity
    /// for cycle detection.
    fn resolve(&self, mut value: &'a Value) -> (&'a Value, Option<&'a str>) {
        let mut name = None;
        for _ in 0..MAX_HOPS {
            let Some(reference) = value.get("$ref").and_then(Value::as_str) else { return (value, name) };
            let Some(target) = reference.strip_prefix('#').and_then(|p| self.root.pointer(p)) else {
                return (value, name);
            };
            name = Some(reference);
            value = target;
        }
        (value, name)
    }

    fn operations(&self) -> BTreeMap<String, Operation<'a>> {
        let mut ops = BTreeMap::new();
        let Some(paths) = self.root.get("paths").and_then(Value::as_object) else { return ops };
        for (path, item) in paths {
            let item = self.resolve(item).0;
            let (normal, path_names) = normalise(path);
            for method in METHODS {
                let Some(op) = item.get(method) else { continue };
                let upper = method.to_ascii_uppercase();
                ops.insert(
                    format!("{upper} {normal}"),
                    Operation { display: format!("{upper} {path}"), path_names: path_names.clone(), item, op },
                );
            }
        }
        ops
    }

    /// Parameters by (location, name), operation-level ones overriding the path item's; path
    /// parameters renamed to `rename`'s names by their position in the template.
    fn parameters(&self, op: &Operation<'a>, rename: &[String]) -> BTreeMap<(String, String), &'a Value> {
        let mut out = BTreeMap::new();
        let lists = [op.item.get("parameters"), op.op.get("parameters")];
        for parameter in lists.into_iter().flatten().filter_map(Value::as_array).flatten() {
            let parameter = self.resolve(parameter).0;
            let (Some(name), Some(location)) =
                (parameter.get("name").and_then(Value::as_str), parameter.get("in").and_then(Value::as_str))
            else {
                continue;
            };
            let name = match op.path_names.iter().position(|n| n == name) {
                Some(i) if location == "path" => rename.get(i).map_or(name, String::as_str),
                _ => name,
            };
            out.insert((location.to_owned(), name.to_owned()), parameter);
        }
        out
    }

    /// Response codes and their body schemas.
    fn responses(&self, op: &Operation<'a>) -> BTreeMap<String, Option<&'a Value>> {
        let responses = op.op.get("responses").and_then(Value::as_object).into_iter().flatten();
        responses.map(|(code, response)| (code.clone(), self.body_schema(response))).collect()
    }

    /// The JSON schema of a request body or response (`content` with a JSON media type, else the first).
    fn body_schema(&self, holder: &'a Value) -> Option<&'a Value> {
        let content = self.resolve(holder).0.get("content")?.as_object()?;
        let media = content.iter().find(|(kind, _)| kind.contains("json")).or_else(|| content.iter().next())?.1;
        media.get("schema")
    }
}

fn diff_operation<'a>(
    out: &mut Changes,
    key: &str,
    left: &Doc<'a>,
    l: &Operation<'a>,
    right: &Doc<'a>,
    r: &Operation<'a>,
) {
    let display = r.display.as_str();
    // Parameters.
    let lp = left.parameters(l, &r.path_names);
    let rp = right.parameters(r, &r.path_names);
    let mut removed: BTreeMap<&str, &str> = BTreeMap::new();
    let mut added: BTreeMap<&str, (&str, &Value)> = BTreeMap::new();
    for ((location, name), lv) in &lp {
        let pointer = format!("parameters/{location}/{}", escape(name));
        match rp.get(&(location.clone(), name.clone())) {
            None => {
                removed.insert(name, location);
            }
            Some(rv) => {
                let required =
                    |p: &Value| location == "path" || p.get("required").and_then(Value::as_bool) == Some(true);
                match (required(lv), required(rv)) {
                    (false, true) => out.push(
                        SpecChangeKind::ParameterRequired,
                        key,
                        display,
                        &pointer,
                        Some("optional".into()),
                        Some("required".into()),
                    ),
                    (true, false) => out.push(
                        SpecChangeKind::ParameterOptional,
                        key,
                        display,
                        &pointer,
                        Some("required".into()),
                        Some("optional".into()),
                    ),
                    _ => {}
                }
                if let (Some(ls), Some(rs)) = (lv.get("schema"), rv.get("schema")) {
                    let mut walk = Walk { out, key, display, left, right, request: true, stack: Vec::new() };
                    walk.schema(ls, rs, &pointer, 0);
                }
            }
        }
    }
    for ((location, name), rv) in &rp {
        if !lp.contains_key(&(location.clone(), name.clone())) {
            added.insert(name, (location, rv));
        }
    }
    for (name, location) in &removed {
        let pointer = format!("parameters/{location}/{}", escape(name));
        match added.remove(name) {
            Some((to, _)) => out.push(
                SpecChangeKind::ParameterMoved,
                key,
                display,
                &format!("parameters/{}", escape(name)),
                Some((*location).to_owned()),
                Some(to.to_owned()),
            ),
            None => {
                out.push(SpecChangeKind::ParameterRemoved, key, display, &pointer, Some((*location).to_owned()), None)
            }
        }
    }
    for (name, (location, rv)) in added {
        let pointer = format!("parameters/{location}/{}", escape(name));
        let required = location == "path" || rv.get("required").and_then(Value::as_bool) == Some(true);
        let kind = if required { SpecChangeKind::ParameterRequired } else { SpecChangeKind::ParameterAdded };
        let text = rv.get("schema").map(|s| right.type_text(s)).unwrap_or_default();
        let after = format!(
            "{}{location}{}",
            if required { "required, " } else { "" },
            if text.is_empty() { String::new() } else { format!(", {text}") }
        );
        out.push(kind, key, display, &pointer, None, Some(after));
    }
    // Request body.
    if let (Some(lb), Some(rb)) = (l.op.get("requestBody"), r.op.get("requestBody")) {
        if let (Some(ls), Some(rs)) = (left.body_schema(lb), right.body_schema(rb)) {
            let mut walk = Walk { out, key, display, left, right, request: true, stack: Vec::new() };
            walk.schema(ls, rs, "requestBody", 0);
        }
    }
    // Responses.
    let (lc, rc) = (left.responses(l), right.responses(r));
    for (code, ls) in &lc {
        let pointer = format!("responses/{}", escape(code));
        match rc.get(code) {
            None => out.push(SpecChangeKind::ResponseRemoved, key, display, &pointer, Some(code.clone()), None),
            Some(rs) => {
                if let (Some(ls), Some(rs)) = (ls, rs) {
                    let mut walk = Walk { out, key, display, left, right, request: false, stack: Vec::new() };
                    walk.schema(ls, rs, &format!("{pointer}/body"), 0);
                }
            }
        }
    }
    for code in rc.keys().filter(|c| !lc.contains_key(*c)) {
        out.push(
            SpecChangeKind::ResponseAdded,
            key,
            display,
            &format!("responses/{}", escape(code)),
            None,
            Some(code.clone()),
        );
    }
}

impl Doc<'_> {
    /// `string (uuid)`, `integer`, `string | number, nullable`: what a schema's type reads as.
    fn type_text(&self, schema: &Value) -> String {
        let schema = self.resolve(schema).0;
        let mut types: Vec<String> = match schema.get("type") {
            Some(Value::String(t)) => vec![t.clone()],
            Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
            _ if schema.get("properties").is_some() => vec!["object".into()],
            _ if schema.get("items").is_some() => vec!["array".into()],
            _ => Vec::new(),
        };
        let nullable =
            types.iter().any(|t| t == "null") || schema.get("nullable").and_then(Value::as_bool) == Some(true);
        types.retain(|t| t != "null");
        types.sort();
        let mut text = types.join(" | ");
        if let Some(format) = schema.get("format").and_then(Value::as_str) {
            text.push_str(&format!(" ({format})"));
        }
        if nullable {
            text.push_str(if text.is_empty() { "null" } else { ", nullable" });
        }
        text
    }
}

/// Properties and required names of a schema, `allOf` members merged in.
fn members<'a>(doc: &Doc<'a>, schema: &'a Value, depth: usize) -> (BTreeMap<String, &'a Value>, BTreeSet<String>) {
    let mut properties = BTreeMap::new();
    let mut required = BTreeSet::new();
    if depth > MAX_DEPTH {
        return (properties, required);
    }
    if let Some(own) = schema.get("properties").and_then(Value::as_object) {
        properties.extend(own.iter().map(|(k, v)| (k.clone(), v)));
    }
    if let Some(names) = schema.get("required").and_then(Value::as_array) {
        required.extend(names.iter().filter_map(Value::as_str).map(str::to_owned));
    }
    for part in schema.get("allOf").and_then(Value::as_array).into_iter().flatten() {
        let (more, needed) = members(doc, doc.resolve(part).0, depth + 1);
        for (name, value) in more {
            properties.entry(name).or_insert(value);
        }
        required.extend(needed);
    }
    (properties, required)
}

fn enum_values(schema: &Value) -> BTreeSet<String> {
    let values = schema.get("enum").and_then(Value::as_array).into_iter().flatten();
    values.map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned)).collect()
}

/// One schema walk: both documents side by side, the `$ref` pairs on the current path (a pair seen
/// again is a cycle, compared already further up).
struct Walk<'o, 'a> {
    out: &'o mut Changes,
    key: &'o str,
    display: &'o str,
    left: &'o Doc<'a>,
    right: &'o Doc<'a>,
    /// A request schema (a new required field breaks callers) or a response one.
    request: bool,
    stack: Vec<(Option<&'a str>, Option<&'a str>)>,
}

impl<'a> Walk<'_, 'a> {
    fn push(&mut self, kind: SpecChangeKind, pointer: &str, before: Option<String>, after: Option<String>) {
        self.out.push(kind, self.key, self.display, pointer, before, after);
    }

    fn schema(&mut self, l: &'a Value, r: &'a Value, pointer: &str, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        let (l, l_ref) = self.left.resolve(l);
        let (r, r_ref) = self.right.resolve(r);
        let pair = (l_ref, r_ref);
        if (l_ref.is_some() || r_ref.is_some()) && self.stack.contains(&pair) {
            return;
        }
        let (lt, rt) = (self.left.type_text(l), self.right.type_text(r));
        if lt != rt && !lt.is_empty() && !rt.is_empty() {
            // The rest of a retyped value is noise next to the retyping itself.
            self.push(SpecChangeKind::TypeChanged, pointer, Some(lt), Some(rt));
            return;
        }
        let (le, re) = (enum_values(l), enum_values(r));
        if !le.is_empty() && !re.is_empty() {
            for value in le.difference(&re) {
                self.push(
                    SpecChangeKind::EnumValueRemoved,
                    &join(&join(pointer, "enum"), value),
                    Some(value.clone()),
                    None,
                );
            }
            for value in re.difference(&le) {
                self.push(
                    SpecChangeKind::EnumValueAdded,
                    &join(&join(pointer, "enum"), value),
                    None,
                    Some(value.clone()),
                );
            }
        }
        self.stack.push(pair);
        let ((lp, lr), (rp, rr)) = (members(self.left, l, 0), members(self.right, r, 0));
        for (name, lv) in &lp {
            let at = join(pointer, name);
            match rp.get(name) {
                None => self.push(SpecChangeKind::FieldRemoved, &at, Some(self.left.type_text(lv)), None),
                Some(rv) => {
                    match (lr.contains(name), rr.contains(name)) {
                        (false, true) => self.push(
                            SpecChangeKind::FieldRequired,
                            &at,
                            Some("optional".into()),
                            Some("required".into()),
                        ),
                        (true, false) => self.push(
                            SpecChangeKind::FieldOptional,
                            &at,
                            Some("required".into()),
                            Some("optional".into()),
                        ),
                        _ => {}
                    }
                    self.schema(lv, rv, &at, depth + 1);
                }
            }
        }
        for (name, rv) in rp.iter().filter(|(name, _)| !lp.contains_key(*name)) {
            let kind = if self.request && rr.contains(name) {
                SpecChangeKind::FieldRequired
            } else {
                SpecChangeKind::FieldAdded
            };
            let text = self.right.type_text(rv);
            self.push(kind, &join(pointer, name), None, Some(text));
        }
        if let (Some(li), Some(ri)) = (l.get("items"), r.get("items")) {
            self.schema(li, ri, &join(pointer, "[]"), depth + 1);
        }
        if let (Some(la @ Value::Object(_)), Some(ra @ Value::Object(_))) =
            (l.get("additionalProperties"), r.get("additionalProperties"))
        {
            self.schema(la, ra, &join(pointer, "{*}"), depth + 1);
        }
        self.stack.pop();
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn doc(paths: Value, schemas: Value) -> Value {
        json!({"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": paths, "components": {"schemas": schemas}})
    }

    fn seen(changes: &[SpecChange]) -> Vec<(SpecChangeKind, &str, &str)> {
        changes.iter().map(|c| (c.kind, c.operation.as_str(), c.pointer.as_str())).collect()
    }

    fn ok(schema: Value) -> Value {
        json!({"200": {"description": "OK", "content": {"application/json": {"schema": schema}}}})
    }

    #[test]
    fn identical_documents_have_no_drift_and_renamed_path_parameters_are_the_same_operation() {
        let left = doc(
            json!({"/charge/{id}/": {"get": {"parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}], "responses": ok(json!({"type": "object"}))}}}),
            json!({}),
        );
        assert!(diff(&left, &left).is_empty());
        let right = doc(
            json!({"/charge/{charge_uuid}/": {"get": {"parameters": [{"name": "charge_uuid", "in": "path", "required": true, "schema": {"type": "string"}}], "responses": ok(json!({"type": "object"}))}}}),
            json!({}),
        );
        assert_eq!(diff(&left, &right), Vec::new());
    }

    #[test]
    fn operations_parameters_and_response_codes_are_ranked_breaking_first() {
        let left = doc(
            json!({
                "/a": {"get": {"parameters": [
                    {"name": "limit", "in": "query", "schema": {"type": "integer"}},
                    {"name": "gone", "in": "query", "schema": {"type": "string"}},
                    {"name": "trace", "in": "query", "schema": {"type": "string"}}
                ], "responses": {"200": {"description": "OK"}, "404": {"description": "no"}}}},
                "/old": {"delete": {"responses": {"204": {"description": "gone"}}}}
            }),
            json!({}),
        );
        let right = doc(
            json!({
                "/a": {"get": {"parameters": [
                    {"name": "limit", "in": "query", "required": true, "schema": {"type": "string"}},
                    {"name": "wallet", "in": "query", "required": true, "schema": {"type": "string", "format": "uuid"}},
                    {"name": "page", "in": "query", "schema": {"type": "integer"}},
                    {"name": "trace", "in": "header", "schema": {"type": "string"}}
                ], "responses": {"200": {"description": "OK"}, "429": {"description": "slow down"}}}},
                "/new": {"post": {"responses": {"201": {"description": "made"}}}}
            }),
            json!({}),
        );
        let changes = diff(&left, &right);
        assert_eq!(
            seen(&changes),
            [
                (SpecChangeKind::OperationRemoved, "DELETE /old", ""),
                (SpecChangeKind::ResponseRemoved, "GET /a", "responses/404"),
                (SpecChangeKind::ParameterRequired, "GET /a", "parameters/query/limit"),
                (SpecChangeKind::ParameterRequired, "GET /a", "parameters/query/wallet"),
                (SpecChangeKind::TypeChanged, "GET /a", "parameters/query/limit"),
                (SpecChangeKind::ParameterMoved, "GET /a", "parameters/trace"),
                (SpecChangeKind::ParameterRemoved, "GET /a", "parameters/query/gone"),
                (SpecChangeKind::OperationAdded, "POST /new", ""),
                (SpecChangeKind::ResponseAdded, "GET /a", "responses/429"),
                (SpecChangeKind::ParameterAdded, "GET /a", "parameters/query/page"),
            ]
        );
        let typed = &changes[4];
        assert_eq!((typed.before.as_deref(), typed.after.as_deref()), (Some("integer"), Some("string")));
        assert_eq!(changes[3].after.as_deref(), Some("required, query, string (uuid)"));
        assert!(changes.iter().take(7).all(|c| c.kind.is_breaking()));
        assert!(changes.iter().skip(7).all(|c| !c.kind.is_breaking()));
        assert_eq!(changes[1].key, "ResponseRemoved|GET /a|responses/404");
    }

    #[test]
    fn schemas_are_followed_through_refs_into_nested_objects_and_arrays_with_enums_and_required() {
        let paths = json!({"/charges": {
            "get": {"responses": ok(json!({"$ref": "#/components/schemas/List"}))},
            "post": {"requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/New"}}}},
                     "responses": ok(json!({"$ref": "#/components/schemas/Charge"}))}
        }});
        let left_schemas = json!({
            "List": {"type": "object", "properties": {"data": {"type": "array", "items": {"$ref": "#/components/schemas/Charge"}}}},
            "Charge": {"type": "object", "required": ["status"], "properties": {
                "status": {"type": "string", "enum": ["pending", "paid", "refunded"]},
                "installment_count": {"type": "integer"},
                "description": {"type": "string"}
            }},
            "New": {"type": "object", "required": ["amount"], "properties": {"amount": {"type": "number"}, "note": {"type": "string"}}}
        });
        let right_schemas = json!({
            "List": {"type": "object", "properties": {"data": {"type": "array", "items": {"$ref": "#/components/schemas/Charge"}}}},
            "Charge": {"allOf": [{"$ref": "#/components/schemas/Base"}, {"type": "object", "properties": {
                "status": {"type": "string", "enum": ["pending", "paid", "chargeback"]},
                "installment_count": {"type": "string"},
                "acquirer_reference": {"type": "string"}
            }}]},
            "Base": {"type": "object", "required": ["status"]},
            "New": {"type": "object", "required": ["amount", "note", "currency"], "properties": {
                "amount": {"type": "number"}, "note": {"type": "string"}, "currency": {"type": "string"}
            }}
        });
        let changes = diff(&doc(paths.clone(), left_schemas), &doc(paths, right_schemas));
        assert_eq!(
            seen(&changes),
            [
                (SpecChangeKind::TypeChanged, "GET /charges", "responses/200/body/data/[]/installment_count"),
                (SpecChangeKind::TypeChanged, "POST /charges", "responses/200/body/installment_count"),
                (SpecChangeKind::EnumValueRemoved, "GET /charges", "responses/200/body/data/[]/status/enum/refunded"),
                (SpecChangeKind::EnumValueRemoved, "POST /charges", "responses/200/body/status/enum/refunded"),
                (SpecChangeKind::FieldRemoved, "GET /charges", "responses/200/body/data/[]/description"),
                (SpecChangeKind::FieldRemoved, "POST /charges", "responses/200/body/description"),
                (SpecChangeKind::FieldRequired, "POST /charges", "requestBody/currency"),
                (SpecChangeKind::FieldRequired, "POST /charges", "requestBody/note"),
                (SpecChangeKind::FieldAdded, "GET /charges", "responses/200/body/data/[]/acquirer_reference"),
                (SpecChangeKind::FieldAdded, "POST /charges", "responses/200/body/acquirer_reference"),
                (SpecChangeKind::EnumValueAdded, "GET /charges", "responses/200/body/data/[]/status/enum/chargeback"),
                (SpecChangeKind::EnumValueAdded, "POST /charges", "responses/200/body/status/enum/chargeback"),
            ]
        );
        assert_eq!(changes[0].before.as_deref(), Some("integer"));
        assert_eq!(changes[0].after.as_deref(), Some("string"));
    }

    #[test]
    fn a_recursive_schema_ends_and_still_shows_drift_below_the_cycle() {
        let node = |extra: Value| {
            json!({"Node": {"type": "object", "properties": {
                "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}},
                "parent": {"$ref": "#/components/schemas/Node"},
                "name": extra
            }}, "Loop": {"$ref": "#/components/schemas/Loop"}})
        };
        let paths = json!({"/tree": {"get": {"responses": {
            "200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Node"}}}},
            "500": {"description": "odd", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Loop"}}}}
        }}}});
        let left = doc(paths.clone(), node(json!({"type": "string"})));
        let right = doc(paths, node(json!({"type": ["string", "null"]})));
        assert!(diff(&left, &left).is_empty());
        let changes = diff(&left, &right);
        assert_eq!(seen(&changes), [(SpecChangeKind::TypeChanged, "GET /tree", "responses/200/body/name")]);
        assert_eq!(changes[0].after.as_deref(), Some("string, nullable"));
    }

    #[test]
    fn a_baseline_knows_changes_per_pair_of_documents() {
        let left = doc(json!({"/a": {"get": {"responses": {"200": {"description": "OK"}}}}}), json!({}));
        let right = doc(json!({}), json!({}));
        let mut comparison = SpecComparison {
            left: "sandbox".into(),
            right: "production".into(),
            state: app::wire::SpecState::Compared,
            changes: diff(&left, &right),
        };
        judge(&mut comparison, None);
        assert!(comparison.changes[0].new);
        let known = known_of(std::slice::from_ref(&comparison));
        judge(&mut comparison, Some(&known));
        assert!(!comparison.changes[0].new);
        let mut other = SpecComparison { left: "catalog".into(), ..comparison };
        judge(&mut other, Some(&known));
        assert!(other.changes[0].new, "the same change between other documents is not known");
    }
}
