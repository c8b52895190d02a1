//! Server functions: thin adapters from the browser to the server's backend ports, one module per
//! feature, each named `<verb>_<noun>`. Their bodies are one call through `backend::serve`, which
//! finds the caller and the backend and sets the error's status.
//!
//! Every one names `CsrfClient`, so the browser sends the anti-CSRF header the server requires, and
//! `output = crate::codec::LiteJson`, so the browser reads the answer with the lighter decoder (a
//! test in `codec` holds every one to both).

mod builder;
mod compare;
mod execute;
mod masking;
mod parity;
mod staff;
mod token;

pub use builder::*;
pub use compare::*;
pub use execute::*;
pub use masking::*;
pub use parity::*;
pub use staff::*;
pub use token::*;
