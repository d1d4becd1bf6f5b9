//! Cross-checks with tpm2-tools: cer's software TPM2_MakeCredential activates with
//! tpm2_activatecredential on a real (software) TPM, and tpm2_makecredential's output
//! activates with `cer tpm activate`. Both sides are randomized (seed, ephemeral key),
//! so outputs are never byte-equal: the check is that each activates.

use serde_json::Value;

use super::support::*;
use super::{p, tool};
use crate::util::{cer, Swtpm};

#[test]
fn our_make_credential_activates_with_tpm2_tools_for_rsa_p256_and_p384_eks() {
    let tpm = Swtpm::start();
    let tcti = tpm.tcti();
    let t = setup(&tpm);
    let ca = t.path("ca");
    // A vendor chain made here for an ECC P-256 EK (template L-2, which swtpm does not
    // certify): an RSA-3072 root signs an ECDSA P-384 intermediate with RSA-PSS
    // (explicit parameters), which signs the EK certificate with ECDSA-SHA384.
    // tpm2_createek makes the EK; openssl certifies its key.
    let vendor = t.path("vendor");
    std::fs::create_dir(&vendor).unwrap();
    let root = vendor.join("root.pem");
    tool(
        "openssl",
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:3072",
            "-nodes",
            "-keyout",
            p(&t.path("root.key")),
            "-out",
            p(&root),
            "-subj",
            "/CN=Test TPM Vendor Root",
            "-days",
            "30",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign",
        ],
    );
    let ca_ext = t.write(
        "ca.cnf",
        "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign\n",
    );
    tool(
        "openssl",
        &[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-384",
            "-nodes",
            "-keyout",
            p(&t.path("int.key")),
            "-subj",
            "/CN=Test TPM Vendor EK CA",
            "-out",
            p(&t.path("int.csr")),
        ],
    );
    tool(
        "openssl",
        &[
            "x509",
            "-req",
            "-in",
            p(&t.path("int.csr")),
            "-CA",
            p(&root),
            "-CAkey",
            p(&t.path("root.key")),
            "-sha256",
            "-sigopt",
            "rsa_padding_mode:pss",
            "-sigopt",
            "rsa_pss_saltlen:32",
            "-days",
            "20",
            "-extfile",
            p(&ca_ext),
            "-out",
            p(&t.path("int.pem")),
        ],
    );
    let int_text = tool(
        "openssl",
        &["x509", "-in", p(&t.path("int.pem")), "-noout", "-text"],
    );
    assert!(int_text.contains("rsassaPss"), "{int_text}");
    tool(
        "openssl",
        &[
            "x509",
            "-in",
            p(&t.path("int.pem")),
            "-outform",
            "der",
            "-out",
            p(&t.path("int.der")),
        ],
    );
    tool(
        "tpm2_createek",
        &[
            "-T",
            &tcti,
            "-c",
            p(&t.path("ek256.ctx")),
            "-G",
            "ecc",
            "-u",
            p(&t.path("ek256.pub")),
        ],
    );
    tool(
        "tpm2_readpublic",
        &[
            "-T",
            &tcti,
            "-c",
            p(&t.path("ek256.ctx")),
            "-f",
            "pem",
            "-o",
            p(&t.path("ek256.pem")),
        ],
    );
    tool("tpm2_flushcontext", &["-T", &tcti, "-t"]);
    tool(
        "openssl",
        &[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            p(&t.path("throwaway.key")),
            "-subj",
            "/CN=EK",
            "-out",
            p(&t.path("ek.csr")),
        ],
    );
    let ext = t.write(
        "ext.cnf",
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,keyAgreement\n",
    );
    tool(
        "openssl",
        &[
            "x509",
            "-req",
            "-in",
            p(&t.path("ek.csr")),
            "-CA",
            p(&t.path("int.pem")),
            "-CAkey",
            p(&t.path("int.key")),
            "-sha384",
            "-force_pubkey",
            p(&t.path("ek256.pem")),
            "-days",
            "10",
            "-extfile",
            p(&ext),
            "-outform",
            "der",
            "-out",
            p(&t.path("ek256.der")),
        ],
    );

    // (EK kind, request edits, trust flags, EK handle for tpm2_activatecredential, EK auth)
    let base = json(&request(&tpm, &t, "rsa2048"));
    let mut p256 = base.clone();
    p256["ekCertificates"] = Value::from(vec![b64e(&std::fs::read(t.path("ek256.der")).unwrap())]);
    p256["ekPublic"] = Value::from(b64e(&std::fs::read(t.path("ek256.pub")).unwrap()));
    p256["ekChain"] = Value::from(vec![b64e(&std::fs::read(t.path("int.der")).unwrap())]);
    let cases = [
        (
            "rsa2048",
            base.clone(),
            vec!["--trust-swtpm-ca".to_owned(), swtpm_ca()],
            "0x81010001",
            true,
        ),
        (
            "eccp384",
            json(&request(&tpm, &t, "eccp384")),
            vec!["--trust-swtpm-ca".to_owned(), swtpm_ca()],
            "0x81010016",
            false,
        ),
        (
            "eccp256",
            p256,
            vec!["--trust".to_owned(), p(&vendor).to_owned()],
            "ek256.ctx",
            true,
        ),
    ];
    for (name, req, trust, ek_handle, policy) in cases {
        let req_path = t.path(&format!("req-x-{name}.json"));
        write_json(&req_path, &req);
        let (ch, blob) = (
            t.path(&format!("ch-{name}.json")),
            t.path(&format!("{name}.blob")),
        );
        let mut args = vec![
            "ca".to_owned(),
            "challenge".into(),
            "--dir".into(),
            p(&ca).into(),
            p(&req_path).into(),
            "-o".into(),
            p(&ch).into(),
            "--tpm2-tools-blob".into(),
            p(&blob).into(),
        ];
        args.extend(trust);
        cer(&args).expect(0);
        let id = json(&ch)["id"].as_str().unwrap().to_owned();
        let expected =
            json(&ca.join("pending").join(format!("{id}.json")))["credentialSha256"].clone();
        let secret = t.path(&format!("{name}.secret"));
        let ek = if ek_handle.ends_with(".ctx") {
            p(&t.path(ek_handle)).to_owned()
        } else {
            ek_handle.to_owned()
        };
        let mut act = vec![
            "-T",
            &tcti,
            "-c",
            "0x81010002",
            "-C",
            &ek,
            "-i",
            p(&blob),
            "-o",
            p(&secret),
        ];
        let session = t.path("session.ctx");
        let auth = format!("session:{}", p(&session));
        if policy {
            tool(
                "tpm2_startauthsession",
                &["-T", &tcti, "--policy-session", "-S", p(&session)],
            );
            tool(
                "tpm2_policysecret",
                &["-T", &tcti, "-S", p(&session), "-c", "e"],
            );
            act.extend(["-P", &auth]);
        }
        tool("tpm2_activatecredential", &act);
        if policy {
            tool("tpm2_flushcontext", &["-T", &tcti, p(&session)]);
        }
        tool("tpm2_flushcontext", &["-T", &tcti, "-t"]);
        let credential = std::fs::read(&secret).unwrap();
        assert_eq!(sha256_hex(&credential), expected, "{name}");
        // The recovered credential completes the enrollment.
        let resp = t.write(
            &format!("resp-{name}.json"),
            serde_json::json!({
                "format": "cerd-enroll-response/1", "id": id, "credential": b64e(&credential)
            })
            .to_string(),
        );
        cer([
            "ca",
            "issue",
            "--dir",
            p(&ca),
            p(&resp),
            "-o",
            p(&t.path(&format!("ak-{name}.pem"))),
        ])
        .expect(0);
    }
}

