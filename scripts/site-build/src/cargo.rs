//! The two cargo builds: the `app` crate to WASM (hydrate) and the `server` executable.

use crate::{Error, Options};
use std::path::PathBuf;
use std::process::{Child, Command};

/// Where the front end is compiled: apart from the server's `target/`, so the two builds can run at
/// once, and the same directory cargo-leptos uses, so `make dev` and this build share their work.
const FRONT_TARGET_DIR: &str = "target/front";
const WASM_TARGET: &str = "wasm32-unknown-unknown";
/// The size-optimised profile for the release WASM (Cargo.toml).
const WASM_RELEASE_PROFILE: &str = "wasm-release";

/// Compiles `app` with the `hydrate` feature to WASM; returns the module it wrote.
pub fn build_front(options: &Options) -> Result<PathBuf, Error> {
    let mut command = Command::new(cargo());
    command.args([
        "build",
        "--package=app",
        "--lib",
        &format!("--target-dir={FRONT_TARGET_DIR}"),
        &format!("--target={WASM_TARGET}"),
        "--no-default-features",
        "--features=hydrate",
    ]);
    let profile_dir = if options.release {
        command.arg(format!("--profile={WASM_RELEASE_PROFILE}"));
        WASM_RELEASE_PROFILE
    } else {
        "debug"
    };
    // Relocations are what wasm-split reads to cut the module. cargo-leptos also sets
    // `--cfg erase_components` on debug builds, on the server too; the server here is built as
    // `cargo test` builds it (sharing its compiled dependencies), and the WASM must render the same
    // markers as the server to hydrate, so neither gets it.
    let mut flags = std::env::var("RUSTFLAGS").unwrap_or_default();
    if options.split {
        flags.push_str(" -Clink-args=--emit-relocs");
    }
    let flags = flags.trim();
    if !flags.is_empty() {
        command.env("RUSTFLAGS", flags);
    }
    let status = command.status().map_err(|e| format!("cannot start cargo: {e}"))?;
    if !status.success() {
        return Err("the front end (app, hydrate, wasm32) did not compile; cargo's messages above say why".into());
    }
    let wasm = PathBuf::from(FRONT_TARGET_DIR).join(WASM_TARGET).join(profile_dir).join("app.wasm");
    if !wasm.is_file() {
        return Err(format!("cargo finished but {} is missing", wasm.display()));
    }
    Ok(wasm)
}

/// Starts compiling the server executable; [`wait`] for it.
pub fn spawn_server_build(options: &Options) -> Result<Child, Error> {
    let mut command = Command::new(cargo());
    command.args(["build", "--package=server", "--bin=a55-console"]);
    if options.release {
        command.arg("--release");
    }
    command.spawn().map_err(|e| format!("cannot start cargo: {e}"))
}

/// Waits for a build started with [`spawn_server_build`].
pub fn wait(what: &str, mut child: Child) -> Result<(), Error> {
    let status = child.wait().map_err(|e| format!("{what}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{what} failed; cargo's messages above say why"))
    }
}

/// The cargo that runs this tool, when it runs under `cargo run`; else the one on PATH.
fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}
