//! Brotli and gzip copies of every site file, which the server sends to browsers that accept them.

use crate::Error;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes `<file>.br` (quality 11) and `<file>.gz` (level 9) next to every file under `root`, two
/// files at a time: brotli at its best quality is the slow part of a release's last step.
pub fn precompress(root: &Path) -> Result<(), Error> {
    let mut files = Vec::new();
    collect(root, &mut files)?;
    // The largest first, so the two workers finish together.
    files.sort_by_key(|f| std::cmp::Reverse(std::fs::metadata(f).map(|m| m.len()).unwrap_or(0)));
    let workers = std::thread::available_parallelism().map_or(1, usize::from).max(1);
    let queue = std::sync::Mutex::new(files.into_iter());
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| -> Result<(), Error> {
                    loop {
                        let next = queue.lock().map_err(|_| "a compression worker failed".to_owned())?.next();
                        let Some(file) = next else { return Ok(()) };
                        compress_file(&file)?;
                    }
                })
            })
            .collect();
        handles.into_iter().try_for_each(|h| h.join().map_err(|_| "a compression worker panicked".to_owned())?)
    })
}

fn compress_file(file: &Path) -> Result<(), Error> {
    let content = std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let with_suffix = |suffix: &str| {
        let mut name = file.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    };

    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let gz = gzip.write_all(&content).and_then(|()| gzip.finish());
    let gz = gz.map_err(|e| format!("cannot gzip {}: {e}", file.display()))?;
    std::fs::write(with_suffix(".gz"), gz).map_err(|e| format!("cannot write {}.gz: {e}", file.display()))?;

    let mut br = Vec::new();
    let params = brotli::enc::BrotliEncoderParams { quality: 11, lgwin: 22, ..Default::default() };
    brotli::BrotliCompress(&mut content.as_slice(), &mut br, &params)
        .map_err(|e| format!("cannot compress {} with brotli: {e}", file.display()))?;
    std::fs::write(with_suffix(".br"), br).map_err(|e| format!("cannot write {}.br: {e}", file.display()))
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), Error> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| format!("cannot read {}: {e}", dir.display()))?.path();
        if path.is_dir() {
            collect(&path, files)?;
        } else if !matches!(path.extension().and_then(|e| e.to_str()), Some("br" | "gz")) {
            files.push(path);
        }
    }
    Ok(())
}
