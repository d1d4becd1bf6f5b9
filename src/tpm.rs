//! TPM access (feature `tpm`, tss-esapi on tpm2-tss). This is the only place the
//! binary touches TPM libraries; without the feature `cer` does not link them.
//!
//! One [`Tpm`] wraps one long-lived ESAPI context with a password (empty auth) session
//! set once, so commands on hot paths do not start a session each. Every TPM failure is
//! reported by [`refused`] in one line naming the TCTI, the command and the meaning of
//! the response code.

pub mod enroll;
mod info;
pub mod keys;
pub mod measure;
pub mod nv;
pub mod pcr;
pub mod quote;
mod tcti;
#[cfg(test)]
pub(crate) mod test_support;

pub use info::identity;
pub use tcti::{quiet_library_logging, Tcti};

use tss_esapi::interface_types::session_handles::AuthSession;
use tss_esapi::Context;

/// An open TPM: the TCTI it was reached through and one ESAPI context.
pub struct Tpm {
    tcti: Tcti,
    ctx: Context,
}

impl std::fmt::Debug for Tpm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tpm").field("tcti", &self.tcti).finish()
    }
}

impl Tpm {
    /// Connects to the TPM behind `tcti` and sets an empty-password session for
    /// authorizations (owner, endorsement and our keys use empty auth).
    pub fn open(tcti: &Tcti) -> anyhow::Result<Self> {
        let mut ctx = tcti.context()?;
        ctx.set_sessions((Some(AuthSession::Password), None, None));
        Ok(Self {
            tcti: tcti.clone(),
            ctx,
        })
    }

    /// The TCTI this TPM was opened with.
    pub fn tcti(&self) -> &Tcti {
        &self.tcti
    }

    /// The ESAPI context.
    pub fn ctx(&mut self) -> &mut Context {
        &mut self.ctx
    }
}

/// The one-line error for a TPM command that failed: "TPM at T refused C: MEANING".
pub fn refused(tcti: &Tcti, command: &str, err: tss_esapi::Error) -> anyhow::Error {
    anyhow::anyhow!("TPM at {tcti} refused {command}: {}", describe(err))
}

/// The meaning of a tss-esapi error: the TPM_RC name when the TPM itself answered,
/// else which TSS layer (ESAPI, SAPI, TCTI, resource manager) failed.
pub(crate) fn describe(err: tss_esapi::Error) -> String {
    use tss_esapi::constants::response_code::Tss2ResponseCode;
    match err {
        tss_esapi::Error::Tss2Error(rc) => {
            let layer = raw_rc(&rc).map(|raw| (raw >> 16) & 0xff);
            match (rc, layer) {
                (Tss2ResponseCode::Success, _) => "success".into(),
                (_, Some(0) | None) => match rc.kind() {
                    Some(kind) => format!("TPM_RC_{} ({rc})", rc_name(&format!("{kind:?}"))),
                    None => rc.to_string(),
                },
                (_, Some(layer)) => {
                    let raw = raw_rc(&rc).unwrap_or(0);
                    format!(
                        "{} error TSS2_BASE_RC_{} ({raw:#x}; not an answer from the TPM)",
                        layer_name(layer),
                        base_rc_name(raw & 0xffff)
                    )
                }
            }
        }
        tss_esapi::Error::WrapperError(w) => w.to_string(),
    }
}

/// The raw TSS2_RC. tss-esapi 7.6 keeps it private; its `Debug` form (a `bitfield`
/// struct) prints it first, as `.0: <decimal>`.
fn raw_rc(rc: &tss_esapi::constants::response_code::Tss2ResponseCode) -> Option<u32> {
    let text = format!("{rc:?}");
    let after = text.get(text.find(".0: ")?.checked_add(4)?..)?;
    let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// TSS2_BASE_RC_* names (tss2_common.h), shared by every TSS layer.
fn base_rc_name(code: u32) -> String {
    const NAMES: [&str; 28] = [
        "SUCCESS",
        "GENERAL_FAILURE",
        "NOT_IMPLEMENTED",
        "BAD_CONTEXT",
        "ABI_MISMATCH",
        "BAD_REFERENCE",
        "INSUFFICIENT_BUFFER",
        "BAD_SEQUENCE",
        "NO_CONNECTION",
        "TRY_AGAIN",
        "IO_ERROR",
        "BAD_VALUE",
        "NOT_PERMITTED",
        "INVALID_SESSIONS",
        "NO_DECRYPT_PARAM",
        "NO_ENCRYPT_PARAM",
        "BAD_SIZE",
        "MALFORMED_RESPONSE",
        "INSUFFICIENT_CONTEXT",
        "INSUFFICIENT_RESPONSE",
        "INCOMPATIBLE_TCTI",
        "NOT_SUPPORTED",
        "BAD_TCTI_STRUCTURE",
        "MEMORY",
        "BAD_TR",
        "MULTIPLE_DECRYPT_SESSIONS",
        "MULTIPLE_ENCRYPT_SESSIONS",
        "RSP_AUTH_FAILED",
    ];
    usize::try_from(code)
        .ok()
        .and_then(|i| NAMES.get(i))
        .map_or_else(|| format!("{code}"), |n| (*n).to_owned())
}

/// TSS2_RC layer numbers (TSS 2.0 TCTI/ESAPI specifications, TSS2_RC_LAYER_SHIFT 16).
fn layer_name(layer: u32) -> &'static str {
    match layer {
        1 => "TPM vendor layer",
        5 => "TSS feature API",
        6 => "TSS system API (SAPI)",
        7 => "TSS enhanced system API (ESAPI)",
        8 => "TSS marshalling",
        9 => "TSS resource manager",
        10 => "TSS TCTI",
        11 => "resource manager (tabrmd)",
        _ => "TSS",
    }
}

/// `NvUninitialized` → `NV_UNINITIALIZED`: tss-esapi's kind names are the TPM_RC
/// names in CamelCase.
fn rc_name(kind: &str) -> String {
    let mut out = String::new();
    for (i, c) in kind.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rc_names() {
        assert_eq!(rc_name("Locality"), "LOCALITY");
        assert_eq!(rc_name("NvUninitialized"), "NV_UNINITIALIZED");
    }
}
