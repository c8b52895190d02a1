//! Which nodes are expanded, the flat list of visible rows that follows, and the window of rows on screen.
//!
//! Rows are node ids in document order, so the list is sorted: finding a node's row is a binary
//! search, and expanding or collapsing one node splices one contiguous run.

use std::ops::Range;

use super::index::{Index, NONE};

pub struct TreeState {
    expanded: Vec<bool>,
    rows: Vec<u32>,
}

/// Initial view: open levels while the visible rows stay within this budget (at least two levels).
pub const INITIAL_ROW_BUDGET: usize = 1_000;

impl TreeState {
    /// Root open, its children open, then further levels while the rows fit `budget`.
    pub fn new(index: &Index, budget: usize) -> Self {
        let mut state = Self { expanded: vec![false; index.len()], rows: Vec::new() };
        if index.is_empty() {
            return state;
        }
        let mut depth = 2;
        state.expand_to_depth(index, depth);
        while depth <= index.max_depth {
            let next = visible_count(index, depth + 1);
            if next > budget {
                break;
            }
            depth += 1;
        }
        state.expand_to_depth(index, depth);
        state
    }

    pub fn rows(&self) -> &[u32] {
        &self.rows
    }

    pub fn is_expanded(&self, id: u32) -> bool {
        self.expanded.get(id as usize).copied().unwrap_or(false)
    }

    /// Row of `id`, if it is visible.
    pub fn row_of(&self, id: u32) -> Option<usize> {
        self.rows.binary_search(&id).ok()
    }

    pub fn toggle(&mut self, index: &Index, id: u32) {
        if self.is_expanded(id) {
            self.collapse(index, id);
        } else {
            self.expand(index, id);
        }
    }

    pub fn expand(&mut self, index: &Index, id: u32) {
        let node = index.node(id);
        if !node.kind.is_container() || node.children == 0 || self.is_expanded(id) {
            return;
        }
        self.expanded[id as usize] = true;
        let Some(row) = self.row_of(id) else { return };
        let mut inserted = Vec::new();
        let mut next = id + 1;
        while next <= node.last {
            inserted.push(next);
            next = if self.is_expanded(next) { next + 1 } else { index.node(next).last + 1 };
        }
        self.rows.splice(row + 1..row + 1, inserted);
    }

    pub fn collapse(&mut self, index: &Index, id: u32) {
        if !self.is_expanded(id) {
            return;
        }
        self.expanded[id as usize] = false;
        let Some(row) = self.row_of(id) else { return };
        let last = index.node(id).last;
        let end = row + 1 + self.rows[row + 1..].partition_point(|&r| r <= last);
        self.rows.drain(row + 1..end);
    }

    /// Opens exactly the containers above `depth` (0 = everything closed, root shown alone).
    pub fn expand_to_depth(&mut self, index: &Index, depth: u32) {
        for (flag, node) in self.expanded.iter_mut().zip(&index.nodes) {
            *flag = node.kind.is_container() && node.children > 0 && node.depth < depth;
        }
        self.rebuild(index);
    }

    pub fn expand_all(&mut self, index: &Index) {
        self.expand_to_depth(index, u32::MAX);
    }

    /// Opens every closed container at the shallowest closed level; returns that level, or `None`.
    pub fn expand_next_level(&mut self, index: &Index) -> Option<u32> {
        let level = index
            .nodes
            .iter()
            .zip(&self.expanded)
            .filter(|(n, open)| n.kind.is_container() && n.children > 0 && !**open)
            .map(|(n, _)| n.depth)
            .min()?;
        for (flag, node) in self.expanded.iter_mut().zip(&index.nodes) {
            if node.kind.is_container() && node.children > 0 && node.depth <= level {
                *flag = true;
            }
        }
        self.rebuild(index);
        Some(level)
    }

    /// Opens every ancestor of `id` and returns its row.
    pub fn reveal(&mut self, index: &Index, id: u32) -> usize {
        let mut parent = index.node(id).parent;
        let mut closed = false;
        while parent != NONE {
            closed |= !self.expanded[parent as usize];
            self.expanded[parent as usize] = true;
            parent = index.node(parent).parent;
        }
        if closed {
            self.rebuild(index);
        }
        self.row_of(id).unwrap_or(0)
    }

    fn rebuild(&mut self, index: &Index) {
        self.rows.clear();
        let mut next = 0u32;
        let count = index.len() as u32;
        while next < count {
            self.rows.push(next);
            next = if self.expanded[next as usize] { next + 1 } else { index.node(next).last + 1 };
        }
    }
}

/// How many rows opening everything above `depth` would show.
fn visible_count(index: &Index, depth: u32) -> usize {
    let mut rows = 0;
    let mut next = 0u32;
    let count = index.len() as u32;
    while next < count {
        rows += 1;
        let node = index.node(next);
        next = if node.depth < depth { next + 1 } else { node.last + 1 };
    }
    rows
}

