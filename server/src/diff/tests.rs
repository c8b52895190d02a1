//! Golden cases for the awkward corners, and properties over generated JSON.

use app::wire::{BodyDiffMode, ChangeKind, DiffOptions, RowKind};
use proptest::prelude::*;
use serde_json::{json, Value};

use super::*;

fn summary(left: &Value, right: &Value, key: Option<&str>) -> Vec<(ChangeKind, String)> {
    diff_values(left, right, key).0.iter().map(|c| (c.kind, display_path(&c.path))).collect()
}

fn options(ignore: &[&str]) -> DiffOptions {
    DiffOptions { ignore: ignore.iter().map(|r| (*r).to_owned()).collect(), ..DiffOptions::default() }
}

fn body(left: &Value, right: &Value, options: &DiffOptions) -> app::wire::BodyDiff {
    let (l, r) = (serde_json::to_vec(left).unwrap(), serde_json::to_vec(right).unwrap());
    diff_bodies(Some(&l), Some(&r), options).unwrap()
}

#[test]
fn null_and_a_missing_field_are_different_changes() {
    let changes = summary(&json!({"a": null, "b": 1}), &json!({"b": 1, "c": null}), None);
    assert_eq!(changes, vec![(ChangeKind::Removed, "$['a']".into()), (ChangeKind::Added, "$['c']".into())]);
    let changes = summary(&json!({"a": null}), &json!({"a": "x"}), None);
    assert_eq!(changes, vec![(ChangeKind::TypeChanged, "$['a']".into())]);
}

#[test]
fn one_and_one_point_zero_are_the_same_number_but_one_and_two_are_not() {
    let left: Value = serde_json::from_str(r#"{"v": 1, "w": 2.50}"#).unwrap();
    let right: Value = serde_json::from_str(r#"{"v": 1.0, "w": 2.5}"#).unwrap();
    assert!(summary(&left, &right, None).is_empty());
    assert_eq!(summary(&json!({"v": 1}), &json!({"v": 2}), None), vec![(ChangeKind::Changed, "$['v']".into())]);
    assert_eq!(summary(&json!({"v": 1}), &json!({"v": "1"}), None), vec![(ChangeKind::TypeChanged, "$['v']".into())]);
}

#[test]
fn empty_arrays_and_objects_compare_by_their_contents() {
    assert!(summary(&json!([]), &json!([]), None).is_empty());
    assert_eq!(summary(&json!([]), &json!({}), None), vec![(ChangeKind::TypeChanged, "$".into())]);
    assert_eq!(
        summary(&json!({"a": []}), &json!({"a": [1, 2]}), None),
        vec![(ChangeKind::Added, "$['a'][0]".into()), (ChangeKind::Added, "$['a'][1]".into())]
    );
}

#[test]
fn arrays_matched_by_a_key_field_ignore_order_and_name_elements_by_key() {
    let left = json!({"data": [{"charge_uuid": "a", "status": "paid"}, {"charge_uuid": "b", "status": "paid"}]});
    let right = json!({"data": [{"charge_uuid": "c", "status": "new"}, {"charge_uuid": "b", "status": "error"}, {"charge_uuid": "a", "status": "paid"}]});
    let changes = summary(&left, &right, Some("charge_uuid"));
    assert_eq!(
        changes,
        vec![
            (ChangeKind::Changed, "$['data'][?@['charge_uuid']=='b']['status']".into()),
            (ChangeKind::Added, "$['data'][?@['charge_uuid']=='c']".into()),
        ]
    );
    // By index the same arrays differ everywhere.
    assert!(summary(&left, &right, None).len() > 2);
}

#[test]
fn duplicate_or_missing_key_fields_fall_back_to_index_with_a_notice() {
    let left = json!([{"k": 1, "v": 1}, {"k": 1, "v": 2}]);
    let right = json!([{"k": 1, "v": 1}, {"k": 1, "v": 3}]);
    let (changes, notices) = diff_values(&left, &right, Some("k"));
    assert_eq!(changes.len(), 1);
    assert_eq!(display_path(&changes[0].path), "$[1]['v']");
    assert_eq!(notices.len(), 1);
    assert!(notices[0].contains("appears more than once"), "{notices:?}");
    let (_, notices) = diff_values(&json!([{"k": "x"}, {"v": 1}]), &json!([{"k": "x"}]), Some("k"));
    assert!(notices[0].contains("left element 1 has no string or number `k`"), "{notices:?}");
    let (_, notices) = diff_values(&json!([1, 2]), &json!([1, 3]), Some("k"));
    assert!(notices.is_empty(), "arrays of scalars are not what a key field is for: {notices:?}");
}

#[test]
fn deep_nesting_is_diffed_to_the_leaf() {
    let mut left = json!("leaf");
    let mut right = json!("other");
    for depth in 0..100 {
        left = json!({ format!("l{depth}"): left });
        right = json!({ format!("l{depth}"): right });
    }
    let changes = diff_values(&left, &right, None).0;
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].path.len(), 100);
    assert_eq!(changes[0].kind, ChangeKind::Changed);
}

