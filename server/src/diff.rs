//! The compare diff engine (pure): structural JSON diff, shape-only diff, ignore rules, the
//! side-by-side rows, and line diffs of bodies that are not JSON.
//!
//! Values are borrowed from the parsed bodies, so a 5 MB diff copies only what it reports.

mod export;
mod headers;
mod rows;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests;
mod text;

use crate::clock::Stopwatch;
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use app::wire::{BodyDiff, BodyDiffMode, ChangeKind, DiffChange, DiffCounts, DiffOptions, MAX_LISTED_CHANGES};
use serde_json::Value;

pub use export::{export_json, export_markdown, ExportContext};
pub use headers::diff_headers;

/// One step of a path through a JSON document.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    Name(String),
    Index(usize),
    /// An element of an array matched by a key field; its positions on each side.
    Keyed {
        field: String,
        key: Value,
        left: Option<usize>,
        right: Option<usize>,
    },
    /// Any element (shape-only mode).
    Wildcard,
}

/// One difference between `left` and `right`, with borrowed values.
#[derive(Clone, Debug, PartialEq)]
pub struct Change<'a> {
    pub kind: ChangeKind,
    pub path: Vec<Step>,
    pub left: Option<&'a Value>,
    pub right: Option<&'a Value>,
}

/// Where a step lands in one document, for matching ignore rules and applying changes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Located {
    Name(String),
    Index(usize),
    Any,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Left,
    Right,
}

/// Differences between two JSON values (value mode, no ignore rules), in document order.
/// `array_key` matches array elements by that field where every element has a unique scalar one;
/// elsewhere arrays are compared by index and a notice says why.
pub fn diff_values<'a>(left: &'a Value, right: &'a Value, array_key: Option<&str>) -> (Vec<Change<'a>>, Vec<String>) {
    let mut walker = Walker { array_key, changes: Vec::new(), notices: Vec::new(), path: Vec::new() };
    walker.walk(left, right);
    (walker.changes, walker.notices)
}

struct Walker<'k, 'a> {
    array_key: Option<&'k str>,
    changes: Vec<Change<'a>>,
    notices: Vec<String>,
    path: Vec<Step>,
}

impl<'a> Walker<'_, 'a> {
    fn push(&mut self, kind: ChangeKind, left: Option<&'a Value>, right: Option<&'a Value>) {
        self.changes.push(Change { kind, path: self.path.clone(), left, right });
    }

    fn walk(&mut self, left: &'a Value, right: &'a Value) {
        match (left, right) {
            (Value::Object(a), Value::Object(b)) => {
                for (name, l) in a {
                    self.path.push(Step::Name(name.clone()));
                    match b.get(name) {
                        Some(r) => self.walk(l, r),
                        None => self.push(ChangeKind::Removed, Some(l), None),
                    }
                    self.path.pop();
                }
                for (name, r) in b {
                    if !a.contains_key(name) {
                        self.path.push(Step::Name(name.clone()));
                        self.push(ChangeKind::Added, None, Some(r));
                        self.path.pop();
                    }
                }
            }
            (Value::Array(a), Value::Array(b)) => {
                if let Some(field) = self.array_key {
                    match keyed_positions(a, b, field) {
                        KeyedArrays::Matched(left_keys, right_index) => {
                            self.walk_keyed(a, b, field, left_keys, right_index);
                            return;
                        }
                        KeyedArrays::Unusable(reason) => {
                            let at = display_path(&self.path);
                            self.notices.push(format!("{at}: compared by index because {reason}"));
                        }
                        KeyedArrays::NotRecords => {}
                    }
                }
                for (index, l) in a.iter().enumerate() {
                    self.path.push(Step::Index(index));
                    match b.get(index) {
                        Some(r) => self.walk(l, r),
                        None => self.push(ChangeKind::Removed, Some(l), None),
                    }
                    self.path.pop();
                }
                for (index, r) in b.iter().enumerate().skip(a.len()) {
                    self.path.push(Step::Index(index));
                    self.push(ChangeKind::Added, None, Some(r));
                    self.path.pop();
                }
            }
            (Value::Number(x), Value::Number(y)) => {
                // 1 and 1.0 are the same JSON number (RFC 8259 §6); only the spelling differs.
                if x != y && x.as_f64() != y.as_f64() {
                    self.push(ChangeKind::Changed, Some(left), Some(right));
                }
            }
            _ if type_name(left) == type_name(right) => {
                if left != right {
                    self.push(ChangeKind::Changed, Some(left), Some(right));
                }
            }
            _ => self.push(ChangeKind::TypeChanged, Some(left), Some(right)),
        }
    }

    fn walk_keyed(
        &mut self,
        a: &'a [Value],
        b: &'a [Value],
        field: &str,
        left_keys: Vec<String>,
        right_index: HashMap<String, usize>,
    ) {
        let mut matched = vec![false; b.len()];
        for (index, (l, key)) in a.iter().zip(&left_keys).enumerate() {
            let key_value = l.get(field).cloned().unwrap_or(Value::Null);
            let found = right_index.get(key).copied();
            self.path.push(Step::Keyed { field: field.to_owned(), key: key_value, left: Some(index), right: found });
            match found {
                Some(r) => {
                    matched[r] = true;
                    self.walk(l, &b[r]);
                }
                None => self.push(ChangeKind::Removed, Some(l), None),
            }
            self.path.pop();
        }
        for (index, r) in b.iter().enumerate() {
            if !matched[index] {
                let key_value = r.get(field).cloned().unwrap_or(Value::Null);
                self.path.push(Step::Keyed { field: field.to_owned(), key: key_value, left: None, right: Some(index) });
                self.push(ChangeKind::Added, None, Some(r));
                self.path.pop();
            }
        }
    }
}

