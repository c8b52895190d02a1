//! An environment ready to use: its validated configuration, API base, token source and HTTP client.

use app::backend::Caller;
use app::wire::EnvironmentView;
use url::Url;

use crate::access;
use crate::config::Environment;
use crate::token::TokenSource;

/// An environment ready to use: validated config plus its resolved endpoints and token source.
pub struct LiveEnvironment {
    pub config: Environment,
    pub api_base: Url,
    pub token: TokenSource,
    pub http: reqwest::Client,
}

impl LiveEnvironment {
    pub fn view(&self, caller: &Caller) -> EnvironmentView {
        EnvironmentView {
            guard: access::guard_view(caller.role_in(&self.config.id), &self.config),
            id: self.config.id.clone(),
            label: self.config.label.clone(),
            kind: self.config.kind,
            colour: self.config.colour.clone(),
            api_base: self.api_base.to_string(),
        }
    }
}
