//! Catalog: OpenAPI 3 documents turned into the endpoint list staff pick from.
//!
//! The bundled a55 document is compiled in; a broken document is reported with its name and the
//! place of the error and never stops the console (its source is shown as unavailable instead).
//! Extra documents come from config; live specs of environments are fetched by `live`.

pub mod live;

use std::path::PathBuf;

use app::wire::{Catalog, CatalogSource, Endpoint, JsonDocument, ParamLocation, Parameter};
use openapiv3::{OpenAPI, ReferenceOr};
use serde_json::Value;

/// The a55 document written by the console team from public a55 material.
pub const BUNDLED_NAME: &str = "a55 (bundled)";
pub const BUNDLED_A55: &str = include_str!("../catalog/a55.openapi.yaml");

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("{name}: not a valid OpenAPI 3 document: {reason}")]
    Invalid { name: String, reason: String },
}

/// Loads documents, in order, into one catalog with per-source status.
pub fn load_catalog(documents: &[(&str, &str)]) -> Catalog {
    let mut catalog = Catalog::default();
    for (name, text) in documents {
        add_document(&mut catalog, name, Ok(text));
    }
    catalog
}

/// The bundled document followed by the configured extra files (a file that cannot be read is a
/// source marked unavailable, like a malformed one).
pub fn load_with_extras(extra: &[PathBuf]) -> Catalog {
    let mut catalog = load_catalog(&[(BUNDLED_NAME, BUNDLED_A55)]);
    for path in extra {
        let name = path.display().to_string();
        match std::fs::read_to_string(path) {
            Ok(text) => add_document(&mut catalog, &name, Ok(&text)),
            Err(error) => add_document(&mut catalog, &name, Err(format!("{name}: cannot be read: {error}"))),
        }
    }
    catalog
}

/// Parses one document and merges it into `catalog`, recording its status either way.
pub fn add_document(catalog: &mut Catalog, name: &str, text: Result<&str, String>) {
    match text.and_then(|text| parse_document(name, text).map_err(|e| e.to_string())) {
        Ok(endpoints) => {
            catalog.sources.push(CatalogSource {
                name: name.to_owned(),
                loaded: true,
                detail: format!("{} operations", endpoints.len()),
                environment: None,
            });
            merge(catalog, endpoints);
        }
        Err(error) => {
            tracing::error!(%error, "catalog document not loaded");
            catalog.sources.push(CatalogSource {
                name: name.to_owned(),
                loaded: false,
                detail: error,
                environment: None,
            });
        }
    }
}

/// Adds endpoints to the catalog: an operation already known by method and path stays as first
/// described and only records the new document in `also_in`; a new operation whose id is taken
/// gets the document's name appended to its id, so ids stay unique.
pub fn merge(catalog: &mut Catalog, endpoints: Vec<Endpoint>) {
    for mut endpoint in endpoints {
        if let Some(known) =
            catalog.endpoints.iter_mut().find(|e| e.method == endpoint.method && e.path == endpoint.path)
        {
            if known.origin != endpoint.origin && !known.also_in.contains(&endpoint.origin) {
                known.also_in.push(endpoint.origin);
            }
            continue;
        }
        if catalog.endpoints.iter().any(|e| e.id == endpoint.id) {
            endpoint.id = format!("{}@{}", endpoint.id, endpoint.origin);
        }
        catalog.endpoints.push(endpoint);
    }
}

/// Reads one document (YAML or JSON) as it is written, after checking it is an OpenAPI 3 document
/// the catalog can read (so a broken one is refused with the same place and reason).
pub fn read_document(name: &str, text: &str) -> Result<Value, CatalogError> {
    parse_document(name, text)?;
    serde_yaml::from_str(text).map_err(|e| CatalogError::Invalid { name: name.to_owned(), reason: e.to_string() })
}

/// The bundled document as written, read once (spec drift compares environments with it).
pub fn bundled_document() -> Result<&'static Value, String> {
    static BUNDLED: std::sync::OnceLock<Result<Value, String>> = std::sync::OnceLock::new();
    BUNDLED
        .get_or_init(|| read_document(BUNDLED_NAME, BUNDLED_A55).map_err(|e| e.to_string()))
        .as_ref()
        .map_err(Clone::clone)
}

