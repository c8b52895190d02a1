//! The side-by-side view: the differences with their context, unchanged subtrees and runs of
//! unchanged elements folded into one row, so a 5 MB body with three changes is a few dozen rows.

use std::collections::HashMap;

use app::wire::{ChangeKind, DiffRow, RowKind, MAX_DIFF_ROWS};
use serde_json::Value;

use super::{display_path, preview, Change, Step};

/// Unchanged neighbours shown one by one; longer runs fold into a single row.
const CONTEXT_RUN: usize = 3;
const FIELD_RUN: usize = 8;
const CELL_CHARS: usize = 160;

#[derive(Default)]
struct Node {
    kind: Option<ChangeKind>,
    /// In document order (the order of the change list).
    children: Vec<(Step, Node)>,
    by_key: HashMap<String, usize>,
}

fn step_key(step: &Step) -> String {
    match step {
        Step::Name(name) => format!("n{name}"),
        Step::Index(index) => format!("i{index}"),
        Step::Keyed { left, right, .. } => format!("k{left:?}/{right:?}"),
        Step::Wildcard => "*".to_owned(),
    }
}

impl Node {
    fn insert(&mut self, path: &[Step], kind: ChangeKind) {
        let Some((first, rest)) = path.split_first() else {
            self.kind = Some(kind);
            return;
        };
        let key = step_key(first);
        let index = match self.by_key.get(&key) {
            Some(index) => *index,
            None => {
                self.children.push((first.clone(), Node::default()));
                self.by_key.insert(key, self.children.len() - 1);
                self.children.len() - 1
            }
        };
        self.children[index].1.insert(rest, kind);
    }

    fn child(&self, step: &Step) -> Option<&Node> {
        self.by_key.get(&step_key(step)).map(|i| &self.children[*i].1)
    }
}

struct Builder {
    rows: Vec<DiffRow>,
    truncated: bool,
    path: Vec<Step>,
}

