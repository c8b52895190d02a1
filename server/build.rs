//! Rebuilds the server when a migration is added, renamed or changed: `sqlx::migrate!` embeds the
//! folders' files at compile time, and a new file alone changes no Rust source.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=migrations-postgres");
}
