//! The API: submit, wait for attestation, fetch, list, health, metrics, clients.

use serde_json::{json, Value};

use super::{all_records, check_chain, run_description, Daemon, Host};
use crate::util::{cer, cer_command, sha256sum};

/// POST ?wait=attested returns a bundle that `cer verify` accepts under a policy naming
/// the measured digests; GET returns the same record; the list is in order; health
/// and metrics say what happened.
#[test]
fn submit_attest_fetch_verify() {
    let host = Host::new("window_ms = 50");
    let d = host.start();
    let health = d.request("GET", "/v1/health", b"");
    assert_eq!(health.status, 200, "{}", health.body);
    let h = health.json();
    assert_eq!(h["status"], "ok");
    assert_eq!(h["tpm"]["state"], "ok");
    assert_eq!(h["measurementLog"]["state"], "ok");

    let a = d.submit(&run_description(1), true);
    assert_eq!(a.status, 201, "{}", a.body);
    let bundle = a.json();
    let hash = bundle["certificateHash"].as_str().unwrap().to_owned();
    // The runtime is the daemon's measured profile.
    let rt = &bundle["snapshot"]["runtime"];
    assert_eq!(rt["binary"]["digest"], sha256sum(&host.dir.path("infer")));
    assert_eq!(rt["modelFiles"].as_array().unwrap().len(), 2);
    assert_eq!(
        rt["modelFiles"][0]["digest"],
        sha256sum(&host.dir.path("models/a.gguf"))
    );
    assert_eq!(
        bundle["snapshot"]["inputHash"],
        format!(
            "sha256:{}",
            hex::encode(<sha2::Sha256 as sha2::Digest>::digest(b"question 1"))
        )
    );
    host.verify(std::slice::from_ref(&a.body)).expect(0);

    // Not waiting: 201 with the hash once durable; GET gives the bundle (202 until
    // attested, then 200).
    let b = d.submit(&run_description(2), false);
    assert_eq!(b.status, 201, "{}", b.body);
    let hash2 = b.json()["certificateHash"].as_str().unwrap().to_owned();
    let bundles = d.attested(&[hash.clone(), hash2.clone()]);
    let first: Value = serde_json::from_str(&bundles[0]).unwrap();
    assert_eq!(first, bundle, "GET returns the bundle the POST returned");
    host.verify(&bundles).expect(0);
    let by_hex = d.request(
        "GET",
        &format!("/v1/records/{}", hash2.trim_start_matches("sha256:")),
        b"",
    );
    assert_eq!(by_hex.status, 200);

    // The same description again is a new record (new createdAt, same executionId).
    let c = d.submit(&run_description(1), true);
    assert_eq!(c.status, 201);
    assert_ne!(c.json()["certificateHash"], bundle["certificateHash"]);

    let list = all_records(&d);
    let hashes: Vec<&str> = list
        .iter()
        .map(|r| r["certificateHash"].as_str().unwrap())
        .collect();
    assert_eq!(hashes.len(), 3);
    assert_eq!(hashes[0], hash);
    assert_eq!(hashes[1], hash2);
    assert!(list.iter().all(|r| r["attested"] == true));
    let page = d.request("GET", "/v1/records?since=1&limit=1", b"").json();
    assert_eq!(page["records"].as_array().unwrap().len(), 1);
    assert_eq!(page["records"][0]["certificateHash"], hash2);
    let all: Vec<String> = d.attested(&hashes.iter().map(|h| h.to_string()).collect::<Vec<_>>());
    check_chain(&all);

    // cer export --since N --to DIR writes the attested bundles as files.
    let sock = d.socket.display().to_string();
    let out = host.dir.path("export");
    let run = cer([
        "export",
        "--socket",
        &sock,
        "--since",
        "0",
        "--to",
        out.to_str().unwrap(),
    ])
    .expect(0);
    assert_eq!(run.stdout.trim(), "3", "the last position written");
    let mut files: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .collect();
    files.sort();
    assert_eq!(files.len(), 3);
    let mut args = vec!["verify".to_string()];
    args.extend(files);
    cer(&args).expect(0);
    let out2 = host.dir.path("export2");
    cer([
        "export",
        "--socket",
        &sock,
        "--since",
        "2",
        "--to",
        out2.to_str().unwrap(),
    ])
    .expect(0);
    assert_eq!(std::fs::read_dir(&out2).unwrap().count(), 1);

    let metrics = d.request("GET", "/metrics", b"").body;
    assert!(metrics.contains("cerd_records_sealed_total 3"), "{metrics}");
    assert!(
        metrics.contains("cerd_records_attested_total 3"),
        "{metrics}"
    );
    assert!(metrics.contains("cerd_queue_depth 0"), "{metrics}");
    assert!(
        metrics.contains("cerd_quote_duration_seconds_count"),
        "{metrics}"
    );
    let h = d.request("GET", "/v1/health", b"").json();
    assert!(h["tpm"]["lastQuoteAgeMs"].as_u64().is_some(), "{h}");
}

