//! Builds the console's site and server the way `cargo leptos build` does, without compiling cargo-leptos.
//!
//! `make run` and the tests need a WASM front end split into its lazy chunks, its JS glue, the style
//! sheet, the public files, content-hashed names and (for a release) brotli and gzip copies. cargo-leptos
//! does all of that but takes 15 minutes to compile on two cores; this tool is the same steps on the
//! libraries cargo-leptos itself uses (wasm-bindgen's and wasm-split's), and compiles in about two.
//! `make dev` keeps cargo-leptos for its watch mode.
//!
//! Usage: `site-build [--release] [--split] [--precompress] [--frontend-only]`; the site goes to
//! `LEPTOS_SITE_ROOT` (default `target/site`), as with cargo-leptos.

mod cargo;
mod compress;
mod front;
mod hash;
mod style;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

/// What the build is asked for, from the command line.
#[derive(Debug, Clone)]
pub struct Options {
    pub release: bool,
    pub split: bool,
    pub precompress: bool,
    pub frontend_only: bool,
    /// Where pages and /pkg are served from.
    pub site_root: PathBuf,
}

/// The names the server and the pages agree on (Cargo.toml, `[[workspace.metadata.leptos]]`).
pub const OUTPUT_NAME: &str = "a55-console";
pub const PKG_DIR: &str = "pkg";
pub const STYLE_FILE: &str = "style/main.css";
pub const ASSETS_DIR: &str = "public";
pub const DEFAULT_SITE_ROOT: &str = "target/site";

/// A build step's failure, said in words that name what to fix.
pub type Error = String;

impl Options {
    fn parse(args: impl Iterator<Item = String>) -> Result<Options, Error> {
        let mut options = Options {
            release: false,
            split: false,
            precompress: false,
            frontend_only: false,
            site_root: std::env::var_os("LEPTOS_SITE_ROOT")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(DEFAULT_SITE_ROOT)),
        };
        for arg in args {
            match arg.as_str() {
                "--release" => options.release = true,
                "--split" => options.split = true,
                "--precompress" => options.precompress = true,
                "--frontend-only" => options.frontend_only = true,
                other => {
                    return Err(format!(
                        "unknown argument `{other}`; expected --release, --split, --precompress or --frontend-only"
                    ))
                }
            }
        }
        Ok(options)
    }

    /// `debug` or `release`: the directory under `target/` the server executable is built into.
    pub fn server_profile_dir(&self) -> &'static str {
        if self.release {
            "release"
        } else {
            "debug"
        }
    }

    pub fn pkg_dir(&self) -> PathBuf {
        self.site_root.join(PKG_DIR)
    }
}

/// Prints one line of progress with the time since the build started.
pub fn step(started: Instant, what: &str) {
    let secs = started.elapsed().as_secs();
    println!("site-build [{:>2}:{:02}] {what}", secs / 60, secs % 60);
}

fn run(options: &Options) -> Result<(), Error> {
    // Progress lines only: nothing here expires, so the console's injected clock has no place.
    #[allow(clippy::disallowed_methods)]
    let started = Instant::now();
    // Both builds at once: each has long stretches on one thread (the WASM's LTO, wasm-opt, the
    // server's link), so on two cores they overlap instead of queueing.
    let server = if options.frontend_only {
        None
    } else {
        step(
            started,
            &format!("building the server ({} profile) alongside the front end", options.server_profile_dir()),
        );
        Some(cargo::spawn_server_build(options)?)
    };
    let front = build_front(options, started);
    let server_result = server.map(|child| cargo::wait("the server build", child)).transpose();
    front?;
    server_result?;
    step(started, "done");
    Ok(())
}

fn build_front(options: &Options, started: Instant) -> Result<(), Error> {
    step(started, "compiling the front end to WASM");
    let wasm = cargo::build_front(options)?;
    clear_dir(&options.site_root)?;
    let pkg = options.pkg_dir();
    std::fs::create_dir_all(&pkg).map_err(|e| format!("cannot create {}: {e}", pkg.display()))?;

    let mut wasm_files = Vec::new();
    let bindgen_input = if options.split {
        step(started, "splitting the lazily loaded code into chunks");
        let split = front::split(&wasm, &pkg)?;
        wasm_files.extend(split.chunks);
        split.main
    } else {
        wasm
    };
    step(started, "generating the JS glue (wasm-bindgen)");
    wasm_files.push(front::bindgen(&bindgen_input, &pkg, options.split)?);
    if options.release {
        step(started, &format!("optimising {} WASM files for size (wasm-opt -Oz)", wasm_files.len()));
        front::optimise(&wasm_files)?;
        front::minify_js(&pkg.join(format!("{OUTPUT_NAME}.js")))?;
    }
    style::build_style(Path::new(STYLE_FILE), &pkg.join(format!("{OUTPUT_NAME}.css")), options.release)?;
    style::copy_assets(Path::new(ASSETS_DIR), &options.site_root)?;

    step(started, "naming /pkg files by their content");
    let hashes = hash::hash_site(&pkg, options.split)?;
    // The server reads the names next to its executable: written when this build makes that
    // executable, or for the site it serves by default, never for a front end built elsewhere alone.
    if !options.frontend_only || options.site_root == Path::new(DEFAULT_SITE_ROOT) {
        let dir = Path::new("target").join(options.server_profile_dir());
        std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let file = dir.join("hash.txt");
        std::fs::write(&file, hashes.to_hash_file()).map_err(|e| format!("cannot write {}: {e}", file.display()))?;
    }
    if options.release && options.precompress {
        step(started, "compressing the site (brotli and gzip copies)");
        compress::precompress(&options.site_root)?;
    }
    step(started, "front end ready");
    Ok(())
}

/// Empties a directory (creating it if needed): a new front end replaces every file of the old one.
fn clear_dir(dir: &Path) -> Result<(), Error> {
    if dir.is_dir() {
        let entries = std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
        for entry in entries {
            let path = entry.map_err(|e| format!("cannot read {}: {e}", dir.display()))?.path();
            let removed = if path.is_dir() { std::fs::remove_dir_all(&path) } else { std::fs::remove_file(&path) };
            removed.map_err(|e| format!("cannot remove {}: {e}", path.display()))?;
        }
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))
}

fn main() -> ExitCode {
    let result = Options::parse(std::env::args().skip(1)).and_then(|options| run(&options));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("site-build: {error}");
            ExitCode::FAILURE
        }
    }
}