/// Parses one document (YAML or JSON) into endpoints.
pub fn parse_document(name: &str, text: &str) -> Result<Vec<Endpoint>, CatalogError> {
    let invalid = |reason: String| CatalogError::Invalid { name: name.to_owned(), reason };
    // serde_yaml reads JSON too, and its errors carry line and column.
    let raw: Value = serde_yaml::from_str(text).map_err(|e| invalid(e.to_string()))?;
    let version = raw.get("openapi").and_then(Value::as_str).unwrap_or_default();
    if !version.starts_with("3.") {
        let found = raw.get("swagger").map_or_else(|| format!("{version:?}"), |v| format!("swagger {v}"));
        return Err(invalid(format!("the document is {found}, not OpenAPI 3.0 or 3.1")));
    }
    // The openapiv3 crate reads 3.0; a 3.1 document is read through a 3.0-shaped copy (schemas are
    // still taken from the original, so 3.1 type lists survive into validation).
    let shaped = if version.starts_with("3.0") { None } else { Some(shape_as_30(raw.clone())) };
    let document: OpenAPI = match shaped {
        None => serde_yaml::from_str(text).map_err(|e| invalid(e.to_string()))?,
        Some(shaped) => serde_json::from_value(shaped).map_err(|e| invalid(format!("{e} (in the 3.0 reading)")))?,
    };
    let global_security = document.security.as_ref().is_some_and(|s| !s.is_empty());
    let mut endpoints = Vec::new();
    for (path, item) in &document.paths.paths {
        let ReferenceOr::Item(item) = item else { continue };
        for (method, operation) in item.iter() {
            let method = method.to_ascii_uppercase();
            let mut parameters = Vec::new();
            for parameter in item.parameters.iter().chain(&operation.parameters) {
                if let Some(parameter) = resolve_parameter(&document, parameter) {
                    if let Some(converted) = convert_parameter(&raw, parameter) {
                        // Operation-level parameters override path-level ones of the same name.
                        parameters
                            .retain(|p: &Parameter| !(p.name == converted.name && p.location == converted.location));
                        parameters.push(converted);
                    }
                }
            }
            let needs_token = match &operation.security {
                Some(requirements) => !requirements.is_empty(),
                None => global_security,
            };
            let extension =
                |key: &str| operation.extensions.get(key).and_then(Value::as_str).unwrap_or_default().to_owned();
            endpoints.push(Endpoint {
                id: operation.operation_id.clone().unwrap_or_else(|| format!("{method} {path}")),
                writes: !matches!(method.as_str(), "GET" | "HEAD" | "OPTIONS"),
                method: method.clone(),
                path: path.clone(),
                summary: operation.summary.clone().unwrap_or_default(),
                description: operation.description.clone().unwrap_or_default(),
                tag: operation.tags.first().cloned().unwrap_or_else(|| "Other".to_owned()),
                parameters,
                body_example: body_example(&document, &raw, operation),
                body_schema: body_schema(&raw, path, &method).map(JsonDocument),
                needs_token,
                source: extension("x-a55-source"),
                confidence: extension("x-a55-confidence"),
                origin: name.to_owned(),
                also_in: Vec::new(),
            });
        }
    }
    Ok(endpoints)
}

fn resolve_parameter<'a>(
    document: &'a OpenAPI,
    parameter: &'a ReferenceOr<openapiv3::Parameter>,
) -> Option<&'a openapiv3::Parameter> {
    let mut current = parameter;
    for _ in 0..8 {
        match current {
            ReferenceOr::Item(item) => return Some(item),
            ReferenceOr::Reference { reference } => {
                let name = reference.strip_prefix("#/components/parameters/")?;
                current = document.components.as_ref()?.parameters.get(name)?;
            }
        }
    }
    None
}

/// Follows `$ref`s inside the raw document (JSON pointer form only).
fn resolve_value<'a>(raw: &'a Value, value: &'a Value) -> &'a Value {
    let mut current = value;
    for _ in 0..8 {
        match current.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix('#')) {
            Some(pointer) => match raw.pointer(pointer) {
                Some(target) => current = target,
                None => return current,
            },
            None => return current,
        }
    }
    current
}

