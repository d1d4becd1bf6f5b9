//! The host fingerprint recorded in `snapshot.runtime.host`.

use cerd_attestation::record::Host;

/// OS release, kernel release, architecture and cerd version of this machine.
///
/// Read from os-release(5) (`PRETTY_NAME`) and `/proc/sys/kernel/osrelease`; a value
/// that cannot be read is recorded as `unknown` rather than failing the seal.
pub fn fingerprint() -> Host {
    Host::new(
        os_release().unwrap_or_else(|| "unknown".into()),
        std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .ok()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "unknown".into()),
        std::env::consts::ARCH.to_owned(),
        env!("CARGO_PKG_VERSION").to_owned(),
    )
}

fn os_release() -> Option<String> {
    let text = ["/etc/os-release", "/usr/lib/os-release"]
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok())?;
    let value = text
        .lines()
        .find_map(|l| l.strip_prefix("PRETTY_NAME="))?
        .trim();
    let unquoted = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
        .unwrap_or(value);
    (!unquoted.is_empty()).then(|| unquoted.to_owned())
}
