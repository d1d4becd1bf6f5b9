//! `cer completions` and `cer man`: generated from the clap definitions.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, CommandFactory};
use clap_complete::Shell;

use super::{Cli, Outcome};

/// Print a shell completion script.
///
/// Example: `cer completions bash > /usr/share/bash-completion/completions/cer`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to generate completions for.
    #[arg(value_enum)]
    shell: Shell,
}

/// Print the man page, or write one page per command into a directory.
///
/// Without --dir, prints cer(1) to stdout (`cer man | man -l -`). With --dir, writes
/// cer.1 and cer-SUBCOMMAND.1 for every subcommand.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write all pages into this directory (created if missing).
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

pub fn completions(args: CompletionsArgs) -> anyhow::Result<Outcome> {
    let mut cmd = Cli::command();
    clap_complete::generate(args.shell, &mut cmd, "cer", &mut std::io::stdout());
    Ok(Outcome::Ok)
}

pub fn man(args: ManArgs) -> anyhow::Result<Outcome> {
    let cmd = Cli::command();
    match args.dir {
        None => {
            let mut out = std::io::stdout().lock();
            clap_mangen::Man::new(cmd)
                .render(&mut out)
                .context("cannot write the man page to stdout")?;
            out.flush().context("cannot write the man page to stdout")?;
        }
        Some(dir) => {
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            write_page(&dir, "cer", cmd.clone())?;
            for sub in cmd.get_subcommands() {
                let name = format!("cer-{}", sub.get_name());
                let sub = sub.clone().name(name.clone());
                write_page(&dir, &name, sub)?;
            }
        }
    }
    Ok(Outcome::Ok)
}

fn write_page(dir: &std::path::Path, name: &str, cmd: clap::Command) -> anyhow::Result<()> {
    let path = dir.join(format!("{name}.1"));
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd)
        .render(&mut buf)
        .with_context(|| format!("cannot render {name}.1"))?;
    std::fs::write(&path, buf).with_context(|| format!("cannot write {}", path.display()))
}
