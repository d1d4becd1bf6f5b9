//! `--help`, completions and man pages come from the same clap definitions.

use crate::util::{cer, TestDir};

const COMMANDS: &[&[&str]] = &[
    &[],
    &["seal"],
    &["verify"],
    &["inspect"],
    &["completions"],
    &["man"],
    #[cfg(feature = "tpm")]
    &["tpm"],
    #[cfg(feature = "tpm")]
    &["tpm", "info"],
];

#[test]
fn every_command_has_help() {
    for cmd in COMMANDS {
        let mut args = cmd.to_vec();
        args.push("--help");
        let run = cer(&args).expect(0);
        assert!(run.stdout.contains("Usage: cer"), "{cmd:?}: {}", run.stdout);
    }
}

#[test]
fn usage_errors_exit_2() {
    let run = cer(["seal", "--provider", "p"]).expect(2);
    assert!(run.stderr.contains("--model"), "{}", run.stderr);
    cer(["frobnicate"]).expect(2);
    cer(["verify"]).expect(2);
    cer(["verify", "--format", "xml", "x"]).expect(2);
}

#[test]
fn completions_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let run = cer(["completions", shell]).expect(0);
        assert!(run.stdout.contains("seal"), "{shell}");
        assert!(run.stdout.contains("model-file"), "{shell}");
    }
    let bash = cer(["completions", "bash"]).expect(0).stdout;
    let check = std::process::Command::new("bash")
        .args(["-n", "-c", &bash])
        .status()
        .unwrap();
    assert!(check.success(), "bash completion script is not valid bash");
}

#[test]
fn man_pages() {
    let page = cer(["man"]).expect(0).stdout;
    assert!(
        page.starts_with(".ie") || page.contains(".TH cer"),
        "{page}"
    );
    assert!(page.contains("seal"));
    let dir = TestDir::new();
    let out = dir.path("man");
    cer(["man", "--dir", out.to_str().unwrap()]).expect(0);
    for name in ["cer.1", "cer-seal.1", "cer-verify.1", "cer-inspect.1"] {
        let text = std::fs::read_to_string(out.join(name)).unwrap();
        assert!(text.contains(".TH"), "{name}");
    }
    let seal = std::fs::read_to_string(out.join("cer-seal.1")).unwrap();
    assert!(seal.contains("model\\-file"), "seal page lists its flags");
}