fn convert_parameter(raw: &Value, parameter: &openapiv3::Parameter) -> Option<Parameter> {
    let (location, data) = match parameter {
        openapiv3::Parameter::Path { parameter_data, .. } => (ParamLocation::Path, parameter_data),
        openapiv3::Parameter::Query { parameter_data, .. } => (ParamLocation::Query, parameter_data),
        openapiv3::Parameter::Header { parameter_data, .. } => (ParamLocation::Header, parameter_data),
        // Cookies are the console's business, never a partner request's.
        openapiv3::Parameter::Cookie { .. } => return None,
    };
    let schema = match &data.format {
        openapiv3::ParameterSchemaOrContent::Schema(schema) => serde_json::to_value(schema).ok(),
        openapiv3::ParameterSchemaOrContent::Content(_) => None,
    }
    .unwrap_or(Value::Null);
    let schema = resolve_value(raw, &schema);
    let enum_values = schema
        .get("enum")
        .and_then(Value::as_array)
        .map(|values| values.iter().filter_map(scalar_text).collect())
        .unwrap_or_default();
    let example = data
        .example
        .as_ref()
        .and_then(scalar_text)
        .or_else(|| schema.get("example").and_then(scalar_text))
        .or_else(|| schema.get("default").and_then(scalar_text));
    Some(Parameter {
        name: data.name.clone(),
        location,
        required: data.required || location == ParamLocation::Path,
        description: data.description.clone().unwrap_or_default(),
        schema_type: schema.get("type").and_then(Value::as_str).unwrap_or("string").to_owned(),
        enum_values,
        example,
        format: schema.get("format").and_then(Value::as_str).map(str::to_owned),
    })
}

