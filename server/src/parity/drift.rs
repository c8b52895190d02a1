//! Drift, not noise: a compare's differences folded into drift items (array positions as `[*]`),
//! judged against the suite's baseline and ranked, shape before value (pure, unit-tested).

use std::collections::{BTreeMap, HashSet};

use app::wire::{ChangeKind, DiffChange, DriftItem, DriftKind, ParityCompareOutcome};

/// A baseline: the (compare, kind, path) of every accepted difference.
pub type Known = HashSet<(String, DriftKind, String)>;

/// `$['data'][3]['status']` → `$['data'][*]['status']`; keyed elements (`[?@['id']=='…']`) too.
pub fn fold_path(path: &str) -> String {
    let chars: Vec<char> = path.chars().collect();
    let mut out = String::with_capacity(path.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '[' && (next.is_some_and(|n| n.is_ascii_digit()) || next == Some('?') || next == Some('*')) {
            // Skip to the bracket that closes this selector, stepping over quoted text.
            let (mut depth, mut quoted, mut j) = (0usize, false, i);
            while j < chars.len() {
                match chars[j] {
                    '\\' if quoted => j += 1,
                    '\'' => quoted = !quoted,
                    '[' if !quoted => depth += 1,
                    ']' if !quoted => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            out.push_str("[*]");
            i = j + 1;
        } else if c == '\'' {
            // A quoted member name is copied whole, whatever it holds.
            out.push(c);
            i += 1;
            while i < chars.len() {
                out.push(chars[i]);
                if chars[i] == '\\' {
                    if let Some(escaped) = chars.get(i + 1) {
                        out.push(*escaped);
                        i += 1;
                    }
                } else if chars[i] == '\'' {
                    break;
                }
                i += 1;
            }
            i += 1;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn kind_of(kind: ChangeKind) -> DriftKind {
    match kind {
        ChangeKind::TypeChanged => DriftKind::TypeChanged,
        ChangeKind::Removed => DriftKind::Removed,
        ChangeKind::Added => DriftKind::Added,
        ChangeKind::Changed => DriftKind::Changed,
    }
}

/// The drift of one compare: its status, every body change (all of them, not only those kept for
/// drill-down) and the headers that are not expected to differ.
pub fn drift_of(outcome: &ParityCompareOutcome, body_changes: &[DiffChange]) -> Vec<DriftItem> {
    let item = |kind, path: String, left: Option<String>, right: Option<String>| DriftItem {
        compare: outcome.name.clone(),
        kind,
        path,
        occurrences: 1,
        left,
        right,
        new: true,
    };
    let mut drift = Vec::new();
    let status = |status: Option<u16>, error: &Option<String>| match (status, error) {
        (Some(status), _) => status.to_string(),
        (None, Some(_)) => "no answer".to_owned(),
        (None, None) => "none".to_owned(),
    };
    let (left, right) =
        (status(outcome.left_status, &outcome.left_error), status(outcome.right_status, &outcome.right_error));
    if left != right {
        drift.push(item(DriftKind::Status, "status".into(), Some(left), Some(right)));
    }
    let mut folded: BTreeMap<(DriftKind, String), DriftItem> = BTreeMap::new();
    for change in body_changes {
        let key = (kind_of(change.kind), fold_path(&change.path));
        folded.entry(key).and_modify(|d| d.occurrences = d.occurrences.saturating_add(1)).or_insert_with_key(
            |(kind, path)| item(*kind, path.clone(), preview(change, true), preview(change, false)),
        );
    }
    drift.extend(folded.into_values());
    for header in outcome.headers.iter().filter(|h| !h.expected) {
        drift.push(item(DriftKind::Header, header.name.clone(), header.left.clone(), header.right.clone()));
    }
    drift
}

/// A value, or its type where only the type differs.
fn preview(change: &DiffChange, left: bool) -> Option<String> {
    let (value, kind) = if left { (&change.left, &change.left_type) } else { (&change.right, &change.right_type) };
    match change.kind {
        ChangeKind::TypeChanged => match (value, kind) {
            (Some(value), Some(kind)) => Some(format!("{value} ({kind})")),
            (value, kind) => value.clone().or_else(|| kind.clone()),
        },
        _ => value.clone(),
    }
}

/// Marks what the baseline does not know as new, and ranks everything: kind (status, types, missing,
/// extra, headers, values), then the suite's order of compares, then path.
pub fn judge(drift: &mut [DriftItem], known: Option<&Known>, compare_order: &[String]) {
    for item in drift.iter_mut() {
        item.new = known.is_none_or(|k| !k.contains(&item.key()));
    }
    let position = |name: &str| compare_order.iter().position(|c| c == name).unwrap_or(usize::MAX);
    drift.sort_by(|a, b| (a.kind, position(&a.compare), &a.path).cmp(&(b.kind, position(&b.compare), &b.path)));
}

#[cfg(test)]
mod tests {
    use app::wire::{DiffCounts, HeaderChange};

    use super::*;

    #[test]
    fn array_positions_and_keyed_elements_fold_and_member_names_stay() {
        assert_eq!(fold_path("$['data'][3]['status']"), "$['data'][*]['status']");
        assert_eq!(fold_path("$['data'][12][0]"), "$['data'][*][*]");
        assert_eq!(fold_path("$['data'][?@['charge_uuid']=='a]b\\'c']['x']"), "$['data'][*]['x']");
        assert_eq!(fold_path("$['odd [1] name']"), "$['odd [1] name']");
        assert_eq!(fold_path("$['data'][*]['installment_count']"), "$['data'][*]['installment_count']");
        assert_eq!(fold_path("line 12"), "line 12");
    }

    fn outcome(left: Option<u16>, right: Option<u16>, headers: Vec<HeaderChange>) -> ParityCompareOutcome {
        ParityCompareOutcome {
            name: "charges".into(),
            method: "GET".into(),
            path: "/x".into(),
            left_environment: "a".into(),
            right_environment: "b".into(),
            left_status: left,
            right_status: right,
            left_error: None,
            right_error: right.is_none().then(|| "b could not be reached".into()),
            counts: DiffCounts::default(),
            headers,
            changes: Vec::new(),
            changes_truncated: false,
            duration_ms: 1,
        }
    }

    fn change(kind: ChangeKind, path: &str) -> DiffChange {
        DiffChange {
            kind,
            path: path.into(),
            left: Some("1".into()),
            right: Some("\"1\"".into()),
            left_type: Some("number".into()),
            right_type: Some("string".into()),
        }
    }

    #[test]
    fn the_same_change_in_every_element_is_one_item_and_statuses_and_headers_are_drift() {
        let header = |name: &str, expected| HeaderChange {
            name: name.into(),
            kind: ChangeKind::Added,
            left: None,
            right: Some("production".into()),
            expected,
        };
        let changes = [
            change(ChangeKind::TypeChanged, "$['data'][0]['n']"),
            change(ChangeKind::TypeChanged, "$['data'][1]['n']"),
            change(ChangeKind::Changed, "$['data'][1]['status']"),
        ];
        let drift = drift_of(
            &outcome(Some(200), None, vec![header("x-a55-deployment", false), header("date", true)]),
            &changes,
        );
        let seen: Vec<_> = drift.iter().map(|d| (d.kind, d.path.as_str(), d.occurrences)).collect();
        assert_eq!(
            seen,
            [
                (DriftKind::Status, "status", 1),
                (DriftKind::TypeChanged, "$['data'][*]['n']", 2),
                (DriftKind::Changed, "$['data'][*]['status']", 1),
                (DriftKind::Header, "x-a55-deployment", 1),
            ]
        );
        assert_eq!(drift[0].right.as_deref(), Some("no answer"));
        assert_eq!(drift[1].left.as_deref(), Some("1 (number)"));
        assert!(drift_of(&outcome(Some(200), Some(200), Vec::new()), &[]).is_empty());
    }

    #[test]
    fn a_baseline_leaves_only_what_it_does_not_know_as_new_ranked_shape_first() {
        let mut drift = drift_of(
            &outcome(Some(200), Some(200), Vec::new()),
            &[change(ChangeKind::Changed, "$['a']"), change(ChangeKind::Removed, "$['b']")],
        );
        judge(&mut drift, None, &["charges".into()]);
        assert_eq!(
            drift.iter().map(|d| (d.kind, d.new)).collect::<Vec<_>>(),
            [(DriftKind::Removed, true), (DriftKind::Changed, true)]
        );
        let known: Known = [("charges".to_owned(), DriftKind::Removed, "$['b']".to_owned())].into_iter().collect();
        judge(&mut drift, Some(&known), &["charges".into()]);
        assert_eq!(
            drift.iter().map(|d| (d.kind, d.new)).collect::<Vec<_>>(),
            [(DriftKind::Removed, false), (DriftKind::Changed, true)]
        );
    }
}
