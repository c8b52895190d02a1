//! The style sheet and the public files.

use crate::Error;
use std::path::Path;

/// Browsers the minified style sheet is written for: what esbuild may rely on (and lower) when it
/// rewrites rules. The same years as the WASM's own requirements (bulk memory, non-trapping floats).
const CSS_TARGETS: &str = "--target=chrome100,edge100,firefox100,safari15";

/// Writes the style sheet to `dest`: as it is for a debug build, minified by esbuild for a release.
pub fn build_style(source: &Path, dest: &Path, release: bool) -> Result<(), Error> {
    if !release {
        std::fs::copy(source, dest)
            .map_err(|e| format!("cannot copy {} to {}: {e}", source.display(), dest.display()))?;
        return Ok(());
    }
    crate::front::esbuild(source, dest, &[CSS_TARGETS])
}

/// Copies the public files (favicon and the like) to the site's root, directories included.
pub fn copy_assets(source: &Path, dest: &Path) -> Result<(), Error> {
    let entries = std::fs::read_dir(source).map_err(|e| format!("cannot read {}: {e}", source.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot read {}: {e}", source.display()))?;
        let (from, to) = (entry.path(), dest.join(entry.file_name()));
        if from.is_dir() {
            std::fs::create_dir_all(&to).map_err(|e| format!("cannot create {}: {e}", to.display()))?;
            copy_assets(&from, &to)?;
        } else {
            std::fs::copy(&from, &to)
                .map_err(|e| format!("cannot copy {} to {}: {e}", from.display(), to.display()))?;
        }
    }
    Ok(())
}
