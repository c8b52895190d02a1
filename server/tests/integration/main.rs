//! Integration tests: the real console on a loopback port, talking to real simulators over HTTP.
//!
//! One test binary on purpose (each extra binary costs a link of the whole server); each area of
//! the console adds a module under `integration/`.

// These tests time the real console from outside (deadlines, bounded-time checks): wall time is the point.
#![allow(clippy::disallowed_methods)]

mod support;

mod auth;
mod builder;
mod compare;
mod console;
mod destination;
mod faults;
mod headers;
mod inspector;
mod leak_canary;
mod login_form;
mod masking;
mod parity;
mod postgres_storage;
mod redis_sessions;
mod redis_shared;
mod redis_tokens;
mod replicas_postgres;
mod sign_in;
mod token;
