//! The console's screens and their parts, one file per concern.

pub mod audit;
pub mod catalog;
pub mod clock;
pub mod compare;
pub mod compare_link;
pub mod compare_view;
pub mod confirm;
pub mod console;
pub mod curl_import;
pub mod demo;
pub mod history;
pub mod inspector;
pub mod link;
pub mod login;
pub mod request;
pub mod response;
pub mod saved;
pub mod snippets;
pub mod staff;
pub mod token_badge;
pub mod token_panel;
