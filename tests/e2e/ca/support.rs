//! Helpers shared by the CA tests that use a TPM.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde_json::Value;

use super::{p, tool};
use crate::util::{cer, Swtpm, TestDir};

pub fn b64d(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

pub fn b64e(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

pub fn json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

pub fn write_json(path: &Path, v: &Value) {
    std::fs::write(path, serde_json::to_vec_pretty(v).unwrap()).unwrap();
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// A test dir with an AK at 0x81010002 (its PEM at ak.pem) and a CA in ca/.
pub fn setup(tpm: &Swtpm) -> TestDir {
    let t = TestDir::new();
    cer([
        "tpm",
        "ak",
        "create",
        "--tcti",
        &tpm.tcti(),
        "--pem-out",
        p(&t.path("ak.pem")),
    ])
    .expect(0);
    cer(["ca", "init", "--dir", p(&t.path("ca"))]).expect(0);
    t
}

pub fn swtpm_ca() -> String {
    Swtpm::ca_dir().to_str().unwrap().to_owned()
}

pub fn request(tpm: &Swtpm, t: &TestDir, ek: &str) -> PathBuf {
    let out = t.path(&format!("req-{ek}.json"));
    cer([
        "tpm",
        "enroll-request",
        "--tcti",
        &tpm.tcti(),
        "--ek",
        ek,
        "-o",
        p(&out),
    ])
    .expect(0);
    out
}

pub fn no_transients(tpm: &Swtpm) {
    let tcti = tpm.tcti();
    for what in ["handles-transient", "handles-loaded-session"] {
        let out = tool("tpm2_getcap", &["-T", &tcti, what]);
        assert!(out.trim().is_empty(), "{what} left in the TPM: {out}");
    }
}