enum KeyedArrays {
    /// Keys of the left elements in order, and the right elements by key.
    Matched(Vec<String>, HashMap<String, usize>),
    /// The arrays hold records with the key field, but it cannot identify them.
    Unusable(String),
    /// No element has the field: not an array this key is meant for.
    NotRecords,
}

/// Key of one element: its field as canonical JSON, if the field is a string or a number.
fn element_key(element: &Value, field: &str) -> Option<String> {
    match element.get(field)? {
        value @ (Value::String(_) | Value::Number(_)) => serde_json::to_string(value).ok(),
        _ => None,
    }
}

fn keyed_positions(a: &[Value], b: &[Value], field: &str) -> KeyedArrays {
    if !a.iter().chain(b).any(|e| e.get(field).is_some()) {
        return KeyedArrays::NotRecords;
    }
    let mut keys = Vec::with_capacity(a.len());
    let mut seen = HashSet::with_capacity(a.len());
    for (index, element) in a.iter().enumerate() {
        let Some(key) = element_key(element, field) else {
            return KeyedArrays::Unusable(format!(
                "left element {index} has no string or number `{field}` to match by"
            ));
        };
        if !seen.insert(key.clone()) {
            return KeyedArrays::Unusable(format!("`{field}` {key} appears more than once on the left"));
        }
        keys.push(key);
    }
    let mut right = HashMap::with_capacity(b.len());
    for (index, element) in b.iter().enumerate() {
        let Some(key) = element_key(element, field) else {
            return KeyedArrays::Unusable(format!(
                "right element {index} has no string or number `{field}` to match by"
            ));
        };
        if right.insert(key.clone(), index).is_some() {
            return KeyedArrays::Unusable(format!("`{field}` {key} appears more than once on the right"));
        }
    }
    KeyedArrays::Matched(keys, right)
}

/// JSON type name as staff read it.
pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// RFC 9535 normalized-path style: `$['data'][3]`, `[?@['charge_uuid']=='…']` for keyed elements,
/// `[*]` for shapes.
pub fn display_path(path: &[Step]) -> String {
    let mut out = String::from("$");
    for step in path {
        match step {
            Step::Name(name) => {
                out.push_str("['");
                push_escaped(&mut out, name);
                out.push_str("']");
            }
            Step::Index(index) => {
                let _ = write!(out, "[{index}]");
            }
            Step::Keyed { field, key, .. } => {
                out.push_str("[?@['");
                push_escaped(&mut out, field);
                out.push_str("']==");
                match key {
                    Value::String(text) => {
                        out.push('\'');
                        push_escaped(&mut out, text);
                        out.push('\'');
                    }
                    other => out.push_str(&other.to_string()),
                }
                out.push(']');
            }
            Step::Wildcard => out.push_str("[*]"),
        }
    }
    out
}