/// `cer record` and `cer run` write verified bundles; `cer run` passes stdin and
/// stdout through, hashes them, and exits with the command's status.
#[test]
fn record_and_run_clients() {
    let host = Host::new("window_ms = 20");
    let d = host.start();
    let sock = d.socket.display().to_string();
    let input = host
        .dir
        .write("prompt.txt", "What is the capital of France?\n");
    let out = host.dir.path("rec.cer.json");
    cer([
        "record",
        "--socket",
        &sock,
        "--provider",
        "local",
        "--model",
        "demo",
        "--input",
        input.to_str().unwrap(),
        "--output-hash",
        crate::util::HASH_B,
        "--param",
        "temperature=0.2",
        "-o",
        out.to_str().unwrap(),
    ])
    .expect(0);
    let rec: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(rec["snapshot"]["inputHash"], sha256sum(&input));
    assert_eq!(rec["snapshot"]["parameters"]["temperature"], 0.2);
    host.verify(&[std::fs::read_to_string(&out).unwrap()])
        .expect(0);

    // JSON on stdin.
    let run = crate::util::cer_stdin(
        ["record", "--socket", &sock, "--json", "-"],
        json!({"provider": "p", "model": "m", "inputHash": crate::util::HASH_A, "output": "x"})
            .to_string()
            .as_bytes(),
    )
    .expect(0);
    host.verify(&[run.stdout]).expect(0);

    // --no-wait: the sealed record at once (no evidence yet, or already attested);
    // its certificateHash is the one the daemon attests.
    let run = crate::util::cer_stdin(
        ["record", "--socket", &sock, "--json", "-", "--no-wait"],
        json!({"provider": "p", "model": "m", "inputHash": crate::util::HASH_A, "output": "y"})
            .to_string()
            .as_bytes(),
    )
    .expect(0);
    let sealed: Value = serde_json::from_str(&run.stdout).unwrap();
    let hash = sealed["certificateHash"].as_str().unwrap().to_owned();
    let attested = d.attested(std::slice::from_ref(&hash));
    let attested: Value = serde_json::from_str(&attested[0]).unwrap();
    assert_eq!(attested["certificateHash"], hash);
    assert_eq!(attested["snapshot"], sealed["snapshot"]);

    // A bad description is one error line naming the field, exit 2.
    let bad = cer([
        "record",
        "--socket",
        &sock,
        "--provider",
        "p",
        "--model",
        "m",
        "--input-hash",
        "sha256:00",
        "--output-hash",
        crate::util::HASH_B,
    ])
    .expect(2);
    assert!(
        bad.one_error_line().contains("field inputHash"),
        "{}",
        bad.stderr
    );

    // cer run: stdout passes through, input and output are hashed, argv and exit status
    // are the client's claims.
    let bundle = host.dir.path("run.cer.json");
    let out = crate::util::cer_stdin(
        [
            "run",
            "--socket",
            &sock,
            "--model",
            "demo",
            "-o",
            bundle.to_str().unwrap(),
            "--",
            host.dir.path("infer").to_str().unwrap(),
        ],
        b"hello paris\n",
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, "HELLO PARIS\n");
    let b: Value = serde_json::from_slice(&std::fs::read(&bundle).unwrap()).unwrap();
    let digest = |s: &[u8]| {
        format!(
            "sha256:{}",
            hex::encode(<sha2::Sha256 as sha2::Digest>::digest(s))
        )
    };
    assert_eq!(b["snapshot"]["inputHash"], digest(b"hello paris\n"));
    assert_eq!(b["snapshot"]["outputHash"], digest(b"HELLO PARIS\n"));
    assert_eq!(b["snapshot"]["clientClaims"]["exitStatus"], 0);
    assert_eq!(
        b["snapshot"]["clientClaims"]["argv"][0],
        host.dir.path("infer").display().to_string()
    );
    host.verify(&[std::fs::read_to_string(&bundle).unwrap()])
        .expect(0);

    let failing = host.dir.path("fail.cer.json");
    let status = cer_command()
        .args([
            "run",
            "--socket",
            &sock,
            "-o",
            failing.to_str().unwrap(),
            "--",
            "sh",
            "-c",
            "exit 7",
        ])
        .stdin(std::process::Stdio::null())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(7));
    let f: Value = serde_json::from_slice(&std::fs::read(&failing).unwrap()).unwrap();
    assert_eq!(f["snapshot"]["clientClaims"]["exitStatus"], 7);

    // No daemon: one line that says what to do.
    let none = cer([
        "record",
        "--socket",
        "/nonexistent/cerd.sock",
        "--provider",
        "p",
        "--model",
        "m",
        "--input-hash",
        crate::util::HASH_A,
        "--output-hash",
        crate::util::HASH_B,
    ])
    .expect(2);
    assert!(
        none.one_error_line().contains("is `cer daemon` running"),
        "{}",
        none.stderr
    );
}

