//! `cer snp`: the simulated SEV-SNP guest (`cer snp sim init`, `cer snp sim report`)
//! the KDS URLs of a report (`cer snp kds-urls`), and filling a certificate cache from
//! KDS (`cer snp kds-fetch`).

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::{bail, Context as _};
use clap::{Args, Subcommand};

use super::Outcome;
use crate::files;
use crate::snp::simulated::SimGuest;

/// AMD SEV-SNP helpers: a simulated guest for machines without SNP.
#[derive(Debug, Args)]
pub struct SnpArgs {
    #[command(subcommand)]
    command: SnpCommand,
}

#[derive(Debug, Subcommand)]
enum SnpCommand {
    /// The simulated SNP guest (tests, demos): reports signed under a generated test
    /// ARK that no verifier trusts unless its policy names it.
    #[command(subcommand)]
    Sim(SimCommand),
    /// Print the AMD KDS URLs of a report's VCEK and of its generation's ASK/ARK chain,
    /// to fill a certificate cache once (cerd never fetches at verification time).
    KdsUrls {
        /// The attestation report.
        #[arg(long, value_name = "FILE")]
        report: PathBuf,
        /// The processor generation, for v2 reports (v3+ carry it in CPUID).
        #[arg(long, value_enum)]
        generation: Option<Gen>,
    },
    /// Fill a certificate cache (the `--snp-certs DIR` / `verify-snp --certs DIR`
    /// layout) with a report's VCEK and its ASK/ARK from AMD's KDS, unless the cache
    /// already holds a VCEK matching the report's chip and TCB. Run once at host
    /// start-up, never at verification time; uses the system curl.
    KdsFetch(KdsFetchArgs),
}

#[derive(Debug, Args)]
pub struct KdsFetchArgs {
    /// The attestation report.
    #[arg(long, value_name = "FILE")]
    report: PathBuf,
    /// The processor generation, for v2 reports (v3+ carry it in CPUID).
    #[arg(long, value_enum)]
    generation: Option<Gen>,
    /// The certificate cache directory (created if absent).
    #[arg(long, value_name = "DIR")]
    cache: PathBuf,
    #[command(flatten)]
    kds: KdsFlags,
}

/// How to reach KDS (shared with `cer attest --kds-fetch`).
#[derive(Debug, Clone, Args)]
pub struct KdsFlags {
    /// KDS base URL (a mirror or proxy of https://kdsintf.amd.com).
    #[arg(long, value_name = "URL", default_value = crate::snp::kds::KDS)]
    pub kds_base: String,
    /// Seconds to wait on HTTP 429 when KDS sends no Retry-After.
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    pub kds_retry_after: u64,
    /// How many HTTP 429 answers are waited out before giving up.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub kds_retries: u32,
    /// Minimum milliseconds between consecutive KDS requests.
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    pub kds_interval_ms: u64,
    /// Per-request timeout in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub kds_timeout: u64,
}

