//! Wire types of the request builder: curl import, snippets, history, saved requests, preferences.
//!
//! None of them carries a token or a secret: history and saved requests hold what the browser sent
//! (whose headers never include `Authorization`), snippets read credentials from env vars.

use serde::{Deserialize, Serialize};

use super::{ExecuteRequest, ExecuteResponse};

/// A partner's curl command turned into a draft, plus what was dropped or guessed on the way.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, serde_lite::Deserialize)]
pub struct CurlImport {
    /// Environment matched by host; `endpoint_id` set when a catalog operation matched.
    pub request: ExecuteRequest,
    /// Things staff should know: dropped credentials, ignored options, ambiguous matches.
    pub notices: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, serde_lite::Deserialize)]
pub enum SnippetLanguage {
    #[serde(rename = "curl")]
    Curl,
    #[serde(rename = "python")]
    Python,
    #[serde(rename = "java_script")]
    JavaScript,
    #[serde(rename = "rust")]
    Rust,
}

impl SnippetLanguage {
    pub const ALL: [Self; 4] = [Self::Curl, Self::Python, Self::JavaScript, Self::Rust];

    pub fn label(self) -> &'static str {
        match self {
            Self::Curl => "curl",
            Self::Python => "Python (requests)",
            Self::JavaScript => "JavaScript (fetch)",
            Self::Rust => "Rust (reqwest)",
        }
    }

    pub fn id(self) -> &'static str {
        match self {
            Self::Curl => "curl",
            Self::Python => "python",
            Self::JavaScript => "javascript",
            Self::Rust => "rust",
        }
    }
}

/// Code that reproduces the current request outside the console, token step included.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, serde_lite::Deserialize)]
pub struct Snippet {
    pub language: SnippetLanguage,
    pub code: String,
}

/// One run in the history list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, serde_lite::Deserialize)]
pub struct HistoryEntry {
    pub id: i64,
    /// Unix milliseconds.
    pub at_ms: i64,
    pub environment: String,
    pub method: String,
    /// The path as staff wrote it (template or concrete).
    pub path: String,
    pub endpoint_id: Option<String>,
    /// Upstream status, or `None` when the console could not complete the request.
    pub status: Option<u16>,
    pub duration_ms: Option<f64>,
    /// The console's error, when there was one.
    pub error: Option<String>,
    /// Set when this entry is a compare of two environments.
    #[serde(default)]
    pub compare: Option<super::CompareMark>,
}

/// One run with everything needed to look at it again or run it again.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, serde_lite::Deserialize)]
pub struct HistoryDetail {
    pub entry: HistoryEntry,
    pub request: ExecuteRequest,
    pub response: Option<ExecuteResponse>,
    /// A compare's whole result (its change list and rows as stored), when the entry is one.
    #[serde(default)]
    pub compare: Option<super::CompareResult>,
}

/// A named request shared with all staff, grouped in a collection.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, serde_lite::Deserialize)]
pub struct SavedRequest {
    pub id: i64,
    pub name: String,
    pub collection: String,
    pub request: ExecuteRequest,
    pub created_by: String,
    pub updated_by: String,
    /// Unix milliseconds.
    pub updated_at_ms: i64,
    /// Whether the caller may update or delete it (its owner, `created_by`, or an admin); anyone
    /// else may open it or save a copy.
    #[serde(default)]
    pub can_change: bool,
}

/// What the browser sends to create (`id: None`) or update a saved request.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, serde_lite::Deserialize)]
pub struct SaveRequest {
    pub id: Option<i64>,
    pub name: String,
    pub collection: String,
    pub request: ExecuteRequest,
}

/// What the console remembers per staff member between visits.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, serde_lite::Deserialize)]
pub struct Preferences {
    pub last_environment: Option<String>,
    pub last_endpoint: Option<String>,
    /// `light` or `dark`; `None` follows the system setting.
    #[serde(default)]
    pub theme: Option<String>,
}