#[test]
fn odd_member_names_are_escaped_in_paths() {
    let changes = summary(&json!({"it's": 1}), &json!({"it's": 2}), None);
    assert_eq!(changes[0].1, r"$['it\'s']");
}

#[test]
fn non_json_bodies_are_compared_line_by_line() {
    let diff =
        diff_bodies(Some(b"<html>\n<p>a</p>\n</html>"), Some(b"<html>\n<p>b</p>\n</html>"), &options(&[])).unwrap();
    assert_eq!(diff.mode, BodyDiffMode::Text);
    assert_eq!(diff.counts.changed, 1);
    assert_eq!(diff.changes[0].path, "line 2");
    assert_eq!(diff.changes[0].left.as_deref(), Some("<p>a</p>"));
    let diff = diff_bodies(Some(b"{\"a\": 1}"), Some(b"Bad gateway"), &options(&[])).unwrap();
    assert_eq!(diff.mode, BodyDiffMode::Text);
    assert!(diff.notices[0].contains("only the left body is JSON"), "{:?}", diff.notices);
    let same = diff_bodies(Some(b"same\ntext"), Some(b"same\ntext"), &options(&[])).unwrap();
    assert_eq!(same.counts.total(), 0);
    assert_eq!(same.rows.len(), 1);
    assert_eq!(same.rows[0].kind, RowKind::Collapsed);
}

#[test]
fn shape_only_mode_ignores_values_and_reports_field_and_type_differences() {
    let left =
        json!({"data": [{"id": 1, "status": "paid", "message": null}, {"id": 2, "status": "new", "message": null}]});
    let right = json!({"data": [{"id": 9, "status": "error", "message": "x", "extra": true}], "page": 1});
    let diff = body(&left, &right, &DiffOptions { shape_only: true, ..DiffOptions::default() });
    assert_eq!(diff.mode, BodyDiffMode::Shape);
    let found: Vec<(ChangeKind, &str)> = diff.changes.iter().map(|c| (c.kind, c.path.as_str())).collect();
    assert_eq!(
        found,
        vec![
            (ChangeKind::TypeChanged, "$['data'][*]['message']"),
            (ChangeKind::Added, "$['data'][*]['extra']"),
            (ChangeKind::Added, "$['page']"),
        ]
    );
    assert_eq!(diff.changes[0].left.as_deref(), Some("null"));
    assert_eq!(diff.changes[0].right.as_deref(), Some("string"));
}

#[test]
fn ignore_rules_hide_only_what_they_select_and_count_it() {
    let left = json!({"id": "a", "meta": {"request_id": "r1", "n": 1}, "status": "paid"});
    let right = json!({"id": "b", "meta": {"request_id": "r2", "n": 2}, "status": "paid"});
    let diff = body(&left, &right, &options(&["$.id", "$..request_id"]));
    assert_eq!(diff.ignored, 2);
    assert_eq!(diff.counts.changed, 1);
    assert_eq!(diff.changes[0].path, "$['meta']['n']");
    let error = diff_bodies(Some(b"{}"), Some(b"{}"), &options(&["$.ok", "$[?"])).unwrap_err();
    assert!(error.starts_with("ignore rule 2 (\"$[?\"): invalid JSONPath at column"), "{error}");
}