#[test]
fn tpm2_tools_make_credential_activates_with_cer() {
    let tpm = Swtpm::start();
    let t = setup(&tpm);
    let secret = t.write("secret.bin", [0x42u8; 32]);
    for ek in ["rsa2048", "eccp384"] {
        let req = json(&request(&tpm, &t, ek));
        let ek_pub = t.write("ek.pub", b64d(req["ekPublic"].as_str().unwrap()));
        let blob = t.path(&format!("{ek}.blob"));
        tool(
            "tpm2_makecredential",
            &[
                "-Q",
                "-T",
                "none",
                "-u",
                p(&ek_pub),
                "-s",
                p(&secret),
                "-n",
                req["akName"].as_str().unwrap(),
                "-o",
                p(&blob),
            ],
        );
        // tpm2-tools' blob: magic 0xBADCC0DE, version 1, TPM2B_ID_OBJECT,
        // TPM2B_ENCRYPTED_SECRET.
        let b = std::fs::read(&blob).unwrap();
        assert_eq!(&b[..8], &[0xba, 0xdc, 0xc0, 0xde, 0, 0, 0, 1]);
        let n = usize::from(u16::from_be_bytes([b[8], b[9]]));
        let (id_object, enc) = b[8..].split_at(2 + n);
        let ch = t.path(&format!("ch-{ek}.json"));
        write_json(
            &ch,
            &serde_json::json!({
                "format": "cerd-enroll-challenge/1",
                "id": "6f0b3c1e-6a51-4c2e-9d6e-0123456789ab",
                "credentialBlob": b64e(id_object),
                "encryptedSecret": b64e(enc),
                "ekPublic": req["ekPublic"],
                "akName": req["akName"],
            }),
        );
        let resp = t.path(&format!("resp-{ek}.json"));
        cer([
            "tpm",
            "activate",
            "--tcti",
            &tpm.tcti(),
            p(&ch),
            "-o",
            p(&resp),
        ])
        .expect(0);
        assert_eq!(
            b64d(json(&resp)["credential"].as_str().unwrap()),
            vec![0x42u8; 32],
            "{ek}"
        );
        no_transients(&tpm);
    }
}
