//! `cer tpm measure` and `cer tpm log` against a real swtpm, cross-checked with
//! tpm2-tools (`tpm2_pcrread`, `tpm2_pcrextend`, `tpm2_readclock`, `tpm2_startup`),
//! `swtpm_ioctl` and coreutils `sha256sum`.

use std::path::{Path, PathBuf};
use std::process::Command;

use cerd_attestation::eventlog::{self, EventLog, Kind};
use cerd_attestation::Sha256Digest;

use crate::util::{cer, sha256sum, Run, Swtpm, TestDir};

/// sha256("someone else\n"): what a foreign process extends.
const FOREIGN: &str = "ee9e0a8c8313269c7bfb2740ccefc9b2f9b8f5f12dac22e301242ff93d93a6cf";

fn tool(args: &[&str]) -> String {
    let out = Command::new(args[0]).args(&args[1..]).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// PCR `pcr` of the SHA-256 bank, read by tpm2_pcrread.
fn pcrread(tpm: &Swtpm, pcr: u8) -> [u8; 32] {
    let out = tool(&["tpm2_pcrread", "-T", &tpm.tcti(), &format!("sha256:{pcr}")]);
    let line = out
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("{pcr}:")))
        .unwrap_or_else(|| panic!("no PCR {pcr} in {out}"));
    let hex_value = line.split("0x").nth(1).unwrap().trim().to_lowercase();
    let mut value = [0; 32];
    hex::decode_to_slice(&hex_value, &mut value).unwrap();
    value
}

fn pcrextend(tpm: &Swtpm, pcr: u8, hex_digest: &str) {
    tool(&[
        "tpm2_pcrextend",
        "-T",
        &tpm.tcti(),
        &format!("{pcr}:sha256={hex_digest}"),
    ]);
}

