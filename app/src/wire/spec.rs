//! Spec drift wire types: how two OpenAPI documents of the same API differ (operations,
//! parameters, schemas, response codes), as the diff engine in `server/src/parity/spec.rs` lists it.

use serde::{Deserialize, Serialize};

/// The side of a spec comparison that is the console's own catalog (the bundled document).
pub const CATALOG_SIDE: &str = "catalog";

/// What changed from the left document to the right one, ranked: breaking changes first (a
/// client written against the left one may fail on the right one), additive ones after.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, serde_lite::Deserialize)]
pub enum SpecChangeKind {
    #[serde(rename = "operation_removed")]
    OperationRemoved,
    #[serde(rename = "response_removed")]
    ResponseRemoved,
    /// A new parameter that is required, or one that became required.
    #[serde(rename = "parameter_required")]
    ParameterRequired,
    #[serde(rename = "type_changed")]
    TypeChanged,
    #[serde(rename = "enum_value_removed")]
    EnumValueRemoved,
    #[serde(rename = "field_removed")]
    FieldRemoved,
    /// A body field that became required.
    #[serde(rename = "field_required")]
    FieldRequired,
    /// A parameter that moved (query → header, …).
    #[serde(rename = "parameter_moved")]
    ParameterMoved,
    #[serde(rename = "parameter_removed")]
    ParameterRemoved,
    #[serde(rename = "operation_added")]
    OperationAdded,
    #[serde(rename = "response_added")]
    ResponseAdded,
    #[serde(rename = "parameter_added")]
    ParameterAdded,
    #[serde(rename = "parameter_optional")]
    ParameterOptional,
    #[serde(rename = "field_added")]
    FieldAdded,
    #[serde(rename = "field_optional")]
    FieldOptional,
    #[serde(rename = "enum_value_added")]
    EnumValueAdded,
}

impl SpecChangeKind {
    pub const ALL: [Self; 16] = [
        Self::OperationRemoved,
        Self::ResponseRemoved,
        Self::ParameterRequired,
        Self::TypeChanged,
        Self::EnumValueRemoved,
        Self::FieldRemoved,
        Self::FieldRequired,
        Self::ParameterMoved,
        Self::ParameterRemoved,
        Self::OperationAdded,
        Self::ResponseAdded,
        Self::ParameterAdded,
        Self::ParameterOptional,
        Self::FieldAdded,
        Self::FieldOptional,
        Self::EnumValueAdded,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Self::OperationRemoved => "operation removed",
            Self::ResponseRemoved => "response code removed",
            Self::ParameterRequired => "parameter now required",
            Self::TypeChanged => "type changed",
            Self::EnumValueRemoved => "enum value removed",
            Self::FieldRemoved => "field removed",
            Self::FieldRequired => "field now required",
            Self::ParameterMoved => "parameter moved",
            Self::ParameterRemoved => "parameter removed",
            Self::OperationAdded => "operation added",
            Self::ResponseAdded => "response code added",
            Self::ParameterAdded => "optional parameter added",
            Self::ParameterOptional => "parameter now optional",
            Self::FieldAdded => "field added",
            Self::FieldOptional => "field now optional",
            Self::EnumValueAdded => "enum value added",
        }
    }

    pub fn is_breaking(self) -> bool {
        self <= Self::ParameterRemoved
    }
}

/// One difference between two documents.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, serde_lite::Deserialize)]
pub struct SpecChange {
    /// Stable across runs (kind, method, path template with parameter names normalised, pointer):
    /// what a baseline remembers.
    pub key: String,
    pub kind: SpecChangeKind,
    /// `GET /bank/wallet/charges/` as the document that has it writes it.
    pub operation: String,
    /// Where in the operation: `parameters/query/wallet_uuid`, `responses/200/body/data/[]/status`,
    /// `requestBody/amount`; empty for the operation itself.
    pub pointer: String,
    pub before: Option<String>,
    pub after: Option<String>,
    /// Not in the suite's baseline (always true outside runs).
    pub new: bool,
}

/// Why two documents could not be compared, or that they were.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, serde_lite::Deserialize)]
pub enum SpecState {
    #[serde(rename = "compared")]
    Compared,
    /// These environments have no live spec configured: nothing to compare, and not drift.
    #[serde(rename = "no_live_spec")]
    NoLiveSpec { environments: Vec<String> },
    /// A document could not be fetched or parsed; the reason names the environment.
    #[serde(rename = "unavailable")]
    Unavailable { reason: String },
}

/// One pair of documents: two environments, or the catalog and an environment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, serde_lite::Deserialize)]
pub struct SpecComparison {
    /// An environment id, or [`CATALOG_SIDE`].
    pub left: String,
    pub right: String,
    pub state: SpecState,
    /// Ranked: kind (breaking first), then operation, then pointer.
    pub changes: Vec<SpecChange>,
}

impl SpecComparison {
    pub fn breaking(&self) -> usize {
        self.changes.iter().filter(|c| c.kind.is_breaking()).count()
    }
}

/// The Parity page's spec drift view of two environments: each against the other, and each
/// against the console's catalog.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, serde_lite::Deserialize)]
pub struct SpecDriftView {
    pub left: String,
    pub right: String,
    pub comparisons: Vec<SpecComparison>,
}
