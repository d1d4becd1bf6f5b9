//! Chains made with openssl at test time, for the checks no public vector fails: a
//! non-CA intermediate, a missing keyCertSign, a pathLenConstraint, an expired
//! intermediate, loops, depth, each signature algorithm, and a root nobody trusts.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use cerd_attestation::chain::{verify_chain, Certificate, ChainError, ChainOptions};
use cerd_attestation::roots::{TrustSource, TrustStore};
use time::{Duration, OffsetDateTime};

const CA: &str = "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n";
const LEAF: &str = "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n";

/// A scratch PKI in its own temporary directory, removed on drop.
struct Pki {
    dir: PathBuf,
    serial: u32,
}

impl Pki {
    fn new() -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "cerd-chain-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Self { dir, serial: 1 }
    }

    fn path(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }

    fn openssl(&self, args: &[&str]) {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(&self.dir)
            .output()
            .expect("openssl is needed for these tests");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// A key: `rsa2048`, `p256`, `p384` or `p521`.
    fn key(&self, name: &str, alg: &str) {
        let key = self.path(&format!("{name}.key"));
        match alg {
            "rsa2048" => self.openssl(&[
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
                "-out",
                &key,
            ]),
            curve => {
                let param = format!("ec_paramgen_curve:P-{}", &curve[1..]);
                self.openssl(&[
                    "genpkey",
                    "-algorithm",
                    "EC",
                    "-pkeyopt",
                    &param,
                    "-out",
                    &key,
                ]);
            }
        }
    }

    fn load(&self, name: &str) -> Certificate {
        let text = std::fs::read(self.dir.join(format!("{name}.pem"))).unwrap();
        cerd_attestation::chain::parse_certificates(&text)
            .unwrap()
            .remove(0)
    }

    /// A self-signed CA `CN=name` (a new `alg` key unless `name.key` exists) with
    /// basicConstraints `bc` (`None`: cA, no path length) and keyCertSign.
    fn root(&self, name: &str, alg: &str, bc: Option<&str>, days: &str) -> Certificate {
        if !self.dir.join(format!("{name}.key")).exists() {
            self.key(name, alg);
        }
        let (key, out, subj) = (
            self.path(&format!("{name}.key")),
            self.path(&format!("{name}.pem")),
            format!("/CN={name}"),
        );
        let bc = bc.unwrap_or("basicConstraints=critical,CA:TRUE");
        self.openssl(&[
            "req",
            "-x509",
            "-new",
            "-key",
            &key,
            "-subj",
            &subj,
            "-days",
            days,
            "-sha256",
            "-addext",
            bc,
            "-addext",
            "keyUsage=critical,keyCertSign",
            "-out",
            &out,
        ]);
        self.load(name)
    }

    /// `CN=name` with a new `alg` key, issued by `issuer` with extensions `exts`
    /// (extfile lines), valid `days`, signed with `sign` (digest and -sigopt flags).
    fn issue(
        &mut self,
        name: &str,
        alg: &str,
        issuer: &str,
        exts: &str,
        days: &str,
        sign: &[&str],
    ) -> Certificate {
        if !self.dir.join(format!("{name}.key")).exists() {
            self.key(name, alg);
        }
        let ext = self.path(&format!("{name}.ext"));
        std::fs::write(&ext, exts).unwrap();
        let (key, csr, subj) = (
            self.path(&format!("{name}.key")),
            self.path(&format!("{name}.csr")),
            format!("/CN={name}"),
        );
        self.openssl(&["req", "-new", "-key", &key, "-subj", &subj, "-out", &csr]);
        self.serial += 1;
        let serial = self.serial.to_string();
        let (ca, ca_key, out) = (
            self.path(&format!("{issuer}.pem")),
            self.path(&format!("{issuer}.key")),
            self.path(&format!("{name}.pem")),
        );
        let mut args = vec![
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            &ca,
            "-CAkey",
            &ca_key,
            "-set_serial",
            &serial,
            "-days",
            days,
            "-extfile",
            &ext,
            "-out",
            &out,
        ];
        args.extend_from_slice(sign);
        self.openssl(&args);
        self.load(name)
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A minute from now: certificates made during a test (notBefore = when openssl ran,
/// to the second) are all valid by then, however slow the machine.
fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc() + Duration::minutes(1)
}

fn trusting(root: &Certificate) -> TrustStore {
    let mut t = TrustStore::new();
    t.add_der(root.der()).unwrap();
    t
}

fn err(
    leaf: &Certificate,
    pool: &[Certificate],
    trust: &TrustStore,
    opts: &ChainOptions,
) -> ChainError {
    match verify_chain(leaf, pool, trust, opts) {
        Ok(c) => panic!("verified: {:?}", c.subjects()),
        Err(e) => e,
    }
}

fn flip_last(c: &Certificate) -> Certificate {
    let mut der = c.der().to_vec();
    *der.last_mut().unwrap() ^= 1;
    Certificate::from_der(&der).unwrap()
}

#[test]
fn every_signature_algorithm_verifies_and_a_flipped_byte_fails() {
    let mut pki = Pki::new();
    let cases: &[(&str, &[&str], &str)] = &[
        ("rsa2048", &["-sha256"], "RSA PKCS#1 v1.5 with SHA-256"),
        ("rsa2048", &["-sha384"], "RSA PKCS#1 v1.5 with SHA-384"),
        ("rsa2048", &["-sha512"], "RSA PKCS#1 v1.5 with SHA-512"),
        (
            "rsa2048",
            &[
                "-sha256",
                "-sigopt",
                "rsa_padding_mode:pss",
                "-sigopt",
                "rsa_pss_saltlen:32",
            ],
            "RSASSA-PSS with SHA-256, MGF1 SHA-256, salt 32",
        ),
        (
            "rsa2048",
            &[
                "-sha384",
                "-sigopt",
                "rsa_padding_mode:pss",
                "-sigopt",
                "rsa_pss_saltlen:48",
            ],
            "RSASSA-PSS with SHA-384, MGF1 SHA-384, salt 48",
        ),
        (
            "rsa2048",
            &[
                "-sha512",
                "-sigopt",
                "rsa_padding_mode:pss",
                "-sigopt",
                "rsa_pss_saltlen:20",
            ],
            "RSASSA-PSS with SHA-512, MGF1 SHA-512, salt 20",
        ),
        ("p256", &["-sha256"], "ECDSA with SHA-256"),
        ("p256", &["-sha384"], "ECDSA with SHA-384"),
        ("p384", &["-sha384"], "ECDSA with SHA-384"),
        ("p384", &["-sha512"], "ECDSA with SHA-512"),
        ("p521", &["-sha512"], "ECDSA with SHA-512"),
    ];
    for (i, (alg, sign, described)) in cases.iter().enumerate() {
        let root_name = format!("root{i}");
        if i > 0 && cases[i - 1].0 == *alg {
            // Same key type as the case before: reuse its key (key generation is
            // the slow part), new certificate.
            std::fs::copy(
                pki.dir.join(format!("root{}.key", i - 1)),
                pki.dir.join(format!("{root_name}.key")),
            )
            .unwrap();
        }
        let root = pki.root(&root_name, alg, None, "30");
        let leaf = pki.issue(&format!("leaf{i}"), "p256", &root_name, LEAF, "10", sign);
        assert_eq!(leaf.signature_algorithm().to_string(), *described);
        let trust = trusting(&root);
        let opts = ChainOptions::new(now());
        let chain =
            verify_chain(&leaf, &[], &trust, &opts).unwrap_or_else(|e| panic!("{described}: {e}"));
        assert_eq!(chain.path.len(), 2);
        let e = err(&flip_last(&leaf), &[], &trust, &opts);
        assert_eq!(e.code(), "CHAIN_SIGNATURE_INVALID", "{described}: {e}");
    }
}

#[test]
fn sha1_signatures_need_the_legacy_option() {
    let mut pki = Pki::new();
    let root = pki.root("root", "rsa2048", None, "30");
    let leaf = pki.issue("leaf", "p256", "root", LEAF, "10", &["-sha1"]);
    let trust = trusting(&root);
    let e = err(&leaf, &[], &trust, &ChainOptions::new(now()));
    assert_eq!(e.code(), "LEGACY_SHA1_REFUSED", "{e}");
    assert!(e.to_string().contains("CN=leaf"), "{e}");
    let legacy = ChainOptions {
        allow_sha1: true,
        ..ChainOptions::new(now())
    };
    verify_chain(&leaf, &[], &trust, &legacy).unwrap();
    let e = err(&flip_last(&leaf), &[], &trust, &legacy);
    assert_eq!(e.code(), "CHAIN_SIGNATURE_INVALID", "{e}");
}

#[test]
fn issuers_must_be_cas_with_key_cert_sign() {
    let mut pki = Pki::new();
    let root = pki.root("root", "p256", None, "30");
    let trust = trusting(&root);
    let opts = ChainOptions::new(now());
    let variants = [
        (
            "not-a-ca",
            "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,keyCertSign\n",
            "cA is false",
        ),
        (
            "no-bc",
            "keyUsage=critical,keyCertSign\n",
            "no basicConstraints",
        ),
        (
            "no-certsign",
            "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,digitalSignature\n",
            "keyCertSign",
        ),
    ];
    for (name, exts, why) in variants {
        let int = pki.issue(name, "p256", "root", exts, "20", &["-sha256"]);
        let leaf = pki.issue(
            &format!("leaf-{name}"),
            "p256",
            name,
            LEAF,
            "10",
            &["-sha256"],
        );
        let e = err(&leaf, &[int], &trust, &opts);
        assert_eq!(e.code(), "ISSUER_NOT_CA", "{name}: {e}");
        let text = e.to_string();
        assert!(
            text.contains(&format!("CN={name}")) && text.contains(why),
            "{text}"
        );
    }
    // The same shape with a proper CA verifies.
    let int = pki.issue("good-ca", "p256", "root", CA, "20", &["-sha256"]);
    let leaf = pki.issue("leaf-good", "p256", "good-ca", LEAF, "10", &["-sha256"]);
    verify_chain(&leaf, &[int], &trust, &opts).unwrap();
}

#[test]
fn path_length_constraints_are_respected() {
    let mut pki = Pki::new();
    let root = pki.root(
        "root",
        "p256",
        Some("basicConstraints=critical,CA:TRUE,pathlen:0"),
        "30",
    );
    let int = pki.issue("int", "p256", "root", CA, "20", &["-sha256"]);
    let leaf = pki.issue("leaf", "p256", "int", LEAF, "10", &["-sha256"]);
    let e = err(
        &leaf,
        std::slice::from_ref(&int),
        &trusting(&root),
        &ChainOptions::new(now()),
    );
    assert_eq!(e.code(), "CHAIN_PATH_LENGTH_EXCEEDED", "{e}");
    assert!(e.to_string().contains("CN=root"), "{e}");
    // pathlen:0 still allows a leaf directly below.
    let direct = pki.issue("direct", "p256", "root", LEAF, "10", &["-sha256"]);
    verify_chain(&direct, &[], &trusting(&root), &ChainOptions::new(now())).unwrap();
}

#[test]
fn validity_is_checked_for_every_certificate_at_the_chosen_time() {
    let mut pki = Pki::new();
    let root = pki.root("root", "p256", None, "60");
    let int = pki.issue("int", "p256", "root", CA, "5", &["-sha256"]);
    let leaf = pki.issue("leaf", "p256", "int", LEAF, "30", &["-sha256"]);
    let trust = trusting(&root);
    let pool = [int];
    verify_chain(&leaf, &pool, &trust, &ChainOptions::new(now())).unwrap();
    // In ten days the intermediate (5 days) has expired, the leaf (30) has not.
    let e = err(
        &leaf,
        &pool,
        &trust,
        &ChainOptions::new(now() + Duration::days(10)),
    );
    assert_eq!(e.code(), "CERT_EXPIRED", "{e}");
    assert!(e.to_string().contains("'CN=int'"), "{e}");
    // In forty days the leaf itself has expired.
    let e = err(
        &leaf,
        &pool,
        &trust,
        &ChainOptions::new(now() + Duration::days(40)),
    );
    assert_eq!(e.code(), "CERT_EXPIRED", "{e}");
    assert!(e.to_string().contains("'CN=leaf'"), "{e}");
    // In seventy days the anchor's own certificate has expired too, and counts.
    let e = err(
        &root,
        &[],
        &TrustStore::new(),
        &ChainOptions::new(now() + Duration::days(70)),
    );
    assert_eq!(e.code(), "CERT_EXPIRED", "{e}");
    let direct = pki.issue("direct", "p256", "root", LEAF, "90", &["-sha256"]);
    let e = err(
        &direct,
        &[],
        &trust,
        &ChainOptions::new(now() + Duration::days(70)),
    );
    assert_eq!(e.code(), "CERT_EXPIRED", "{e}");
    assert!(e.to_string().contains("'CN=root'"), "{e}");
    // Two days ago nothing was valid yet.
    let e = err(
        &leaf,
        &pool,
        &trust,
        &ChainOptions::new(now() - Duration::days(2)),
    );
    assert_eq!(e.code(), "CERT_NOT_YET_VALID", "{e}");
}

#[test]
fn a_root_is_an_anchor_only_when_pinned_or_in_the_trust_store() {
    let mut pki = Pki::new();
    // Named like a swtpm's local CA: never trusted unless given explicitly.
    let root = pki.root("swtpm-localca-rootca", "p256", None, "30");
    let int = pki.issue(
        "swtpm-localca",
        "p256",
        "swtpm-localca-rootca",
        CA,
        "20",
        &["-sha256"],
    );
    let ek = pki.issue("ek", "p256", "swtpm-localca", LEAF, "10", &["-sha256"]);
    let opts = ChainOptions::new(now());
    let pool = vec![int.clone(), root.clone()];
    for trust in [TrustStore::new(), TrustStore::with_builtin_pins()] {
        let e = err(&ek, &pool, &trust, &opts);
        assert_eq!(e.code(), "CHAIN_UNTRUSTED_ROOT", "{e}");
        assert!(e.to_string().contains("CN=swtpm-localca-rootca"), "{e}");
    }
    let mut trust = TrustStore::with_builtin_pins();
    let pem = std::fs::read(pki.dir.join("swtpm-localca-rootca.pem")).unwrap();
    assert_eq!(trust.add_pem(&pem).unwrap(), 1);
    let chain = verify_chain(&ek, std::slice::from_ref(&int), &trust, &opts).unwrap();
    assert_eq!(chain.anchor.source, TrustSource::Store);
    assert_eq!(
        chain.subjects(),
        ["CN=ek", "CN=swtpm-localca", "CN=swtpm-localca-rootca"]
    );
    // The leaf's issuer missing altogether.
    let e = err(&ek, &[root], &trust, &opts);
    assert_eq!(e.code(), "CHAIN_INCOMPLETE", "{e}");
    assert!(e.to_string().contains("issuer 'CN=swtpm-localca'"), "{e}");
    // A trust file without certificates is an error, not an empty store.
    assert_eq!(
        TrustStore::new()
            .add_pem(b"no pem here")
            .unwrap_err()
            .code(),
        "CERT_MALFORMED"
    );
}

#[test]
fn path_building_tries_every_candidate_and_uses_key_identifiers() {
    let mut pki = Pki::new();
    let root = pki.root("root", "p256", None, "30");
    // Two CAs named alike with different keys (a key rollover).
    let old = pki.issue("ca", "p256", "root", CA, "20", &["-sha256"]);
    std::fs::rename(pki.dir.join("ca.key"), pki.dir.join("ca-old.key")).unwrap();
    let new = pki.issue("ca", "p256", "root", CA, "20", &["-sha256"]);
    assert_ne!(old.spki_der(), new.spki_der());
    let leaf = pki.issue("leaf", "p256", "ca", LEAF, "10", &["-sha256"]);
    let trust = trusting(&root);
    let opts = ChainOptions::new(now());
    let chain = verify_chain(&leaf, &[old.clone(), new.clone()], &trust, &opts).unwrap();
    assert_eq!(chain.path[1].der(), new.der());
    // With only the old CA the key identifiers disagree: it is not a candidate.
    let e = err(&leaf, std::slice::from_ref(&old), &trust, &opts);
    assert_eq!(e.code(), "CHAIN_INCOMPLETE", "{e}");
    // Without key identifiers in the leaf, the old CA is tried and its key fails.
    let no_aki = "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nauthorityKeyIdentifier=none\nsubjectKeyIdentifier=none\n";
    let bare = pki.issue("bare", "p256", "ca", no_aki, "10", &["-sha256"]);
    assert!(bare.authority_key_id().is_none());
    let e = err(&bare, std::slice::from_ref(&old), &trust, &opts);
    assert_eq!(e.code(), "CHAIN_SIGNATURE_INVALID", "{e}");
    verify_chain(&bare, &[old, new], &trust, &opts).unwrap();
}

#[test]
fn loops_end_and_depth_is_bounded() {
    let mut pki = Pki::new();
    // A and B certify each other; nothing is trusted.
    pki.root("A", "p256", None, "30");
    pki.root("B", "p256", None, "30");
    let a_by_b = pki.issue("A", "p256", "B", CA, "20", &["-sha256"]);
    // Re-issue B under A (B's key stays: `issue` reuses an existing key).
    let b_by_a = pki.issue("B", "p256", "A", CA, "20", &["-sha256"]);
    let leaf = pki.issue("leaf", "p256", "A", LEAF, "10", &["-sha256"]);
    let opts = ChainOptions::new(now());
    let e = err(
        &leaf,
        &[a_by_b.clone(), b_by_a.clone()],
        &TrustStore::new(),
        &opts,
    );
    assert!(
        matches!(e.code(), "CHAIN_INCOMPLETE" | "CHAIN_UNTRUSTED_ROOT"),
        "{e}"
    );
    // Trusting A's key ends the loop at A.
    let mut t = TrustStore::new();
    t.add_public_key("A", a_by_b.spki_der()).unwrap();
    verify_chain(&leaf, &[b_by_a, a_by_b], &t, &opts).unwrap();

    // root -> c1 -> ... -> c9 -> leaf: eleven certificates.
    let root = pki.root("deep", "p256", None, "30");
    let mut pool = Vec::new();
    let mut issuer = "deep".to_owned();
    for i in 1..=9 {
        let name = format!("c{i}");
        pool.push(pki.issue(&name, "p256", &issuer, CA, "20", &["-sha256"]));
        issuer = name;
    }
    let leaf = pki.issue("deep-leaf", "p256", &issuer, LEAF, "10", &["-sha256"]);
    let trust = trusting(&root);
    let e = err(&leaf, &pool, &trust, &opts);
    assert_eq!(e.code(), "CHAIN_TOO_LONG", "{e}");
    let deep = ChainOptions {
        max_depth: 11,
        ..opts
    };
    let chain = verify_chain(&leaf, &pool, &trust, &deep).unwrap();
    assert_eq!(chain.path.len(), 11);
}

#[test]
fn unknown_critical_extensions_are_refused() {
    let mut pki = Pki::new();
    let root = pki.root("root", "p256", None, "30");
    let exts = format!("{LEAF}1.3.6.1.4.1.32473.99=critical,ASN1:UTF8String:x\n");
    let leaf = pki.issue("leaf", "p256", "root", &exts, "10", &["-sha256"]);
    let e = err(&leaf, &[], &trusting(&root), &ChainOptions::new(now()));
    assert_eq!(e.code(), "CERT_UNKNOWN_CRITICAL_EXTENSION", "{e}");
    assert!(e.to_string().contains("1.3.6.1.4.1.32473.99"), "{e}");
    // The same extension, not critical, is ignored.
    let exts = format!("{LEAF}1.3.6.1.4.1.32473.99=ASN1:UTF8String:x\n");
    let leaf = pki.issue("leaf2", "p256", "root", &exts, "10", &["-sha256"]);
    verify_chain(&leaf, &[], &trusting(&root), &ChainOptions::new(now())).unwrap();
}