#[test]
fn the_default_ignore_rules_leave_ids_and_timestamps_out() {
    let left = json!({"charge_uuid": "a", "created_at": "2026-01-01", "value": 10});
    let right = json!({"charge_uuid": "b", "created_at": "2026-02-01", "value": 10});
    let diff = body(&left, &right, &DiffOptions::defaults());
    assert_eq!(diff.counts.total(), 0);
    assert_eq!(diff.ignored, 2);
}

#[test]
fn changes_are_ranked_type_changes_first() {
    let diff = body(&json!({"a": 1, "b": 1, "c": 1}), &json!({"a": 2, "c": "1", "d": 1}), &options(&[]));
    let kinds: Vec<ChangeKind> = diff.changes.iter().map(|c| c.kind).collect();
    assert_eq!(kinds, vec![ChangeKind::TypeChanged, ChangeKind::Removed, ChangeKind::Added, ChangeKind::Changed]);
    assert_eq!(diff.counts, app::wire::DiffCounts { added: 1, removed: 1, changed: 1, type_changed: 1 });
}

#[test]
fn unchanged_runs_fold_so_a_large_array_with_one_change_is_a_handful_of_rows() {
    let left: Vec<Value> = (0..10_000).map(|i| json!({"n": i, "s": "x"})).collect();
    let mut right = left.clone();
    right[5_000]["s"] = json!("y");
    let diff = body(&json!({"data": left}), &json!({"data": right}), &options(&[]));
    assert_eq!(diff.counts.changed, 1);
    assert!(diff.rows.len() < 20, "{:#?}", diff.rows);
    let labels: Vec<&str> = diff.rows.iter().map(|r| r.label.as_str()).collect();
    assert!(labels.contains(&"… 5000 items without differences [0–4999]"), "{labels:?}");
    let changed = diff.rows.iter().find(|r| r.kind == RowKind::Changed).unwrap();
    assert_eq!(changed.path, "$['data'][5000]['s']");
    assert_eq!((changed.left.as_deref(), changed.right.as_deref()), (Some("\"x\""), Some("\"y\"")));
}

#[test]
fn exports_carry_counts_changes_and_a_ticket_ready_table() {
    let left = json!({"a": 1, "b": "x|y"});
    let right = json!({"a": "1"});
    let opts = options(&[]);
    let diff = body(&left, &right, &opts);
    let side = |env: &str| app::wire::CompareSide { environment: env.into(), response: None, error: None };
    let (l, r) = (side("sandbox"), side("production"));
    let context = ExportContext {
        method: "GET",
        path: "/wallets",
        left: &l,
        right: &r,
        options: &opts,
        body: &diff,
        changes: &diff.changes,
        headers: &[],
        at: "2026-11-29T10:00:00Z".into(),
    };
    let exported: Value = serde_json::from_slice(&export_json(&context)).unwrap();
    assert_eq!(exported["counts"]["type_changed"], 1);
    assert_eq!(exported["changes"][0]["path"], "$['a']");
    assert_eq!(exported["compare"]["path"], "/wallets");
    let markdown = String::from_utf8(export_markdown(&context)).unwrap();
    assert!(markdown.starts_with("## Compare `GET /wallets`: sandbox vs production"), "{markdown}");
    assert!(markdown.contains("| type changed | `$['a']` | `1` (number) | `\"1\"` (string) |"), "{markdown}");
    assert!(markdown.contains(r#"| removed | `$['b']` | `"x\|y"` | — |"#), "{markdown}");
}

// ---------------------------------------------------------------- properties

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-5i64..5).prop_map(Value::from),
        prop_oneof![Just("a"), Just("b"), Just("")].prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(prop_oneof![Just("k"), Just("id"), Just("x"), Just("y")], inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())),
        ]
    })
}

