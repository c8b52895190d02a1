//! The token port: metadata for the badge and the token page, refresh and forget (audited).

use app::backend::{Caller, TokenBackend};
use app::wire::{ConsoleError, TokenDetails, TokenView};

use super::ConsoleService;
use crate::error::to_console;
use crate::masking;

#[async_trait::async_trait]
impl TokenBackend for ConsoleService {
    async fn token_status(&self, caller: &Caller, environment: &str) -> Result<TokenView, ConsoleError> {
        Ok(self.token_view_for(caller, self.broker.view(&self.environment(caller, environment)?.token)))
    }

    async fn token_details(&self, caller: &Caller, environment: &str) -> Result<TokenDetails, ConsoleError> {
        let mut details = self.broker.details_shared(&self.environment(caller, environment)?.token).await;
        details.token = self.token_view_for(caller, details.token);
        if self.masking.demo.is_on(caller) {
            details.client_id = masking::pii::keep_last_characters(&details.client_id, 4);
        }
        Ok(details)
    }

    async fn refresh_token(&self, caller: &Caller, environment: &str) -> Result<TokenDetails, ConsoleError> {
        let env = self.token_manager(caller, environment, "refresh")?;
        // The broker audits the token event itself, with the caller as the one who asked.
        self.broker.refresh_now(&env.token, Some(&caller.name)).await.map_err(to_console)?;
        Ok(self.broker.details_shared(&env.token).await)
    }

    async fn forget_token(&self, caller: &Caller, environment: &str) -> Result<TokenDetails, ConsoleError> {
        let env = self.token_manager(caller, environment, "forget")?;
        self.broker.forget(&env.token, Some(&caller.name));
        tracing::info!(staff = %caller.name, environment = %env.config.id, "cached token forgotten on request");
        Ok(self.broker.details_shared(&env.token).await)
    }
}
