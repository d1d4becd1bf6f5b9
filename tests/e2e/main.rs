//! End-to-end tests of the `cer` binary: real processes, real files, real pipes, and a
//! real swtpm per TPM test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::panic
)]

mod util;

#[cfg(feature = "tpm")]
mod attest;
mod ca;
mod cli;
#[cfg(feature = "tpm")]
mod daemon;
#[cfg(feature = "tpm")]
mod measure;
mod schema;
mod seal;
mod snp;
mod snp_kds;
#[cfg(feature = "tpm")]
mod swtpm;
#[cfg(feature = "tpm")]
mod tpm;
#[cfg(feature = "tpm")]
mod tpm_keys;
mod verify;
mod verify_quote;