fn push_escaped(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
}

/// Where `path` lands in one side's document (None: the node does not exist there).
fn located(path: &[Step], side: Side) -> Option<Vec<Located>> {
    path.iter()
        .map(|step| match step {
            Step::Name(name) => Some(Located::Name(name.clone())),
            Step::Index(index) => Some(Located::Index(*index)),
            Step::Keyed { left, right, .. } => match side {
                Side::Left => left.map(Located::Index),
                Side::Right => right.map(Located::Index),
            },
            Step::Wildcard => Some(Located::Any),
        })
        .collect()
}

// ---------------------------------------------------------------- ignore rules

/// Parsed ignore rules. A rule hides a difference only if the differing node is one the rule
/// selects, or lies under one, on either side: never anything elsewhere.
pub struct IgnoreRules {
    rules: Vec<serde_json_path::JsonPath>,
    /// Rules of the form `$..name` (most defaults): such a rule selects a node exactly when a
    /// change's path passes through a member `name`, so no document walk is needed. The other
    /// rules are evaluated on both documents.
    names: HashSet<String>,
    general: Vec<usize>,
}

/// `name` of a `$..name` or `$..['name']` rule.
fn descendant_name(rule: &str) -> Option<String> {
    let rest = rule.trim().strip_prefix("$..")?;
    let name = rest.strip_prefix("['").and_then(|r| r.strip_suffix("']")).unwrap_or(rest);
    let plain = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    plain.then(|| name.to_owned())
}

impl IgnoreRules {
    /// Every rule must parse; the error names the rule and what is wrong with it.
    pub fn parse(rules: &[String]) -> Result<Self, String> {
        let mut parsed = Vec::new();
        let mut names = HashSet::new();
        let mut general = Vec::new();
        for (index, rule) in rules.iter().enumerate() {
            if rule.trim().is_empty() {
                continue;
            }
            let path =
                crate::jsonpath::parse(rule).map_err(|e| format!("ignore rule {} ({rule:?}): {e}", index + 1))?;
            match descendant_name(rule) {
                Some(name) => {
                    names.insert(name);
                }
                None => general.push(parsed.len()),
            }
            parsed.push(path);
        }
        Ok(Self { rules: parsed, names, general })
    }

    /// The nodes the rules select in `value`; with `wildcards`, array positions read as "any".
    #[cfg(test)]
    fn selected(&self, value: &Value, wildcards: bool) -> HashSet<Vec<Located>> {
        self.selected_by(self.rules.iter(), value, wildcards)
    }

    fn selected_by<'r>(
        &self,
        rules: impl Iterator<Item = &'r serde_json_path::JsonPath>,
        value: &Value,
        wildcards: bool,
    ) -> HashSet<Vec<Located>> {
        let mut out = HashSet::new();
        for rule in rules {
            for node in rule.query_located(value).iter() {
                let path = node
                    .location()
                    .iter()
                    .map(|element| match element {
                        serde_json_path::PathElement::Name(name) => Located::Name((*name).to_owned()),
                        serde_json_path::PathElement::Index(_) if wildcards => Located::Any,
                        serde_json_path::PathElement::Index(index) => Located::Index(*index),
                    })
                    .collect();
                out.insert(path);
            }
        }
        out
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

/// True if `path` or one of its ancestors is in `selected`.
fn under(path: &[Located], selected: &HashSet<Vec<Located>>) -> bool {
    !selected.is_empty() && (0..=path.len()).any(|len| selected.contains(&path[..len]))
}

/// Splits changes into kept and ignored. `left`/`right` are the documents the rules run on.
pub fn apply_ignore<'a>(
    changes: Vec<Change<'a>>,
    rules: &IgnoreRules,
    left: &Value,
    right: &Value,
    wildcards: bool,
) -> (Vec<Change<'a>>, usize) {
    if rules.is_empty() || changes.is_empty() {
        return (changes, 0);
    }
    let general = || rules.general.iter().map(|&i| &rules.rules[i]);
    let on_left = rules.selected_by(general(), left, wildcards);
    let on_right = rules.selected_by(general(), right, wildcards);
    let before = changes.len();
    let kept: Vec<Change<'a>> = changes
        .into_iter()
        .filter(|change| {
            let named = change.path.iter().any(|step| matches!(step, Step::Name(n) if rules.names.contains(n)));
            let hidden = |side, selected| located(&change.path, side).is_some_and(|p| under(&p, selected));
            !(named || hidden(Side::Left, &on_left) || hidden(Side::Right, &on_right))
        })
        .collect();
    let ignored = before - kept.len();
    (kept, ignored)
}