const OPERATION_KEYS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// Rewrites what OpenAPI 3.1 changed so the 3.0 reader accepts it: `type` lists become one type
/// plus `nullable`, numeric exclusive bounds become bounds, `const` an enum, and webhooks go.
fn shape_as_30(mut value: Value) -> Value {
    fn walk(value: &mut Value) {
        match value {
            Value::Object(object) => {
                if let Some(Value::Array(kinds)) = object.get("type").cloned() {
                    let nullable = kinds.iter().any(|k| k == "null");
                    match kinds.iter().find(|k| *k != "null") {
                        Some(kind) => {
                            object.insert("type".into(), kind.clone());
                        }
                        None => {
                            object.remove("type");
                        }
                    }
                    if nullable {
                        object.insert("nullable".into(), Value::Bool(true));
                    }
                }
                for (exclusive, bound) in [("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")] {
                    if let Some(number) = object.get(exclusive).filter(|v| v.is_number()).cloned() {
                        object.insert(bound.into(), number);
                        object.insert(exclusive.into(), Value::Bool(true));
                    }
                }
                if let Some(constant) = object.remove("const") {
                    object.insert("enum".into(), Value::Array(vec![constant]));
                }
                if let Some(Value::Array(_)) = object.get("examples") {
                    // 3.1 schema `examples` is a list; 3.0 only knows `example`.
                    if let Some(Value::Array(examples)) = object.remove("examples") {
                        if let Some(first) = examples.into_iter().next() {
                            object.entry("example").or_insert(first);
                        }
                    }
                }
                object.values_mut().for_each(walk);
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    if let Value::Object(root) = &mut value {
        // `responses` became optional in 3.1; the 3.0 reader insists on it.
        if let Some(Value::Object(paths)) = root.get_mut("paths") {
            for item in paths.values_mut().filter_map(Value::as_object_mut) {
                for (method, operation) in item.iter_mut() {
                    if OPERATION_KEYS.contains(&method.as_str()) {
                        if let Value::Object(operation) = operation {
                            operation.entry("responses").or_insert_with(|| Value::Object(serde_json::Map::new()));
                        }
                    }
                }
            }
        }
        root.remove("webhooks");
        root.remove("jsonSchemaDialect");
        root.entry("paths").or_insert_with(|| Value::Object(serde_json::Map::new()));
        root.insert("openapi".into(), Value::String("3.0.3".into()));
    }
    walk(&mut value);
    value
}

/// The JSON request body's schema with every `$ref` inlined (depth-limited, so recursive schemas
/// end), read from the raw document so nothing the form needs is lost in conversion.
fn body_schema(raw: &Value, path: &str, method: &str) -> Option<Value> {
    let operation = raw.get("paths")?.get(path)?.get(method.to_ascii_lowercase())?;
    let body = resolve_value(raw, operation.get("requestBody")?);
    let content = body.get("content")?.as_object()?;
    let media = content.iter().find(|(kind, _)| kind.contains("json")).map(|(_, media)| media)?;
    Some(inline_refs(raw, media.get("schema")?, 0))
}

fn inline_refs(raw: &Value, value: &Value, refs_on_path: usize) -> Value {
    // Counting references followed on the way down (not JSON depth) ends recursive schemas early
    // without cutting deep but finite ones.
    if refs_on_path > 4 {
        return Value::Object(serde_json::Map::new());
    }
    let is_ref = value.get("$ref").is_some();
    let refs_on_path = refs_on_path + usize::from(is_ref);
    match resolve_value(raw, value) {
        Value::Object(object) => Value::Object(
            object
                .iter()
                .filter(|(key, _)| *key != "$ref")
                .map(|(key, item)| (key.clone(), inline_refs(raw, item, refs_on_path)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(|item| inline_refs(raw, item, refs_on_path)).collect()),
        other => other.clone(),
    }
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn body_example(document: &OpenAPI, raw: &Value, operation: &openapiv3::Operation) -> Option<String> {
    let body = match operation.request_body.as_ref()? {
        ReferenceOr::Item(body) => body,
        ReferenceOr::Reference { reference } => {
            let name = reference.strip_prefix("#/components/requestBodies/")?;
            match document.components.as_ref()?.request_bodies.get(name)? {
                ReferenceOr::Item(body) => body,
                ReferenceOr::Reference { .. } => return None,
            }
        }
    };
    let media = body.content.iter().find(|(kind, _)| kind.contains("json")).map(|(_, media)| media)?;
    let example = media.example.clone().or_else(|| {
        media.examples.values().find_map(|example| match example {
            ReferenceOr::Item(example) => example.value.clone(),
            ReferenceOr::Reference { reference } => reference
                .strip_prefix('#')
                .and_then(|pointer| raw.pointer(pointer))
                .and_then(|e| e.get("value"))
                .cloned(),
        })
    });
    let example = example.or_else(|| {
        let schema = serde_json::to_value(media.schema.as_ref()?).ok()?;
        resolve_value(raw, &schema).get("example").cloned()
    })?;
    serde_json::to_string_pretty(&example).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundled() -> Vec<Endpoint> {
        parse_document(BUNDLED_NAME, BUNDLED_A55).unwrap()
    }

    #[test]
    fn the_bundled_document_has_the_seed_endpoint_and_the_documented_ones() {
        let endpoints = bundled();
        assert!(endpoints.len() >= 20, "{}", endpoints.len());
        let find = |method: &str, path: &str| endpoints.iter().find(|e| e.method == method && e.path == path);
        let wallets = find("GET", "/wallets").expect("the seed's GET /wallets");
        assert!(wallets.needs_token);
        let charges = find("GET", "/bank/wallet/charges/").expect("list charges");
        assert!(charges
            .parameters
            .iter()
            .any(|p| p.name == "wallet_uuid" && p.required && p.location == ParamLocation::Query));
        assert!(!charges.writes);
        let create = find("POST", "/bank/wallet/charge/").expect("create charge");
        assert!(create.writes);
        assert!(create.body_example.as_deref().is_some_and(|b| b.contains("wallet_uuid")));
        assert!(create.parameters.iter().any(|p| p.name == "Idempotency-Key" && p.location == ParamLocation::Header));
        let public = find("GET", "/bank/public/charge").expect("public charge");
        assert!(!public.needs_token);
    }

    #[test]
    fn every_bundled_operation_records_its_source_and_confidence() {
        for endpoint in bundled() {
            assert!(!endpoint.source.is_empty(), "{} has no source", endpoint.id);
            assert!(
                ["high", "medium", "low", "conflict"].contains(&endpoint.confidence.as_str()),
                "{}: {}",
                endpoint.id,
                endpoint.confidence
            );
        }
    }

    #[test]
    fn path_placeholders_all_have_parameters() {
        for endpoint in bundled() {
            for name in app::format::path_placeholders(&endpoint.path) {
                assert!(
                    endpoint.parameters.iter().any(|p| p.location == ParamLocation::Path && p.name == name),
                    "{} lacks {name}",
                    endpoint.id
                );
            }
        }
    }

    #[test]
    fn a_malformed_document_is_reported_with_its_name_and_place_and_others_still_load() {
        let catalog = load_catalog(&[("broken.yaml", "openapi: 3.0.3\npaths: [\n"), (BUNDLED_NAME, BUNDLED_A55)]);
        assert!(!catalog.sources[0].loaded);
        assert!(catalog.sources[0].detail.starts_with("broken.yaml:"), "{}", catalog.sources[0].detail);
        assert!(catalog.sources[0].detail.contains("line"), "{}", catalog.sources[0].detail);
        assert!(catalog.sources[1].loaded);
        assert!(!catalog.endpoints.is_empty());
    }

    #[test]
    fn an_openapi_31_document_loads_with_its_type_lists_kept_in_the_body_schema() {
        let text = r##"
openapi: 3.1.0
info: {title: t, version: "1"}
webhooks: {}
paths:
  /things/{id}:
    put:
      operationId: putThing
      parameters:
        - {name: id, in: path, required: true, schema: {type: string, format: uuid}}
        - {name: n, in: query, schema: {type: [integer, "null"], exclusiveMinimum: 0, examples: [3]}}
      requestBody:
        content:
          application/json:
            schema: {$ref: "#/components/schemas/Thing"}
components:
  schemas:
    Thing:
      type: object
      required: [name]
      properties:
        name: {type: [string, "null"]}
        kind: {const: fixed}
        child: {$ref: "#/components/schemas/Thing"}
"##;
        let endpoints = parse_document("t.yaml", text).unwrap();
        let thing = &endpoints[0];
        assert_eq!(thing.id, "putThing");
        let n = thing.parameters.iter().find(|p| p.name == "n").unwrap();
        assert_eq!((n.schema_type.as_str(), n.example.as_deref()), ("integer", Some("3")));
        assert_eq!(thing.parameters[0].format.as_deref(), Some("uuid"));
        let schema = thing.body_schema.as_ref().unwrap();
        assert_eq!(schema["properties"]["name"]["type"], serde_json::json!(["string", "null"]));
        assert_eq!(schema["required"], serde_json::json!(["name"]));
        assert!(schema["properties"]["child"]["properties"]["child"].is_object(), "refs are inlined");
        let text = serde_json::to_string(schema).unwrap();
        assert!(!text.contains("$ref") && text.len() < 20_000, "recursion is cut: {} bytes", text.len());
    }

    #[test]
    fn merging_keeps_the_first_description_and_labels_the_others() {
        let mut catalog = load_catalog(&[(BUNDLED_NAME, BUNDLED_A55)]);
        let before = catalog.endpoints.len();
        let mut again = parse_document("other", BUNDLED_A55).unwrap();
        let mut renamed = again[0].clone();
        renamed.path = "/elsewhere".into();
        again.push(renamed);
        merge(&mut catalog, again);
        assert_eq!(catalog.endpoints.len(), before + 1);
        assert!(catalog.endpoints[..before].iter().all(|e| e.also_in == vec!["other".to_owned()]));
        let added = catalog.endpoints.last().unwrap();
        assert_eq!(added.id, format!("{}@other", catalog.endpoints[0].id), "a taken id gets the document's name");
    }

    #[test]
    fn a_swagger_2_document_is_refused_with_its_version() {
        let error = parse_document("old.json", r#"{"swagger": "2.0", "paths": {}}"#).unwrap_err().to_string();
        assert_eq!(
            error,
            "old.json: not a valid OpenAPI 3 document: the document is swagger \"2.0\", not OpenAPI 3.0 or 3.1"
        );
    }
}
