//! Content-hashed names for /pkg, which the server caches in browsers for a year.
//!
//! The JS glue, the WASM modules, the split loader and its manifest refer to each other (the glue
//! imports the loader, the loader imports the glue, the chunks import the loader), so no file's
//! name can be the hash of its own content once the references are rewritten. They are named as
//! one set instead: one hash of everything they contained before renaming. Any change renames
//! them all, so a browser never pairs a cached chunk with a loader from another build. The style
//! sheet refers to nothing and is named by its own content.

use crate::front::{SPLIT_LOADER, SPLIT_MANIFEST};
use crate::{Error, OUTPUT_NAME};
use base64::Engine;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The placeholder in [`SPLIT_LOADER`]; a hash is exactly as long.
const PLACEHOLDER: &str = "______________________";

/// The hashes the server needs to name the files in its pages (`hash.txt`, as Leptos reads it).
#[derive(Debug, PartialEq)]
pub struct Hashes {
    pub code: String,
    pub css: String,
    pub split: bool,
}

impl Hashes {
    pub fn to_hash_file(&self) -> String {
        let mut text = format!("js: {0}\nwasm: {0}\ncss: {1}\n", self.code, self.css);
        if self.split {
            text.push_str(&format!("manifest: {0}\nsplit: {0}\n", self.code));
        }
        text
    }
}

/// 128 bits of SHA-256 in URL-safe base64: 22 characters, the placeholder's length.
fn short_hash(digest: Sha256) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest.finalize()[..16])
}

/// Renames every file of `pkg` (wasm-bindgen's `snippets/` aside: the glue imports those by fixed
/// paths) to a content-hashed name and rewrites the references between them.
pub fn hash_site(pkg: &Path, split: bool) -> Result<Hashes, Error> {
    let css_name = format!("{OUTPUT_NAME}.css");
    let mut files = BTreeMap::new();
    for path in list_files(pkg)? {
        let rel = relative(pkg, &path)?;
        if rel.starts_with("snippets/") {
            continue;
        }
        let content = std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        files.insert(rel, content);
    }
    let css = files.remove(&css_name).ok_or_else(|| format!("{css_name} is missing from {}", pkg.display()))?;
    let css_hash = short_hash(Sha256::new().chain_update(&css));
    let mut set = Sha256::new();
    for (name, content) in &files {
        set.update((name.len() as u64).to_le_bytes());
        set.update(name.as_bytes());
        set.update((content.len() as u64).to_le_bytes());
        set.update(content);
    }
    let code_hash = short_hash(set);

    let renames: BTreeMap<String, String> =
        files.keys().map(|name| (name.clone(), hashed_name(name, &code_hash))).collect();
    for (name, content) in files {
        let new_name = &renames[&name];
        let content = if name.ends_with(".wasm") {
            // Only the loader's name can be replaced inside a module: it keeps its length.
            replace_bytes(content, SPLIT_LOADER.as_bytes(), hashed_name(SPLIT_LOADER, &code_hash).as_bytes())
        } else if name == SPLIT_MANIFEST {
            rewrite_manifest(&content, &renames)?
        } else if name.ends_with(".js") {
            rewrite_references(&content, &renames)
        } else {
            content
        };
        std::fs::write(pkg.join(new_name), content).map_err(|e| format!("cannot write {new_name}: {e}"))?;
        std::fs::remove_file(pkg.join(&name)).map_err(|e| format!("cannot remove {name}: {e}"))?;
    }
    let css_new = hashed_name(&css_name, &css_hash);
    std::fs::write(pkg.join(&css_new), css).map_err(|e| format!("cannot write {css_new}: {e}"))?;
    std::fs::remove_file(pkg.join(&css_name)).map_err(|e| format!("cannot remove {css_name}: {e}"))?;
    Ok(Hashes { code: code_hash, css: css_hash, split })
}

/// `name.ext` → `name.<hash>.ext`; a name with the placeholder gets the hash in its place.
pub fn hashed_name(name: &str, hash: &str) -> String {
    if name.contains(PLACEHOLDER) {
        return name.replace(PLACEHOLDER, hash);
    }
    match name.rsplit_once('.') {
        Some((stem, ext)) => format!("{stem}.{hash}.{ext}"),
        None => format!("{name}.{hash}"),
    }
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')
}

/// Replaces each old file name in JS text with its new one, where it stands as a whole name (so
/// `chunk_1.wasm` is not also rewritten inside `chunk_11.wasm`).
pub fn rewrite_references(content: &[u8], renames: &BTreeMap<String, String>) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 256);
    let mut i = 0;
    'scan: while i < content.len() {
        let starts_name = i == 0 || !is_name_byte(content[i - 1]);
        if starts_name {
            for (old, new) in renames.iter().filter(|(old, _)| content[i..].starts_with(old.as_bytes())) {
                let end = i + old.len();
                if end == content.len() || !is_name_byte(content[end]) {
                    out.extend_from_slice(new.as_bytes());
                    i = end;
                    continue 'scan;
                }
            }
        }
        out.push(content[i]);
        i += 1;
    }
    out
}

/// Replaces every occurrence of `old` with `new`, which must be as long.
fn replace_bytes(mut content: Vec<u8>, old: &[u8], new: &[u8]) -> Vec<u8> {
    debug_assert_eq!(old.len(), new.len());
    let mut i = 0;
    while i + old.len() <= content.len() {
        if content[i..].starts_with(old) {
            content[i..i + old.len()].copy_from_slice(new);
            i += old.len();
        } else {
            i += 1;
        }
    }
    content
}

