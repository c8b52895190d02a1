//! Parity watch wire types: suites of saved compares, their runs, and the drift they find.
//!
//! A suite's compares reuse [`CompareRequest`]; runs, drift and baselines are computed on the
//! server (`server/src/parity.rs`); the browser only shows them.

use serde::{Deserialize, Serialize};

use super::{CompareRequest, DiffChange, DiffCounts, HeaderChange, SpecChange, SpecComparison};

/// Methods a suite may send: it is run again and again, also by the console on its own.
pub const READ_ONLY_METHODS: [&str; 3] = ["GET", "HEAD", "OPTIONS"];

/// One compare of a suite, by name.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, serde_lite::Deserialize)]
pub struct ParityCompare {
    pub name: String,
    pub request: CompareRequest,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, serde_lite::Deserialize)]
pub enum SuiteSource {
    /// `[[parity.suites]]` in the configuration: changed by editing the file.
    #[serde(rename = "config")]
    Config,
    /// Built from the Compare page ("Add to suite"), kept in the database.
    #[serde(rename = "saved")]
    Saved,
}

/// A named list of compares, run together.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, serde_lite::Deserialize)]
pub struct ParitySuite {
    pub name: String,
    pub source: SuiteSource,
    pub compares: Vec<ParityCompare>,
    /// When the console runs the suite on its own (from the configuration, or set on the Parity page
    /// for a saved suite).
    #[serde(default)]
    pub schedule: Option<SuiteSchedule>,
}

/// Runs every `interval_secs`, each start moved by a random 0..=`jitter_secs` so suites configured
/// alike do not all hit an environment at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, serde_lite::Deserialize)]
pub struct SuiteSchedule {
    pub interval_secs: u64,
    pub jitter_secs: u64,
}

/// Adds one compare to a saved suite (created when it does not exist yet).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, serde_lite::Deserialize)]
pub struct AddToSuite {
    pub suite: String,
    pub name: String,
    pub request: CompareRequest,
}

/// What differs, ranked from the most serious: a side answering another status, a type change, a
/// missing field, an extra field, a header, and last a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, serde_lite::Deserialize)]
pub enum DriftKind {
    #[serde(rename = "status")]
    Status,
    #[serde(rename = "type_changed")]
    TypeChanged,
    #[serde(rename = "removed")]
    Removed,
    #[serde(rename = "added")]
    Added,
    #[serde(rename = "header")]
    Header,
    #[serde(rename = "changed")]
    Changed,
}

impl DriftKind {
    pub fn label(self) -> &'static str {
        match self {
            Self::Status => "status differs",
            Self::TypeChanged => "type changed",
            Self::Removed => "missing in right",
            Self::Added => "extra in right",
            Self::Header => "header differs",
            Self::Changed => "value changed",
        }
    }

    /// Shape drift breaks clients; value drift is data.
    pub fn is_shape(self) -> bool {
        !matches!(self, Self::Changed)
    }
}

/// One difference of a run, with array positions folded (`[*]`) so the same drift in every
/// element of a list is one item counted `occurrences` times.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, serde_lite::Deserialize)]
pub struct DriftItem {
    pub compare: String,
    pub kind: DriftKind,
    /// JSONPath with `[*]` for array elements, `status`, or a header name.
    pub path: String,
    pub occurrences: u32,
    /// Example previews from the first occurrence (left out for viewers in demo mode).
    pub left: Option<String>,
    pub right: Option<String>,
    /// Not in the suite's baseline.
    pub new: bool,
}

impl DriftItem {
    /// What a baseline remembers of a drift: where and what kind, not the values.
    pub fn key(&self) -> (String, DriftKind, String) {
        (self.compare.clone(), self.kind, self.path.clone())
    }
}