// ---------------------------------------------------------------- shape-only mode

/// The shape of a value: objects keep their fields, arrays one merged element shape, scalars
/// become their type name (`"string"`, `"null|number"` when elements disagree).
pub fn skeleton(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), skeleton(v))).collect()),
        Value::Array(items) => {
            let merged = items.iter().map(skeleton).reduce(merge_shapes);
            Value::Array(merged.into_iter().collect())
        }
        other => Value::String(type_name(other).to_owned()),
    }
}

fn shape_types(shape: &Value) -> Vec<String> {
    match shape {
        Value::Object(_) => vec!["object".to_owned()],
        Value::Array(_) => vec!["array".to_owned()],
        Value::String(names) => names.split('|').map(str::to_owned).collect(),
        other => vec![type_name(other).to_owned()],
    }
}

fn merge_shapes(a: Value, b: Value) -> Value {
    match (a, b) {
        (Value::Object(mut a), Value::Object(b)) => {
            for (key, shape) in b {
                let merged = match a.remove(&key) {
                    Some(existing) => merge_shapes(existing, shape),
                    None => shape,
                };
                a.insert(key, merged);
            }
            Value::Object(a)
        }
        (Value::Array(a), Value::Array(b)) => {
            let merged = a.into_iter().chain(b).reduce(merge_shapes);
            Value::Array(merged.into_iter().collect())
        }
        (a, b) => {
            let mut names = shape_types(&a);
            names.extend(shape_types(&b));
            names.sort();
            names.dedup();
            Value::String(names.join("|"))
        }
    }
}

// ---------------------------------------------------------------- the body diff

/// A parsed body, or why it is not JSON.
pub enum Parsed {
    Json(Value),
    Text(String),
    Empty,
}

pub fn parse_body(bytes: &[u8]) -> Parsed {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Parsed::Empty;
    }
    match serde_json::from_slice(bytes) {
        Ok(value) => Parsed::Json(value),
        Err(_) => Parsed::Text(String::from_utf8_lossy(bytes).into_owned()),
    }
}

/// Compact JSON of a value, cut at `limit` characters.
pub fn preview(value: &Value, limit: usize) -> String {
    let text = match value {
        Value::Array(items) if items.len() > 50 => format!("[… {} items]", items.len()),
        Value::Object(map) if map.len() > 50 => format!("{{… {} fields}}", map.len()),
        other => serde_json::to_string(other).unwrap_or_default(),
    };
    cut(text, limit)
}

pub fn cut(text: String, limit: usize) -> String {
    match text.char_indices().nth(limit) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text,
    }
}

/// Longest preview of one value in a change list.
pub const PREVIEW_CHARS: usize = 300;

/// Everything a compare shows about the two bodies, plus up to `export_limit` changes for the
/// exports. `None` for a side means it has no response.
pub fn diff_bodies(left: Option<&[u8]>, right: Option<&[u8]>, options: &DiffOptions) -> Result<BodyDiff, String> {
    diff_bodies_for_export(left, right, options, MAX_LISTED_CHANGES).map(|(diff, _)| diff)
}

