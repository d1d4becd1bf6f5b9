//! `cer snp kds-fetch` against a local KDS stand-in (`data/kds_server.py`, a real
//! HTTP server on 127.0.0.1 run by the system python3) serving the real Milan vectors
//! from `../shared/vectors/snp` at KDS's paths, fetched with the system curl.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use crate::util::{cer, TestDir};

fn vectors() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/vectors/snp");
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

/// A running KDS stand-in; killed on drop.
struct Kds {
    child: Child,
    port: u16,
    hits: PathBuf,
}

impl Kds {
    /// `mode`: ok | 429once | 404; serves `vcek` (DER) and `chain` (PEM).
    /// A stand-in serving the real Milan VCEK and cert_chain of `vectors`.
    fn milan(t: &TestDir, vectors: &Path, mode: &str) -> Self {
        Self::start(
            t,
            mode,
            &vectors.join("virtee-sev/vcek_milan.der"),
            &vectors.join("virtee-sev/cert_chain_milan"),
        )
    }

    fn start(t: &TestDir, mode: &str, vcek: &Path, chain: &Path) -> Self {
        let portfile = t.path("kds.port");
        let hits = t.path("kds.hits");
        std::fs::write(&hits, "").unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e/data/kds_server.py");
        let child = Command::new("python3")
            .arg(script)
            .arg(&portfile)
            .arg(&hits)
            .arg(mode)
            .arg(vcek)
            .arg(chain)
            .spawn()
            .expect("python3 (CPython 3) is needed for the KDS stand-in");
        let deadline = Instant::now() + Duration::from_secs(10);
        let port = loop {
            if let Ok(s) = std::fs::read_to_string(&portfile) {
                break s.trim().parse().unwrap();
            }
            assert!(Instant::now() < deadline, "the KDS stand-in did not start");
            std::thread::sleep(Duration::from_millis(20));
        };
        Self { child, port, hits }
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn hits(&self) -> Vec<String> {
        std::fs::read_to_string(&self.hits)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

impl Drop for Kds {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn fetch(report: &Path, cache: &Path, kds: &Kds, code: i32) -> crate::util::Run {
    cer([
        "snp",
        "kds-fetch",
        "--report",
        report.to_str().unwrap(),
        "--cache",
        cache.to_str().unwrap(),
        "--generation",
        "milan",
        "--kds-base",
        &kds.base(),
        "--kds-interval-ms",
        "10",
        "--kds-retry-after",
        "1",
    ])
    .expect(code)
}

fn verify_snp(report: &Path, cache: &Path, code: i32) {
    cer([
        "verify-snp",
        "--report",
        report.to_str().unwrap(),
        "--certs",
        cache.to_str().unwrap(),
    ])
    .expect(code);
}

#[test]
fn fetch_fills_the_cache_once_and_verify_snp_passes() {
    let Some(v) = vectors() else { return };
    let t = TestDir::new();
    let report = v.join("virtee-sev/report_milan.bin");
    let kds = Kds::milan(&t, &v, "ok");
    let cache = t.path("cache");
    let run = fetch(&report, &cache, &kds, 0);
    assert!(run.stdout.starts_with("fetched"), "{}", run.stdout);
    let hits = kds.hits();
    assert_eq!(hits.len(), 2, "{hits:?}");
    assert!(hits[0].starts_with("/vcek/v1/Milan/"), "{hits:?}");
    assert!(hits[0].contains("?blSPL="), "{hits:?}");
    assert_eq!(hits[1], "/vcek/v1/Milan/cert_chain");
    assert_eq!(
        std::fs::read(cache.join("vcek.der")).unwrap(),
        std::fs::read(v.join("virtee-sev/vcek_milan.der")).unwrap()
    );
    let ask = std::fs::read_to_string(cache.join("ask.pem")).unwrap();
    let ark = std::fs::read_to_string(cache.join("ark.pem")).unwrap();
    assert_eq!(ask.matches("BEGIN CERTIFICATE").count(), 1);
    assert_eq!(ark.matches("BEGIN CERTIFICATE").count(), 1);
    verify_snp(&report, &cache, 0);

    // Second run: the cached VCEK matches; no request.
    let run = fetch(&report, &cache, &kds, 0);
    assert!(run.stdout.starts_with("already cached"), "{}", run.stdout);
    assert_eq!(kds.hits().len(), 2);

    // A VCEK for another chip/TCB in the cache (trustee's) is stale: re-fetched.
    std::fs::copy(v.join("trustee/test-vcek.der"), cache.join("vcek.der")).unwrap();
    verify_snp(&report, &cache, 1);
    let run = fetch(&report, &cache, &kds, 0);
    assert!(run.stdout.starts_with("fetched"), "{}", run.stdout);
    assert_eq!(kds.hits().len(), 4);
    verify_snp(&report, &cache, 0);
}

#[test]
fn http_429_with_retry_after_is_waited_out() {
    let Some(v) = vectors() else { return };
    let t = TestDir::new();
    let report = v.join("virtee-sev/report_milan.bin");
    let kds = Kds::milan(&t, &v, "429once");
    let cache = t.path("cache");
    let started = Instant::now();
    let run = fetch(&report, &cache, &kds, 0);
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(950), "no wait: {took:?}");
    assert!(run.stderr.contains("HTTP 429"), "{}", run.stderr);
    assert!(run.stdout.starts_with("fetched"), "{}", run.stdout);
    assert_eq!(kds.hits().len(), 3, "{:?}", kds.hits());
    verify_snp(&report, &cache, 0);
}

#[test]
fn http_429_without_end_gives_up_after_the_retries() {
    let Some(v) = vectors() else { return };
    let t = TestDir::new();
    let kds = Kds::milan(&t, &v, "429always");
    let cache = t.path("cache");
    let run = cer([
        "snp",
        "kds-fetch",
        "--report",
        v.join("virtee-sev/report_milan.bin").to_str().unwrap(),
        "--generation",
        "milan",
        "--cache",
        cache.to_str().unwrap(),
        "--kds-base",
        &kds.base(),
        "--kds-retries",
        "2",
    ])
    .expect(2);
    // One request and two retries, each waiting Retry-After: 1.
    assert_eq!(kds.hits().len(), 3, "{:?}", kds.hits());
    let last = run.stderr.lines().last().unwrap();
    assert!(last.contains("kept answering HTTP 429"), "{}", run.stderr);
    assert_eq!(run.stderr.matches("note: KDS rate limit").count(), 2);
    assert!(!cache.join("vcek.der").exists());
}

#[test]
fn not_found_is_one_line_exit_2_and_leaves_the_cache() {
    let Some(v) = vectors() else { return };
    let t = TestDir::new();
    let report = v.join("virtee-sev/report_milan.bin");
    let kds = Kds::milan(&t, &v, "404");
    let cache = t.path("cache");
    std::fs::create_dir(&cache).unwrap();
    // A stale VCEK stays as it was.
    std::fs::copy(v.join("trustee/test-vcek.der"), cache.join("vcek.der")).unwrap();
    let run = fetch(&report, &cache, &kds, 2);
    let line = run.one_error_line();
    assert!(line.contains("HTTP 404"), "{line}");
    assert!(line.contains("unknown chip ID or TCB"), "{line}");
    assert_eq!(
        std::fs::read(cache.join("vcek.der")).unwrap(),
        std::fs::read(v.join("trustee/test-vcek.der")).unwrap()
    );
    assert!(!cache.join("ask.pem").exists());
}

#[test]
fn a_wrong_certificate_from_kds_is_refused_and_not_cached() {
    let Some(v) = vectors() else { return };
    let report = v.join("virtee-sev/report_milan.bin");
    for (vcek, chain, expect) in [
        // Synthetic VCEK with a bad signature: the chain fails.
        (
            "trustee/test-vcek-invalid-new.der",
            "virtee-sev/cert_chain_milan",
            "the VCEK is not signed by the cert_chain's ASK",
        ),
        // A genuine VCEK of another chip: hwID/TCB/signature do not match the report.
        (
            "trustee/test-vcek.der",
            "virtee-sev/cert_chain_milan",
            "SNP_HWID_MISMATCH",
        ),
        // The Turin chain for a Milan VCEK.
        (
            "virtee-sev/vcek_milan.der",
            "virtee-sev/cert_chain_turin",
            "is not AMD's Milan ARK",
        ),
        // Not a certificate at all.
        (
            "virtee-sev/report_milan.bin",
            "virtee-sev/cert_chain_milan",
            "not a DER certificate",
        ),
    ] {
        let t = TestDir::new();
        let kds = Kds::start(&t, "ok", &v.join(vcek), &v.join(chain));
        let cache = t.path("cache");
        let run = fetch(&report, &cache, &kds, 2);
        let line = run.one_error_line();
        assert!(line.contains(expect), "{vcek} {chain}: {line}");
        if expect != "not a DER certificate" {
            assert!(line.contains("refusing what KDS returned"), "{line}");
        }
        assert!(!cache.join("vcek.der").exists(), "{vcek} was cached");
        assert!(!cache.join("ask.pem").exists(), "{chain} was cached");
    }
}

#[test]
fn unreachable_kds_is_one_line_exit_2() {
    let Some(v) = vectors() else { return };
    let t = TestDir::new();
    // A port nothing listens on: bind, note the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let run = cer([
        "snp",
        "kds-fetch",
        "--report",
        v.join("virtee-sev/report_milan.bin").to_str().unwrap(),
        "--cache",
        t.path("cache").to_str().unwrap(),
        "--generation",
        "milan",
        "--kds-base",
        &format!("http://127.0.0.1:{port}"),
    ])
    .expect(2);
    let line = run.one_error_line();
    assert!(line.contains("cannot fetch the VCEK"), "{line}");
    // Only http(s) bases: curl is never pointed at file:// or other schemes.
    let run = cer([
        "snp",
        "kds-fetch",
        "--report",
        v.join("virtee-sev/report_milan.bin").to_str().unwrap(),
        "--generation",
        "milan",
        "--cache",
        t.path("cache").to_str().unwrap(),
        "--kds-base",
        "file:///etc",
    ])
    .expect(2);
    assert!(
        run.one_error_line().contains("not an http(s) URL"),
        "{}",
        run.stderr
    );
    assert!(!t.path("cache").exists());
}

/// `cer verify*` never reach the network: no verification module names the KDS
/// fetch or curl.
#[test]
fn verification_paths_do_not_fetch() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for f in [
        "src/cli/verify.rs",
        "src/cli/verify_snp.rs",
        "src/cli/verify_quote.rs",
    ] {
        let text = std::fs::read_to_string(root.join(f)).unwrap();
        for needle in ["kds::fetch", "fetch_to_cache", "Command::new(\"curl\")"] {
            assert!(!text.contains(needle), "{f} mentions {needle}");
        }
    }
    let lib = root.join("attestation/src");
    let mut stack = vec![lib];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&p).unwrap();
                assert!(
                    !text.contains("std::process") && !text.contains("std::net"),
                    "{} reaches out of the process",
                    p.display()
                );
            }
        }
    }
}

/// `cer attest --kds-fetch` fills a cache, so it needs one; without `--snp-certs` it is
/// a usage error (exit 2) before anything runs. (The device path itself needs
/// /dev/sev-guest, absent here; the fetch it calls is the one tested above.)
#[cfg(feature = "tpm")]
#[test]
fn attest_kds_fetch_needs_a_cache() {
    let t = TestDir::new();
    let record = t.write("r.json", "{}");
    let run = cer([
        "attest",
        "--snp",
        "/dev/sev-guest",
        "--kds-fetch",
        record.to_str().unwrap(),
    ])
    .expect(2);
    assert!(run.stderr.contains("--snp-certs"), "{}", run.stderr);
}