/// One compare of a run: both sides' status, the counts by kind, and the diff for drill-down.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, serde_lite::Deserialize)]
pub struct ParityCompareOutcome {
    pub name: String,
    pub method: String,
    pub path: String,
    pub left_environment: String,
    pub right_environment: String,
    pub left_status: Option<u16>,
    pub right_status: Option<u16>,
    /// The console's error for a side that did not answer.
    pub left_error: Option<String>,
    pub right_error: Option<String>,
    pub counts: DiffCounts,
    /// Headers that differ, besides those expected to (dates, request ids).
    pub headers: Vec<HeaderChange>,
    /// The body's changes, most serious first, at most `MAX_RUN_CHANGES`.
    pub changes: Vec<DiffChange>,
    pub changes_truncated: bool,
    pub duration_ms: i64,
}

/// Body changes kept per compare of a run.
pub const MAX_RUN_CHANGES: usize = 200;

/// Requests one run sent to one environment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, serde_lite::Deserialize)]
pub struct EnvironmentRequests {
    pub environment: String,
    pub requests: u32,
}

/// One run of a suite, as kept.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, serde_lite::Deserialize)]
pub struct ParityRun {
    pub id: i64,
    pub suite: String,
    pub started_by: String,
    pub started_at_ms: i64,
    pub duration_ms: i64,
    pub compares: Vec<ParityCompareOutcome>,
    /// Every drift found, ranked (kind, then compare order, then path); `new` marks what the
    /// baseline does not know.
    pub drift: Vec<DriftItem>,
    pub requests: Vec<EnvironmentRequests>,
    /// When the baseline this run was judged against was accepted.
    pub baseline_at_ms: Option<i64>,
    /// The live specs of each pair of environments the suite compares, when both have one.
    #[serde(default)]
    pub spec: Vec<SpecComparison>,
}

impl ParityRun {
    pub fn new_shape(&self) -> impl Iterator<Item = &DriftItem> {
        self.drift.iter().filter(|d| d.new && d.kind.is_shape())
    }

    pub fn new_value(&self) -> impl Iterator<Item = &DriftItem> {
        self.drift.iter().filter(|d| d.new && !d.kind.is_shape())
    }

    pub fn new_spec(&self) -> impl Iterator<Item = &SpecChange> {
        self.spec.iter().flat_map(|s| &s.changes).filter(|c| c.new)
    }

    /// New drift of every kind: responses' shape and values, and the specs.
    pub fn new_drift(&self) -> usize {
        self.drift.iter().filter(|d| d.new).count() + self.new_spec().count()
    }

    pub fn summary(&self) -> ParityRunSummary {
        ParityRunSummary {
            id: self.id,
            started_at_ms: self.started_at_ms,
            started_by: self.started_by.clone(),
            duration_ms: self.duration_ms,
            new_shape: self.new_shape().count(),
            new_value: self.new_value().count(),
            new_spec: self.new_spec().count(),
            known: self.drift.iter().filter(|d| !d.new).count()
                + self.spec.iter().flat_map(|s| &s.changes).filter(|c| !c.new).count(),
            failed_sides: self
                .compares
                .iter()
                .map(|c| usize::from(c.left_error.is_some()) + usize::from(c.right_error.is_some()))
                .sum(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, serde_lite::Deserialize)]
pub struct ParityRunSummary {
    pub id: i64,
    pub started_at_ms: i64,
    pub started_by: String,
    pub duration_ms: i64,
    pub new_shape: usize,
    pub new_value: usize,
    /// Spec changes the baseline does not know.
    #[serde(default)]
    pub new_spec: usize,
    /// Drift the baseline already knows.
    pub known: usize,
    pub failed_sides: usize,
}

impl ParityRunSummary {
    pub fn new_drift(&self) -> usize {
        self.new_shape + self.new_value + self.new_spec
    }
}

/// A suite's accepted differences.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, serde_lite::Deserialize)]
pub struct BaselineView {
    pub run_id: i64,
    pub accepted_by: String,
    pub accepted_at_ms: i64,
    pub items: usize,
}

/// A suite on the Parity page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, serde_lite::Deserialize)]
pub struct ParitySuiteView {
    pub suite: ParitySuite,
    pub last_run: Option<ParityRunSummary>,
    pub baseline: Option<BaselineView>,
    pub running: bool,
}

/// Suites with new drift in their last run, for the top bar.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, serde_lite::Deserialize)]
pub struct ParityBadge {
    pub suites: usize,
    pub new_drift: usize,
}
