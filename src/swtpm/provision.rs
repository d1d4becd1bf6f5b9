//! Provisioning a state directory: swtpm_setup with the local CA kept in DIR/ca, or a
//! copy of an already provisioned template (tests only).

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{bail, Context as _};

use super::{find_tool, gist, private_dir, StateDir};

/// Writes DIR/config/* (pointing swtpm_localca's CA into DIR/ca) and runs swtpm_setup.
pub(super) fn swtpm_setup(dir: &StateDir) -> anyhow::Result<()> {
    let setup = find_tool("swtpm_setup")?;
    let localca = find_tool("swtpm_localca")?;
    for d in [dir.state(), dir.config(), dir.ca()] {
        private_dir(&d)?;
    }
    let (cfg, ca) = (dir.config(), dir.ca());
    let files = [
        (
            "swtpm-localca.conf",
            format!(
                "statedir = {ca}\nsigningkey = {ca}/signkey.pem\nissuercert = {ca}/issuercert.pem\ncertserial = {ca}/certserial\n",
                ca = ca.display()
            ),
        ),
        (
            "swtpm-localca.options",
            "--platform-manufacturer cerd\n--platform-version 2.1\n--platform-model swtpm\n".to_owned(),
        ),
        (
            "swtpm_setup.conf",
            format!(
                "create_certs_tool = {tool}\ncreate_certs_tool_config = {c}/swtpm-localca.conf\ncreate_certs_tool_options = {c}/swtpm-localca.options\nactive_pcr_banks = sha256\n",
                tool = localca.display(),
                c = cfg.display()
            ),
        ),
    ];
    for (name, text) in files {
        let path = cfg.join(name);
        fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    let out = Command::new(&setup)
        .args([
            "--tpm2",
            "--create-ek-cert",
            "--create-platform-cert",
            "--overwrite",
        ])
        .arg("--tpmstate")
        .arg(dir.state())
        .arg("--config")
        .arg(cfg.join("swtpm_setup.conf"))
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot run {}", setup.display()))?;
    let mut log = out.stdout.clone();
    log.extend_from_slice(&out.stderr);
    let log_path = dir.setup_log();
    fs::write(&log_path, &log).with_context(|| format!("cannot write {}", log_path.display()))?;
    if !out.status.success() || !dir.is_provisioned() {
        // A half-written state must not pass for a provisioned one next time.
        let _ = fs::remove_file(dir.permall());
        let gist = gist(&out.stderr)
            .or_else(|| gist(&out.stdout))
            .unwrap_or_else(|| format!("exited with {}", out.status));
        bail!(
            "swtpm_setup could not provision a TPM in {}: {gist} (full output in {})",
            dir.state().display(),
            log_path.display()
        );
    }
    Ok(())
}

/// Provisions by copying `template`'s state file and CA (tests only: shares the EK).
pub(super) fn copy_template(dir: &StateDir, template: &Path) -> anyhow::Result<()> {
    let src = StateDir::canonical(template)?;
    if !src.is_provisioned() {
        bail!(
            "--template {} is not a provisioned swtpm state directory (no state/tpm2-00.permall)",
            template.display()
        );
    }
    for d in [dir.state(), dir.ca()] {
        private_dir(&d)?;
    }
    let ca = src.ca();
    let entries = fs::read_dir(&ca).with_context(|| format!("cannot read {}", ca.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot read {}", ca.display()))?;
        if entry.file_type().map(|t| t.is_file()).unwrap_or(false) {
            let to = dir.ca().join(entry.file_name());
            fs::copy(entry.path(), &to)
                .with_context(|| format!("cannot copy to {}", to.display()))?;
        }
    }
    // The state file last, through a rename, so a partial copy never looks provisioned.
    let tmp = dir.state().join(".tpm2-00.permall.tmp");
    fs::copy(src.permall(), &tmp)
        .and_then(|_| fs::rename(&tmp, dir.permall()))
        .with_context(|| {
            format!(
                "cannot copy {} to {}",
                src.permall().display(),
                dir.permall().display()
            )
        })?;
    Ok(())
}
