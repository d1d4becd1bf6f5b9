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

mod cli;
mod schema;
mod seal;
#[cfg(feature = "tpm")]
mod tpm;
mod verify;