pub fn diff_bodies_for_export(
    left: Option<&[u8]>,
    right: Option<&[u8]>,
    options: &DiffOptions,
    export_limit: usize,
) -> Result<(BodyDiff, Vec<DiffChange>), String> {
    let started = Stopwatch::start();
    let rules = IgnoreRules::parse(&options.ignore)?;
    let array_key = options.array_key.as_deref().map(str::trim).filter(|k| !k.is_empty());
    let (Some(left), Some(right)) = (left, right) else {
        let notice = "one side has no response to compare".to_owned();
        return Ok((empty_diff(BodyDiffMode::None, vec![notice], started), Vec::new()));
    };
    let (mut result, all) = match (parse_body(left), parse_body(right)) {
        (Parsed::Empty, Parsed::Empty) => {
            (empty_diff(BodyDiffMode::None, vec!["both bodies are empty".to_owned()], started), Vec::new())
        }
        (Parsed::Json(l), Parsed::Json(r)) if options.shape_only => {
            let (ls, rs) = (skeleton(&l), skeleton(&r));
            let (changes, notices) = diff_values(&ls, &rs, None);
            let changes: Vec<Change<'_>> = changes.into_iter().map(shape_change).collect();
            let (changes, ignored) = apply_ignore(changes, &rules, &l, &r, true);
            let rows = rows::build(&ls, &rs, &changes, true);
            finish(BodyDiffMode::Shape, changes, ignored, rows, notices, started, export_limit)
        }
        (Parsed::Json(l), Parsed::Json(r)) => {
            let (changes, notices) = diff_values(&l, &r, array_key);
            let (changes, ignored) = apply_ignore(changes, &rules, &l, &r, false);
            let rows = rows::build(&l, &r, &changes, false);
            finish(BodyDiffMode::Json, changes, ignored, rows, notices, started, export_limit)
        }
        (l, r) => {
            let as_text = |parsed: Parsed| match parsed {
                Parsed::Json(value) => serde_json::to_string_pretty(&value).unwrap_or_default(),
                Parsed::Text(text) => text,
                Parsed::Empty => String::new(),
            };
            let (l_json, r_json) = (matches!(l, Parsed::Json(_)), matches!(r, Parsed::Json(_)));
            let notice = if l_json != r_json {
                format!("only the {} body is JSON, so both are compared as text", if l_json { "left" } else { "right" })
            } else {
                "the bodies are not JSON, so they are compared line by line".to_owned()
            };
            let mut diff = text::diff_text(&as_text(l), &as_text(r));
            diff.notices.insert(0, notice);
            let all = diff.changes.clone();
            (diff, all)
        }
    };
    result.elapsed_ms = elapsed(started);
    Ok((result, all))
}

fn elapsed(started: Stopwatch) -> f64 {
    started.elapsed().as_secs_f64() * 1000.0
}

fn empty_diff(mode: BodyDiffMode, notices: Vec<String>, started: Stopwatch) -> BodyDiff {
    BodyDiff {
        mode,
        counts: DiffCounts::default(),
        changes: Vec::new(),
        ignored: 0,
        rows: Vec::new(),
        rows_truncated: false,
        notices,
        elapsed_ms: elapsed(started),
    }
}

