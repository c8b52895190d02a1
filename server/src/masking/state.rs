//! The service's masking state: settings, demo mode per session and the reveal vault, and the
//! decisions that depend on who is asking.

use app::backend::Caller;
use app::wire::{
    ConsoleError, EnvironmentKind, ExecuteResponse, MaskedSecret, MaskingReport, Role, MASKED_SECRETS_LISTED,
};

use super::demo::{DemoModes, DemoSwitch};
use super::vault::{Kept, RevealVault};
use super::{Found, MaskingSettings, Policy};
use crate::clock::SharedClock;

pub struct Masking {
    pub settings: MaskingSettings,
    pub demo: DemoSwitch,
    pub vault: RevealVault,
}

impl Masking {
    pub fn new(settings: MaskingSettings, demo: impl Into<DemoSwitch>, clock: SharedClock) -> Self {
        Self { settings, demo: demo.into(), vault: RevealVault::new(clock) }
    }

    /// Originals kept in `vault` (Redis, shared by every replica) instead of this process.
    pub fn with_vault(mut self, vault: RevealVault) -> Self {
        self.vault = vault;
        self
    }

    /// In memory only, demo mode as configured (consoles built without a database, tests).
    pub fn in_memory(settings: MaskingSettings, clock: SharedClock) -> Self {
        let demo = DemoModes::in_memory(settings.force_demo, clock.clone());
        Self::new(settings, demo, clock)
    }

    /// What to mask for `caller` now.
    pub fn policy(&self, caller: &Caller) -> Policy<'_> {
        Policy { personal: self.demo.is_on(caller), settings: &self.settings }
    }

    /// Demo mode hides protected (production) environments: from lists, and from every request.
    pub fn hides(&self, caller: &Caller, kind: EnvironmentKind) -> bool {
        kind == EnvironmentKind::Production && self.demo.is_on(caller)
    }

    /// Whether `caller` may reveal secrets masked in answers from `environment`.
    pub fn may_reveal(&self, caller: &Caller, environment: &str) -> bool {
        caller.role_in(environment) == Some(Role::Admin) && !self.demo.is_on(caller)
    }

    /// The report for one answer. Originals are kept only when this caller may reveal them; the
    /// rest are dropped here and never leave this function. When the shared store does not
    /// answer, the values stay masked without a reveal (the answer itself is not lost).
    pub async fn report(&self, caller: &Caller, environment: &str, found: Found, demo: bool) -> MaskingReport {
        let mut keep = self.may_reveal(caller, environment) && self.vault.keeps();
        let secret_count = found.secrets.len() as u64;
        let personal = super::personal_counts(&found);
        let mut secrets = Vec::new();
        for secret in found.secrets.into_iter().take(MASKED_SECRETS_LISTED) {
            let reveal_id = if keep {
                match self.vault.keep(&caller.name, &secret.location, &secret.original).await {
                    Ok(id) => id,
                    Err(_) => {
                        keep = false;
                        None
                    }
                }
            } else {
                None
            };
            secrets.push(MaskedSecret { reveal_id, location: secret.location });
        }
        MaskingReport { secrets, secret_count, personal, demo }
    }

    /// An admin's reveal of one kept original; refused with a message saying why.
    pub async fn reveal(&self, caller: &Caller, id: &str) -> Result<Kept, ConsoleError> {
        if caller.role != Role::Admin {
            return Err(ConsoleError::Forbidden(format!(
                "only admins may reveal masked secrets; your role is {}",
                caller.role.as_str()
            )));
        }
        if self.demo.is_on(caller) {
            return Err(ConsoleError::Forbidden(
                "secrets cannot be revealed in demo mode: switch demo mode off first".into(),
            ));
        }
        let kept = self.vault.get(id, &caller.name).await?;
        kept.ok_or_else(|| {
            ConsoleError::NotFound(
                "this masked value is no longer kept on the server (kept 30 minutes); run the request again".into(),
            )
        })
    }

    /// An answer recorded earlier, shown again now: masked for demo mode if it is on.
    pub fn for_display(&self, caller: &Caller, mut response: ExecuteResponse) -> ExecuteResponse {
        let policy = self.policy(caller);
        if !policy.personal {
            return response;
        }
        let mut found = Found::default();
        if let Some((bytes, more)) = super::mask_body(response.body.as_bytes(), policy) {
            response.body = String::from_utf8_lossy(&bytes).into_owned();
            found.merge(more);
        }
        if let Some(sent) = &response.sent_body {
            if let Some((bytes, _)) = super::mask_body(sent.as_bytes(), policy) {
                response.sent_body = Some(String::from_utf8_lossy(&bytes).into_owned());
            }
        }
        for (name, value) in response.headers.iter_mut().chain(response.sent_headers.iter_mut()) {
            if let Some((masked, _)) = super::mask_header(name, value, policy) {
                *value = masked;
            }
        }
        if let Some(url) = super::mask_url(&response.url, policy) {
            response.url = url;
        }
        response.masking.demo = true;
        for (kind, count) in super::personal_counts(&found) {
            match response.masking.personal.iter_mut().find(|(k, _)| *k == kind) {
                Some((_, n)) => *n += count,
                None => response.masking.personal.push((kind, count)),
            }
        }
        response
    }
}
