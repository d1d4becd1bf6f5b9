//! `cer tpm info`.

use clap::Args;

use crate::cli::Outcome;
use crate::tpm::{identity, Tcti, Tpm};

/// Identify the TPM behind a TCTI: manufacturer, vendor strings, firmware version.
#[derive(Debug, Args)]
pub struct InfoArgs {
    /// How to reach the TPM: device:/dev/tpmrm0, tabrmd, or swtpm:host=127.0.0.1,port=N.
    #[arg(long, value_name = "TCTI", default_value = "device:/dev/tpmrm0")]
    tcti: Tcti,
}

pub fn run(args: InfoArgs) -> anyhow::Result<Outcome> {
    let mut tpm = Tpm::open(&args.tcti)?;
    let id = identity(&mut tpm)?;
    println!("tcti          {}", args.tcti);
    println!("manufacturer  {}", id.manufacturer);
    println!("vendor        {}", id.vendor);
    println!(
        "firmware      {}.{}.{}.{} ({:#010x} {:#010x})",
        id.firmware.0 >> 16,
        id.firmware.0 & 0xffff,
        id.firmware.1 >> 16,
        id.firmware.1 & 0xffff,
        id.firmware.0,
        id.firmware.1
    );
    Ok(Outcome::Ok)
}
