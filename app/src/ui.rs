//! The console's screens and their parts, one file per concern.

pub mod catalog;
pub mod clock;
pub mod console;
pub mod request;
pub mod response;
pub mod token_badge;
