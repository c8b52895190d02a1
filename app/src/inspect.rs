//! Pure logic of the response inspector (no DOM): JSON index, tree flattening and windowing, search,
//! JSONPath of a node, text helpers. Everything is iterative, so 10,000 levels of nesting are fine.

pub mod index;
pub mod path;
pub mod search;
pub mod text;
pub mod tree;
