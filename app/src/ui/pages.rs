//! One module per route: the page component and, in its folder, the parts only it uses.

pub mod audit;
pub mod compare;
pub mod console;
pub mod login;
pub mod parity;
pub mod token;