/// The rows to render for a viewport: those intersecting it plus `overscan` on each side.
pub fn window(scroll_top: f64, viewport: f64, row_height: f64, total: usize, overscan: usize) -> Range<usize> {
    if total == 0 || row_height <= 0.0 {
        return 0..0;
    }
    let first = (scroll_top.max(0.0) / row_height).floor() as usize;
    let shown = (viewport.max(0.0) / row_height).ceil() as usize + 1;
    let start = first.saturating_sub(overscan).min(total);
    let end = (first + shown + overscan).min(total);
    start..end.max(start)
}

#[cfg(test)]
mod tests {
    use super::super::index::parse;
    use super::*;

    const BODY: &[u8] = br#"{"a": {"b": {"c": 1}}, "list": [1, 2, [3, 4]], "e": {}}"#;
    // ids: 0 root, 1 a, 2 b, 3 c, 4 list, 5 1, 6 2, 7 [3,4], 8 3, 9 4, 10 e

    #[test]
    fn the_first_view_opens_levels_within_the_budget_but_at_least_two() {
        let index = parse(BODY).unwrap();
        assert_eq!(TreeState::new(&index, 1_000).rows(), (0..=10).collect::<Vec<_>>());
        assert_eq!(TreeState::new(&index, 0).rows(), [0, 1, 2, 4, 5, 6, 7, 10]);
    }

    #[test]
    fn expanding_and_collapsing_splice_exactly_the_subtree() {
        let index = parse(BODY).unwrap();
        let mut tree = TreeState::new(&index, 0);
        tree.collapse(&index, 4);
        assert_eq!(tree.rows(), [0, 1, 2, 4, 10]);
        tree.expand(&index, 2);
        assert_eq!(tree.rows(), [0, 1, 2, 3, 4, 10]);
        tree.expand(&index, 4);
        assert_eq!(tree.rows(), [0, 1, 2, 3, 4, 5, 6, 7, 10]);
        tree.toggle(&index, 7);
        assert_eq!(tree.rows(), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        tree.toggle(&index, 1);
        assert_eq!(tree.rows(), [0, 1, 4, 5, 6, 7, 8, 9, 10]);
        // Re-opening `a` brings back `b` still open: expansion state is remembered per node.
        tree.toggle(&index, 1);
        assert_eq!(tree.rows(), (0..=10).collect::<Vec<_>>());
        tree.expand(&index, 10);
        tree.expand(&index, 3);
        assert_eq!(tree.rows().len(), 11, "empty containers and leaves do not expand");
    }

    #[test]
    fn depth_controls_and_reveal() {
        let index = parse(BODY).unwrap();
        let mut tree = TreeState::new(&index, 0);
        tree.expand_to_depth(&index, 0);
        assert_eq!(tree.rows(), [0]);
        tree.expand_to_depth(&index, 1);
        assert_eq!(tree.rows(), [0, 1, 4, 10]);
        assert_eq!(tree.expand_next_level(&index), Some(1));
        assert_eq!(tree.rows(), [0, 1, 2, 4, 5, 6, 7, 10]);
        tree.expand_all(&index);
        assert_eq!(tree.rows().len(), 11);
        assert_eq!(tree.expand_next_level(&index), None);
        tree.expand_to_depth(&index, 1);
        assert_eq!(tree.reveal(&index, 9), 7);
        assert_eq!(tree.rows(), [0, 1, 4, 5, 6, 7, 8, 9, 10]);
        assert_eq!(tree.row_of(3), None);
    }

    #[test]
    fn the_window_covers_the_viewport_plus_overscan_and_never_overruns() {
        assert_eq!(window(0.0, 100.0, 20.0, 1_000, 5), 0..11);
        assert_eq!(window(2_000.0, 100.0, 20.0, 1_000, 5), 95..111);
        assert_eq!(window(19_990.0, 100.0, 20.0, 1_000, 5), 994..1_000);
        assert_eq!(window(1e9, 100.0, 20.0, 1_000, 5), 1_000..1_000);
        assert_eq!(window(-50.0, 100.0, 20.0, 3, 5), 0..3);
        assert_eq!(window(0.0, 100.0, 20.0, 0, 5), 0..0);
    }

    #[test]
    fn a_huge_flat_array_flattens_and_windows_without_touching_every_row() {
        let body = format!("[{}]", (0..300_000).map(|i| i.to_string()).collect::<Vec<_>>().join(","));
        let index = parse(body.as_bytes()).unwrap();
        let mut tree = TreeState::new(&index, 1_000);
        assert_eq!(tree.rows().len(), 300_001);
        let range = window(20.0 * 150_000.0, 600.0, 20.0, tree.rows().len(), 10);
        assert_eq!(range, 149_990..150_041);
        tree.collapse(&index, 0);
        assert_eq!(tree.rows(), [0]);
    }
}
