//! Offline verification of cerd Certified Execution Records (CER).
//!
//! This crate is everything a third party needs to check a record: the record model
//! ([`record`]), its canonical hash ([`canonical`], RFC 8785 JCS), Merkle batches
//! ([`merkle`], RFC 9162 §2.1) with their chained headers ([`batch`]), and the integrity
//! verifier ([`verify`]). It reads no files, opens no sockets, links no C library and
//! never panics on any input: every entry point that takes untrusted bytes returns a
//! typed error instead.
#![forbid(unsafe_code)]
#![cfg_attr(
    test,
    allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)
)]

pub mod batch;
pub mod canonical;
pub mod chain;
pub mod digest;
pub mod eventlog;
pub mod evidence;
pub mod json;
pub mod merkle;
pub mod policy;
pub mod record;
pub mod roots;
pub mod snp;
pub mod tpm;
pub mod verify;

pub use digest::Sha256Digest;
