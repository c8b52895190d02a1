//! The console's screens (`pages`, one per route, each with a folder of its own parts) and the
//! parts more than one screen uses (`parts`).

pub mod pages;
pub mod parts;
