//! Faults: kill -9 under load, the TPM going away, malformed, oversized and slow
//! requests.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{all_records, check_chain, raw, run_description, Host};

/// Three rounds of: clients submitting as fast as they can, `kill -9` mid-load,
/// restart. Every record that was acknowledged (201) is found afterwards, attested,
/// verifiable, and the batch chain is intact.
#[test]
fn kill9_under_load_loses_no_acknowledged_record() {
    let host = Host::new("window_ms = 30");
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut counter = 0usize;
    for round in 0..3 {
        let mut d = host.start();
        let stop = Arc::new(AtomicBool::new(false));
        let clients: Vec<_> = (0..4)
            .map(|c| {
                let (stop, acked, socket) = (stop.clone(), acked.clone(), host.socket.clone());
                let base = counter + c * 1_000_000;
                std::thread::spawn(move || {
                    let mut i = base;
                    while !stop.load(Ordering::Relaxed) {
                        let body = run_description(i).to_string();
                        i += 1;
                        let req = format!(
                            "POST /v1/records HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        );
                        match raw(&socket, req.as_bytes()) {
                            Ok(a) if a.status == 201 => {
                                let v: serde_json::Value = serde_json::from_str(&a.body).unwrap();
                                acked.lock().unwrap().push(v["certificateHash"].as_str().unwrap().to_owned());
                            }
                            Ok(a) => panic!("unexpected answer {} {}", a.status, a.body),
                            Err(_) => {} // the daemon is gone: not acknowledged
                        }
                    }
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(400 + 150 * round as u64));
        d.kill9();
        stop.store(true, Ordering::Relaxed);
        for c in clients {
            c.join().unwrap();
        }
        counter += 100;
    }
    let d = host.start();
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() > 50,
        "load was too light: {} records",
        acked.len()
    );
    let stored: std::collections::HashSet<String> = all_records(&d)
        .iter()
        .map(|r| r["certificateHash"].as_str().unwrap().to_owned())
        .collect();
    for h in &acked {
        assert!(stored.contains(h), "acknowledged record {h} is lost");
    }
    // Every stored record (acknowledged or not) gets attested; the chain covers them all.
    let all: Vec<String> = stored.into_iter().collect();
    let bundles = d.attested(&all);
    check_chain(&bundles);
    // Verify a sample with `cer verify` and the policy (all would take long; each
    // bundle is checked above for presence and its batch for the chain).
    let sample: Vec<String> = bundles
        .iter()
        .step_by((bundles.len() / 40).max(1))
        .cloned()
        .collect();
    host.verify(&sample).expect(0);
}

/// With the TPM gone, submissions are still sealed and acknowledged, health turns
/// degraded; when the TPM is back (a TPM reset: the profile is measured again),
/// attestation resumes and the records verify.
#[test]
fn tpm_outage_degrades_and_recovers() {
    let mut host = Host::new("window_ms = 20\nretry_max_ms = 200");
    let d = host.start();
    let a = d.submit(&run_description(0), true);
    assert_eq!(a.status, 201);
    host.tpm.stop();
    let mut acked = Vec::new();
    for i in 1..6 {
        let a = d.submit(&run_description(i), false);
        assert_eq!(
            a.status, 201,
            "sealed and acknowledged without a TPM: {}",
            a.body
        );
        acked.push(a.json()["certificateHash"].as_str().unwrap().to_owned());
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let h = d.request("GET", "/v1/health", b"");
        if h.status == 503 {
            let v = h.json();
            assert_eq!(v["status"], "degraded");
            assert_eq!(v["tpm"]["state"], "unavailable");
            assert!(
                v["reasons"][0].as_str().unwrap().starts_with("tpm: "),
                "{v}"
            );
            assert!(v["queueDepth"].as_i64().unwrap() >= 5, "{v}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "health never turned degraded: {}",
            h.body
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        d.request("GET", &format!("/v1/records/{}", acked[0]), b"")
            .status,
        202
    );
    host.tpm.restart();
    let bundles = d.attested(&acked);
    host.verify(&bundles).expect(0);
    let deadline = Instant::now() + Duration::from_secs(10);
    while d.request("GET", "/v1/health", b"").status != 200 {
        assert!(Instant::now() < deadline, "health did not recover");
        std::thread::sleep(Duration::from_millis(20));
    }
    let metrics = d.request("GET", "/metrics", b"").body;
    assert!(!metrics.contains("cerd_tpm_errors_total 0\n"), "{metrics}");
}

/// Malformed, oversized and slow requests get a 4xx (or the connection is dropped);
/// the daemon keeps serving.
#[test]
fn malformed_oversized_and_slow_requests() {
    let host = Host::new("window_ms = 20");
    let d = host.start();
    let post = |body: &str| d.request("POST", "/v1/records", body.as_bytes());
    let err = |a: &super::Answer| a.json()["error"].clone();

    let a = post("{not json");
    assert_eq!(a.status, 400);
    assert_eq!(err(&a)["code"], "BAD_JSON");
    let mut desc = run_description(1);
    desc["color"] = "blue".into();
    let a = post(&desc.to_string());
    assert_eq!(
        (a.status, err(&a)["field"].as_str()),
        (400, Some("color")),
        "{}",
        a.body
    );
    let a = post(r#"{"model":"m"}"#);
    assert_eq!(err(&a)["field"], "provider");
    let mut desc = run_description(1);
    desc["parameters"]["maxTokens"] = (-1).into();
    let a = post(&desc.to_string());
    assert_eq!(err(&a)["field"], "parameters", "{}", a.body);
    let a = post("[]");
    assert_eq!(a.status, 400);

    // Oversized: by Content-Length, and chunked without a length.
    // (The daemon answers from the headers; the body is not sent, so the test does
    // not race the daemon closing the connection.)
    let a = raw(
        &d.socket,
        b"POST /v1/records HTTP/1.1\r\nHost: x\r\nContent-Length: 70000\r\n\r\n{",
    )
    .unwrap();
    assert_eq!(a.status, 413, "{}", a.body);
    let mut chunked = b"POST /v1/records HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n".to_vec();
    for _ in 0..10 {
        chunked.extend_from_slice(format!("{:x}\r\n{}\r\n", 10_000, "y".repeat(10_000)).as_bytes());
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let a = raw(&d.socket, &chunked).unwrap();
    assert_eq!(a.status, 413, "{}", a.body);

    // Not HTTP at all: an error status or a dropped connection.
    if let Ok(a) = raw(&d.socket, b"HELLO THERE\r\n\r\n") {
        assert!((400..500).contains(&a.status), "{}", a.status);
    }

    // Slow headers: dropped after the request timeout (1.5 s).
    let mut slow = UnixStream::connect(&d.socket).unwrap();
    slow.write_all(b"POST /v1/records HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let start = Instant::now();
    let mut buf = Vec::new();
    let _ = slow.read_to_end(&mut buf);
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "slow headers held {:?}",
        start.elapsed()
    );
    if !buf.is_empty() {
        let a = super::parse_answer(&buf).unwrap();
        assert_eq!(a.status, 408);
    }

    // Slow body: 408 after the request timeout.
    let mut slow = UnixStream::connect(&d.socket).unwrap();
    slow.write_all(
        b"POST /v1/records HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"provider\"",
    )
    .unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut buf = Vec::new();
    let _ = slow.read_to_end(&mut buf);
    let a = super::parse_answer(&buf).unwrap();
    assert_eq!(a.status, 408, "{}", a.body);

    // Other mistakes.
    assert_eq!(d.request("GET", "/v1/records/sha256:xyz", b"").status, 400);
    assert_eq!(
        d.request("GET", &format!("/v1/records/{}", crate::util::HASH_A), b"")
            .status,
        404
    );
    assert_eq!(d.request("DELETE", "/v1/records", b"").status, 405);
    assert_eq!(d.request("GET", "/nope", b"").status, 404);
    assert_eq!(
        d.request("POST", "/v1/records?wait=forever", b"{}").status,
        400
    );
    assert_eq!(d.request("GET", "/v1/records?limit=-1", b"").status, 400);

    // Still serving.
    let a = d.submit(&run_description(2), true);
    assert_eq!(a.status, 201, "{}", a.body);
    host.verify(&[a.body]).expect(0);
    let metrics = d.request("GET", "/metrics", b"").body;
    assert!(
        !metrics.contains("cerd_bad_requests_total 0\n"),
        "{metrics}"
    );
}

/// Someone else extends the measurement PCR: the next quote's log no longer replays
/// (health degraded, naming the log); at the next start reconciliation records the
/// foreign extend (still degraded, with the reason), and records sealed after it
/// verify again because the profile is measured after the foreign record.
#[test]
fn foreign_pcr_extend_degrades_health() {
    let host = Host::new("window_ms = 20");
    let mut d = host.start();
    let ext = std::process::Command::new("tpm2_pcrextend")
        .arg("-T")
        .arg(format!("swtpm:host=127.0.0.1,port={}", host.tpm.port))
        .arg(format!("15:sha256={}", "ab".repeat(32)))
        .output()
        .unwrap();
    assert!(
        ext.status.success(),
        "{}",
        String::from_utf8_lossy(&ext.stderr)
    );
    let a = d.submit(&run_description(1), true);
    assert_eq!(a.status, 201);
    let h = d.request("GET", "/v1/health", b"");
    assert_eq!(h.status, 503, "{}", h.body);
    let v = h.json();
    assert_eq!(v["measurementLog"]["state"], "mismatch", "{v}");
    assert!(
        v["measurementLog"]["reason"]
            .as_str()
            .unwrap()
            .contains("does not replay"),
        "{v}"
    );
    // That record's log does not replay to its quote: verification says so.
    let run = host.verify(&[a.body]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(run.stdout.contains("LOG_REPLAY_MISMATCH"), "{}", run.stdout);

    d.kill9();
    let d = host.start();
    let v = d.request("GET", "/v1/health", b"").json();
    assert_eq!(v["measurementLog"]["state"], "mismatch", "{v}");
    assert!(
        v["measurementLog"]["reason"]
            .as_str()
            .unwrap()
            .contains("foreign"),
        "{v}"
    );
    let a = d.submit(&run_description(2), true);
    assert_eq!(a.status, 201);
    host.verify(&[a.body]).expect(0);
    // The reason stays until the profile is measured again (SIGHUP).
    assert_eq!(d.request("GET", "/v1/health", b"").status, 503);
    d.hup();
    let deadline = Instant::now() + Duration::from_secs(10);
    while d.request("GET", "/v1/health", b"").status != 200 {
        assert!(
            Instant::now() < deadline,
            "health did not recover after SIGHUP"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
