//! Incremental search over keys and scalar values: `step` scans a bounded number of nodes, so the
//! UI can spread a search over several frames and show the first match before the count is final.

use super::index::{unescape, Index, Kind};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Match {
    pub node: u32,
    /// True when the key matched (otherwise the value did).
    pub in_key: bool,
}

pub struct Search {
    needle: String,
    next: u32,
    pub matches: Vec<Match>,
}

/// Case-insensitive (Unicode lower-case) containment; decodes escapes only when the raw text has any.
fn contains(raw: &[u8], needle: &str) -> bool {
    if raw.len() < needle.len() && !raw.contains(&b'\\') {
        return false;
    }
    if raw.is_ascii() && needle.is_ascii() && !raw.contains(&b'\\') {
        let n = needle.as_bytes();
        return raw.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n));
    }
    unescape(raw).to_lowercase().contains(needle)
}

impl Search {
    /// `None` for an empty query.
    pub fn new(query: &str) -> Option<Self> {
        let needle = query.to_lowercase();
        (!needle.is_empty()).then_some(Self { needle, next: 0, matches: Vec::new() })
    }

    pub fn done(&self, index: &Index) -> bool {
        self.next as usize >= index.len()
    }

    /// Scans up to `budget` more nodes; returns true when the whole document has been searched.
    pub fn step(&mut self, index: &Index, bytes: &[u8], budget: usize) -> bool {
        let end = (self.next as usize).saturating_add(budget).min(index.len());
        for id in self.next..end as u32 {
            let node = index.node(id);
            let in_key = index.key_raw(bytes, id).is_some_and(|k| contains(k, &self.needle));
            let in_value = match node.kind {
                Kind::Object | Kind::Array => false,
                Kind::String => contains(&bytes[node.start as usize + 1..node.end as usize - 1], &self.needle),
                _ => contains(index.raw(bytes, id), &self.needle),
            };
            if in_key || in_value {
                self.matches.push(Match { node: id, in_key });
            }
        }
        self.next = end as u32;
        self.done(index)
    }
}

#[cfg(test)]
mod tests {
    use super::super::index::parse;
    use super::*;

    #[test]
    fn keys_and_values_match_case_insensitively_including_escaped_text() {
        let body = r#"{"Status": "paid", "note": "PAID twice", "n": 12345, "esc": "caf\u00e9", "ok": true}"#.as_bytes();
        let index = parse(body).unwrap();
        let run = |q: &str| {
            let mut search = Search::new(q).unwrap();
            assert!(search.step(&index, body, usize::MAX));
            search.matches.iter().map(|m| (m.node, m.in_key)).collect::<Vec<_>>()
        };
        assert_eq!(run("paid"), [(1, false), (2, false)]);
        assert_eq!(run("status"), [(1, true)]);
        assert_eq!(run("234"), [(3, false)]);
        assert_eq!(run("CAFÉ"), [(4, false)]);
        assert_eq!(run("true"), [(5, false)]);
        assert!(run("nothing").is_empty());
        assert!(Search::new("").is_none());
    }

    #[test]
    fn a_search_can_run_in_small_steps_and_finds_the_same_matches() {
        let body = format!("[{}]", (0..10_000).map(|i| format!("\"item {i}\"")).collect::<Vec<_>>().join(","));
        let index = parse(body.as_bytes()).unwrap();
        let mut whole = Search::new("item 9").unwrap();
        whole.step(&index, body.as_bytes(), usize::MAX);
        let mut steps = Search::new("item 9").unwrap();
        let mut rounds = 0;
        while !steps.step(&index, body.as_bytes(), 700) {
            rounds += 1;
        }
        assert_eq!(rounds, 14);
        assert_eq!(whole.matches, steps.matches);
        assert_eq!(whole.matches.len(), 1_111);
        assert_eq!(whole.matches[0].node, 10);
    }
}