/// Rows for `left` and `right` (values, or skeletons in shape mode) around `changes`.
pub fn build(left: &Value, right: &Value, changes: &[Change<'_>], shape: bool) -> (Vec<DiffRow>, bool) {
    let mut root = Node::default();
    for change in changes {
        root.insert(&change.path, change.kind);
    }
    let mut builder = Builder { rows: Vec::new(), truncated: false, path: Vec::new() };
    builder.node("$".to_owned(), Some(left), Some(right), Some(&root), 0, shape);
    (builder.rows, builder.truncated)
}

fn summary(value: &Value, shape: bool) -> String {
    match value {
        Value::Object(map) => format!("{{…}} {} field{}", map.len(), if map.len() == 1 { "" } else { "s" }),
        Value::Array(_) if shape => "[…] elements".to_owned(),
        Value::Array(items) => format!("[…] {} item{}", items.len(), if items.len() == 1 { "" } else { "s" }),
        Value::String(names) if shape => names.clone(),
        other => preview(other, CELL_CHARS),
    }
}

fn change_row(kind: ChangeKind) -> RowKind {
    match kind {
        ChangeKind::TypeChanged => RowKind::TypeChanged,
        ChangeKind::Removed => RowKind::Removed,
        ChangeKind::Added => RowKind::Added,
        ChangeKind::Changed => RowKind::Changed,
    }
}

impl Builder {
    fn push(&mut self, depth: usize, label: String, left: Option<String>, right: Option<String>, kind: RowKind) {
        if self.rows.len() >= MAX_DIFF_ROWS {
            self.truncated = true;
            return;
        }
        let depth = u16::try_from(depth).unwrap_or(u16::MAX);
        self.rows.push(DiffRow { depth, label, left, right, kind, path: display_path(&self.path) });
    }

    fn node(
        &mut self,
        label: String,
        left: Option<&Value>,
        right: Option<&Value>,
        node: Option<&Node>,
        depth: usize,
        shape: bool,
    ) {
        if self.truncated {
            return;
        }
        let cell = |v: Option<&Value>| v.map(|v| summary(v, shape));
        let Some(node) = node else {
            // No difference at or under this node (ignored ones may remain).
            let kind = match (left, right) {
                (Some(l), Some(r)) if l == r || super::type_name(l) == "number" && l.as_f64() == r.as_f64() => {
                    if l.is_object() || l.is_array() {
                        RowKind::Collapsed
                    } else {
                        RowKind::Same
                    }
                }
                _ => RowKind::Ignored,
            };
            self.push(depth, label, cell(left), cell(right), kind);
            return;
        };
        if let Some(kind) = node.kind {
            self.push(depth, label, cell(left), cell(right), change_row(kind));
            return;
        }
        self.push(depth, label, cell(left), cell(right), RowKind::Open);
        match (left, right) {
            (Some(Value::Object(l)), Some(Value::Object(r))) => self.object(l, r, node, depth + 1, shape),
            (Some(Value::Array(l)), Some(Value::Array(r))) => self.array(l, r, node, depth + 1, shape),
            _ => {}
        }
    }

    fn object(
        &mut self,
        l: &serde_json::Map<String, Value>,
        r: &serde_json::Map<String, Value>,
        node: &Node,
        depth: usize,
        shape: bool,
    ) {
        let names = l.keys().chain(r.keys().filter(|k| !l.contains_key(*k)));
        let mut quiet: Vec<&String> = Vec::new();
        for name in names {
            let step = Step::Name(name.clone());
            match node.child(&step) {
                Some(child) => {
                    self.quiet_fields(&quiet, l, r, depth, shape);
                    quiet.clear();
                    self.path.push(step);
                    self.node(name.clone(), l.get(name), r.get(name), Some(child), depth, shape);
                    self.path.pop();
                }
                None => quiet.push(name),
            }
        }
        self.quiet_fields(&quiet, l, r, depth, shape);
    }

    fn quiet_fields(
        &mut self,
        names: &[&String],
        l: &serde_json::Map<String, Value>,
        r: &serde_json::Map<String, Value>,
        depth: usize,
        shape: bool,
    ) {
        if names.len() > FIELD_RUN {
            let text = format!("… {} fields without differences", names.len());
            self.push(depth, text, None, None, RowKind::Collapsed);
            return;
        }
        for name in names {
            self.path.push(Step::Name((*name).clone()));
            self.node((*name).clone(), l.get(*name), r.get(*name), None, depth, shape);
            self.path.pop();
        }
    }

    fn array(&mut self, l: &[Value], r: &[Value], node: &Node, depth: usize, shape: bool) {
        // Keyed elements sit at other positions on the right: an unchanged one is shown once.
        let keyed = node.children.iter().any(|(step, _)| matches!(step, Step::Keyed { .. }));
        let mut next = 0;
        for (step, child) in &node.children {
            let position = match step {
                Step::Index(index) if *index < l.len() => Some(*index),
                Step::Keyed { left: Some(index), .. } => Some(*index),
                Step::Wildcard if !l.is_empty() => Some(0),
                _ => None,
            };
            let until = position.unwrap_or(l.len()).max(next);
            self.quiet_items(l, r, next, until, depth, shape, keyed);
            next = until;
            let (left, right, label) = match step {
                Step::Index(index) => (l.get(*index), r.get(*index), format!("[{index}]")),
                Step::Keyed { key, left, right, .. } => {
                    (left.and_then(|i| l.get(i)), right.and_then(|i| r.get(i)), format!("[{}]", preview(key, 60)))
                }
                Step::Wildcard => (l.first(), r.first(), "[*]".to_owned()),
                Step::Name(name) => (None, None, name.clone()),
            };
            self.path.push(step.clone());
            self.node(label, left, right, Some(child), depth, shape);
            self.path.pop();
            if let Some(position) = position {
                next = next.max(position + 1);
            }
        }
        self.quiet_items(l, r, next, l.len(), depth, shape, keyed);
    }

    /// Left elements `from..to` have no differences.
    fn quiet_items(
        &mut self,
        l: &[Value],
        r: &[Value],
        from: usize,
        to: usize,
        depth: usize,
        shape: bool,
        keyed: bool,
    ) {
        if to <= from {
            return;
        }
        if to - from > CONTEXT_RUN {
            let text = format!("… {} items without differences [{}–{}]", to - from, from, to - 1);
            self.push(depth, text, None, None, RowKind::Collapsed);
            return;
        }
        for index in from..to {
            let label = if shape { "[*]".to_owned() } else { format!("[{index}]") };
            self.path.push(if shape { Step::Wildcard } else { Step::Index(index) });
            let right = if keyed { l.get(index) } else { r.get(index).or_else(|| l.get(index)) };
            self.node(label, l.get(index), right, None, depth, shape);
            self.path.pop();
        }
    }
}
