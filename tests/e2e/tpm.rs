//! `cer tpm info` against a real swtpm.

use crate::util::{cer, Swtpm};

#[test]
fn tpm_info_reads_a_real_swtpm() {
    let tpm = Swtpm::start();
    let run = cer(["tpm", "info", "--tcti", &tpm.tcti()]).expect(0);
    assert!(run.stdout.contains("manufacturer  IBM"), "{}", run.stdout);
    assert!(run.stdout.contains("vendor        SW"), "{}", run.stdout);
}

#[test]
fn tpm_errors_are_one_line() {
    // A port nobody listens on.
    let port = {
        let l = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
        l.local_addr().unwrap().port()
    };
    let run = cer(["tpm", "info", "--tcti", &format!("swtpm:port={port}")]).expect(2);
    let line = run.one_error_line();
    assert!(
        line.contains(&format!("swtpm:host=127.0.0.1,port={port}")),
        "{line}"
    );
    assert!(line.contains("is swtpm running"), "{line}");
    let run = cer(["tpm", "info", "--tcti", "device:/dev/does-not-exist"]).expect(2);
    assert!(run.one_error_line().contains("does not exist"));
    cer(["tpm", "info", "--tcti", "swtpm:path=/tmp/x"]).expect(2);
}
