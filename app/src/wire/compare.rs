//! Compare wire types: one request sent to two environments, and the diff of the two answers.
//!
//! The diff itself is computed on the server (`server/src/diff.rs`); the browser only shows it.

use serde::{Deserialize, Serialize};

use super::{ConsoleError, ExecuteRequest, ExecuteResponse};

/// Ignore rules a compare starts with for an endpoint nobody has tuned yet: identifiers, timestamps
/// and request ids, which naturally differ between two environments.
pub const DEFAULT_IGNORE_RULES: [&str; 14] = [
    "$..id",
    "$..uuid",
    "$..charge_uuid",
    "$..wallet_uuid",
    "$..payout_uuid",
    "$..subscription_uuid",
    "$..request_id",
    "$..trace_id",
    "$..created",
    "$..created_at",
    "$..updated_at",
    "$..date_created",
    "$..timestamp",
    "$..expires_at",
];

/// How the two bodies are compared.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, serde_lite::Deserialize)]
pub struct DiffOptions {
    /// Compare field sets and types only; values are ignored.
    #[serde(default)]
    pub shape_only: bool,
    /// Match array elements by this field (e.g. `charge_uuid`) instead of by index.
    #[serde(default)]
    pub array_key: Option<String>,
    /// JSONPath (RFC 9535) expressions whose nodes, and everything under them, are left out.
    #[serde(default)]
    pub ignore: Vec<String>,
}

impl DiffOptions {
    /// The options a first compare of an endpoint uses.
    pub fn defaults() -> Self {
        Self {
            shape_only: false,
            array_key: None,
            ignore: DEFAULT_IGNORE_RULES.iter().map(|r| (*r).to_owned()).collect(),
        }
    }
}

/// What changed at one path. Ordered from the most serious: a type change breaks clients, a removed
/// field may, an added field rarely does, a changed value is data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, serde_lite::Deserialize)]
pub enum ChangeKind {
    #[serde(rename = "type_changed")]
    TypeChanged,
    #[serde(rename = "removed")]
    Removed,
    #[serde(rename = "added")]
    Added,
    #[serde(rename = "changed")]
    Changed,
}

impl ChangeKind {
    pub fn label(self) -> &'static str {
        match self {
            Self::TypeChanged => "type changed",
            Self::Removed => "removed",
            Self::Added => "added",
            Self::Changed => "changed",
        }
    }
}

/// One difference, with both sides as compact JSON previews.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, serde_lite::Deserialize)]
pub struct DiffChange {
    pub kind: ChangeKind,
    /// JSONPath of the node: `$['data'][3]['status']`; keyed arrays read `[?@['charge_uuid']=='…']`,
    /// shape-only paths use `[*]` for array elements, text diffs name lines (`line 12`).
    pub path: String,
    pub left: Option<String>,
    pub right: Option<String>,
    /// JSON type names (`string`, `number`, `null|string` in shape mode, ...).
    pub left_type: Option<String>,
    pub right_type: Option<String>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, serde_lite::Deserialize)]
pub struct DiffCounts {
    pub added: usize,
    pub removed: usize,
    pub changed: usize,
    pub type_changed: usize,
}

impl DiffCounts {
    pub fn total(&self) -> usize {
        self.added + self.removed + self.changed + self.type_changed
    }
}

/// How a row of the side-by-side view reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, serde_lite::Deserialize)]
pub enum RowKind {
    /// Equal on both sides, shown for context.
    #[serde(rename = "same")]
    Same,
    /// Different, but left out by an ignore rule.
    #[serde(rename = "ignored")]
    Ignored,
    /// An unchanged subtree or run of elements, folded into one line.
    #[serde(rename = "collapsed")]
    Collapsed,
    /// An object or array that contains differences; its rows follow, one level deeper.
    #[serde(rename = "open")]
    Open,
    #[serde(rename = "type_changed")]
    TypeChanged,
    #[serde(rename = "removed")]
    Removed,
    #[serde(rename = "added")]
    Added,
    #[serde(rename = "changed")]
    Changed,
}

/// One line of the side-by-side view.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, serde_lite::Deserialize)]
pub struct DiffRow {
    pub depth: u16,
    /// Field name, `[index]`, `[key]` or a summary such as `… 230 unchanged items`.
    pub label: String,
    pub left: Option<String>,
    pub right: Option<String>,
    pub kind: RowKind,
    pub path: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, serde_lite::Deserialize)]