/// resetCount as tpm2_readclock reports it.
fn reset_count(tpm: &Swtpm) -> u32 {
    let out = tool(&["tpm2_readclock", "-T", &tpm.tcti()]);
    out.lines()
        .find_map(|l| l.trim().strip_prefix("reset_count:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// A TPM Reset, as at a reboot: _TPM_Init over swtpm's control channel, then
/// TPM2_Startup(CLEAR).
fn reboot(tpm: &Swtpm) {
    let ctrl = format!("127.0.0.1:{}", tpm.port + 1);
    tool(&["swtpm_ioctl", "--tcp", &ctrl, "-i"]);
    tool(&["tpm2_startup", "-c", "-T", &tpm.tcti()]);
}

fn measure(tpm: &Swtpm, logs: &Path, extra: &[&str], files: &[&Path]) -> Run {
    let mut args: Vec<String> = vec!["tpm".into(), "measure".into()];
    args.extend(["--tcti".into(), tpm.tcti()]);
    args.extend(["--log".into(), logs.display().to_string()]);
    args.extend(extra.iter().map(|s| s.to_string()));
    args.extend(files.iter().map(|f| f.display().to_string()));
    cer(&args)
}

fn show_log(tpm: &Swtpm, logs: &Path) -> Run {
    cer([
        "tpm",
        "log",
        "--tcti",
        &tpm.tcti(),
        "--log",
        &logs.display().to_string(),
    ])
}

fn only_log(logs: &Path) -> (PathBuf, EventLog) {
    let mut found: Vec<PathBuf> = std::fs::read_dir(logs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".cel.json"))
        .collect();
    assert_eq!(found.len(), 1, "{found:?}");
    let path = found.pop().unwrap();
    let log = eventlog::parse(&std::fs::read(&path).unwrap()).unwrap();
    (path, log)
}

/// A file of `len` pseudo-random bytes (xorshift), written in 1 MiB pieces.
fn big_file(dir: &TestDir, name: &str, len: usize) -> PathBuf {
    use std::io::Write;
    let path = dir.path(name);
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut left = len;
    let mut buf = vec![0u8; 1 << 20];
    while left > 0 {
        for chunk in buf.chunks_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
        }
        let n = left.min(buf.len());
        f.write_all(&buf[..n]).unwrap();
        left -= n;
    }
    f.flush().unwrap();
    path
}

fn measured_digests(log: &EventLog) -> Vec<(u64, String, Kind)> {
    log.events()
        .iter()
        .filter_map(|e| {
            e.measurement()
                .map(|m| (e.recnum(), m.digest().to_string(), m.kind()))
        })
        .collect()
}

#[test]
fn measured_files_replay_to_the_pcr_tpm2_tools_reads() {
    let tpm = Swtpm::start();
    let dir = TestDir::new();
    let logs = dir.path("logs");
    let binary = dir.write("llama-cli", b"cerd test binary\n");
    // 64 MiB and a bit: several reads, a size that is not a multiple of the buffer.
    let model = big_file(&dir, "model.gguf", (64 << 20) + 12_345);
    let config = dir.write("run.toml", b"temperature = 0.7\n");
    assert_eq!(pcrread(&tpm, 15), [0; 32], "a fresh swtpm's PCR 15");

    measure(&tpm, &logs, &["--kind", "binary"], &[&binary]).expect(0);
    measure(&tpm, &logs, &["--kind", "model"], &[&model]).expect(0);
    let run = measure(&tpm, &logs, &["--kind", "config"], &[&config]).expect(0);
    assert!(run.stderr.is_empty(), "{}", run.stderr);
    assert!(run.stdout.contains("record 3  pcr 15"), "{}", run.stdout);

    let (path, log) = only_log(&logs);
    assert_eq!(
        path.file_name().unwrap().to_string_lossy(),
        format!("boot-{}.cel.json", reset_count(&tpm))
    );
    assert_eq!(log.pcr(), 15);
    assert_eq!(log.header().initial(), &[0; 32]);
    assert!(log.fully_accounted());
    let pcr = pcrread(&tpm, 15);
    log.verify_replay(&pcr).unwrap();
    assert_eq!(log.current(), pcr);

    let expect = [
        (1, sha256sum(&binary), Kind::Binary),
        (2, sha256sum(&model), Kind::Model),
        (3, sha256sum(&config), Kind::Config),
    ];
    assert_eq!(measured_digests(&log), expect);
    for (file, e) in [&binary, &model, &config].iter().zip(log.events()) {
        let m = e.measurement().unwrap();
        assert_eq!(Path::new(m.path()), file.canonicalize().unwrap());
        assert_eq!(m.size(), std::fs::metadata(file).unwrap().len());
    }
    // A record's digest is what a runtime section carries: found without hashing.
    let model_digest: Sha256Digest = sha256sum(&model).parse().unwrap();
    assert_eq!(log.find(&model_digest).unwrap().recnum(), 2);

    let shown = show_log(&tpm, &logs).expect(0);
    assert!(
        shown.stdout.contains("result  replays to PCR 15"),
        "{}",
        shown.stdout
    );
}

#[test]
fn extending_the_file_digest_with_tpm2_pcrextend_gives_the_same_pcr() {
    // The event digest is the file's SHA-256 itself: tpm2_pcrextend with sha256sum's
    // output reproduces cer's extend on a second TPM.
    let (a, b) = (Swtpm::start(), Swtpm::start());
    let dir = TestDir::new();
    let file = dir.write("w.bin", b"weights\n");
    measure(&a, &dir.path("logs"), &[], &[&file]).expect(0);
    pcrextend(&b, 15, &sha256sum(&file)["sha256:".len()..]);
    assert_eq!(pcrread(&a, 15), pcrread(&b, 15));
    assert_ne!(pcrread(&a, 15), [0; 32]);
}

#[test]
fn rerunning_appends_to_the_same_boot_log() {
    let tpm = Swtpm::start();
    let dir = TestDir::new();
    let logs = dir.path("logs");
    let files: Vec<PathBuf> = (0..4)
        .map(|i| dir.write(&format!("f{i}"), format!("file {i}\n")))
        .collect();
    measure(&tpm, &logs, &[], &[&files[0]]).expect(0);
    let run = measure(&tpm, &logs, &[], &[&files[1], &files[2], &files[3]]).expect(0);
    for n in 2..=4 {
        assert!(
            run.stdout.contains(&format!("record {n}  pcr 15")),
            "{}",
            run.stdout
        );
    }
    let (_, log) = only_log(&logs);
    let want: Vec<String> = files.iter().map(|f| sha256sum(f)).collect();
    let got: Vec<String> = measured_digests(&log).into_iter().map(|d| d.1).collect();
    assert_eq!(got, want);
    log.verify_replay(&pcrread(&tpm, 15)).unwrap();
    // Nothing left behind but the log.
    let names: Vec<String> = std::fs::read_dir(&logs)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
}

#[test]
fn a_foreign_extend_is_recorded_and_reported() {
    let tpm = Swtpm::start();
    let dir = TestDir::new();
    let logs = dir.path("logs");
    let a = dir.write("a", b"a\n");
    let b = dir.write("b", b"b\n");
    measure(&tpm, &logs, &[], &[&a]).expect(0);
    let before = pcrread(&tpm, 15);
    pcrextend(&tpm, 15, FOREIGN);
    let observed = pcrread(&tpm, 15);

    let run = measure(&tpm, &logs, &[], &[&b]).expect(1);
    assert!(
        run.stderr
            .contains("PCR 15 was extended outside the measurement log")
            && run.stderr.contains(&hex::encode(observed))
            && run.stderr.contains("recorded as record 2"),
        "{}",
        run.stderr
    );
    assert!(
        run.stdout.contains("record 3  pcr 15"),
        "b is still measured"
    );

    let (_, log) = only_log(&logs);
    let foreign = log.events()[1]
        .foreign()
        .expect("record 2 is the foreign change");
    assert_eq!(foreign.expected, before);
    assert_eq!(foreign.observed, observed);
    assert_eq!(
        eventlog::extend(&before, &hex::decode(FOREIGN).unwrap().try_into().unwrap()),
        observed,
        "tpm2_pcrextend did extend the digest we gave it"
    );
    // The log still replays exactly to the PCR, and says what is bound.
    log.verify_replay(&pcrread(&tpm, 15)).unwrap();
    assert!(!log.fully_accounted());
    assert_eq!(log.bound_from(), 3);

    let shown = show_log(&tpm, &logs).expect(1);
    assert!(
        shown.stdout.contains("NOT FULLY ACCOUNTED FOR")
            && shown.stdout.contains("changed outside the log (record 2)"),
        "{}",
        shown.stdout
    );

    // A foreign extend after the last measurement shows in `cer tpm log` as a log
    // that no longer replays.
    pcrextend(&tpm, 15, FOREIGN);
    let shown = show_log(&tpm, &logs).expect(1);
    assert!(shown.stdout.contains("DOES NOT REPLAY"), "{}", shown.stdout);
    // The next measurement records it.
    measure(&tpm, &logs, &[], &[&a]).expect(1);
    let (_, log) = only_log(&logs);
    log.verify_replay(&pcrread(&tpm, 15)).unwrap();
    assert_eq!(log.foreign_events().count(), 2);
}

#[test]
fn a_log_started_on_a_non_zero_pcr_records_the_value() {
    let tpm = Swtpm::start();
    let dir = TestDir::new();
    let logs = dir.path("logs");
    pcrextend(&tpm, 15, FOREIGN);
    let initial = pcrread(&tpm, 15);
    let run = measure(&tpm, &logs, &[], &[&dir.write("a", b"a")]).expect(1);
    assert!(run.stderr.contains("already held"), "{}", run.stderr);
    let (_, log) = only_log(&logs);
    assert_eq!(log.header().initial(), &initial);
    log.verify_replay(&pcrread(&tpm, 15)).unwrap();
    assert!(!log.fully_accounted());
}

#[test]
fn a_tpm_reset_starts_a_new_boot_log() {
    let tpm = Swtpm::start();
    let dir = TestDir::new();
    let logs = dir.path("logs");
    let a = dir.write("a", b"a\n");
    let b = dir.write("b", b"b\n");
    let first_boot = reset_count(&tpm);
    measure(&tpm, &logs, &[], &[&a]).expect(0);
    let first_log = std::fs::read(logs.join(format!("boot-{first_boot}.cel.json"))).unwrap();

    reboot(&tpm);
    let second_boot = reset_count(&tpm);
    assert_eq!(second_boot, first_boot + 1);
    assert_eq!(pcrread(&tpm, 15), [0; 32], "a reset zeroes PCR 15");

    measure(&tpm, &logs, &[], &[&b]).expect(0);
    let second = logs.join(format!("boot-{second_boot}.cel.json"));
    let log = eventlog::parse(&std::fs::read(&second).unwrap()).unwrap();
    assert_eq!(log.header().reset_count(), second_boot);
    assert_eq!(log.header().initial(), &[0; 32]);
    assert_eq!(measured_digests(&log), [(1, sha256sum(&b), Kind::Other)]);
    log.verify_replay(&pcrread(&tpm, 15)).unwrap();
    assert_eq!(
        std::fs::read(logs.join(format!("boot-{first_boot}.cel.json"))).unwrap(),
        first_log,
        "the previous boot's log is kept unchanged"
    );
    show_log(&tpm, &logs).expect(0);
}

/// Leaves `log` plus one measurement of `digest` as the pending file, as a run that
/// crashed between its write-ahead and its commit would.
fn write_pending(log_path: &Path, log: &EventLog, digest: Sha256Digest) {
    let name = log_path.file_name().unwrap().to_string_lossy();
    let pending = log_path.with_file_name(name.replace(".cel.json", ".pending.json"));
    let mut next = log.clone();
    let m =
        eventlog::Measurement::new(Kind::Model, "/models/crashed.gguf".into(), 7, digest).unwrap();
    next.push_measurement(m);
    std::fs::write(pending, next.to_json()).unwrap();
}

#[test]
fn an_interrupted_measurement_is_resolved_by_the_pcr() {
    let tpm = Swtpm::start();
    let dir = TestDir::new();
    let logs = dir.path("logs");
    let a = dir.write("a", b"a\n");
    measure(&tpm, &logs, &[], &[&a]).expect(0);

    // Crash after the write-ahead, before the extend: the pending record is dropped.
    let (path, log) = only_log(&logs);
    write_pending(&path, &log, Sha256Digest::of(b"never extended"));
    let run = measure(&tpm, &logs, &[], &[&a]).expect(0);
    assert!(
        run.stderr
            .contains("/models/crashed.gguf never reached the TPM"),
        "{}",
        run.stderr
    );
    let (_, log) = only_log(&logs);
    assert_eq!(log.events().len(), 2, "record 1 and this run's a");
    assert!(log.find(&Sha256Digest::of(b"never extended")).is_none());
    log.verify_replay(&pcrread(&tpm, 15)).unwrap();

    // Crash after the extend, before the commit: the pending record is committed.
    let digest = Sha256Digest::of(b"extended");
    write_pending(&path, &log, digest);
    pcrextend(&tpm, 15, &digest.to_hex());
    let run = measure(&tpm, &logs, &[], &[&a]).expect(0);
    assert!(
        run.stderr
            .contains("had reached the TPM; recorded it as record 3"),
        "{}",
        run.stderr
    );
    let (_, log) = only_log(&logs);
    assert_eq!(log.find(&digest).unwrap().recnum(), 3);
    assert_eq!(log.events().len(), 4);
    assert_eq!(log.foreign_events().count(), 0);
    log.verify_replay(&pcrread(&tpm, 15)).unwrap();

    // Neither: the pending record is dropped and the PCR change recorded as foreign.
    write_pending(&path, &log, Sha256Digest::of(b"pending"));
    pcrextend(&tpm, 15, FOREIGN);
    let run = measure(&tpm, &logs, &[], &[&a]).expect(1);
    assert!(
        run.stderr.contains("matches neither")
            && run.stderr.contains("outside the measurement log"),
        "{}",
        run.stderr
    );
    let (_, log) = only_log(&logs);
    assert_eq!(log.foreign_events().count(), 1);
    log.verify_replay(&pcrread(&tpm, 15)).unwrap();

    // Garbage where the pending log should be: dropped, said, nothing else changes.
    let name = path.file_name().unwrap().to_string_lossy();
    std::fs::write(
        path.with_file_name(name.replace(".cel.json", ".pending.json")),
        "{",
    )
    .unwrap();
    let run = measure(&tpm, &logs, &[], &[&a]).expect(0);
    assert!(
        run.stderr.contains("was not this log plus one measurement"),
        "{}",
        run.stderr
    );
    let (_, log) = only_log(&logs);
    log.verify_replay(&pcrread(&tpm, 15)).unwrap();
}

#[test]
fn a_reset_of_a_resettable_pcr_is_recorded() {
    let tpm = Swtpm::start();
    let dir = TestDir::new();
    let logs = dir.path("logs");
    let a = dir.write("a", b"a\n");
    let run = measure(&tpm, &logs, &["--pcr", "23"], &[&a]).expect(0);
    assert!(run.stderr.contains("PCR 23 can be reset"), "{}", run.stderr);
    tool(&["tpm2_pcrreset", "-T", &tpm.tcti(), "23"]);
    let run = measure(&tpm, &logs, &["--pcr", "23"], &[&a]).expect(1);
    assert!(
        run.stderr
            .contains(&format!("the TPM holds {}", hex::encode([0u8; 32]))),
        "{}",
        run.stderr
    );
    let (_, log) = only_log(&logs);
    assert_eq!(log.pcr(), 23);
    log.verify_replay(&pcrread(&tpm, 23)).unwrap();
    assert_eq!(log.bound_from(), 3);
}

#[test]
fn bad_input_fails_in_one_line_and_extends_nothing() {
    let tpm = Swtpm::start();
    let dir = TestDir::new();
    let logs = dir.path("logs");
    let a = dir.write("a", b"a\n");
    let missing = dir.path("no-such-model.gguf");

    let run = measure(&tpm, &logs, &[], &[&a, &missing]).expect(2);
    let line = run.one_error_line();
    assert!(line.contains("no-such-model.gguf"), "{line}");
    assert_eq!(pcrread(&tpm, 15), [0; 32], "nothing extended");
    assert!(!logs.exists(), "no log written");

    let run = measure(&tpm, &logs, &[], &[dir.root()]).expect(2);
    assert!(run.one_error_line().contains("not a regular file"));

    cer(["tpm", "measure", "--pcr", "24", "--log", "x", "f"]).expect(2);
    cer(["tpm", "measure", "--kind", "weights", "--log", "x", "f"]).expect(2);
    cer(["tpm", "measure", "--log", "x"]).expect(2);

    // A log directory holds one PCR's log per boot.
    measure(&tpm, &logs, &[], &[&a]).expect(0);
    let run = measure(&tpm, &logs, &["--pcr", "14"], &[&a]).expect(2);
    assert!(
        run.one_error_line()
            .contains("is the log of PCR 15, not PCR 14"),
        "{}",
        run.stderr
    );
    assert_eq!(pcrread(&tpm, 14), [0; 32]);

    // A damaged log is refused, naming the file and the fault.
    let (path, _) = only_log(&logs);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replace("\"recnum\":1,\"pcr\":15", "\"recnum\":1,\"pcr\":14"),
    )
    .unwrap();
    let run = measure(&tpm, &logs, &[], &[&a]).expect(2);
    let line = run.one_error_line();
    assert!(
        line.contains(&path.display().to_string()) && line.contains("record 1 is for PCR 14"),
        "{line}"
    );
    let run = show_log(&tpm, &logs).expect(2);
    run.one_error_line();

    // A log copied in from another boot is refused too.
    let boot = reset_count(&tpm);
    std::fs::write(
        &path,
        text.replace(
            &format!("\"resetCount\":{boot},"),
            &format!("\"resetCount\":{},", boot + 7),
        ),
    )
    .unwrap();
    let run = measure(&tpm, &logs, &[], &[&a]).expect(2);
    assert!(
        run.one_error_line()
            .contains(&format!("is the log of boot {}", boot + 7)),
        "{}",
        run.stderr
    );
}

