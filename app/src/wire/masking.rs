//! Wire types of masking and demo mode: what the server masked in an answer, reveals, the demo switch.

use serde::{Deserialize, Serialize};

/// A secret the server masked in a response (always on, demo mode or not).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, serde_lite::Deserialize)]
pub struct MaskedSecret {
    /// Where it was: a normalized JSONPath (`$['credentials']['client_secret']`), `header:<name>`, or
    /// `text` for a field found in a body that is not JSON.
    pub location: String,
    /// Handle an admin may trade for the original while the server keeps it; `None` when this
    /// caller may not reveal (not an admin here, or demo mode is on) or the original was not kept.
    pub reveal_id: Option<String>,
}

/// What masking did to one answer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, serde_lite::Deserialize)]
pub struct MaskingReport {
    /// Secrets masked, in document order (the first `MASKED_SECRETS_LISTED`).
    pub secrets: Vec<MaskedSecret>,
    /// Secrets masked in all, listed or not.
    pub secret_count: u64,
    /// Personal data masked by demo mode, per kind (`email`, `cpf`, `card`, …), in a fixed order.
    pub personal: Vec<(String, u64)>,
    /// True when demo mode was on for this answer.
    pub demo: bool,
}

/// Secrets listed in a report at most (the count is still exact).
pub const MASKED_SECRETS_LISTED: usize = 200;

/// The original of one masked secret, for an admin who asked.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, serde_lite::Deserialize)]
pub struct RevealedSecret {
    pub location: String,
    pub value: String,
}

/// Where, never what: the value is for the admin's screen, not for logs or panic messages.
impl std::fmt::Debug for RevealedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RevealedSecret").field("location", &self.location).field("value", &"[redacted]").finish()
    }
}

/// Demo mode for the caller's session.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, serde_lite::Deserialize)]
pub struct DemoView {
    pub enabled: bool,
    /// The instance forces demo mode (config `masking.force_demo`): it cannot be switched off.
    pub forced: bool,
}
