//! Line diff of bodies that are not JSON (HTML error pages, plain text): changes name their lines.

use std::time::Duration;

use app::wire::{
    BodyDiff, BodyDiffMode, ChangeKind, DiffChange, DiffCounts, DiffRow, RowKind, MAX_DIFF_ROWS, MAX_LISTED_CHANGES,
};
use similar::{DiffOp, TextDiff};

use super::cut;

const LINE_CHARS: usize = 300;
/// Long inputs can make a line diff slow; past this it settles for a coarser answer.
const DEADLINE: Duration = Duration::from_secs(2);

pub fn diff_text(left: &str, right: &str) -> BodyDiff {
    let diff = TextDiff::configure().timeout(DEADLINE).diff_lines(left, right);
    let old: Vec<&str> = diff.old_slices().to_vec();
    let new: Vec<&str> = diff.new_slices().to_vec();
    let line = |text: &str| cut(text.trim_end_matches(['\n', '\r']).to_owned(), LINE_CHARS);
    let mut counts = DiffCounts::default();
    let mut changes = Vec::new();
    let mut record = |kind: ChangeKind, at: String, l: Option<String>, r: Option<String>, counts: &mut DiffCounts| {
        match kind {
            ChangeKind::Added => counts.added += 1,
            ChangeKind::Removed => counts.removed += 1,
            ChangeKind::Changed => counts.changed += 1,
            ChangeKind::TypeChanged => counts.type_changed += 1,
        }
        if changes.len() < MAX_LISTED_CHANGES {
            changes.push(DiffChange { kind, path: at, left: l, right: r, left_type: None, right_type: None });
        }
    };
    let mut rows = Vec::new();
    let mut truncated = false;
    let mut push_row = |row: DiffRow, rows: &mut Vec<DiffRow>| {
        if rows.len() < MAX_DIFF_ROWS {
            rows.push(row);
        } else {
            truncated = true;
        }
    };
    let groups = diff.grouped_ops(2);
    let mut shown_until = 0;
    for group in &groups {
        let Some(first) = group.first() else { continue };
        let start = first.old_range().start;
        if start > shown_until {
            let label = format!("… {} unchanged lines", start - shown_until);
            push_row(row(label, None, None, RowKind::Collapsed, String::new()), &mut rows);
        }
        for op in group {
            match *op {
                DiffOp::Equal { old_index, new_index, len } => {
                    for k in 0..len {
                        let text = line(old[old_index + k]);
                        let at = format!("line {}", old_index + k + 1);
                        let _ = new_index;
                        push_row(row(at.clone(), Some(text.clone()), Some(text), RowKind::Same, at), &mut rows);
                    }
                }
                DiffOp::Delete { old_index, old_len, .. } => {
                    for (k, text) in old.iter().enumerate().skip(old_index).take(old_len) {
                        let at = format!("line {}", k + 1);
                        record(ChangeKind::Removed, at.clone(), Some(line(text)), None, &mut counts);
                        push_row(row(at.clone(), Some(line(text)), None, RowKind::Removed, at), &mut rows);
                    }
                }
                DiffOp::Insert { old_index, new_index, new_len } => {
                    for (k, text) in new.iter().enumerate().skip(new_index).take(new_len) {
                        let at = format!("line {} (right line {})", old_index + 1, k + 1);
                        record(ChangeKind::Added, at.clone(), None, Some(line(text)), &mut counts);
                        push_row(row(at.clone(), None, Some(line(text)), RowKind::Added, at), &mut rows);
                    }
                }
                DiffOp::Replace { old_index, old_len, new_index, new_len } => {
                    for k in 0..old_len.max(new_len) {
                        let l = (k < old_len).then(|| line(old[old_index + k]));
                        let r = (k < new_len).then(|| line(new[new_index + k]));
                        let kind = match (&l, &r) {
                            (Some(_), Some(_)) => ChangeKind::Changed,
                            (Some(_), None) => ChangeKind::Removed,
                            _ => ChangeKind::Added,
                        };
                        let at = format!("line {}", old_index + k.min(old_len) + 1);
                        record(kind, at.clone(), l.clone(), r.clone(), &mut counts);
                        let row_kind = match kind {
                            ChangeKind::Changed => RowKind::Changed,
                            ChangeKind::Removed => RowKind::Removed,
                            _ => RowKind::Added,
                        };
                        push_row(row(at.clone(), l, r, row_kind, at), &mut rows);
                    }
                }
            }
        }
        if let Some(last) = group.last() {
            shown_until = last.old_range().end;
        }
    }
    if groups.is_empty() && !old.is_empty() {
        push_row(
            row(format!("… {} identical lines", old.len()), None, None, RowKind::Collapsed, String::new()),
            &mut rows,
        );
    } else if shown_until < old.len() {
        let label = format!("… {} unchanged lines", old.len() - shown_until);
        push_row(row(label, None, None, RowKind::Collapsed, String::new()), &mut rows);
    }
    changes.sort_by_key(|c| c.kind);
    BodyDiff {
        mode: BodyDiffMode::Text,
        counts,
        changes,
        ignored: 0,
        rows,
        rows_truncated: truncated,
        notices: Vec::new(),
        elapsed_ms: 0.0,
    }
}

fn row(label: String, left: Option<String>, right: Option<String>, kind: RowKind, path: String) -> DiffRow {
    DiffRow { depth: 0, label, left, right, kind, path }
}
