//! From the compiled module to what the browser loads: the split into lazy chunks, the JS glue,
//! wasm-opt and the minified glue.

use crate::{Error, OUTPUT_NAME};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The loader the chunks import, named with a placeholder the size of a content hash so the name
/// can be replaced inside the WASM chunks without moving a byte (see `hash`).
pub const SPLIT_LOADER: &str = "__wasm_split.______________________.js";
pub const SPLIT_MANIFEST: &str = "__wasm_split_manifest.json";

/// The result of cutting the module at its `#[lazy]` functions.
pub struct Split {
    /// What is left for the first load, still to go through wasm-bindgen.
    pub main: PathBuf,
    /// The chunks, already in /pkg.
    pub chunks: Vec<PathBuf>,
}

/// Cuts `wasm` into the main module and the chunks fetched on first use, and writes the loader and
/// the manifest (which chunks each lazy function needs, for the server to name in preload links).
pub fn split(wasm: &Path, pkg: &Path) -> Result<Split, Error> {
    let input = std::fs::read(wasm).map_err(|e| format!("cannot read {}: {e}", wasm.display()))?;
    let main = wasm.with_file_name("app_split.wasm");
    let main_module = format!("./{OUTPUT_NAME}.js");
    let link_name = format!("./{SPLIT_LOADER}");
    let mut options = wasm_split_cli_support::Options::new(&input);
    options.output_dir = pkg;
    options.main_out_path = &main;
    options.main_module = &main_module;
    options.link_name = &link_name;
    let split = wasm_split_cli_support::transform(options)
        .map_err(|e| format!("cannot split {} into lazy chunks: {e:#}", wasm.display()))?;
    let manifest = serde_json::to_string_pretty(&split.prefetch_map)
        .map_err(|e| format!("cannot write the split manifest: {e}"))?;
    let manifest_file = pkg.join(SPLIT_MANIFEST);
    std::fs::write(&manifest_file, manifest).map_err(|e| format!("cannot write {}: {e}", manifest_file.display()))?;
    Ok(Split { main, chunks: split.split_modules })
}

/// Runs wasm-bindgen (target `web`) on the main module; returns the module it wrote to /pkg.
pub fn bindgen(wasm: &Path, pkg: &Path, split: bool) -> Result<PathBuf, Error> {
    let mut bindgen = wasm_bindgen_cli_support::Bindgen::new();
    bindgen
        .input_path(wasm)
        .out_name(OUTPUT_NAME)
        .typescript(false)
        // The chunks call the main module's functions by their linker names.
        .keep_lld_exports(split)
        .demangle(!split)
        .web(true)
        .map_err(|e| format!("wasm-bindgen: {e:#}"))?;
    bindgen.generate(pkg).map_err(|e| format!("wasm-bindgen on {}: {e:#}", wasm.display()))?;
    // The server's pages ask for `<name>.wasm` (with hashed names) rather than wasm-bindgen's `_bg`.
    let emitted = pkg.join(format!("{OUTPUT_NAME}_bg.wasm"));
    let module = pkg.join(format!("{OUTPUT_NAME}.wasm"));
    std::fs::rename(&emitted, &module).map_err(|e| format!("cannot rename {}: {e}", emitted.display()))?;
    Ok(module)
}

/// `wasm-opt -Oz` on every module, two at a time. wasm-opt comes from npm's binaryen (the Makefile
/// puts it first on PATH): an older one, as Debian ships, breaks hydration without a word.
pub fn optimise(files: &[PathBuf]) -> Result<(), Error> {
    let workers = std::thread::available_parallelism().map_or(1, usize::from).max(1);
    let mut failures = Vec::new();
    for batch in files.chunks(workers) {
        let running: Vec<_> = batch
            .iter()
            .map(|file| {
                let child = Command::new("wasm-opt")
                    .args(["-Oz", "--enable-bulk-memory", "--enable-nontrapping-float-to-int"])
                    .arg(file)
                    .arg("-o")
                    .arg(file)
                    // It warns about every name subsection it does not know (wasm-split's output
                    // has many); shown only when it fails.
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::piped())
                    .spawn();
                (file, child)
            })
            .collect();
        for (file, child) in running {
            match child.and_then(|c| c.wait_with_output()) {
                Ok(output) if output.status.success() => {}
                Ok(output) => failures.push(format!(
                    "{} ({}): {}",
                    file.display(),
                    output.status,
                    String::from_utf8_lossy(&output.stderr).trim()
                )),
                Err(e) => failures
                    .push(format!("{} (cannot run wasm-opt: {e}; `make node-deps` installs it)", file.display())),
            }
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!("wasm-opt failed on {}", failures.join(", ")))
    }
}

/// Minifies the JS glue in place with esbuild.
pub fn minify_js(file: &Path) -> Result<(), Error> {
    // wasm-bindgen lists the split loader once per import in one object: the same module each
    // time, so the keys that repeat are harmless.
    esbuild(file, file, &["--format=esm", "--allow-overwrite", "--log-override:duplicate-object-key=silent"])
}

/// Minifies `source` into `dest` with esbuild (from npm, installed with the test tools) and the
/// given extra flags; its own messages say where a file is wrong.
pub fn esbuild(source: &Path, dest: &Path, flags: &[&str]) -> Result<(), Error> {
    let status = Command::new("esbuild")
        .arg(source)
        .args(["--minify", "--log-level=warning"])
        .args(flags)
        .arg(format!("--outfile={}", dest.display()))
        .status()
        .map_err(|e| format!("cannot run esbuild to minify {}: {e}; `make node-deps` installs it", source.display()))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("esbuild could not minify {}; its messages above say where", source.display()))
    }
}
