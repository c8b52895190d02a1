//! a55 console server: everything behind the browser. `main.rs` only calls `cli::run`.

pub mod access;
pub mod audit;
pub mod auth;
pub mod bodies;
pub mod catalog;
pub mod cli;
pub mod clock;
pub mod config;
pub mod curl;
pub mod db;
pub mod diff;
pub mod environment;
pub mod error;
pub mod history;
pub mod http;
pub mod jsonpath;
pub mod masking;
pub mod metrics;
pub mod saved;
pub mod service;
pub mod simulator;
pub mod snippets;
pub mod startup;
pub mod state;
pub mod token;
pub mod upstream;
