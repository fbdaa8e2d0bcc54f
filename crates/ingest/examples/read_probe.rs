//! Temporary probe (not committed).
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let format = match args[2].as_str() {
        "zeek" => webthreat_ingest::Format::Zeek,
        "vpcflow" => webthreat_ingest::Format::Vpcflow,
        "alb" => webthreat_ingest::Format::Alb,
        _ => webthreat_ingest::Format::Cloudwatch,
    };
    let mut spec = webthreat_ingest::SourceSpec::new(&args[1], format);
    if args[3] != "none" {
        spec.label = Some(webthreat_ingest::LabelSpec::Column(args[3].clone()));
    }
    for _ in 0..5 {
        let t = std::time::Instant::now();
        let table = webthreat_ingest::read_log(&spec).unwrap();
        eprintln!("{} rows {:.3} s", table.rows(), t.elapsed().as_secs_f64());
    }
}