/// Arrays of records keyed by `id`, with unique keys, for the keyed-array properties.
fn arb_records() -> impl Strategy<Value = Value> {
    prop::collection::btree_map(0u8..12, (arb_json(), any::<bool>()), 0..8).prop_map(|records| {
        Value::Array(
            records
                .into_iter()
                .map(|(id, (value, extra))| {
                    let mut record = json!({"id": id, "v": value});
                    if extra {
                        record["extra"] = json!(true);
                    }
                    record
                })
                .collect(),
        )
    })
}

fn located_paths(rule: &str, value: &Value) -> Vec<Vec<Located>> {
    let rules = IgnoreRules::parse(&[rule.to_owned()]).unwrap();
    rules.selected(value, false).into_iter().collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn the_diff_of_a_value_with_itself_is_empty(value in arb_json()) {
        prop_assert!(diff_values(&value, &value, None).0.is_empty());
        prop_assert!(diff_values(&value, &value, Some("id")).0.is_empty());
        let shape = skeleton(&value);
        prop_assert!(diff_values(&shape, &shape, None).0.is_empty());
    }

    #[test]
    fn applying_the_changes_to_the_left_yields_the_right(left in arb_json(), right in arb_json()) {
        let (changes, _) = diff_values(&left, &right, None);
        let applied = apply(&left, &changes).map_err(TestCaseError::fail)?;
        prop_assert_eq!(applied, right);
    }

    #[test]
    fn applying_keyed_changes_yields_the_right_up_to_element_order(left in arb_records(), right in arb_records()) {
        let (changes, notices) = diff_values(&left, &right, Some("id"));
        // The records themselves always match by key; nested arrays may fall back to index.
        prop_assert!(!notices.iter().any(|n| n.starts_with("$:")), "{:?}", notices);
        let applied = apply(&left, &changes).map_err(TestCaseError::fail)?;
        prop_assert!(diff_values(&applied, &right, Some("id")).0.is_empty());
        let (mut a, mut b) = (applied.as_array().unwrap().clone(), right.as_array().unwrap().clone());
        a.sort_by_key(|r| r["id"].as_u64());
        b.sort_by_key(|r| r["id"].as_u64());
        prop_assert_eq!(a, b);
    }

    #[test]
    fn ignore_rules_never_hide_a_type_change_outside_their_paths(
        left in arb_json(),
        right in arb_json(),
        rule in prop_oneof![Just("$..id"), Just("$..['k']"), Just("$.k"), Just("$[0]"), Just("$..x[*]"), Just("$..[?@ == 'a']")],
    ) {
        let (all, _) = diff_values(&left, &right, None);
        let rules = IgnoreRules::parse(&[rule.to_owned()]).unwrap();
        let (kept, ignored) = apply_ignore(all.clone(), &rules, &left, &right, false);
        prop_assert_eq!(kept.len() + ignored, all.len());
        let (on_left, on_right) = (located_paths(rule, &left), located_paths(rule, &right));
        let inside = |change: &Change<'_>| {
            let covered = |side, selected: &[Vec<Located>]| located(&change.path, side)
                .is_some_and(|p| selected.iter().any(|s| p.starts_with(s)));
            covered(Side::Left, &on_left) || covered(Side::Right, &on_right)
        };
        for change in all.iter().filter(|c| c.kind == ChangeKind::TypeChanged && !inside(c)) {
            prop_assert!(kept.contains(change), "{} was hidden by {rule}", display_path(&change.path));
        }
        for change in all.iter().filter(|c| !kept.contains(c)) {
            prop_assert!(inside(change), "{} hidden although {rule} does not select it", display_path(&change.path));
        }
    }

    #[test]
    fn the_rows_show_every_reported_change(left in arb_json(), right in arb_json()) {
        let diff = body(&left, &right, &options(&[]));
        let marked = diff.rows.iter().filter(|r| !matches!(r.kind, RowKind::Same | RowKind::Ignored | RowKind::Collapsed | RowKind::Open)).count();
        prop_assert_eq!(marked, diff.counts.total());
    }
}
