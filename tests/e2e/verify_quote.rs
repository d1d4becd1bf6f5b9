//! `cer verify-quote`: raw quotes through the real binary — the GCE vTPM vectors, quotes
//! made by tpm2-tools on a real swtpm (cross-checked with `tpm2_checkquote`), their
//! one-byte-changed twins, and bad input.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::util::{cer, TestDir};

fn vectors() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/vectors");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED: {} is absent (the shared test vectors); nothing to check here",
            dir.display()
        );
        None
    }
}

const GCE: &str = "tpm/go-tpm-tools/attestations/extracted/gce-cos-85-nonce9009";

/// `cer verify-quote ARGS --format json`, its JSON verdict.
fn verify_json(args: &[&str], code: i32) -> Value {
    let mut all = vec!["verify-quote"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json"]);
    cer(&all).expect(code).json()
}

fn statuses(v: &Value) -> Vec<(String, String)> {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["check"].as_str().unwrap().to_owned(),
                c["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn reasons(v: &Value) -> Vec<String> {
    v["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_owned())
        .collect()
}

/// A copy of `src` in `dir` with byte `at` XORed with `mask`.
fn flipped(dir: &TestDir, src: &Path, name: &str, at: usize, mask: u8) -> PathBuf {
    let mut bytes = std::fs::read(src).unwrap();
    bytes[at] ^= mask;
    dir.write(name, bytes)
}

#[test]
fn gce_vtpm_quotes_verify_and_their_twins_fail_with_their_reason() {
    let Some(v) = vectors() else { return };
    let g = v.join(GCE);
    let p = |name: &str| g.join(name).to_str().unwrap().to_owned();
    for bank in ["sha1", "sha256", "sha384"] {
        let (quote, sig, pcrs) = (
            p(&format!("quote-{bank}.attest")),
            p(&format!("quote-{bank}.sig")),
            p(&format!("pcrs-{bank}.bin")),
        );
        let list = format!("{bank}:all");
        let base = [
            "--ak",
            &p("ak.tpmt_public"),
            "--quote",
            &quote,
            "--signature",
            &sig,
            "--pcrs",
            &pcrs,
            "--pcr-list",
            &list,
        ];
        let text = cer([&["verify-quote"][..], &base, &["--nonce", "9009"]].concat()).expect(0);
        assert!(text.stdout.contains(": VALID"), "{}", text.stdout);
        assert_eq!(text.stdout.matches("  PASS ").count(), 6, "{}", text.stdout);
        assert!(text.stdout.contains("resetCount 10, restartCount 0"));
        assert!(text.stdout.contains("firmware: 0x2016051100162800"));

        let v = verify_json(&[&base[..], &["--nonce", "9009"]].concat(), 0);
        assert_eq!(v["valid"], true);
        assert_eq!(v["ak"]["format"], "tpmt-public");
        assert_eq!(v["attest"]["extraData"], "9009");
        assert_eq!(v["signature"]["scheme"], "rsassa");
        assert_eq!(
            statuses(&v).last().unwrap(),
            &("ak_trust".to_owned(), "SKIPPED".to_owned())
        );

        // The nonce.
        let v = verify_json(&[&base[..], &["--nonce", "900A"]].concat(), 1);
        assert_eq!(reasons(&v), ["QUALIFYING_DATA_MISMATCH"]);

        // A byte of the quote (in the clock), of the signature, of a PCR value: each
        // file replaced in turn, everything else as above.
        let dir = TestDir::new();
        let ak = p("ak.tpmt_public");
        let twin = |quote: &str, sig: &str, pcrs: &str| {
            let args = [
                "--ak",
                &ak,
                "--quote",
                quote,
                "--signature",
                sig,
                "--pcrs",
                pcrs,
                "--pcr-list",
                &list,
                "--nonce",
                "9009",
            ];
            reasons(&verify_json(&args, 1))
        };
        let bad_quote = flipped(&dir, Path::new(&quote), "q", 50, 1);
        assert_eq!(
            twin(bad_quote.to_str().unwrap(), &sig, &pcrs),
            ["QUOTE_SIGNATURE_INVALID"]
        );
        let bad_sig = flipped(&dir, Path::new(&sig), "s", 100, 1);
        assert_eq!(
            twin(&quote, bad_sig.to_str().unwrap(), &pcrs),
            ["QUOTE_SIGNATURE_INVALID"]
        );
        let bad_pcrs = flipped(&dir, Path::new(&pcrs), "p", 0, 0x80);
        assert_eq!(
            twin(&quote, &sig, bad_pcrs.to_str().unwrap()),
            ["PCR_DIGEST_MISMATCH"]
        );
    }
}

/// The GCE quote's AK certificate chains (with the intermediate from the vectors) to the
/// built-in GCE pin; without the intermediate, or with a foreign certificate, it fails.
#[test]
fn gce_ak_certificate_chains_to_the_built_in_pin() {
    let Some(v) = vectors() else { return };
    let g = v.join(GCE);
    let p = |name: &str| g.join(name).to_str().unwrap().to_owned();
    let inter = v.join("tpm-roots/google-gce/tpm_ek_intermediate_2.crt");
    // Pins are SHA-256 of a root's key: the root certificate itself comes with --chain
    // and is accepted only because its key is pinned.
    let root = v.join("tpm-roots/google-gce/tpm_ek_root_1.cer");
    let base = |cert: String, chain: bool| {
        let mut a = vec![
            "--ak".to_string(),
            p("ak.tpmt_public"),
            "--quote".into(),
            p("quote-sha256.attest"),
            "--signature".into(),
            p("quote-sha256.sig"),
            "--nonce".into(),
            "9009".into(),
            "--ak-cert".into(),
            cert,
        ];
        if chain {
            a.extend(["--chain".into(), inter.to_str().unwrap().to_owned()]);
        }
        a.extend(["--chain".into(), root.to_str().unwrap().to_owned()]);
        a
    };
    let args = base(p("ak_cert.der"), true);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let ok = verify_json(&refs, 0);
    let trust = ok["checks"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(trust["check"], "ak_trust");
    assert_eq!(trust["status"], "PASS", "{trust}");
    // No intermediate: the chain is incomplete.
    let args = base(p("ak_cert.der"), false);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(reasons(&verify_json(&refs, 1)), ["AK_CERT_UNTRUSTED"]);
    // A valid GCE certificate for another key.
    let other = v.join("tpm/go-tpm-tools/certificates/pca_tpm_rsa_sign_cert.pem");
    if other.exists() {
        let args = base(other.to_str().unwrap().to_owned(), true);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let r = reasons(&verify_json(&refs, 1));
        assert!(
            r == ["AK_CERT_UNTRUSTED"] || r == ["AK_CERT_KEY_MISMATCH"],
            "{r:?}"
        );
    }
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    let dir = TestDir::new();
    let junk = dir.write("junk", b"junk");
    let quote = dir.write("quote", [0xff, 0x54, 0x43, 0x47]);
    let spki = {
        // A P-256 SubjectPublicKeyInfo made with the p256 crate.
        use p256::pkcs8::EncodePublicKey;
        let sk = p256::ecdsa::SigningKey::from_slice(&[7; 32]).unwrap();
        dir.write(
            "ak.der",
            sk.verifying_key().to_public_key_der().unwrap().as_bytes(),
        )
    };
    let s = |p: &Path| p.to_str().unwrap().to_owned();
    let (junk, quote, ak) = (s(&junk), s(&quote), s(&spki));
    let missing = s(&dir.path("missing"));
    // 668 bytes: one TPML_DIGEST in tpm2-tools' "serialized" layout.
    let serialized = s(&dir.write("serialized.bin", [0u8; 668]));
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["--ak", &missing, "--quote", &quote, "--signature", &quote],
            "cannot read --ak",
        ),
        (
            vec!["--ak", &junk, "--quote", &quote, "--signature", &quote],
            "not a public key",
        ),
        (
            vec!["--ak", &ak, "--quote", &missing, "--signature", &quote],
            "cannot read --quote",
        ),
        (
            vec![
                "--ak",
                &ak,
                "--quote",
                &quote,
                "--signature",
                &quote,
                "--nonce",
                "xyz",
            ],
            "--nonce \"xyz\" is not hex",
        ),
        (
            vec![
                "--ak",
                &ak,
                "--quote",
                &quote,
                "--signature",
                &quote,
                "--pcrs",
                &junk,
                "--pcr-list",
                "sha256:1",
            ],
            "needs 32",
        ),
        (
            vec![
                "--ak",
                &ak,
                "--quote",
                &quote,
                "--signature",
                &quote,
                "--pcrs",
                &junk,
                "--pcr-list",
                "md5:1",
            ],
            "unknown PCR bank",
        ),
        (
            vec![
                "--ak",
                &ak,
                "--quote",
                &quote,
                "--signature",
                &quote,
                "--pcrs",
                &serialized,
                "--pcr-list",
                "sha256:15,16,22",
            ],
            "tpm2_quote -o FILE -F values",
        ),
        (
            vec![
                "--ak",
                &ak,
                "--quote",
                &quote,
                "--signature",
                &quote,
                "--pcrs",
                &junk,
                "--pcr-list",
                "sha256:24,x",
            ],
            "PCR index \"x\"",
        ),
        (
            vec![
                "--ak",
                &ak,
                "--quote",
                &quote,
                "--signature",
                &quote,
                "--trust",
                &junk,
            ],
            "is not a directory",
        ),
        (
            vec![
                "--ak",
                &ak,
                "--quote",
                &quote,
                "--signature",
                &quote,
                "--at",
                "yesterday",
            ],
            "not an RFC 3339 time",
        ),
        (
            vec![
                "--ak",
                &ak,
                "--quote",
                &quote,
                "--signature",
                &quote,
                "--chain",
                &missing,
            ],
            "cannot read --chain",
        ),
    ];
    for (args, expected) in cases {
        let mut all = vec!["verify-quote"];
        all.extend(&args);
        let run = cer(&all).expect(2);
        let line = run.one_error_line();
        assert!(line.contains(expected), "{args:?}: {line}");
        assert!(run.stdout.is_empty());
        all.extend(["--format", "json"]);
        let v = cer(&all).expect(2).json();
        assert_eq!(v["error"]["code"], "BAD_INPUT");
    }
    // --pcrs without --pcr-list is a usage error.
    cer([
        "verify-quote",
        "--ak",
        &ak,
        "--quote",
        &quote,
        "--signature",
        &quote,
        "--pcrs",
        &junk,
    ])
    .expect(2);
    // Malformed evidence is a failed verification, not bad input.
    let v = verify_json(&["--ak", &ak, "--quote", &quote, "--signature", &quote], 1);
    assert_eq!(
        reasons(&v),
        [
            "QUOTE_MALFORMED",
            "NOT_EVALUATED",
            "NOT_EVALUATED",
            "NOT_EVALUATED",
            "NOT_EVALUATED"
        ]
    );
}

#[cfg(feature = "tpm")]
mod swtpm {
    use std::path::Path;
    use std::process::Command;

    use super::{flipped, reasons, statuses, verify_json};
    use crate::util::{cer, Run, Swtpm, TestDir};

    /// Runs `cer verify-quote` in text form and returns the run.
    fn verify_text(args: &[&str], code: i32) -> Run {
        let mut all = vec!["verify-quote"];
        all.extend_from_slice(args);
        cer(&all).expect(code)
    }

    fn args(v: &[String]) -> Vec<&str> {
        v.iter().map(String::as_str).collect()
    }

    /// Runs a tpm2-tools command in `dir`, failing the test with its output on error.
    fn tool(dir: &Path, args: &[&str]) {
        let out = Command::new(args[0])
            .args(&args[1..])
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?} failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The independent verifier: `tpm2_checkquote` on the quote, signature, PCR values
    /// and nonce. For RSA-PSS quotes, whose signatures tpm2_checkquote 5.4 checks with
    /// PKCS#1 v1.5 padding and so refuses (tpm2-software/tpm2-tools#3283), OpenSSL
    /// checks the signature alone (PSS, salt length recovered from the signature).
    fn independent(dir: &Path, scheme: &str, list: &str, hash: &str, files: [&str; 3]) -> bool {
        let [quote, sig, pcrs] = files;
        let mut cmd = if scheme == "rsapss" {
            let tpmt = std::fs::read(dir.join(sig)).unwrap();
            std::fs::write(dir.join("raw.sig"), &tpmt[6..]).unwrap();
            let mut c = Command::new("openssl");
            c.args([
                "dgst",
                &format!("-{hash}"),
                "-sigopt",
                "rsa_padding_mode:pss",
                "-sigopt",
            ])
            .args([
                "rsa_pss_saltlen:auto",
                "-signature",
                "raw.sig",
                "-verify",
                "ak.pem",
                quote,
            ]);
            c
        } else {
            let mut c = Command::new("tpm2_checkquote");
            c.args([
                "-u", "ak.pub", "-m", quote, "-s", sig, "-f", pcrs, "-l", list,
            ])
            .args(["-q", "0102abcd", "-g", hash]);
            c
        };
        cmd.current_dir(dir).output().unwrap().status.success()
    }

    /// An AK of `alg` (tpm2_createak -G) with `scheme` and `hash`, a PCR extended,
    /// and a quote of `list` with nonce `0102abcd`: `ak.pub` (TPM2B_PUBLIC), `ak.pem`,
    /// `quote.msg`, `quote.sig`, `pcrs.bin` (values) in the returned directory.
    fn quote_on_swtpm(alg: &str, scheme: &str, hash: &str, list: &str) -> TestDir {
        let tpm = Swtpm::start();
        let t = tpm.tcti();
        let dir = TestDir::new();
        let d = dir.root();
        tool(
            d,
            &[
                "tpm2_createek",
                "-T",
                &t,
                "-c",
                "ek.ctx",
                "-G",
                "rsa",
                "-u",
                "ek.pub",
            ],
        );
        tool(
            d,
            &[
                "tpm2_createak",
                "-T",
                &t,
                "-C",
                "ek.ctx",
                "-c",
                "ak.ctx",
                "-G",
                alg,
                "-g",
                hash,
                "-s",
                scheme,
                "-u",
                "ak.pub",
                "-n",
                "ak.name",
                "-r",
                "ak.priv",
            ],
        );
        tool(d, &["tpm2_flushcontext", "-T", &t, "-t"]);
        tool(
            d,
            &[
                "tpm2_readpublic",
                "-T",
                &t,
                "-c",
                "ak.ctx",
                "-f",
                "pem",
                "-o",
                "ak.pem",
            ],
        );
        tool(d, &["tpm2_flushcontext", "-T", &t, "-t"]);
        let digest = "ab".repeat(32);
        tool(
            d,
            &["tpm2_pcrextend", "-T", &t, &format!("16:sha256={digest}")],
        );
        tool(
            d,
            &[
                "tpm2_quote",
                "-T",
                &t,
                "-c",
                "ak.ctx",
                "-l",
                list,
                "-q",
                "0102abcd",
                "-g",
                hash,
                "--scheme",
                scheme,
                "-m",
                "quote.msg",
                "-s",
                "quote.sig",
                "-o",
                "pcrs.bin",
                "-F",
                "values",
            ],
        );
        dir
    }

    fn check_both_ways(alg: &str, scheme: &str, hash: &str, sig_name: &str) {
        let list = "sha256:0,15,16";
        let dir = quote_on_swtpm(alg, scheme, hash, list);
        let d = dir.root();
        let path = |n: &str| d.join(n).to_str().unwrap().to_owned();
        let base = |ak: &str, quote: &str, sig: &str, pcrs: &str, nonce: &str| {
            vec![
                "--ak".to_owned(),
                path(ak),
                "--quote".into(),
                path(quote),
                "--signature".into(),
                path(sig),
                "--pcrs".into(),
                path(pcrs),
                "--pcr-list".into(),
                list.into(),
                "--nonce".into(),
                nonce.into(),
            ]
        };

        // The independent verifier accepts it; so does cer, with the AK as TPM2B_PUBLIC and as PEM.
        let files = ["quote.msg", "quote.sig", "pcrs.bin"];
        assert!(
            independent(d, scheme, list, hash, files),
            "the independent verifier refused the quote"
        );
        let good = base("ak.pub", "quote.msg", "quote.sig", "pcrs.bin", "0102abcd");
        let v = verify_json(&args(&good), 0);
        assert_eq!(v["ak"]["format"], "tpm2b-public");
        assert_eq!(v["signature"]["scheme"], scheme);
        let want: Vec<(String, String)> = [
            ("structure", "PASS"),
            ("magic_type", "PASS"),
            ("ak_attributes", "PASS"),
            ("signature", "PASS"),
            ("qualifying_data", "PASS"),
            ("pcr_digest", "PASS"),
            ("ak_trust", "SKIPPED"),
        ]
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect();
        assert_eq!(statuses(&v), want);
        // The name cer computes is the one tpm2_createak printed to ak.name.
        let name = hex::encode(std::fs::read(d.join("ak.name")).unwrap());
        assert_eq!(v["ak"]["name"], name.as_str());
        let text = verify_text(
            &args(&base(
                "ak.pem",
                "quote.msg",
                "quote.sig",
                "pcrs.bin",
                "0102abcd",
            )),
            0,
        );
        assert!(
            text.stdout.contains(&format!("{sig_name} by the")),
            "{}",
            text.stdout
        );

        // Twins: both verifiers refuse each (OpenSSL sees no PCR values), cer with the reason of the changed input.
        let twins = [
            ("quote.msg", 60usize, "QUOTE_SIGNATURE_INVALID"),
            ("quote.sig", 20, "QUOTE_SIGNATURE_INVALID"),
            ("pcrs.bin", 40, "PCR_DIGEST_MISMATCH"),
        ];
        for (file, at, reason) in twins {
            flipped(&dir, &d.join(file), &format!("bad-{file}"), at, 0x01);
            let mut names = ["quote.msg", "quote.sig", "pcrs.bin"];
            let slot = names.iter().position(|n| *n == file).unwrap();
            let bad = format!("bad-{file}");
            names[slot] = &bad;
            let v = verify_json(
                &args(&base("ak.pub", names[0], names[1], names[2], "0102abcd")),
                1,
            );
            assert_eq!(reasons(&v), [reason], "{file}");
            if scheme != "rsapss" || file != "pcrs.bin" {
                assert!(
                    !independent(d, scheme, list, hash, names),
                    "the independent verifier accepted {bad}"
                );
            }
        }
        let v = verify_json(
            &args(&base(
                "ak.pub",
                "quote.msg",
                "quote.sig",
                "pcrs.bin",
                "0102abce",
            )),
            1,
        );
        assert_eq!(reasons(&v), ["QUALIFYING_DATA_MISMATCH"]);
        // Another TPM's key (the EK is not the AK).
        let v = verify_json(
            &args(&base(
                "ek.pub",
                "quote.msg",
                "quote.sig",
                "pcrs.bin",
                "0102abcd",
            )),
            1,
        );
        assert!(
            reasons(&v).contains(&"AK_ATTRIBUTES_INVALID".to_owned()),
            "{v}"
        );
    }

    #[test]
    fn rsassa_quote_from_tpm2_quote_verifies() {
        check_both_ways("rsa", "rsassa", "sha256", "RSASSA-SHA256");
    }

    #[test]
    fn rsapss_quote_from_tpm2_quote_verifies() {
        check_both_ways("rsa", "rsapss", "sha256", "RSAPSS-SHA256");
    }

    #[test]
    fn ecdsa_p256_quote_from_tpm2_quote_verifies() {
        check_both_ways("ecc256", "ecdsa", "sha256", "ECDSA-SHA256");
    }

    #[test]
    fn ecdsa_p384_sha384_quote_from_tpm2_quote_verifies() {
        check_both_ways("ecc384", "ecdsa", "sha384", "ECDSA-SHA384");
    }

    /// The same quote, measured: `cer verify-quote` and `tpm2_checkquote` as processes
    /// (docs/performance.md). Run with
    /// `cargo test --release --test e2e verify_quote::swtpm::bench -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn bench_cer_vs_tpm2_checkquote() {
        let list = "sha256:0,15,16";
        let dir = quote_on_swtpm("rsa", "rsassa", "sha256", list);
        let d = dir.root();
        let n = 200;
        let time = |program: &str, args: &[&str]| {
            let start = std::time::Instant::now();
            for _ in 0..n {
                let status = Command::new(program)
                    .args(args)
                    .current_dir(d)
                    .output()
                    .unwrap()
                    .status;
                assert!(status.success(), "{program}");
            }
            start.elapsed() / n
        };
        let cer = time(
            env!("CARGO_BIN_EXE_cer"),
            &[
                "verify-quote",
                "--ak",
                "ak.pub",
                "--quote",
                "quote.msg",
                "--signature",
                "quote.sig",
                "--pcrs",
                "pcrs.bin",
                "--pcr-list",
                list,
                "--nonce",
                "0102abcd",
            ],
        );
        let tools = time(
            "tpm2_checkquote",
            &[
                "-u",
                "ak.pub",
                "-m",
                "quote.msg",
                "-s",
                "quote.sig",
                "-f",
                "pcrs.bin",
                "-l",
                list,
                "-q",
                "0102abcd",
                "-g",
                "sha256",
            ],
        );
        println!("cer verify-quote: {cer:?} per run; tpm2_checkquote: {tools:?} per run ({n} runs each, RSA-2048 RSASSA-SHA256, sha256:0,15,16)");
    }
}