#[test]
fn a_second_measurer_is_refused_and_a_stale_lock_taken_over() {
    let tpm = Swtpm::start();
    let dir = TestDir::new();
    let logs = dir.path("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let a = dir.write("a", b"a\n");
    // A live process holds the lock: this test process.
    std::fs::write(logs.join(".lock"), format!("{}\n", std::process::id())).unwrap();
    let run = measure(&tpm, &logs, &[], &[&a]).expect(2);
    assert!(
        run.one_error_line()
            .contains(&format!("in use by process {}", std::process::id())),
        "{}",
        run.stderr
    );
    assert_eq!(pcrread(&tpm, 15), [0; 32]);
    // A process that has exited left it behind.
    let mut child = Command::new("true").spawn().unwrap();
    let dead = child.id();
    child.wait().unwrap();
    std::fs::write(logs.join(".lock"), format!("{dead}\n")).unwrap();
    measure(&tpm, &logs, &[], &[&a]).expect(0);
    assert!(!logs.join(".lock").exists());
}

#[test]
fn a_stopped_swtpm_fails_in_one_line() {
    let dir = TestDir::new();
    let a = dir.write("a", b"a\n");
    let tcti = {
        let tpm = Swtpm::start();
        tpm.tcti()
    }; // dropped: killed
    for args in [
        vec!["tpm", "measure", "--tcti", &tcti, "--log"],
        vec!["tpm", "log", "--tcti", &tcti, "--log"],
    ] {
        let mut args: Vec<String> = args.into_iter().map(String::from).collect();
        args.push(dir.path("logs").display().to_string());
        if args[1] == "measure" {
            args.push(a.display().to_string());
        }
        let run = cer(&args).expect(2);
        let line = run.one_error_line();
        assert!(
            line.contains(&tcti) && line.contains("is swtpm running"),
            "{line}"
        );
    }
}

/// Time per TPM2_PCR_Extend on swtpm: with the context's password session (what
/// `cer tpm measure` does) and with a new HMAC session per command
/// (`execute_with_nullauth_session`); and `cer tpm measure` per small file. Results
/// go to docs/performance.md. Run with:
/// `cargo test --release --test e2e measure::bench -- --ignored --nocapture`
#[test]
#[ignore = "benchmark; run explicitly (see the doc comment)"]
fn bench_pcr_extend() {
    use std::str::FromStr;
    use std::time::Instant;
    use tss_esapi::handles::PcrHandle;
    use tss_esapi::interface_types::algorithm::HashingAlgorithm;
    use tss_esapi::interface_types::session_handles::AuthSession;
    use tss_esapi::structures::{Digest, DigestValues};
    use tss_esapi::tcti_ldr::TctiNameConf;

    let tpm = Swtpm::start();
    let mut ctx = tss_esapi::Context::new(TctiNameConf::from_str(&tpm.tcti()).unwrap()).unwrap();
    ctx.set_sessions((Some(AuthSession::Password), None, None));
    let mut values = DigestValues::new();
    values.set(
        HashingAlgorithm::Sha256,
        Digest::try_from(vec![0xaa; 32]).unwrap(),
    );
    let n = 1000;
    let t = Instant::now();
    for _ in 0..n {
        ctx.pcr_extend(PcrHandle::Pcr15, values.clone()).unwrap();
    }
    let password = t.elapsed() / n;
    // StartAuthSession itself must run without the password session.
    ctx.clear_sessions();
    let t = Instant::now();
    for _ in 0..n {
        ctx.execute_with_nullauth_session(|c| c.pcr_extend(PcrHandle::Pcr15, values.clone()))
            .unwrap();
    }
    let nullauth = t.elapsed() / n;
    drop(ctx);

    let dir = TestDir::new();
    let files: Vec<PathBuf> = (0..200)
        .map(|i| dir.write(&format!("f{i}"), format!("{i}")))
        .collect();
    let refs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let t = Instant::now();
    measure(&tpm, &dir.path("logs"), &[], &refs).expect(1); // PCR 15 was extended above
    let per_file = t.elapsed() / 200;
    println!("PCR_Extend, context password session: {password:?} per extend ({n} extends)");
    println!("PCR_Extend, execute_with_nullauth_session: {nullauth:?} per extend ({n} extends)");
    println!("cer tpm measure, 200 small files in one run: {per_file:?} per file");
}