/// The manifest names chunks by stem (`"inspector": ["inspector"]`): each becomes the hashed stem.
fn rewrite_manifest(content: &[u8], renames: &BTreeMap<String, String>) -> Result<Vec<u8>, Error> {
    fn rewrite(value: &mut serde_json::Value, stems: &BTreeMap<&str, &str>) {
        match value {
            serde_json::Value::String(s) => {
                if let Some(new) = stems.get(s.as_str()) {
                    *s = (*new).to_owned();
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(|v| rewrite(v, stems)),
            serde_json::Value::Object(map) => map.values_mut().for_each(|v| rewrite(v, stems)),
            _ => {}
        }
    }
    let stems: BTreeMap<&str, &str> = renames
        .iter()
        .filter_map(|(old, new)| Some((old.strip_suffix(".wasm")?, new.strip_suffix(".wasm")?)))
        .collect();
    let mut manifest: serde_json::Value =
        serde_json::from_slice(content).map_err(|e| format!("{SPLIT_MANIFEST} is not JSON: {e}"))?;
    rewrite(&mut manifest, &stems);
    serde_json::to_vec(&manifest).map_err(|e| format!("cannot write {SPLIT_MANIFEST}: {e}"))
}

fn list_files(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let mut files = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| format!("cannot read {}: {e}", dir.display()))?.path();
        if path.is_dir() {
            files.extend(list_files(&path)?);
        } else {
            files.push(path);
        }
    }
    Ok(files)
}

fn relative(base: &Path, path: &Path) -> Result<String, Error> {
    let rel = path.strip_prefix(base).map_err(|_| format!("{} is outside {}", path.display(), base.display()))?;
    rel.to_str().map(|s| s.replace('\\', "/")).ok_or_else(|| format!("{} is not a UTF-8 name", rel.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn renames(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    #[test]
    fn a_name_is_rewritten_only_where_it_stands_whole() {
        let map = renames(&[("chunk_1.wasm", "chunk_1.H.wasm"), ("chunk_11.wasm", "chunk_11.H.wasm")]);
        let js = br#"fetch("./chunk_1.wasm"); fetch("./chunk_11.wasm"); fetch("./xchunk_1.wasm")"#;
        let out = String::from_utf8(rewrite_references(js, &map)).unwrap();
        assert_eq!(out, r#"fetch("./chunk_1.H.wasm"); fetch("./chunk_11.H.wasm"); fetch("./xchunk_1.wasm")"#);
    }

    #[test]
    fn the_loader_keeps_its_length_so_it_can_be_renamed_inside_a_module() {
        let hash = short_hash(Sha256::new().chain_update(b"x"));
        assert_eq!(hash.len(), PLACEHOLDER.len());
        assert_eq!(hashed_name(SPLIT_LOADER, &hash).len(), SPLIT_LOADER.len());
        let module = [b"\0\x01".as_slice(), SPLIT_LOADER.as_bytes(), b"\x02"].concat();
        let patched =
            replace_bytes(module.clone(), SPLIT_LOADER.as_bytes(), hashed_name(SPLIT_LOADER, &hash).as_bytes());
        assert_eq!(patched.len(), module.len());
        assert!(patched.windows(hash.len()).any(|w| w == hash.as_bytes()));
    }

    #[test]
    fn the_manifest_names_the_renamed_chunks() {
        let map = renames(&[("lazy_a.wasm", "lazy_a.H.wasm"), ("chunk_0.wasm", "chunk_0.H.wasm")]);
        let out = rewrite_manifest(br#"{"lazy_a":["chunk_0","lazy_a"]}"#, &map).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), r#"{"lazy_a":["chunk_0.H","lazy_a.H"]}"#);
    }

    #[test]
    fn a_site_is_renamed_as_one_set_and_its_hash_file_says_so() {
        let dir = std::env::temp_dir().join(format!("site-build-hash-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("snippets")).unwrap();
        std::fs::write(dir.join("a55-console.js"), "import * as l from './__wasm_split.______________________.js';")
            .unwrap();
        std::fs::write(dir.join(SPLIT_LOADER), "import { initSync } from './a55-console.js'; fetch('./lazy_a.wasm')")
            .unwrap();
        std::fs::write(dir.join("a55-console.wasm"), b"\0asm").unwrap();
        std::fs::write(dir.join("lazy_a.wasm"), [b"\0asm".as_slice(), SPLIT_LOADER.as_bytes()].concat()).unwrap();
        std::fs::write(dir.join(SPLIT_MANIFEST), r#"{"lazy_a":["lazy_a"]}"#).unwrap();
        std::fs::write(dir.join("a55-console.css"), "body{}").unwrap();
        std::fs::write(dir.join("snippets/inline0.js"), "export {}").unwrap();

        let hashes = hash_site(&dir, true).unwrap();
        let h = &hashes.code;
        let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
        assert_eq!(read(&format!("a55-console.{h}.js")), format!("import * as l from './__wasm_split.{h}.js';"));
        assert_eq!(
            read(&format!("__wasm_split.{h}.js")),
            format!("import {{ initSync }} from './a55-console.{h}.js'; fetch('./lazy_a.{h}.wasm')")
        );
        assert!(read(&format!("lazy_a.{h}.wasm")).ends_with(&format!("__wasm_split.{h}.js")));
        assert_eq!(read(&format!("__wasm_split_manifest.{h}.json")), format!(r#"{{"lazy_a":["lazy_a.{h}"]}}"#));
        assert_eq!(read(&format!("a55-console.{}.css", hashes.css)), "body{}");
        assert_eq!(read("snippets/inline0.js"), "export {}");
        assert!(!dir.join("a55-console.js").exists() && !dir.join(SPLIT_LOADER).exists());
        assert_eq!(
            hashes.to_hash_file(),
            format!("js: {h}\nwasm: {h}\ncss: {}\nmanifest: {h}\nsplit: {h}\n", hashes.css)
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
