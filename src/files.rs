//! File access for the CLI: streamed hashing, bounded reads, atomic writes.

use std::fs::File;
use std::io::{self, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use cerd_attestation::json::MAX_DOCUMENT_BYTES;
use cerd_attestation::record::FileDigest;
use cerd_attestation::Sha256Digest;
use sha2::{Digest as _, Sha256};

/// Files at least this large get a progress bar when stderr is a terminal.
const PROGRESS_THRESHOLD: u64 = 64 * 1024 * 1024;
const CHUNK: usize = 1024 * 1024;

/// Streams `path` through SHA-256 in 1 MiB chunks (constant memory) and returns its
/// canonical path, size and digest.
pub fn digest_file(path: &Path) -> anyhow::Result<FileDigest> {
    let canonical =
        std::fs::canonicalize(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut file =
        File::open(&canonical).with_context(|| format!("cannot open {}", path.display()))?;
    let meta = file
        .metadata()
        .with_context(|| format!("cannot stat {}", path.display()))?;
    if !meta.is_file() {
        bail!("{} is not a regular file", path.display());
    }
    let bar = (meta.len() >= PROGRESS_THRESHOLD && io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new(meta.len());
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{msg} {bar:30} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar.set_message(format!("hashing {}", path.display()));
        bar
    });
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    let mut size: u64 = 0;
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        let chunk = buf.get(..n).unwrap_or_default();
        hasher.update(chunk);
        size = size.saturating_add(n as u64);
        if let Some(bar) = &bar {
            bar.inc(n as u64);
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(FileDigest::new(
        canonical.to_string_lossy().into_owned(),
        size,
        Sha256Digest(hasher.finalize().into()),
    ))
}

/// Where a bundle comes from: a path, or `-` for stdin.
#[derive(Debug, Clone)]
pub enum Source {
    Stdin,
    Path(PathBuf),
}

impl Source {
    pub fn from_arg(arg: &str) -> Self {
        if arg == "-" {
            Self::Stdin
        } else {
            Self::Path(PathBuf::from(arg))
        }
    }

    /// Reads the whole document, refusing more than the library's document limit.
    pub fn read(&self) -> anyhow::Result<Vec<u8>> {
        let limit = MAX_DOCUMENT_BYTES as u64;
        let mut out = Vec::new();
        let read = match self {
            Self::Stdin => io::stdin()
                .lock()
                .take(limit.saturating_add(1))
                .read_to_end(&mut out),
            Self::Path(p) => {
                File::open(p).and_then(|f| f.take(limit.saturating_add(1)).read_to_end(&mut out))
            }
        };
        read.with_context(|| format!("cannot read {self}"))?;
        if out.len() as u64 > limit {
            bail!("{self} is larger than {MAX_DOCUMENT_BYTES} bytes; not a CER bundle");
        }
        Ok(out)
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Stdin => f.write_str("<stdin>"),
            Self::Path(p) => write!(f, "{}", p.display()),
        }
    }
}

/// Writes `bytes` to `path` atomically: a temporary file in the same directory,
/// fsync, rename. Refuses to replace an existing file unless `overwrite`.
pub fn write_new(path: &Path, bytes: &[u8], overwrite: bool) -> anyhow::Result<()> {
    if !overwrite && path.exists() {
        bail!(
            "{} already exists; not overwriting it (use --force to replace it)",
            path.display()
        );
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .with_context(|| format!("{} is not a file path", path.display()))?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| -> io::Result<()> {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        if let Ok(d) = File::open(&dir) {
            // Persist the rename; a failure here leaves the file written but the
            // directory entry possibly unsynced, which is not worth failing for.
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.with_context(|| format!("cannot write {}", path.display()))
}

/// Writes to stdout, or atomically to `path`.
pub fn emit(path: Option<&Path>, bytes: &[u8], overwrite: bool) -> anyhow::Result<()> {
    match path {
        None => {
            let mut out = io::stdout().lock();
            out.write_all(bytes)
                .and_then(|()| out.flush())
                .context("cannot write to stdout")
        }
        Some(p) if p == Path::new("-") => emit(None, bytes, overwrite),
        Some(p) => write_new(p, bytes, overwrite),
    }
}