pub enum BodyDiffMode {
    /// Both bodies are JSON, compared structurally.
    #[serde(rename = "json")]
    Json,
    /// Both are JSON, compared by field sets and types only.
    #[serde(rename = "shape")]
    Shape,
    /// At least one is not JSON: compared line by line.
    #[serde(rename = "text")]
    Text,
    /// Nothing to compare (a side failed or both bodies are empty).
    #[serde(rename = "none")]
    None,
}

/// The structural diff of the two bodies.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, serde_lite::Deserialize)]
pub struct BodyDiff {
    pub mode: BodyDiffMode,
    /// Counts of every change found (after ignore rules), also when the list below is cut.
    pub counts: DiffCounts,
    /// Most serious first, then in document order; at most `MAX_LISTED_CHANGES`.
    pub changes: Vec<DiffChange>,
    /// Differences left out by ignore rules.
    pub ignored: usize,
    /// The side-by-side view: changes with their context, unchanged subtrees folded.
    pub rows: Vec<DiffRow>,
    pub rows_truncated: bool,
    /// What the staff member should know about how the diff was made (key field missing, ...).
    pub notices: Vec<String>,
    pub elapsed_ms: f64,
}

/// Changes listed in a compare answer; exports carry up to `MAX_EXPORTED_CHANGES`.
pub const MAX_LISTED_CHANGES: usize = 2_000;
pub const MAX_EXPORTED_CHANGES: usize = 100_000;
/// Rows of the side-by-side view sent to the browser.
pub const MAX_DIFF_ROWS: usize = 5_000;

/// One header that differs. `expected` marks headers that differ on every request (dates, request
/// ids, rate-limit counters): listed, but not counted as differences.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, serde_lite::Deserialize)]
pub struct HeaderChange {
    pub name: String,
    pub kind: ChangeKind,
    pub left: Option<String>,
    pub right: Option<String>,
    pub expected: bool,
}

/// One request for both environments. The browser merges shared parameters with each side's
/// overrides; the server checks that both sides name the same method and path.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, serde_lite::Deserialize)]
pub struct CompareRequest {
    pub left: ExecuteRequest,
    pub right: ExecuteRequest,
    #[serde(default)]
    pub options: DiffOptions,
}

/// What one side produced: a response, or the console's error for it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, serde_lite::Deserialize)]
pub struct CompareSide {
    pub environment: String,
    pub response: Option<ExecuteResponse>,
    pub error: Option<ConsoleError>,
}

/// Stored downloads of the diff, fetched from `/api/bodies/{id}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, serde_lite::Deserialize)]
pub struct CompareExports {
    pub json_id: String,
    pub markdown_id: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, serde_lite::Deserialize)]
pub struct CompareResult {
    pub left: CompareSide,
    pub right: CompareSide,
    pub options: DiffOptions,
    pub body: BodyDiff,
    pub headers: Vec<HeaderChange>,
    pub exports: Option<CompareExports>,
    /// The history entry this compare was recorded as.
    pub history_id: Option<i64>,
}

/// Asks for the diff of an earlier compare again with other options; nothing is sent upstream.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, serde_lite::Deserialize)]
pub struct RediffRequest {
    pub left: CompareSide,
    pub right: CompareSide,
    pub options: DiffOptions,
    /// Endpoint id or `METHOD path`, under which the options are remembered.
    pub endpoint: String,
    pub method: String,
    pub path: String,
}

/// The options remembered for one endpoint (or the defaults).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, serde_lite::Deserialize)]
pub struct CompareSettings {
    pub endpoint: String,
    pub options: DiffOptions,
    /// False when these are the defaults.
    pub remembered: bool,
}

/// Marks a history entry as a compare.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, serde_lite::Deserialize)]
pub struct CompareMark {
    /// The second environment (the entry's `environment` is the first).
    pub right_environment: String,
    pub right_status: Option<u16>,
    pub counts: DiffCounts,
}

/// The key a compare's options are remembered under: the catalog id, else `METHOD path`.
pub fn compare_endpoint_key(request: &ExecuteRequest) -> String {
    match &request.endpoint_id {
        Some(id) if !id.is_empty() => id.clone(),
        _ => format!("{} {}", request.method.trim().to_ascii_uppercase(), request.path.trim()),
    }
}
