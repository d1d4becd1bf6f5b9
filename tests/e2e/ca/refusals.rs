//! What the CA refuses: untrusted EK chains, a foreign EK, unfit AKs, a wrong name.

use serde_json::Value;

use super::support::*;
use super::{p, tool};
use crate::util::{cer, Swtpm};

#[test]
fn untrusted_chains_and_a_foreign_ek_are_refused() {
    let tpm = Swtpm::start();
    let t = setup(&tpm);
    let ca = t.path("ca");
    let req = request(&tpm, &t, "rsa2048");
    // No trust at all, then an unrelated root.
    let run = cer(["ca", "challenge", "--dir", p(&ca), p(&req)]).expect(1);
    let line = run.one_error_line();
    assert!(
        line.contains("EK certificate chain is not trusted") && line.contains("swtpm-localca"),
        "{line}"
    );
    let other = t.path("other");
    std::fs::create_dir(&other).unwrap();
    std::fs::copy(ca.join("ca-cert.pem"), other.join("unrelated.pem")).unwrap();
    let run = cer([
        "ca",
        "challenge",
        "--dir",
        p(&ca),
        p(&req),
        "--trust",
        p(&other),
    ])
    .expect(1);
    assert!(
        run.one_error_line().contains("not trusted"),
        "{}",
        run.stderr
    );
    // The root alone is not enough when the intermediate is not given.
    let root_only = t.path("root-only");
    std::fs::create_dir(&root_only).unwrap();
    std::fs::copy(
        Swtpm::ca_dir().join("swtpm-localca-rootca-cert.pem"),
        root_only.join("root.pem"),
    )
    .unwrap();
    let run = cer([
        "ca",
        "challenge",
        "--dir",
        p(&ca),
        p(&req),
        "--trust",
        p(&root_only),
    ])
    .expect(1);
    assert!(
        run.one_error_line().contains("issuer 'CN=swtpm-localca'"),
        "{}",
        run.stderr
    );
    // ... and enough when the request carries it (enroll-request --chain).
    let with_chain = t.path("req-chain.json");
    cer([
        "tpm",
        "enroll-request",
        "--tcti",
        &tpm.tcti(),
        "--chain",
        p(&Swtpm::ca_dir().join("issuercert.pem")),
        "-o",
        p(&with_chain),
    ])
    .expect(0);
    cer([
        "ca",
        "challenge",
        "--dir",
        p(&ca),
        p(&with_chain),
        "--trust",
        p(&root_only),
        "-o",
        p(&t.path("ch.json")),
    ])
    .expect(0);

    // A foreign EK: the EK public of another TPM (same provisioning, new EPS) with
    // this TPM's certificates.
    let other_tpm = Swtpm::start();
    let otcti = other_tpm.tcti();
    tool("tpm2_changeeps", &["-T", &otcti]);
    tool(
        "tpm2_createek",
        &[
            "-T",
            &otcti,
            "-c",
            p(&t.path("o.ctx")),
            "-G",
            "rsa",
            "-u",
            p(&t.path("o.pub")),
        ],
    );
    let mut r = json(&req);
    r["ekPublic"] = Value::from(b64e(&std::fs::read(t.path("o.pub")).unwrap()));
    let forged = t.path("forged.json");
    write_json(&forged, &r);
    let run = cer([
        "ca",
        "challenge",
        "--dir",
        p(&ca),
        p(&forged),
        "--trust-swtpm-ca",
        &swtpm_ca(),
    ])
    .expect(1);
    let line = run.one_error_line();
    assert!(
        line.contains("is not the key of any EK certificate in the request"),
        "{line}"
    );
    // Only the successful challenge above is pending.
    assert_eq!(std::fs::read_dir(ca.join("pending")).unwrap().count(), 1);
}

#[test]
fn unfit_aks_and_a_wrong_name_are_refused() {
    let tpm = Swtpm::start();
    let tcti = tpm.tcti();
    let t = setup(&tpm);
    let ca = t.path("ca");
    let base = json(&request(&tpm, &t, "rsa2048"));
    tool(
        "tpm2_createprimary",
        &["-Q", "-T", &tcti, "-C", "o", "-c", p(&t.path("srk.ctx"))],
    );
    let cases = [
        (
            "ecc256:ecdsa-sha256:null",
            "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|sign",
            "lacks restricted",
        ),
        (
            "ecc256:ecdsa-sha256:null",
            "sensitivedataorigin|userwithauth|restricted|sign",
            "lacks fixedTPM, fixedParent",
        ),
        (
            "ecc256:null:null",
            "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|decrypt|sign",
            "has decrypt",
        ),
    ];
    for (i, (alg, attrs, needle)) in cases.iter().enumerate() {
        let (pub_, name) = (t.path(&format!("k{i}.pub")), t.path(&format!("k{i}.name")));
        tool(
            "tpm2_create",
            &[
                "-Q",
                "-T",
                &tcti,
                "-C",
                p(&t.path("srk.ctx")),
                "-G",
                alg,
                "-a",
                attrs,
                "-u",
                p(&pub_),
                "-r",
                p(&t.path("k.priv")),
            ],
        );
        tool("tpm2_flushcontext", &["-T", &tcti, "-t"]);
        tool(
            "tpm2_loadexternal",
            &[
                "-Q",
                "-T",
                &tcti,
                "-C",
                "n",
                "-u",
                p(&pub_),
                "-c",
                p(&t.path("k.ctx")),
                "-n",
                p(&name),
            ],
        );
        tool("tpm2_flushcontext", &["-T", &tcti, "-t"]);
        let mut r = base.clone();
        r["akPublic"] = Value::from(b64e(&std::fs::read(&pub_).unwrap()));
        r["akName"] = Value::from(hex::encode(std::fs::read(&name).unwrap()));
        let f = t.path(&format!("bad{i}.json"));
        write_json(&f, &r);
        let run = cer([
            "ca",
            "challenge",
            "--dir",
            p(&ca),
            p(&f),
            "--trust-swtpm-ca",
            &swtpm_ca(),
        ])
        .expect(1);
        let line = run.one_error_line();
        assert!(
            line.contains("the AK is not a TPM-bound restricted signing key")
                && line.contains(needle),
            "{needle}: {line}"
        );
    }
    // A name that is not the AK's.
    let mut r = base.clone();
    let mut name = r["akName"].as_str().unwrap().to_owned();
    name.replace_range(10..12, if &name[10..12] == "00" { "01" } else { "00" });
    r["akName"] = Value::from(name);
    let f = t.path("badname.json");
    write_json(&f, &r);
    let run = cer([
        "ca",
        "challenge",
        "--dir",
        p(&ca),
        p(&f),
        "--trust-swtpm-ca",
        &swtpm_ca(),
    ])
    .expect(1);
    assert!(
        run.one_error_line().contains("is not the name of akPublic"),
        "{}",
        run.stderr
    );
    // A truncated AK public is malformed input.
    let mut r = base.clone();
    let mut ak = b64d(r["akPublic"].as_str().unwrap());
    ak.truncate(ak.len() - 1);
    r["akPublic"] = Value::from(b64e(&ak));
    let f = t.path("short.json");
    write_json(&f, &r);
    let run = cer([
        "ca",
        "challenge",
        "--dir",
        p(&ca),
        p(&f),
        "--trust-swtpm-ca",
        &swtpm_ca(),
    ])
    .expect(2);
    assert!(
        run.one_error_line()
            .contains("field akPublic: TPM2B_PUBLIC.size"),
        "{}",
        run.stderr
    );
    assert!(std::fs::read_dir(ca.join("pending"))
        .unwrap()
        .next()
        .is_none());
}