/// SIGHUP measures the profile again: a changed model file is in the next records'
/// runtime and in the quoted log.
#[test]
fn sighup_remeasures_the_profile() {
    let host = Host::new("window_ms = 20");
    let d = host.start();
    host.dir.write("models/b.gguf", b"new weights for part b");
    d.hup();
    let new = sha256sum(&host.dir.path("models/b.gguf"));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let h = d.request("GET", "/v1/health", b"").json();
        if h["measurementLog"]["profile"]["modelFiles"][1]["digest"] == new.as_str() {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{h}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let a = d.submit(&run_description(9), true);
    assert_eq!(a.status, 201, "{}", a.body);
    assert_eq!(
        a.json()["snapshot"]["runtime"]["modelFiles"][1]["digest"],
        new.as_str()
    );
    host.verify(&[a.body]).expect(0); // the policy is built from the files as they are now
}

/// A TCP listener only when configured; it serves the same API.
#[test]
fn tcp_listener_when_configured() {
    // Without `api.tcp` the daemon listens on no TCP socket at all.
    let plain = Host::new("window_ms = 20");
    let d = plain.start();
    assert_eq!(tcp_listeners(d.pid()), 0, "a TCP listener without api.tcp");
    drop(d);

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let host = Host::with_api("window_ms = 20", &format!("tcp = \"127.0.0.1:{port}\""));
    let d = host.start();
    assert_eq!(tcp_listeners(d.pid()), 1);
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    use std::io::{Read, Write};
    s.write_all(b"GET /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let a = super::parse_answer(&out).unwrap();
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.json()["status"], "ok");
}

/// How many listening TCP sockets (IPv4 or IPv6) process `pid` holds: its socket fds
/// matched by inode against the kernel's LISTEN entries.
fn tcp_listeners(pid: u32) -> usize {
    let inodes: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter_map(|l| {
            let l = l.to_string_lossy().into_owned();
            Some(l.strip_prefix("socket:[")?.strip_suffix(']')?.to_owned())
        })
        .collect();
    ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|f| std::fs::read_to_string(f).ok())
        .flat_map(|t| t.lines().skip(1).map(str::to_owned).collect::<Vec<_>>())
        .filter(|line| {
            let cols: Vec<&str> = line.split_whitespace().collect();
            cols.get(3) == Some(&"0A") && cols.get(9).is_some_and(|i| inodes.iter().any(|x| x == i))
        })
        .count()
}

/// With `[snp] source = "sim:DIR"` a batch carries a (simulated) SEV-SNP report
/// bound to the batch and the AK next to the TPM quote; `cer verify` checks both under
/// a policy that trusts the simulated ARK, and refuses the report otherwise.
#[test]
fn tpm_and_snp_evidence_in_a_batch() {
    let t = crate::util::TestDir::new();
    let (sim, trust_sim) = crate::snp::attest::sim(&t);
    let host = Host::new(&format!(
        "window_ms = 50\n[snp]\nsource = \"sim:{}\"\n",
        sim.display()
    ));
    let d = host.start();
    let h = d.request("GET", "/v1/health", b"").json();
    assert_eq!(h["snp"]["source"], format!("sim:{}", sim.display()), "{h}");
    let a = d.submit(&run_description(7), true);
    assert_eq!(a.status, 201, "{}", a.body);
    let bundle = a.json();
    let ev = &bundle["meta"]["cerd"]["evidence"];
    assert!(ev["tpm"].is_object() && ev["snp"].is_object(), "{ev}");
    assert_eq!(ev["snp"]["simulated"], true);
    assert_eq!(
        d.request("GET", "/v1/health", b"").json()["snp"]["state"],
        "ok"
    );

    // The host's policy plus trust in the simulated ARK: every line passes.
    let policy = format!(
        "{}{trust_sim}",
        std::fs::read_to_string(host.policy()).unwrap()
    );
    let policy = host.dir.write("policy-snp.toml", policy);
    let file = host.dir.write("snp-bundle.cer.json", &a.body);
    let run = cer([
        "verify",
        "--format",
        "json",
        "--policy",
        policy.to_str().unwrap(),
        file.to_str().unwrap(),
    ])
    .expect(0);
    let v = &run.json_lines()[0];
    let snp = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "snp_report")
        .unwrap();
    assert_eq!(snp["status"], "PASS", "{v}");
    // Without that trust the simulated report is refused.
    let run = host.verify(&[a.body]).expect(1);
    assert!(
        run.stdout.contains("SNP_SIMULATED_UNTRUSTED"),
        "{}",
        run.stdout
    );
}

