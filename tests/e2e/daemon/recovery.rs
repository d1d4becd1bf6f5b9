//! Restarts: acknowledged records survive and get attested; SIGTERM quotes the open
//! batch and exits within 5 s.

use std::time::Duration;

use super::{all_records, check_chain, run_description, Host};

fn hashes_of(d: &super::Daemon, n: std::ops::Range<usize>, wait: bool) -> Vec<String> {
    n.map(|i| {
        let a = d.submit(&run_description(i), wait);
        assert_eq!(a.status, 201, "{}", a.body);
        a.json()["certificateHash"].as_str().unwrap().to_owned()
    })
    .collect()
}

/// Records acknowledged but not yet batched when the daemon is killed are attested at
/// the next start, and the chain continues across restarts.
#[test]
fn restart_attests_acknowledged_records_and_keeps_the_chain() {
    // A window long enough that nothing is batched before the kill.
    let host = Host::new("window_ms = 60000\nmax_records = 3");
    let mut d = host.start();
    // max_records = 3: the first three form batch 0 at once; the other two wait.
    let acked = hashes_of(&d, 0..5, false);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while d.request("GET", "/v1/health", b"").json()["tpm"]["lastBatch"] != 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "batch 0 was not quoted"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let pending = d.request("GET", &format!("/v1/records/{}", acked[4]), b"");
    assert_eq!(pending.status, 202, "{}", pending.body);
    d.kill9();

    let d = host.start();
    let health = d.request("GET", "/v1/health", b"").json();
    let depth = health["queueDepth"].as_i64().unwrap();
    assert!((0..=2).contains(&depth), "{health}");
    // The recovered records are batched at once, without waiting for the window; once
    // attested they have left the queue (counted in at start, counted out when quoted).
    d.attested(&acked);
    let health = d.request("GET", "/v1/health", b"").json();
    assert_eq!(health["queueDepth"], 0, "{health}");
    let mut all = acked.clone();
    all.extend(hashes_of(&d, 5..8, false)); // a full batch (max_records = 3)
    let bundles = d.attested(&all);
    host.verify(&bundles).expect(0);
    let headers = check_chain(&bundles);
    assert!(
        headers.len() >= 3,
        "batches across two daemon runs: {headers:?}"
    );
    assert_eq!(all_records(&d).len(), 8);
}

/// SIGTERM: stop accepting, quote the open batch, exit 0 within 5 s. The quoted batch
/// is served at the next start even with the TPM gone.
#[test]
fn sigterm_quotes_the_open_batch_and_exits_quickly() {
    let mut host = Host::new("window_ms = 60000");
    let mut d = host.start();
    let acked = hashes_of(&d, 0..4, false);
    let (took, code) = d.term();
    assert_eq!(code, Some(0), "{}", d.log());
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert!(!host.socket.exists(), "the socket is removed");

    host.tpm.stop();
    let d = host.start();
    for h in &acked {
        let a = d.request("GET", &format!("/v1/records/{h}"), b"");
        assert_eq!(a.status, 200, "attested during the stop: {}", a.body);
    }
    let health = d.request("GET", "/v1/health", b"");
    assert_eq!(health.status, 503, "{}", health.body);
    assert_eq!(health.json()["status"], "degraded");
}

/// systemd integration (Type=notify): READY=1 once serving, WATCHDOG=1 pings at half
/// the watchdog interval, STOPPING=1 on SIGTERM, on a real NOTIFY_SOCKET.
#[test]
fn notifies_systemd() {
    let host = Host::new("window_ms = 20");
    let path = host.dir.path("notify.sock");
    let sock = std::os::unix::net::UnixDatagram::bind(&path).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut d = host.start_with_env(&[
        ("NOTIFY_SOCKET", path.to_str().unwrap()),
        ("WATCHDOG_USEC", "400000"),
    ]);
    let mut seen = Vec::new();
    let mut buf = [0u8; 256];
    while !(seen.iter().any(|m: &String| m.contains("READY=1"))
        && seen.iter().any(|m| m.contains("WATCHDOG=1")))
    {
        let n = sock.recv(&mut buf).expect("a notification within 10 s");
        seen.push(String::from_utf8_lossy(&buf[..n]).into_owned());
    }
    let (_, code) = d.term();
    assert_eq!(code, Some(0));
    loop {
        let n = sock.recv(&mut buf).expect("STOPPING=1 after SIGTERM");
        if String::from_utf8_lossy(&buf[..n]).contains("STOPPING=1") {
            break;
        }
    }
}

/// A bad config, a missing profile file and a second daemon on the same socket are
/// one-line errors with exit 2.
#[test]
fn start_errors_are_one_line() {
    let host = Host::new("window_ms = 20");
    let bad = host.dir.write("bad.toml", "[api]\nsockett = \"/tmp/x\"\n");
    let run = crate::util::cer(["daemon", "--config", bad.to_str().unwrap()]).expect(2);
    assert!(run.one_error_line().contains("sockett"), "{}", run.stderr);
    let text = std::fs::read_to_string(&host.config)
        .unwrap()
        .replace("models/*.gguf", "nothing/*.gguf");
    let missing = host.dir.write("missing.toml", text);
    let run = crate::util::cer(["daemon", "--config", missing.to_str().unwrap()]).expect(2);
    assert!(run.stderr.contains("matches no file"), "{}", run.stderr);
    let _d = host.start();
    let run = crate::util::cer(["daemon", "--config", host.config.to_str().unwrap()]).expect(2);
    assert!(
        run.stderr.contains("another daemon is listening"),
        "{}",
        run.stderr
    );
}
