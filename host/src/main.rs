//! The tickcross command line.

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use tickcross::bridge::{bridge_binance_json, BridgeOptions};
use tickcross::capture::open_merged;
use tickcross::config::Config;
use tickcross::detect::Detector;
use tickcross::device::Device;
use tickcross::hwpath::{HwDetector, SimOptions};
use tickcross::replay::{self, PathResult, Progress};
use tickcross::report;
use tickcross::swpath::SwDetector;

#[derive(Parser)]
#[command(
    name = "tickcross",
    version,
    about = "Cross-exchange crossed-market detection in hardware and software"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Replay captures through the simulated hardware, the software path, or both.
    Replay(ReplayArgs),
    /// Turn recorded venue streams into a replayable capture.
    #[command(subcommand)]
    Bridge(BridgeCommand),
    /// Show a device's blocks, status and counters through its BAR (a card's resource0 or a
    /// simulator's region).
    Status {
        /// /sys/bus/pci/devices/<bdf>/resource0, or a simulator region.
        #[arg(long)]
        device: PathBuf,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum PathChoice {
    Hw,
    Sw,
    Both,
}

#[derive(Args)]
struct ReplayArgs {
    /// Configuration (TOML).
    #[arg(long)]
    config: PathBuf,
    /// Detection path: the Verilated hardware, the software path, or both (compared).
    #[arg(long, value_enum, default_value = "both")]
    path: PathChoice,
    /// Write events as JSONL (with --path both: the hardware path's, which carry cycle stamps).
    #[arg(long)]
    events: Option<PathBuf>,
    /// Write the final quote table as JSONL.
    #[arg(long)]
    quotes: Option<PathBuf>,
    /// Write a VCD trace of the simulated hardware (large: use on short captures).
    #[arg(long)]
    trace: Option<PathBuf>,
    /// Where the simulator creates its BAR region (default: a file in /dev/shm, removed after).
    #[arg(long)]
    region: Option<PathBuf>,
    /// pcap or pcapng captures (optionally gzipped), merged by timestamp.
    #[arg(required = true)]
    captures: Vec<PathBuf>,
}

#[derive(Subcommand)]
enum BridgeCommand {
    /// Binance JSON recordings (`<local_ts_ns> <json>` lines, bookTicker records) to a pcap of
    /// SBE 10001 datagrams, each venue on its own UDP destination.
    BinanceJson {
        /// Output pcap.
        #[arg(long)]
        out: PathBuf,
        /// Also write a matching tickcross config here.
        #[arg(long)]
        config_out: Option<PathBuf>,
        /// In the written config, map every symbol to this one instrument.
        #[arg(long)]
        instrument: Option<String>,
        /// VENUE=FILE pairs, in venue order.
        #[arg(required = true)]
        inputs: Vec<String>,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Replay(a) => replay_cmd(a),
        Command::Bridge(BridgeCommand::BinanceJson {
            out,
            config_out,
            instrument,
            inputs,
        }) => bridge_cmd(out, config_out, instrument, inputs).map(|_| ExitCode::SUCCESS),
        Command::Status { device } => status_cmd(device).map(|_| ExitCode::SUCCESS),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn replay_cmd(a: ReplayArgs) -> Result<ExitCode> {
    let cfg =
        Config::load(&a.config).map_err(|e| anyhow::anyhow!("{}:\n{e}", a.config.display()))?;
    let program = cfg.program();
    let frames = open_merged(&a.captures).context("opening captures")?;

    let mut sw = match a.path {
        PathChoice::Sw | PathChoice::Both => Some(SwDetector::new(&program)?),
        PathChoice::Hw => None,
    };
    let mut hw = match a.path {
        PathChoice::Hw | PathChoice::Both => {
            let opts = SimOptions {
                region: a.region.clone(),
                vcd: a.trace.clone(),
            };
            Some(HwDetector::simulated(&program, &opts).context("starting the simulated device")?)
        }
        PathChoice::Sw => None,
    };
    let mut paths: Vec<&mut dyn Detector> = Vec::new();
    if let Some(h) = hw.as_mut() {
        paths.push(h);
    }
    if let Some(s) = sw.as_mut() {
        paths.push(s);
    }
    let started = std::time::Instant::now();
    let results = replay::run(&mut paths, frames, |p: Progress| {
        eprintln!(
            "replay: {} frames, {} events, {:.1} s",
            p.frames,
            p.events,
            p.elapsed.as_secs_f64()
        );
    })?;
    let wall = started.elapsed();

    for r in &results {
        print!("{}", report::summary(r, &cfg));
    }
    if let Some(h) = hw.as_ref() {
        let s = h.sim_stats();
        let secs = wall.as_secs_f64();
        println!(
            "[hw] simulated {} cycles ({} beats, {} stall cycles, {} idle cycles waiting for the host) in {:.2} s; \
             Verilator model {:.2} M cycles/s while driving frames",
            s.cycles,
            s.beats,
            s.stall_cycles,
            s.pacing_cycles,
            secs,
            s.cycles_per_second() / 1e6
        );
    }
    println!("replay wall time {:.2} s", wall.as_secs_f64());

    let primary: &PathResult = &results[0];
    if let Some(p) = &a.events {
        let mut w =
            BufWriter::new(File::create(p).with_context(|| format!("creating {}", p.display()))?);
        replay::write_events(&mut w, &primary.events, &cfg)?;
        w.flush()?;
    }
    if let Some(p) = &a.quotes {
        let mut w =
            BufWriter::new(File::create(p).with_context(|| format!("creating {}", p.display()))?);
        replay::write_quotes(&mut w, &primary.quotes, &cfg)?;
        w.flush()?;
    }
    for r in &results {
        let lost = r.counters.get(tickcross_bindings::counter::RING_OVERFLOWS);
        if lost > 0 {
            tracing::warn!(
                path = r.name,
                lost,
                "the event ring overflowed: events were lost"
            );
        }
    }
    if results.len() == 2 {
        match replay::first_difference(&results[0], &results[1], &cfg) {
            Some(d) => {
                eprintln!("hw and sw differ: {d}");
                return Ok(ExitCode::from(2));
            }
            None => println!(
                "hw and sw agree: {} events, every counter and the quote table identical",
                results[0].events.len()
            ),
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn bridge_cmd(
    out: PathBuf,
    config_out: Option<PathBuf>,
    instrument: Option<String>,
    inputs: Vec<String>,
) -> Result<()> {
    let mut pairs = Vec::new();
    for i in &inputs {
        let Some((venue, file)) = i.split_once('=') else {
            bail!("{i:?}: expected VENUE=FILE");
        };
        if venue.is_empty() || file.is_empty() {
            bail!("{i:?}: expected VENUE=FILE");
        }
        pairs.push((venue.to_string(), PathBuf::from(file)));
    }
    let bridge = bridge_binance_json(&pairs, &BridgeOptions::default())?;
    let frames = bridge.write_pcap_file(&out)?;
    for v in &bridge.venues {
        println!(
            "{}: {} lines, {} bookTicker -> {} ({} skipped, {} malformed)",
            v.name,
            v.lines,
            v.book_tickers,
            v.destination,
            v.skipped_total(),
            v.malformed
        );
    }
    println!("wrote {frames} frames to {}", out.display());
    if let Some(c) = config_out {
        std::fs::write(&c, bridge.config_toml(instrument.as_deref()))
            .with_context(|| format!("writing {}", c.display()))?;
        println!("wrote config {}", c.display());
    }
    Ok(())
}

fn status_cmd(path: PathBuf) -> Result<()> {
    let dev = Device::open(&path)?;
    let b = dev.blocks();
    println!("{}: blocks {b:?}", path.display());
    let (clearing, idle) = dev.status();
    println!("cycles {}, clearing {clearing}, idle {idle}", dev.cycles());
    for (name, v) in dev.counters().named() {
        println!("{name:>22} {v}");
    }
    Ok(())
}