/// An SEV-SNP guest without a TPM (`tpm.enabled = false`): each batch carries an SNP
/// report alone, REPORT_DATA binding its header; the runtime profile is hashed (no PCR,
/// no log) and the policy's binary and model digests still apply to the records. The
/// batch chain continues across a restart; a report moved to another batch is refused.
#[test]
fn snp_only_guest_without_a_tpm() {
    let t = crate::util::TestDir::new();
    let (sim, trust_sim) = crate::snp::attest::sim(&t);
    let infer = t.write("infer", b"#!/bin/sh\ncat\n");
    t.write("model.gguf", b"weights of the only model");
    let socket = t.path("cerd.sock");
    let config = t.write(
        "cerd.toml",
        format!(
            "state_dir = \"{}\"\n[api]\nsocket = \"{}\"\n[tpm]\nenabled = false\n[snp]\nsource = \"sim:{}\"\n[runtime]\nbinary = \"{}\"\nmodel_files = [\"{}\"]\n[batch]\nwindow_ms = 50\nretry_max_ms = 200\n",
            t.path("state").display(),
            socket.display(),
            sim.display(),
            infer.display(),
            t.path("model.gguf").display(),
        ),
    );
    let log = t.path("daemon.log");
    let mut d = Daemon::spawn(&config, &socket, &log, &[]);
    let h = d.request("GET", "/v1/health", b"").json();
    assert_eq!(h["tpm"]["state"], "not configured", "{h}");
    assert_eq!(h["status"], "ok", "{h}");
    assert!(
        h["measurementLog"]["state"]
            .as_str()
            .unwrap()
            .starts_with("none (no TPM"),
        "{h}"
    );

    let mut bundles: Vec<String> = (0..3)
        .map(|i| {
            let a = d.submit(&run_description(i), true);
            assert_eq!(a.status, 201, "{}", a.body);
            a.body
        })
        .collect();
    let first: Value = serde_json::from_str(&bundles[0]).unwrap();
    let ev = &first["meta"]["cerd"]["evidence"];
    assert!(ev.get("tpm").is_none() && ev["snp"].is_object(), "{ev}");
    assert_eq!(
        first["snapshot"]["runtime"]["binary"]["digest"],
        sha256sum(&infer),
        "{}",
        first["snapshot"]
    );
    let h = d.request("GET", "/v1/health", b"").json();
    assert_eq!(h["snp"]["state"], "ok", "{h}");
    assert!(h["snp"]["lastBatch"].is_u64(), "{h}");

    // The SNP source fails (the simulated guest's directory is gone): records are
    // still sealed and acknowledged, health turns degraded naming SNP, and the record
    // is attested once the source is back.
    let away = t.path("sim-away");
    std::fs::rename(&sim, &away).unwrap();
    let a = d.submit(&run_description(10), false);
    assert_eq!(a.status, 201, "{}", a.body);
    let hash = a.json()["certificateHash"].as_str().unwrap().to_owned();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let h = d.request("GET", "/v1/health", b"");
        if h.status == 503 {
            let v = h.json();
            assert_eq!(v["snp"]["state"], "unavailable", "{v}");
            assert!(
                v["reasons"][0].as_str().unwrap().starts_with("snp: "),
                "{v}"
            );
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never degraded: {}",
            h.body
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(
        d.request("GET", &format!("/v1/records/{hash}"), b"").status,
        202
    );
    std::fs::rename(&away, &sim).unwrap();
    bundles.extend(d.attested(&[hash]));
    assert_eq!(d.request("GET", "/v1/health", b"").status, 200);

    // A restart continues the chain.
    let (_, code) = d.term();
    assert_eq!(code, Some(0), "{}", std::fs::read_to_string(&log).unwrap());
    let d = Daemon::spawn(&config, &socket, &log, &[]);
    let a = d.submit(&run_description(3), true);
    assert_eq!(a.status, 201, "{}", a.body);
    bundles.push(a.body);
    let headers = check_chain(&bundles);
    assert!(headers.len() >= 3, "{headers:?}");

    // Every bundle verifies under a policy naming the measured files and trusting the
    // simulated ARK; the log replay has nothing to replay.
    let policy = t.write(
        "policy.toml",
        format!(
            "[binaries]\ninfer = \"{}\"\n[models]\nm = [\"{}\"]\n{trust_sim}",
            sha256sum(&infer),
            sha256sum(&t.path("model.gguf")),
        ),
    );
    let mut args = vec![
        "verify".to_owned(),
        "--format".into(),
        "json".into(),
        "--policy".into(),
        policy.display().to_string(),
    ];
    let files: Vec<String> = bundles
        .iter()
        .enumerate()
        .map(|(i, b)| t.write(&format!("b{i}.cer.json"), b).display().to_string())
        .collect();
    args.extend(files.iter().cloned());
    let run = cer(&args).expect(0);
    for v in run.json_lines() {
        let status = |name: &str| {
            v["checks"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["check"] == name)
                .unwrap_or_else(|| panic!("no {name} in {v}"))["status"]
                .clone()
        };
        assert_eq!(status("snp_report"), "PASS", "{v}");
        assert_eq!(status("policy_binary"), "PASS", "{v}");
        assert_eq!(status("policy_models"), "PASS", "{v}");
        assert_eq!(status("log_replay"), "SKIPPED", "{v}");
    }

    // A policy that does not pin the guest's launch measurement accepts no SNP-only
    // bundle: AMD's chain alone does not say which guest made it.
    let unpinned: String = std::fs::read_to_string(&policy)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("measurements"))
        .map(|l| format!("{l}\n"))
        .collect();
    let unpinned = t.write("unpinned.toml", unpinned);
    let run = cer(["verify", "--policy", unpinned.to_str().unwrap(), &files[0]]).expect(1);
    assert!(
        run.stdout.contains("SNP_GUEST_NOT_PINNED"),
        "{}",
        run.stdout
    );

    // The first batch's bundle with the last batch's report: bound to another header.
    let last: Value = serde_json::from_str(bundles.last().unwrap()).unwrap();
    let mut moved = first.clone();
    moved["meta"]["cerd"]["evidence"]["snp"] = last["meta"]["cerd"]["evidence"]["snp"].clone();
    let file = t.write("moved.cer.json", serde_json::to_vec(&moved).unwrap());
    assert_ne!(first, last);
    let run = cer([
        "verify",
        "--policy",
        policy.to_str().unwrap(),
        file.to_str().unwrap(),
    ])
    .expect(1);
    assert!(
        run.stdout.contains("SNP_REPORT_DATA_MISMATCH"),
        "{}",
        run.stdout
    );
}

