//! Trust anchors from files, shared by `cer verify` and `cer verify-quote`: a `--trust`
//! directory of vendor roots, the policy's attestation CA roots, and (dev only) a
//! swtpm's local CA.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use cerd_attestation::chain::parse_certificates;
use cerd_attestation::policy::Policy;
use cerd_attestation::roots::TrustStore;
use cerd_attestation::verify::Trust;

/// Adds every file of `dir` (PEM or DER certificates, PEM public keys) to `store`, in
/// name order. A file that holds no anchor is an error naming it.
pub fn add_dir(store: &mut TrustStore, dir: &Path) -> anyhow::Result<usize> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read the trust directory {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    entries.sort();
    let mut n = 0usize;
    for p in entries {
        let b = std::fs::read(&p).with_context(|| format!("cannot read {}", p.display()))?;
        n = n.saturating_add(
            store
                .add_file_bytes(&b)
                .map_err(|e| anyhow::anyhow!("{}: {e} ({})", p.display(), e.code()))?,
        );
    }
    Ok(n)
}

/// The trust of one `cer verify` run. Relative paths in the policy are taken relative
/// to the policy file's directory.
pub fn for_verify(
    policy: Option<(&Policy, &Path)>,
    trust_dir: Option<&Path>,
) -> anyhow::Result<Trust> {
    let mut vendors = TrustStore::with_builtin_pins();
    if let Some(dir) = trust_dir {
        add_dir(&mut vendors, dir)?;
    }
    let mut cas = TrustStore::new();
    let mut trust_swtpm = None;
    if let Some((p, path)) = policy {
        let base = path.parent().unwrap_or(Path::new("."));
        for file in &p.attestation_ca {
            let f = base.join(file);
            let bytes = std::fs::read(&f).with_context(|| {
                format!(
                    "{}: attestation_ca: cannot read {}",
                    path.display(),
                    f.display()
                )
            })?;
            cas.add_file_bytes(&bytes).map_err(|e| {
                anyhow::anyhow!(
                    "{}: attestation_ca: {}: {e} ({})",
                    path.display(),
                    f.display(),
                    e.code()
                )
            })?;
        }
        trust_swtpm = p.dev.trust_swtpm_ca.as_ref().map(|d| base.join(d));
    }
    let mut trust = Trust::new(vendors, cas, Vec::new());
    if let Some(dir) = trust_swtpm {
        // Either the swtpm state directory or its ca/ subdirectory.
        let ca = if dir.join("ca").is_dir() {
            dir.join("ca")
        } else {
            dir
        };
        let read = |name: &str| {
            let f = ca.join(name);
            std::fs::read(&f)
                .with_context(|| {
                    format!(
                        "dev.trust_swtpm_ca: cannot read {} (is {} a swtpm state or CA directory?)",
                        f.display(),
                        ca.display()
                    )
                })
                .and_then(|b| {
                    parse_certificates(&b)
                        .map_err(|e| anyhow::anyhow!("{}: {e} ({})", f.display(), e.code()))
                })
        };
        let roots = read("swtpm-localca-rootca-cert.pem")?;
        let issuers = read("issuercert.pem")?;
        for root in roots {
            trust.add_ek_only_root(root, issuers.clone());
        }
    }
    Ok(trust)
}
