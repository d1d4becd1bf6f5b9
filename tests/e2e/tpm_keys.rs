//! `cer tpm ak` and `cer tpm ek-certs` against a real swtpm, cross-checked with
//! tpm2-tools and openssl.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::{cer, Run, Swtpm, TestDir};

/// Runs a command line (words split on whitespace) and returns stdout; fails the test
/// on a non-zero exit.
#[track_caller]
fn sh(line: &str) -> String {
    let mut words = line.split_whitespace();
    let program = words.next().unwrap();
    let out = Command::new(program).args(words).output().unwrap();
    assert!(
        out.status.success(),
        "{line} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs a tpm2-tools command line against this swtpm.
#[track_caller]
fn tpm2(tpm: &Swtpm, line: &str) -> String {
    let (tool, args) = line.split_once(' ').unwrap_or((line, ""));
    sh(&format!("{tool} -T {} {args}", tpm.tcti()))
}

/// Runs `cer` with a command line (words split on whitespace).
fn cer_line(line: &str) -> Run {
    cer(line.split_whitespace())
}

fn p(path: &Path) -> String {
    path.display().to_string()
}

/// The value of `key: value` in tpm2-tools' YAML-ish output.
fn field(out: &str, key: &str) -> String {
    out.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}: ")))
        .unwrap_or_else(|| panic!("no {key} in:\n{out}"))
        .trim()
        .to_owned()
}

/// The value of `key   value` in cer's output.
fn shown(out: &str, key: &str) -> String {
    out.lines()
        .find_map(|l| {
            let (k, v) = l.split_once(' ')?;
            (k == key).then(|| v.trim().to_owned())
        })
        .unwrap_or_else(|| panic!("no {key} in:\n{out}"))
}

/// A PEM public key as SubjectPublicKeyInfo DER, normalized by openssl.
fn spki_of_pem(pem: &Path, dir: &TestDir, tag: &str) -> Vec<u8> {
    let out = dir.path(&format!("{tag}.spki.der"));
    sh(&format!(
        "openssl pkey -pubin -in {} -outform DER -out {}",
        p(pem),
        p(&out)
    ));
    std::fs::read(out).unwrap()
}

/// A DER certificate's public key as SubjectPublicKeyInfo DER, extracted by openssl.
fn spki_of_cert(cert_der: &Path, dir: &TestDir, tag: &str) -> Vec<u8> {
    let pem = dir.path(&format!("{tag}.certkey.pem"));
    let key = sh(&format!(
        "openssl x509 -inform DER -in {} -noout -pubkey",
        p(cert_der)
    ));
    std::fs::write(&pem, key).unwrap();
    spki_of_pem(&pem, dir, tag)
}

/// No transient object left in the TPM (swtpm has no resource manager).
#[track_caller]
fn no_transients(tpm: &Swtpm) {
    let out = tpm2(tpm, "tpm2_getcap handles-transient");
    assert!(out.trim().is_empty(), "transient objects left: {out}");
}

/// A throwaway P-256 CA in `dir`: (cert.pem, key.pem).
fn throwaway_ca(dir: &TestDir) -> (PathBuf, PathBuf) {
    let (cert, key) = (dir.path("ca.pem"), dir.path("ca.key"));
    sh(&format!(
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout {} \
         -out {} -subj /CN=throwaway-platform-CA -days 2",
        p(&key),
        p(&cert)
    ));
    (cert, key)
}

/// A DER certificate for the public key in `pubkey_pem`, issued by the throwaway CA.
fn certify(dir: &TestDir, ca: &(PathBuf, PathBuf), pubkey_pem: &Path, cn: &str) -> Vec<u8> {
    let (csr_key, csr, out) = (
        dir.path(&format!("{cn}.csrkey")),
        dir.path(&format!("{cn}.csr")),
        dir.path(&format!("{cn}.der")),
    );
    sh(&format!(
        "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout {} \
         -out {} -subj /CN={cn}",
        p(&csr_key),
        p(&csr)
    ));
    sh(&format!(
        "openssl x509 -req -in {} -CA {} -CAkey {} -CAcreateserial -force_pubkey {} -days 2 \
         -outform DER -out {}",
        p(&csr),
        p(&ca.0),
        p(&ca.1),
        p(pubkey_pem),
        p(&out)
    ));
    std::fs::read(out).unwrap()
}

/// Defines NV `index` (owner) of `data.len()` bytes and writes `data` into it.
fn nv_write(tpm: &Swtpm, dir: &TestDir, index: &str, attributes: &str, data: &[u8]) {
    let file = dir.write(&format!("nv-{index}.bin"), data);
    let size = data.len();
    tpm2(
        tpm,
        &format!("tpm2_nvdefine -C o -s {size} -a {attributes} {index}"),
    );
    tpm2(tpm, &format!("tpm2_nvwrite -C o -i {} {index}", p(&file)));
}

/// `cer tpm ak create` (exit 0); returns stdout and the TPM2B_PUBLIC it wrote.
fn ak_create(tpm: &Swtpm, dir: &TestDir, tag: &str, extra: &str) -> (String, Vec<u8>) {
    let public = dir.path(&format!("{tag}.pub"));
    let line = format!(
        "tpm ak create --tcti {} --public-out {} {extra}",
        tpm.tcti(),
        p(&public)
    );
    let run = cer_line(&line).expect(0);
    (run.stdout, std::fs::read(public).unwrap())
}

fn ak_is_recreatable(alg: &str, handle: &str) {
    let tpm = Swtpm::start();
    let dir = TestDir::new();
    let (first, pub1) = ak_create(&tpm, &dir, "first", &format!("--alg {alg}"));
    assert!(
        first.contains(&format!("handle       {handle} (persisted)")),
        "{first}"
    );
    let (second, pub2) = ak_create(&tpm, &dir, "second", &format!("--alg {alg}"));
    assert!(second.contains(&format!("{handle} (reused)")), "{second}");
    assert_eq!(pub1, pub2, "the second run must find the same key");
    no_transients(&tpm);

    // tpm2-tools sees the same name, public area and attributes.
    let rp = dir.path("rp.pub");
    let read = tpm2(&tpm, &format!("tpm2_readpublic -c {handle} -o {}", p(&rp)));
    let name = shown(&first, "name");
    assert_eq!(field(&read, "name"), name);
    assert_eq!(std::fs::read(rp).unwrap(), pub1, "TPM2B_PUBLIC");
    let attrs = read
        .lines()
        .skip_while(|l| !l.starts_with("attributes:"))
        .nth(1)
        .unwrap()
        .to_owned();
    for a in [
        "fixedtpm",
        "fixedparent",
        "sensitivedataorigin",
        "userwithauth",
        "restricted",
        "sign",
    ] {
        assert!(
            attrs.split(['|', ' ']).any(|x| x == a),
            "{a} missing: {attrs}"
        );
    }
    assert!(!attrs.contains("decrypt"), "{attrs}");

    // Evicted: the template gives the same key again.
    tpm2(&tpm, &format!("tpm2_evictcontrol -C o -c {handle}"));
    let pem = dir.path("ak.pem");
    let (third, pub3) = ak_create(
        &tpm,
        &dir,
        "third",
        &format!("--alg {alg} --pem-out {}", p(&pem)),
    );
    assert!(third.contains("(persisted)"), "{third}");
    assert_eq!(pub1, pub3, "re-created after eviction");
    no_transients(&tpm);

    // The PEM is the key tpm2-tools exports for the handle.
    let rp_pem = dir.path("rp.pem");
    tpm2(
        &tpm,
        &format!("tpm2_readpublic -c {handle} -f pem -o {}", p(&rp_pem)),
    );
    assert_eq!(
        spki_of_pem(&pem, &dir, "ours"),
        spki_of_pem(&rp_pem, &dir, "tools")
    );

    // `ak show` finds it and classifies it as cer's (template and endorsement-hierarchy
    // qualified name both match).
    let show = cer_line(&format!(
        "tpm ak show --tcti {} --handle {handle}",
        tpm.tcti()
    ))
    .expect(0);
    assert!(
        show.stdout.contains("source       created"),
        "{}",
        show.stdout
    );
    assert_eq!(shown(&show.stdout, "name"), name);
}

#[test]
fn ecc_ak_is_recreatable_and_matches_tpm2_tools() {
    ak_is_recreatable("ecc", "0x81010002");
}

#[test]
fn rsa_ak_is_recreatable_and_matches_tpm2_tools() {
    ak_is_recreatable("rsa", "0x81010003");
}

#[test]
fn occupied_handle_is_refused_unless_forced() {
    let tpm = Swtpm::start();
    let dir = TestDir::new();
    let ctx = p(&dir.path("p.ctx"));
    tpm2(
        &tpm,
        &format!("tpm2_createprimary -C o -g sha256 -G rsa -c {ctx}"),
    );
    tpm2(&tpm, &format!("tpm2_evictcontrol -C o -c {ctx} 0x81010002"));
    tpm2(&tpm, "tpm2_flushcontext -t");
    let before = tpm2(&tpm, "tpm2_readpublic -c 0x81010002");

    let run = cer_line(&format!("tpm ak create --tcti {}", tpm.tcti())).expect(2);
    let line = run.one_error_line();
    assert!(
        line.contains("0x81010002") && line.contains("RSA-2048"),
        "{line}"
    );
    assert!(line.contains("--force"), "{line}");
    assert_eq!(
        tpm2(&tpm, "tpm2_readpublic -c 0x81010002"),
        before,
        "untouched"
    );
    no_transients(&tpm);

    let (out, _) = ak_create(&tpm, &dir, "forced", "--force");
    assert!(out.contains("0x81010002 (replaced)"), "{out}");
    let after = tpm2(&tpm, "tpm2_readpublic -c 0x81010002");
    assert_eq!(field(&after, "name"), shown(&out, "name"));
    no_transients(&tpm);

    // An EK is not an AK: `ak show` says why.
    let run = cer_line(&format!(
        "tpm ak show --tcti {} --handle 0x81010001",
        tpm.tcti()
    ))
    .expect(2);
    let line = run.one_error_line();
    assert!(
        line.contains("0x81010001") && line.contains("not an attestation key"),
        "{line}"
    );
    assert!(line.contains("is not sign"), "{line}");
}

#[test]
fn ek_certs_are_exported_and_match_the_templates() {
    let tpm = Swtpm::start();
    let dir = TestDir::new();
    let out = dir.path("ek");
    let export = format!("tpm ek-certs --tcti {} --out-dir {}", tpm.tcti(), p(&out));
    let run = cer_line(&export).expect(0);
    assert!(
        run.stdout.contains("0x01c00002  RSA-2048 EK"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("key = EK from template L-1"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("0x01c00016  ECC P-384 EK"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("key = EK from template H-3"),
        "{}",
        run.stdout
    );
    assert!(!out.join("ek-eccp256.der").exists());
    no_transients(&tpm);

    let ca = Swtpm::ca_dir();
    for (slug, index, persistent) in [
        ("rsa2048", "0x01c00002", "0x81010001"),
        ("eccp384", "0x01c00016", "0x81010016"),
    ] {
        let der = out.join(format!("ek-{slug}.der"));
        // Byte-equal to what tpm2-tools reads from NV (swtpm writes no padding).
        let raw = dir.path(&format!("{slug}.nv"));
        tpm2(&tpm, &format!("tpm2_nvread -C o -o {} {index}", p(&raw)));
        assert_eq!(std::fs::read(&der).unwrap(), std::fs::read(&raw).unwrap());
        // openssl parses it, and it chains to swtpm's local CA.
        let pem = dir.path(&format!("{slug}.pem"));
        sh(&format!(
            "openssl x509 -inform DER -in {} -out {}",
            p(&der),
            p(&pem)
        ));
        sh(&format!(
            "openssl verify -CAfile {} -untrusted {} {}",
            p(&ca.join("swtpm-localca-rootca-cert.pem")),
            p(&ca.join("issuercert.pem")),
            p(&pem)
        ));
        // The EK re-created from our template is the one swtpm_setup made (from its own
        // template) and persisted: the same TPM2B_PUBLIC byte for byte, and its key is
        // the certificate's.
        let tools = dir.path(&format!("{slug}.tools.pub"));
        tpm2(
            &tpm,
            &format!("tpm2_readpublic -c {persistent} -o {}", p(&tools)),
        );
        assert_eq!(
            std::fs::read(out.join(format!("ek-{slug}.pub"))).unwrap(),
            std::fs::read(&tools).unwrap(),
            "{slug}: EK from template vs swtpm's persisted EK"
        );
        assert_eq!(
            spki_of_pem(&out.join(format!("ek-{slug}.pem")), &dir, slug),
            spki_of_cert(&der, &dir, slug),
            "{slug}: EK key vs certificate key"
        );
    }

    // Existing files are not clobbered without --force.
    let run = cer_line(&export).expect(2);
    assert!(run.one_error_line().contains("already exists"));
    cer_line(&format!("{export} --force")).expect(0);
}

#[test]
fn nv_padding_is_stripped_and_garbage_refused() {
    let tpm = Swtpm::start();
    let dir = TestDir::new();
    // tpm2-tools' own ECC P-256 EK (its template L-2) and a certificate for it.
    let ek_pem = dir.path("ek256.pem");
    let ctx = p(&dir.path("ek.ctx"));
    tpm2(
        &tpm,
        &format!("tpm2_createek -G ecc -c {ctx} -f pem -u {}", p(&ek_pem)),
    );
    tpm2(&tpm, "tpm2_flushcontext -t");
    let ca = throwaway_ca(&dir);
    let cert = certify(&dir, &ca, &ek_pem, "ek256");

    let mut padded = cert.clone();
    padded.extend([0xff; 40]);
    padded.extend([0x00; 9]);
    nv_write(
        &tpm,
        &dir,
        "0x01c0000a",
        "ownerread|ownerwrite|authread|authwrite",
        &padded,
    );
    let out = dir.path("out");
    let run = cer_line(&format!(
        "tpm ek-certs --tcti {} --out-dir {}",
        tpm.tcti(),
        p(&out)
    ))
    .expect(0);
    assert!(
        run.stdout.contains("0x01c0000a  ECC P-256 EK"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("(+49 padding)"), "{}", run.stdout);
    assert!(
        run.stdout.contains("key = EK from template L-2"),
        "{}",
        run.stdout
    );
    assert_eq!(std::fs::read(out.join("ek-eccp256.der")).unwrap(), cert);
    no_transients(&tpm);

    // Garbage after the certificate that is not padding: refused, naming the index.
    let mut garbage = cert.clone();
    garbage.extend([0xff, 0xff, 0x42, 0xff]);
    tpm2(&tpm, "tpm2_nvundefine -C o 0x01c0000a");
    nv_write(&tpm, &dir, "0x01c0000a", "ownerread|ownerwrite", &garbage);
    let o2 = p(&dir.path("o2"));
    let run = cer_line(&format!(
        "tpm ek-certs --tcti {} --out-dir {o2}",
        tpm.tcti()
    ))
    .expect(2);
    let line = run.one_error_line();
    assert!(
        line.contains("0x01c0000a") && line.contains("not padding"),
        "{line}"
    );

    // A certificate for another key at an EK index: reported, exit 1.
    tpm2(&tpm, "tpm2_nvundefine -C o 0x01c0000a");
    let ca_pub = dir.path("ca.pub.pem");
    sh(&format!(
        "openssl pkey -in {} -pubout -out {}",
        p(&ca.1),
        p(&ca_pub)
    ));
    let other = certify(&dir, &ca, &ca_pub, "other");
    nv_write(&tpm, &dir, "0x01c0000a", "ownerread|ownerwrite", &other);
    let o3 = p(&dir.path("o3"));
    let run = cer_line(&format!(
        "tpm ek-certs --tcti {} --out-dir {o3}",
        tpm.tcti()
    ))
    .expect(1);
    assert!(
        run.stdout.contains("KEY DIFFERS from template L-2"),
        "{}",
        run.stdout
    );
    assert!(run.stderr.contains("0x01c0000a"), "{}", run.stderr);
}

#[test]
fn gce_layout_is_found() {
    let tpm = Swtpm::start();
    let dir = TestDir::new();
    // A GCE-like ECC AK template (TPMT_PUBLIC, written by tpm2-tools) and the AK it gives.
    let (template, ak_pem) = (dir.path("gce.tmpl"), dir.path("gce-ak.pem"));
    tpm2(
        &tpm,
        &format!(
            "tpm2_createprimary -C e -g sha256 -G ecc256:ecdsa-sha256:null \
             -a fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|sign \
             -c {} --template-data {} -f pem -o {}",
            p(&dir.path("gce.ctx")),
            p(&template),
            p(&ak_pem)
        ),
    );
    tpm2(&tpm, "tpm2_flushcontext -t");
    let ca = throwaway_ca(&dir);
    let cert = certify(&dir, &ca, &ak_pem, "gce-ak");
    let template = std::fs::read(&template).unwrap();
    nv_write(&tpm, &dir, "0x01c10003", "ownerread|ownerwrite", &template);
    nv_write(
        &tpm,
        &dir,
        "0x01c10002",
        "ownerread|ownerwrite|authread",
        &cert,
    );

    let (pem, cert_out) = (dir.path("shown.pem"), dir.path("shown.der"));
    let run = cer_line(&format!(
        "tpm ak show --platform --tcti {} --pem-out {} --cert-out {}",
        tpm.tcti(),
        p(&pem),
        p(&cert_out)
    ))
    .expect(0);
    assert!(run.stdout.contains("source       gce"), "{}", run.stdout);
    assert!(
        run.stdout.contains("template at NV 0x01c10003"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("certificate  NV 0x01c10002"),
        "{}",
        run.stdout
    );
    assert_eq!(std::fs::read(&cert_out).unwrap(), cert);
    let key = spki_of_pem(&pem, &dir, "shown");
    assert_eq!(key, spki_of_cert(&cert_out, &dir, "cert"));
    assert_eq!(key, spki_of_pem(&ak_pem, &dir, "tools"));
    no_transients(&tpm);

    // The GCE AK is not cer's AK (another template): different keys.
    let own_pem = dir.path("own.pem");
    ak_create(&tpm, &dir, "own", &format!("--pem-out {}", p(&own_pem)));
    assert_ne!(spki_of_pem(&own_pem, &dir, "own"), key);

    // A certificate for another key at the GCE index: refused, naming both indices.
    tpm2(&tpm, "tpm2_nvundefine -C o 0x01c10002");
    let own_cert = certify(&dir, &ca, &own_pem, "own");
    nv_write(&tpm, &dir, "0x01c10002", "ownerread|ownerwrite", &own_cert);
    let run = cer_line(&format!("tpm ak show --platform --tcti {}", tpm.tcti())).expect(2);
    let line = run.one_error_line();
    assert!(
        line.contains("0x01c10002") && line.contains("0x01c10003"),
        "{line}"
    );
    no_transients(&tpm);
}

#[test]
fn azure_layout_is_found() {
    let tpm = Swtpm::start();
    let dir = TestDir::new();
    // No platform AK yet: one line that says so.
    let run = cer_line(&format!("tpm ak show --platform --tcti {}", tpm.tcti())).expect(2);
    assert!(run.one_error_line().contains("no platform AK"));

    let (ak_pem, ctx) = (dir.path("az-ak.pem"), p(&dir.path("az.ctx")));
    tpm2(
        &tpm,
        &format!(
            "tpm2_createprimary -C e -g sha256 -G rsa2048:rsassa-sha256:null \
             -a fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|sign \
             -c {ctx} -f pem -o {}",
            p(&ak_pem)
        ),
    );
    tpm2(&tpm, &format!("tpm2_evictcontrol -C o -c {ctx} 0x81000003"));
    tpm2(&tpm, "tpm2_flushcontext -t");
    let ca = throwaway_ca(&dir);
    let cert = certify(&dir, &ca, &ak_pem, "azure-ak");
    let mut padded = cert.clone();
    padded.extend([0x00; 16]);
    nv_write(&tpm, &dir, "0x01c101d0", "ownerread|ownerwrite", &padded);

    let (pem, cert_out, public) = (dir.path("az.pem"), dir.path("az.der"), dir.path("az.pub"));
    let run = cer_line(&format!(
        "tpm ak show --platform --tcti {} --pem-out {} --cert-out {} --public-out {}",
        tpm.tcti(),
        p(&pem),
        p(&cert_out),
        p(&public)
    ))
    .expect(0);
    assert!(run.stdout.contains("source       azure"), "{}", run.stdout);
    assert!(
        run.stdout.contains("handle       0x81000003"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("alg          rsa-2048"),
        "{}",
        run.stdout
    );
    assert_eq!(std::fs::read(&cert_out).unwrap(), cert, "padding stripped");
    assert_eq!(
        spki_of_pem(&pem, &dir, "az"),
        spki_of_cert(&cert_out, &dir, "azc")
    );
    let rp = dir.path("rp.pub");
    tpm2(
        &tpm,
        &format!("tpm2_readpublic -c 0x81000003 -o {}", p(&rp)),
    );
    assert_eq!(std::fs::read(public).unwrap(), std::fs::read(rp).unwrap());
    no_transients(&tpm);
}

#[test]
fn tpm_failures_are_one_line() {
    // A stopped swtpm.
    let tpm = Swtpm::start();
    let tcti = tpm.tcti();
    drop(tpm);
    for line in [
        format!("tpm ak create --tcti {tcti}"),
        format!("tpm ak show --tcti {tcti} --platform"),
        format!("tpm ek-certs --tcti {tcti} --out-dir /nonexistent/x"),
    ] {
        let run = cer_line(&line).expect(2);
        let err = run.one_error_line();
        assert!(
            err.contains(&tcti) && err.contains("is swtpm running"),
            "{err}"
        );
    }
    // A wrong TCTI, a bad handle or algorithm: usage errors.
    cer_line("tpm ak create --tcti swtpm:port=x").expect(2);
    cer_line("tpm ak create --tcti mssim:port=2321").expect(2);
    let run = cer_line("tpm ak create --tcti swtpm:port=2321 --handle 0x01c00002").expect(2);
    assert!(
        run.stderr.contains("not a persistent handle"),
        "{}",
        run.stderr
    );
    let run = cer_line("tpm ak create --tcti swtpm:port=2321 --alg dsa").expect(2);
    assert!(
        run.stderr.contains("unknown AK algorithm"),
        "{}",
        run.stderr
    );

    // Missing things, asked for explicitly.
    let tpm = Swtpm::start();
    let t = tpm.tcti();
    let run = cer_line(&format!("tpm ak show --tcti {t} --handle 0x81010009")).expect(2);
    let line = run.one_error_line();
    assert!(
        line.contains("no key at persistent handle 0x81010009"),
        "{line}"
    );
    assert!(line.contains("cer tpm ak create"), "{line}");
    // A platform persistent handle cannot take an owner-made AK.
    let run = cer_line(&format!("tpm ak create --tcti {t} --handle 0x81800001")).expect(2);
    assert!(run.one_error_line().contains("0x81800001"));
    // An existing output file is refused before the TPM is touched.
    let dir = TestDir::new();
    let existing = dir.write("exists.pub", b"keep me");
    let run = cer_line(&format!(
        "tpm ak create --tcti {t} --public-out {}",
        p(&existing)
    ))
    .expect(2);
    assert!(run.one_error_line().contains("already exists"));
    assert_eq!(std::fs::read(&existing).unwrap(), b"keep me");
    let persistent = tpm2(&tpm, "tpm2_getcap handles-persistent");
    assert!(!persistent.contains("0x81010002"), "{persistent}");
    // No EK certificate index at all.
    tpm2(&tpm, "tpm2_nvundefine -C p 0x01c00002");
    tpm2(&tpm, "tpm2_nvundefine -C p 0x01c00016");
    let run = cer_line(&format!(
        "tpm ek-certs --tcti {t} --out-dir {}",
        p(&dir.path("x"))
    ))
    .expect(2);
    let line = run.one_error_line();
    assert!(
        line.contains("no EK certificate") && line.contains("0x01c00002"),
        "{line}"
    );
    no_transients(&tpm);
}