/// A TPM-less daemon whose SNP device is missing (no SEV-SNP here) still starts and
/// acknowledges records, and reports itself degraded naming the device at once.
#[test]
fn snp_only_without_the_device_is_degraded_from_the_start() {
    if std::path::Path::new("/dev/sev-guest").exists() {
        eprintln!("skipped: this machine is an SEV-SNP guest");
        return;
    }
    let t = crate::util::TestDir::new();
    let socket = t.path("cerd.sock");
    let config = t.write(
        "cerd.toml",
        format!(
            "state_dir = \"{}\"\n[api]\nsocket = \"{}\"\n[tpm]\nenabled = false\n[snp]\nsource = \"/dev/sev-guest\"\n",
            t.path("state").display(),
            socket.display(),
        ),
    );
    let d = Daemon::spawn(&config, &socket, &t.path("daemon.log"), &[]);
    let h = d.request("GET", "/v1/health", b"");
    assert_eq!(h.status, 503, "{}", h.body);
    let v = h.json();
    assert_eq!(v["snp"]["state"], "unavailable", "{v}");
    let reason = v["reasons"][0].as_str().unwrap();
    assert!(
        reason.starts_with("snp: /dev/sev-guest does not exist"),
        "{v}"
    );
    let a = d.submit(&run_description(1), false);
    assert_eq!(a.status, 201, "{}", a.body);
}