/// In shape mode a different type-name string is a type change, and array positions are "any".
fn shape_change(mut change: Change<'_>) -> Change<'_> {
    if change.kind == ChangeKind::Changed {
        change.kind = ChangeKind::TypeChanged;
    }
    for step in &mut change.path {
        if matches!(step, Step::Index(_)) {
            *step = Step::Wildcard;
        }
    }
    change
}

pub fn count(changes: &[Change<'_>]) -> DiffCounts {
    let mut counts = DiffCounts::default();
    for change in changes {
        match change.kind {
            ChangeKind::Added => counts.added += 1,
            ChangeKind::Removed => counts.removed += 1,
            ChangeKind::Changed => counts.changed += 1,
            ChangeKind::TypeChanged => counts.type_changed += 1,
        }
    }
    counts
}

/// Most serious first; document order within a kind (the sort is stable).
pub fn ranked<'c, 'a>(changes: &'c [Change<'a>]) -> Vec<&'c Change<'a>> {
    let mut sorted: Vec<&Change<'a>> = changes.iter().collect();
    sorted.sort_by_key(|c| c.kind);
    sorted
}

pub fn to_wire(change: &Change<'_>, shape: bool) -> DiffChange {
    let shown = |value: Option<&Value>| {
        value.map(|v| match (shape, v) {
            // A shape's scalar is its type name: show it bare, not as a JSON string.
            (true, Value::String(names)) => names.clone(),
            (true, Value::Object(_)) => "object".to_owned(),
            (true, Value::Array(_)) => "array".to_owned(),
            _ => preview(v, PREVIEW_CHARS),
        })
    };
    let kind_of =
        |value: Option<&Value>| value.map(|v| if shape { shape_types(v).join("|") } else { type_name(v).to_owned() });
    DiffChange {
        kind: change.kind,
        path: display_path(&change.path),
        left: shown(change.left),
        right: shown(change.right),
        left_type: kind_of(change.left),
        right_type: kind_of(change.right),
    }
}

fn finish(
    mode: BodyDiffMode,
    changes: Vec<Change<'_>>,
    ignored: usize,
    (rows, rows_truncated): (Vec<app::wire::DiffRow>, bool),
    notices: Vec<String>,
    started: Stopwatch,
    export_limit: usize,
) -> (BodyDiff, Vec<DiffChange>) {
    let shape = mode == BodyDiffMode::Shape;
    let limit = export_limit.max(MAX_LISTED_CHANGES);
    let all: Vec<DiffChange> = ranked(&changes).into_iter().take(limit).map(|c| to_wire(c, shape)).collect();
    let diff = BodyDiff {
        mode,
        counts: count(&changes),
        changes: all.iter().take(MAX_LISTED_CHANGES).cloned().collect(),
        ignored,
        rows,
        rows_truncated,
        notices,
        elapsed_ms: elapsed(started),
    };
    (diff, all)
}

// ---------------------------------------------------------------- applying changes

/// Applies value-mode changes to `left`; with every change of `diff_values(left, right)` the
/// result equals `right` (up to the order of keyed array elements, which a key match ignores).
pub fn apply(left: &Value, changes: &[Change<'_>]) -> Result<Value, String> {
    let mut out = left.clone();
    // Values first, while every left position is still where the diff saw it; then removals from
    // the end so earlier positions stay valid; then additions in order.
    for change in changes.iter().filter(|c| matches!(c.kind, ChangeKind::Changed | ChangeKind::TypeChanged)) {
        let target = node_mut(&mut out, &change.path, change.path.len())?;
        *target = change.right.cloned().ok_or("a changed value without its new value")?;
    }
    for change in changes.iter().rev().filter(|c| c.kind == ChangeKind::Removed) {
        let (last, parent) = split_last(&change.path)?;
        match (node_mut(&mut out, parent, parent.len())?, last) {
            (Value::Object(map), Step::Name(name)) => {
                map.shift_remove(name);
            }
            (Value::Array(items), Step::Index(index) | Step::Keyed { left: Some(index), .. }) => {
                if *index >= items.len() {
                    return Err(format!("no element {index} to remove at {}", display_path(parent)));
                }
                items.remove(*index);
            }
            _ => return Err(format!("cannot remove {}", display_path(&change.path))),
        }
    }
    for change in changes.iter().filter(|c| c.kind == ChangeKind::Added) {
        let (last, parent) = split_last(&change.path)?;
        let value = change.right.cloned().ok_or("an added node without its value")?;
        match (node_mut(&mut out, parent, parent.len())?, last) {
            (Value::Object(map), Step::Name(name)) => {
                map.insert(name.clone(), value);
            }
            (Value::Array(items), Step::Index(index)) if *index == items.len() => items.push(value),
            (Value::Array(items), Step::Keyed { .. }) => items.push(value),
            _ => return Err(format!("cannot add {}", display_path(&change.path))),
        }
    }
    Ok(out)
}

fn split_last(path: &[Step]) -> Result<(&Step, &[Step]), String> {
    path.split_last().ok_or_else(|| "the root cannot be added or removed".to_owned())
}

/// The node at `path[..len]`, following keyed steps by their key (positions shift after removals).
fn node_mut<'v>(mut node: &'v mut Value, path: &[Step], len: usize) -> Result<&'v mut Value, String> {
    for step in &path[..len] {
        node = match (node, step) {
            (Value::Object(map), Step::Name(name)) => map.get_mut(name),
            (Value::Array(items), Step::Index(index)) => items.get_mut(*index),
            (Value::Array(items), Step::Keyed { field, key, .. }) => {
                items.iter_mut().find(|item| item.get(field.as_str()) == Some(key))
            }
            _ => None,
        }
        .ok_or_else(|| format!("{} does not exist", display_path(&path[..len])))?;
    }
    Ok(node)
}
