//! Times the generation of 1,000,000 rows into a file in the system temp directory.
//!
//! Run with `cargo run --release -p webthreat-synth --example gen_timing [rows] [seed] [format]`,
//! where `format` is `cloudwatch` (default), `zeek`, `vpcflow` or `alb`.

use std::time::Instant;
use webthreat_synth::{GenConfig, OutputFormat, TrafficKind, generate};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let rows = args.next().map_or(Ok(1_000_000), |a| a.parse())?;
    let seed = args.next().map_or(Ok(42), |a| a.parse())?;
    let format = match args.next() {
        None => OutputFormat::Cloudwatch,
        Some(name) => OutputFormat::from_name(&name).ok_or(format!("unknown format {name}"))?,
    };
    let path = std::env::temp_dir().join(format!(
        "webthreat_synth_{rows}_{seed}{}.{}",
        if format == OutputFormat::Cloudwatch {
            String::new()
        } else {
            format!("_{format}")
        },
        format.extension()
    ));
    let cfg = GenConfig {
        rows,
        seed,
        format,
        ..GenConfig::default()
    };
    let file = std::fs::File::create(&path)?;
    let started = Instant::now();
    let summary = generate(&cfg, file)?;
    let secs = started.elapsed().as_secs_f64();
    let bytes = std::fs::metadata(&path)?.len();
    println!(
        "{} rows ({} windows, {} client IPs) in {secs:.3} s = {:.0} rows/s; {} bytes ({:.1} MB) at {}",
        summary.rows,
        summary.windows,
        summary.source_ips,
        summary.rows as f64 / secs,
        bytes,
        bytes as f64 / 1e6,
        path.display()
    );
    for kind in TrafficKind::ALL {
        println!("  {kind:<13} {}", summary.count(kind));
    }
    Ok(())
}