impl KdsFlags {
    pub fn options(&self) -> anyhow::Result<crate::snp::kds::KdsOptions> {
        use std::time::Duration;
        if !(self.kds_base.starts_with("https://") || self.kds_base.starts_with("http://")) {
            bail!(
                "--kds-base {:?} is not an http(s) URL such as https://kdsintf.amd.com",
                self.kds_base
            );
        }
        Ok(crate::snp::kds::KdsOptions {
            base: self.kds_base.trim_end_matches('/').to_owned(),
            timeout: Duration::from_secs(self.kds_timeout),
            spacing: Duration::from_millis(self.kds_interval_ms),
            default_retry_after: Duration::from_secs(self.kds_retry_after),
            max_retries: self.kds_retries,
            ..Default::default()
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Gen {
    Milan,
    Genoa,
    Turin,
}

#[derive(Debug, Subcommand)]
enum SimCommand {
    /// Generate a simulated guest: test ARK and ASK (RSA-4096, RSASSA-PSS/SHA-384) and
    /// a VCEK (P-384) with AMD's extensions; prints the policy line that trusts it.
    Init {
        /// State directory to create.
        #[arg(long, value_name = "DIR")]
        state: PathBuf,
    },
    /// Write one signed attestation report (and the guest's certificates are in the
    /// state directory, in the layout `cer verify-snp --certs` reads).
    Report {
        /// The simulated guest's state directory.
        #[arg(long, value_name = "DIR")]
        state: PathBuf,
        /// REPORT_DATA in hex (up to 64 bytes, zero-padded).
        #[arg(long, value_name = "HEX", default_value = "")]
        report_data: String,
        /// Where to write the 1184-byte report.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

pub fn run(args: SnpArgs) -> anyhow::Result<Outcome> {
    match args.command {
        SnpCommand::KdsUrls { report, generation } => {
            let (_, r, g) = read_report(&report, generation)?;
            let mut out = std::io::stdout().lock();
            writeln!(out, "{}", crate::snp::kds::vcek_url(&r, g)?)
                .and_then(|()| writeln!(out, "{}", crate::snp::kds::cert_chain_url(g)))
                .context("cannot write to stdout")?;
            Ok(Outcome::Ok)
        }
        SnpCommand::KdsFetch(a) => {
            use crate::snp::kds::{fetch_to_cache, Fetched};
            let (bytes, _, g) = read_report(&a.report, a.generation)?;
            let done = fetch_to_cache(&bytes, g, &a.cache, &a.kds.options()?)
                .with_context(|| format!("kds-fetch into {}", a.cache.display()))?;
            let mut out = std::io::stdout().lock();
            let dir = a.cache.display();
            match done {
                Fetched::AlreadyCached => writeln!(
                    out,
                    "already cached: {dir} holds a VCEK matching the report's chip and TCB; nothing fetched"
                ),
                Fetched::Fetched => writeln!(
                    out,
                    "fetched: the VCEK for the report's chip and TCB, the ASK and the ARK, verified and written to {dir}"
                ),
            }
            .context("cannot write to stdout")?;
            Ok(Outcome::Ok)
        }
        SnpCommand::Sim(SimCommand::Init { state }) => {
            let guest = SimGuest::init(&state)?;
            let mut out = std::io::stdout().lock();
            writeln!(
                out,
                "simulated SEV-SNP guest in {} (Milan-B0, chip {}…)\n# trust it in a verification policy (dev only):\n[snp]\ntrusted_test_arks = [\"{}\"]",
                guest.dir().display(),
                guest.config().chip_id.get(..16).unwrap_or_default(),
                guest.config().ark_spki_sha256
            )
            .context("cannot write to stdout")?;
            Ok(Outcome::Ok)
        }
        SnpCommand::Sim(SimCommand::Report {
            state,
            report_data,
            out,
        }) => {
            let bytes = hex::decode(report_data.strip_prefix("0x").unwrap_or(&report_data))
                .with_context(|| format!("--report-data {report_data:?} is not hex"))?;
            if bytes.len() > 64 {
                bail!("--report-data is {} bytes; REPORT_DATA has 64", bytes.len());
            }
            let mut rd = [0u8; 64];
            rd.iter_mut().zip(&bytes).for_each(|(o, b)| *o = *b);
            let guest = SimGuest::open(&state)?;
            files::write_new(&out, &guest.report(rd)?, true)?;
            Ok(Outcome::Ok)
        }
    }
}

/// The report's bytes, parsed, and its processor generation (`--generation` for v2).
fn read_report(
    path: &std::path::Path,
    generation: Option<Gen>,
) -> anyhow::Result<(
    Vec<u8>,
    cerd_attestation::snp::AttestationReport,
    cerd_attestation::snp::Generation,
)> {
    use cerd_attestation::snp::{AttestationReport, Generation};
    let bytes =
        std::fs::read(path).with_context(|| format!("cannot read --report {}", path.display()))?;
    let r = AttestationReport::parse(&bytes).map_err(|e| {
        anyhow::anyhow!("--report {} is not an SEV-SNP report: {e}", path.display())
    })?;
    let given = generation.map(|g| match g {
        Gen::Milan => Generation::Milan,
        Gen::Genoa => Generation::Genoa,
        Gen::Turin => Generation::Turin,
    });
    let g = match (given, r.cpuid_generation()) {
        (Some(a), Some(b)) if a != b => {
            bail!("--generation {a} contradicts the report's CPUID ({b})")
        }
        (Some(g), _) | (None, Some(g)) => g,
        (None, None) => bail!(
            "the report (version {}) does not name its processor generation: give --generation milan|genoa|turin",
            r.version
        ),
    };
    Ok((bytes, r, g))
}
