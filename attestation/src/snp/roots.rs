//! AMD's SEV-SNP roots: the ARK (AMD Root Key) and ASK (AMD SEV Key) of each
//! generation, as built into the `sev` crate (`sev::certs::snp::builtin`, the
//! certificates AMD's KDS serves at `/vcek/v1/{Milan,Genoa,Turin}/cert_chain`).
//!
//! The ARKs are the only anchors an SNP chain may end at (besides a simulated guest's
//! test ARK that a policy names explicitly). The ASKs are intermediates: a chain may
//! use the built-in one or one carried in the evidence. The ASVK (the VLEK signer) is
//! not built in and must come with the evidence.

use std::sync::OnceLock;

use super::tcb::Generation;
use crate::chain::{parse_pem_certificates, Certificate};

/// A built-in AMD certificate.
#[derive(Debug, Clone)]
pub struct AmdCert {
    pub generation: Generation,
    pub cert: Certificate,
}

fn load(pick: fn(Generation) -> &'static [u8]) -> Vec<AmdCert> {
    Generation::ALL
        .into_iter()
        .filter_map(|g| {
            parse_pem_certificates(pick(g))
                .ok()?
                .into_iter()
                .next()
                .map(|cert| AmdCert {
                    generation: g,
                    cert,
                })
        })
        .collect()
}

fn ark_pem(g: Generation) -> &'static [u8] {
    use sev::certs::snp::builtin;
    match g {
        Generation::Milan => builtin::milan::ARK,
        Generation::Genoa => builtin::genoa::ARK,
        Generation::Turin => builtin::turin::ARK,
    }
}

fn ask_pem(g: Generation) -> &'static [u8] {
    use sev::certs::snp::builtin;
    match g {
        Generation::Milan => builtin::milan::ASK,
        Generation::Genoa => builtin::genoa::ASK,
        Generation::Turin => builtin::turin::ASK,
    }
}

/// The built-in ARKs (Milan, Genoa, Turin).
pub fn arks() -> &'static [AmdCert] {
    static ARKS: OnceLock<Vec<AmdCert>> = OnceLock::new();
    ARKS.get_or_init(|| load(ark_pem))
}

/// The built-in ASKs (Milan, Genoa, Turin).
pub fn asks() -> &'static [AmdCert] {
    static ASKS: OnceLock<Vec<AmdCert>> = OnceLock::new();
    ASKS.get_or_init(|| load(ask_pem))
}

/// The generation of a built-in ARK, by the SHA-256 of its SubjectPublicKeyInfo.
pub fn ark_generation(spki_sha256: &[u8; 32]) -> Option<Generation> {
    arks()
        .iter()
        .find(|a| &a.cert.spki_sha256() == spki_sha256)
        .map(|a| a.generation)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_generation_has_an_ark_and_an_ask() {
        assert_eq!(arks().len(), 3);
        assert_eq!(asks().len(), 3);
        for a in arks() {
            assert!(a.cert.is_self_issued());
            assert!(a
                .cert
                .subject_text()
                .contains(&format!("ARK-{}", a.generation)));
            assert_eq!(ark_generation(&a.cert.spki_sha256()), Some(a.generation));
        }
    }
}
