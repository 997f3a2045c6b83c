//! The tickcross command line.

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use tickcross::config::Config;
use tickcross::replay::{self, PathResult, Progress};
use tickcross::report;
use tickcross_capture::bridge::{bridge_binance_json, check_output_paths, BridgeOptions};
use tickcross_capture::open_merged;
use tickcross_core::detect::Detector;
use tickcross_device::device::Device;
use tickcross_device::hwpath::{HwDetector, SimOptions};
use tickcross_swpath::SwDetector;

#[derive(Parser)]
#[command(
    name = "tickcross",
    version,
    about = "Cross-exchange crossed-market detection in hardware and software",
    after_help = LOG_HELP
)]
struct Cli {
    /// Log only warnings and errors (and no progress lines) on stderr.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    /// Log more on stderr: -v debug, -vv trace.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

/// How logging is chosen; shown at the end of `tickcross --help`.
const LOG_HELP: &str = "\
Logging: results go to stdout; log lines and progress go to stderr, at INFO by default \
(-q: warnings and errors only, -v: debug, -vv: trace). RUST_LOG, when set, overrides \
-q/-v with a tracing filter, for example RUST_LOG=warn or \
RUST_LOG=info,tickcross_trading=debug. Log lines are coloured only when stderr is a \
terminal and NO_COLOR is not set.";

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
    /// The live host: program a device by its BAR and drain its events (or detect in software
    /// on an interface's frames), optionally trading on them on wall-clock time, until stopped
    /// (Ctrl-C / SIGTERM), for a duration, or until the wire has been quiet for a while.
    Run(RunArgs),
    /// A simulated card in this process: serve its BAR at REGION for a host (`run`, `status`) in
    /// another process; once a host has programmed it, feed the captures as its wire.
    Sim(SimArgs),
    /// Trading journals.
    #[command(subcommand)]
    Journal(JournalCommand),
    /// The configuration file: check one, or print the reference of every key.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Hardware against software detection latency on a capture: compare.json and an HTML page.
    Compare(CompareArgs),
    /// Back-to-back minimum-size frames through the simulated pipeline: drops and stalls.
    LineRate {
        /// How many 60-byte frames.
        #[arg(long, default_value_t = 1_000_000)]
        frames: u64,
    },
    /// Turn a trading process's kill switch on: no new trade after this (unwinds go on).
    Kill {
        /// Send SIGUSR1 to this running `tickcross replay --trade` or `run --trade` (any other
        /// process is refused).
        // 1.. keeps kill(2)'s group and broadcast forms (0, -1, -PGID) out of reach.
        #[arg(long, conflicts_with = "file", required_unless_present = "file",
              value_parser = clap::value_parser!(i32).range(1..), allow_hyphen_values = true)]
        pid: Option<i32>,
        /// Create this kill file (the one given to `replay --trade --kill-file`).
        #[arg(long)]
        file: Option<PathBuf>,
    },
}

#[derive(Args)]
struct CompareArgs {
    /// Configuration (TOML); with a [trading] section the host reaction is measured too.
    #[arg(long)]
    config: PathBuf,
    /// Where compare.json and index.html go (created).
    #[arg(long)]
    out: PathBuf,
    /// pcap or pcapng captures, merged by timestamp.
    #[arg(required = true)]
    captures: Vec<PathBuf>,
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Parse and validate a configuration as `replay` does: every problem at once (exit 1), or
    /// a summary of it (exit 0).
    Check { file: PathBuf },
    /// Print the reference of every key (Markdown; docs/CONFIG.md is its output).
    Reference,
}

#[derive(Subcommand)]
enum JournalCommand {
    /// Re-derive balances and P&L from a journal, check them against its snapshots and,
    /// with --report, against a report's summary.json.
    Verify {
        journal: PathBuf,
        /// A report directory written by `replay --trade --report`.
        #[arg(long)]
        report: Option<PathBuf>,
    },
}

#[derive(Args)]
struct RunArgs {
    /// Configuration (TOML).
    #[arg(long)]
    config: PathBuf,
    /// Detection path: the card (hw, with --device) or the software path on the frames of
    /// --interface (sw, no card).
    #[arg(long, value_enum, default_value = "hw")]
    path: RunPath,
    /// /sys/bus/pci/devices/<bdf>/resource0, or a simulator region (--path hw).
    #[arg(long)]
    device: Option<PathBuf>,
    /// The card's wire (Linux, CAP_NET_RAW): the frames the software path detects on (--path
    /// sw), and with --trade the frames that set the simulated venues' books.
    #[arg(long, value_name = "IFACE")]
    interface: Option<String>,
    #[command(flatten)]
    t: TradeArgs,
    /// Write events as JSONL.
    #[arg(long)]
    events: Option<PathBuf>,
    /// Stop after this many seconds.
    #[arg(long)]
    duration: Option<f64>,
    /// Stop once frames have arrived and none has for this many seconds, with the pipeline idle.
    #[arg(long)]
    until_idle: Option<f64>,
    /// With --path hw: the software path, on the frames of --interface, as the card's hot
    /// standby: detection fails over to it when the card stops, and returns to the card once
    /// it is back and its quote table agrees.
    #[arg(long, value_enum, value_name = "PATH")]
    fallback: Option<FallbackPath>,
    /// The device counts as dead when its cycle counter has not advanced for this many seconds,
    /// or reads all-ones: the run ends with an error, or with --fallback fails over [default: 5,
    /// with --fallback 0.0005].
    #[arg(long, value_name = "SECS")]
    dead_after: Option<f64>,
    /// Serve Prometheus metrics at http://ADDR/metrics while running (e.g. 127.0.0.1:9464).
    #[arg(long, value_name = "ADDR:PORT")]
    metrics: Option<std::net::SocketAddr>,
}

/// Trading on the detections (`replay` on a capture's simulated time, `run` on the wall clock).
#[derive(Args)]
struct TradeArgs {
    /// Trade on the events (the config's [trading] sections): fees, risk, inventory, legs,
    /// journal, P&L, with simulated venues or FIX venues (order_entry).
    #[arg(long)]
    trade: bool,
    /// With --trade: on exit, write the report (summary.json, summary.txt, trades.jsonl,
    /// candidates.jsonl) here.
    #[arg(long, requires = "trade")]
    report: Option<PathBuf>,
    /// With --trade: the journal (default: DIR/journal with --report). One that already holds
    /// records is refused unless --resume is given.
    #[arg(long, requires = "trade")]
    journal: Option<PathBuf>,
    /// With --trade: continue the run in the journal (it must exist), after checking, before any
    /// other work, that it belongs to this config and these inputs (captures, or the interface).
    #[arg(long, requires = "trade")]
    resume: bool,
    /// With --trade: the kill switch is on while this file exists (see `tickcross kill`).
    #[arg(long, requires = "trade")]
    kill_file: Option<PathBuf>,
}

#[derive(Args)]
struct SimArgs {
    /// The BAR region to create (a file; /dev/shm keeps it in memory).
    #[arg(long)]
    region: PathBuf,
    /// Write a VCD trace of every RTL signal.
    #[arg(long)]
    trace: Option<PathBuf>,
    /// After the wire is done and the pipeline idle, keep serving this many seconds, then exit
    /// (default: until Ctrl-C / SIGTERM). With --interface the wire is never done: the card
    /// serves until stopped.
    #[arg(long)]
    linger: Option<f64>,
    /// Take frames off this network interface, as a card on a wire does (Linux, CAP_NET_RAW),
    /// once a host has programmed the device; instead of captures.
    #[arg(long, value_name = "IFACE", conflicts_with = "wire")]
    interface: Option<String>,
    /// Modelled latency of the card's posted writes into host memory (DMA), in ns.
    #[arg(long, default_value_t = 500)]
    dma_latency_ns: u64,
    /// With --interface: ask for real-time scheduling (SCHED_FIFO 1, else nice -10), as a
    /// card's own hardware, for a host that fails over at sub-millisecond scale (`run
    /// --fallback sw`). A card processing a backlog then keeps a core to itself.
    #[arg(long, requires = "interface")]
    realtime: bool,
    /// Captures to put on the wire once a host has programmed the device.
    wire: Vec<PathBuf>,
}

/// `run`'s detection paths.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum RunPath {
    Hw,
    Sw,
}

/// `run --fallback`: the path that stands by for the card.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FallbackPath {
    Sw,
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
    #[command(flatten)]
    t: TradeArgs,
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
    /// Binance's live feed (SBE over WebSocket/TLS, or JSON with --json) to the card: each
    /// message as one UDP datagram to the venue's destination; reconnects, renews before the
    /// endpoint's 24-hour limit, counts everything.
    BinanceWs(bridge_ws::BinanceWsArgs),
}

/// Exit statuses (README, "Exit status"). Success is `ExitCode::SUCCESS` (0).
/// Anything went wrong: bad config, unreadable capture, device failure, refused input.
const EXIT_ERROR: u8 = 1;
/// Bad command line: clap's own code for usage errors, used for the ones found after parsing too.
const EXIT_USAGE: u8 = 2;
/// The run worked and found a difference: `--path both` / `compare` paths disagree, `journal
/// verify` mismatches.
const EXIT_DIFFERENCE: u8 = 3;

/// A command-line mistake found after clap's parsing; exits with [`EXIT_USAGE`].
#[derive(Debug)]
struct UsageError(String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Set by -q: progress lines (not log events) are left out too.
static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// A progress line on stderr, unless -q.
macro_rules! progress {
    ($($arg:tt)*) => {
        if !$crate::QUIET.load(std::sync::atomic::Ordering::Relaxed) {
            eprintln!($($arg)*);
        }
    };
}

// after `progress!`, which they use
mod bridge_ws;
mod failover;
mod live;
mod live_metrics;

/// Log events to stderr: RUST_LOG if set, else the level -q/-v choose; colour only on a
/// terminal and without NO_COLOR (<https://no-color.org>), so that a log written to a file or
/// a pipe holds no escape sequences.
fn init_logging(quiet: bool, verbose: u8) {
    use std::io::IsTerminal;
    use tracing_subscriber::EnvFilter;
    let level = match (quiet, verbose) {
        (true, _) => "warn",
        (false, 0) => "info",
        (false, 1) => "debug",
        (false, _) => "trace",
    };
    let from_env = std::env::var("RUST_LOG")
        .ok()
        .filter(|v| !v.trim().is_empty());
    let (filter, bad_env) = match from_env.map(|v| (EnvFilter::try_new(&v), v)) {
        Some((Ok(f), _)) => (f, None),
        Some((Err(e), v)) => (EnvFilter::new(level), Some(format!("{v:?}: {e}"))),
        None => (EnvFilter::new(level), None),
    };
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal() && !no_color)
        .with_target(false)
        .init();
    if let Some(bad) = bad_env {
        tracing::warn!("RUST_LOG ignored, not a valid filter: {bad}");
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    QUIET.store(cli.quiet, std::sync::atomic::Ordering::Relaxed);
    init_logging(cli.quiet, cli.verbose);
    if matches!(
        &cli.command,
        Command::Replay(ReplayArgs {
            t: TradeArgs { trade: true, .. },
            ..
        }) | Command::Run(RunArgs {
            t: TradeArgs { trade: true, .. },
            ..
        })
    ) {
        // before any work, so that an early `tickcross kill --pid` is not SIGUSR1's default
        // (terminate)
        tickcross_trading::engine::install_kill_signal();
    }
    let result = match cli.command {
        Command::Replay(a) => replay_cmd(a),
        Command::Bridge(BridgeCommand::BinanceJson {
            out,
            config_out,
            instrument,
            inputs,
        }) => bridge_cmd(out, config_out, instrument, inputs).map(|_| ExitCode::SUCCESS),
        Command::Bridge(BridgeCommand::BinanceWs(a)) => {
            bridge_ws::binance_ws_cmd(a).map(|_| ExitCode::SUCCESS)
        }
        Command::Status { device } => status_cmd(device).map(|_| ExitCode::SUCCESS),
        Command::Run(a) => run_cmd(a).map(|_| ExitCode::SUCCESS),
        Command::Sim(a) => sim_cmd(a).map(|_| ExitCode::SUCCESS),
        Command::Journal(JournalCommand::Verify { journal, report }) => {
            journal_verify_cmd(journal, report)
        }
        Command::Kill { pid, file } => kill_cmd(pid, file).map(|_| ExitCode::SUCCESS),
        Command::Compare(a) => compare_cmd(a),
        Command::Config(c) => config_cmd(c).map(|_| ExitCode::SUCCESS),
        Command::LineRate { frames } => line_rate_cmd(frames).map(|_| ExitCode::SUCCESS),
    };
    match result {
        Ok(code) => code,
        Err(e) if e.downcast_ref::<Interrupted>().is_some() => {
            eprintln!("error: {e:#}");
            let sig = e.downcast_ref::<Interrupted>().map_or(0, |i| i.0);
            ExitCode::from(128u8.wrapping_add(sig as u8))
        }
        Err(e) if e.downcast_ref::<UsageError>().is_some() => {
            eprintln!("error: {e:#}\n\nFor more information, try '--help'.");
            ExitCode::from(EXIT_USAGE)
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn config_cmd(c: ConfigCommand) -> Result<()> {
    let text = match c {
        ConfigCommand::Check { file } => {
            let cfg =
                Config::load(&file).map_err(|e| anyhow::anyhow!("{}:\n{e}", file.display()))?;
            tickcross::config_doc::summary(&cfg)
        }
        ConfigCommand::Reference => {
            tickcross::config_doc::reference().map_err(|e| anyhow::anyhow!("internal: {e}"))?
        }
    };
    print!("{text}");
    Ok(())
}

fn replay_cmd(a: ReplayArgs) -> Result<ExitCode> {
    use std::fmt::Write as _;
    // read once: the text is also the journal's digest, and the config may be a pipe
    let config_text = std::fs::read_to_string(&a.config)
        .map_err(|e| anyhow::anyhow!("{0}:\n{0}: {e}", a.config.display()))?;
    let cfg = Config::from_toml_str(&config_text)
        .map_err(|e| anyhow::anyhow!("{}:\n{e}", a.config.display()))?;
    if a.t.trade && cfg.trading().is_none() {
        bail!(
            "{}: --trade needs a [trading] section (and [risk], venue fees, balances, markets); see README",
            a.config.display()
        );
    }
    if a.path == PathChoice::Sw {
        // both belong to the simulated hardware, which --path sw does not run
        for (flag, given) in [
            ("--trace", a.trace.is_some()),
            ("--region", a.region.is_some()),
        ] {
            if given {
                return Err(UsageError(format!(
                    "{flag} is for the simulated hardware (RTL): use it with --path hw or --path both"
                ))
                .into());
            }
        }
    }
    let config_text = a.t.trade.then_some(config_text);
    if let Some(text) = &config_text {
        check_journal(&a, &cfg, text)?;
    }
    let program = cfg.program();
    let frames = open_merged(&a.captures).context("opening captures")?;
    // from here until the simulator is gone, a signal ends the replay cleanly (region removed)
    catch_stop_signals();

    let mut sw = match a.path {
        PathChoice::Sw | PathChoice::Both => Some(SwDetector::new(&program)?),
        PathChoice::Hw => None,
    };
    let mut hw = match a.path {
        PathChoice::Hw | PathChoice::Both => {
            let opts = SimOptions {
                region: a.region.clone(),
                vcd: a.trace.clone(),
                interrupt: Some(stop_flag()),
                ..SimOptions::default()
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
    let results = replay::run(&mut paths, until_stopped(frames), |p: Progress| {
        progress!(
            "replay: {} frames, {} events, {:.1} s",
            p.frames,
            p.events,
            p.elapsed.as_secs_f64()
        );
    });
    let wall = started.elapsed();
    drop(paths);
    let sim_stats = hw.as_ref().map(|h| h.sim_stats());
    // stops the simulator thread and removes its region
    drop(hw);
    release_stop_signals();
    if stopping() {
        return Err(interrupted());
    }
    let results = results?;

    // The summary is printed in one block once every pass is done, so that the trading pass's
    // log lines (on stderr) come before it rather than in the middle of it.
    let mut summary = String::new();
    for r in &results {
        summary.push_str(&report::summary(r, &cfg));
    }
    if let Some(s) = sim_stats {
        let secs = wall.as_secs_f64();
        let _ = writeln!(
            summary,
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
    let _ = writeln!(summary, "replay wall time {:.2} s", wall.as_secs_f64());

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
                print!("{summary}");
                eprintln!("hw and sw differ: {d}");
                return Ok(ExitCode::from(EXIT_DIFFERENCE));
            }
            None => {
                let _ = writeln!(
                    summary,
                    "hw and sw agree: {} events, every counter and the quote table identical",
                    results[0].events.len()
                );
            }
        }
    }
    if let Some(text) = &config_text {
        let traded = trade_cmd(&a, &cfg, text, &primary.events, primary.name);
        // what was replayed is worth printing even when trading failed
        print!("{summary}");
        print!("{}", traded?);
    } else {
        print!("{summary}");
    }
    Ok(ExitCode::SUCCESS)
}

/// The journal of `replay --trade`: `--journal`, else DIR/journal with `--report`.
fn journal_path(a: &ReplayArgs) -> Option<PathBuf> {
    journal_of(&a.t.journal, &a.t.report)
}

/// A trading run's journal: `--journal`, else DIR/journal with `--report`.
fn journal_of(journal: &Option<PathBuf>, report: &Option<PathBuf>) -> Option<PathBuf> {
    journal
        .clone()
        .or_else(|| report.as_ref().map(|d| d.join("journal")))
}

fn trade_options(a: &ReplayArgs) -> tickcross_trading::run::TradeOptions {
    tickcross_trading::run::TradeOptions {
        journal: journal_path(a),
        kill_file: a.t.kill_file.clone(),
        inputs_id: tickcross_trading::run::inputs_id(&a.captures),
    }
}

/// Before any replay work: a journal left at the journal path is resumed only with --resume,
/// and only one that passes every check a resume makes; the error says how to go on.
fn check_journal(a: &ReplayArgs, cfg: &Config, config_text: &str) -> Result<()> {
    check_journal_of(
        a.t.journal.is_some(),
        a.t.resume,
        &trade_options(a),
        cfg,
        config_text,
    )
}

/// `check_journal` for any trading run: `journal_given` says whether --journal named the
/// journal (else --report's DIR/journal).
fn check_journal_of(
    journal_given: bool,
    resume: bool,
    opts: &tickcross_trading::run::TradeOptions,
    cfg: &Config,
    config_text: &str,
) -> Result<()> {
    use tickcross_trading::run::{self as trun, TradeRunError};
    let Some(path) = opts.journal.clone() else {
        if resume {
            return Err(UsageError(
                "--resume needs a journal to resume: give --report DIR or --journal FILE".into(),
            )
            .into());
        }
        return Ok(());
    };
    let another = if journal_given {
        "choose another --journal"
    } else {
        "choose another --report dir"
    };
    match trun::check_journal(cfg.trading_inputs(), config_text, opts, resume) {
        Ok(_) => Ok(()),
        Err(e @ TradeRunError::ResumeNotAsked { .. }) => bail!(
            "{e}: pass --resume to continue it, or remove {} / {another} to start afresh",
            path.display()
        ),
        Err(e @ TradeRunError::NothingToResume { .. }) => {
            bail!("--resume: {e}; run without --resume to start a new journal there")
        }
        Err(e) => Err(anyhow::Error::new(e).context(format!(
            "cannot resume from {}: remove it / {another} to start afresh",
            path.display()
        ))),
    }
}

/// The trading pass of `replay --trade`: the chosen path's events and the capture's frames.
fn trade_cmd(
    a: &ReplayArgs,
    cfg: &Config,
    config_text: &str,
    events: &[tickcross_core::event::Event],
    path_name: &str,
) -> Result<String> {
    use std::fmt::Write as _;
    use tickcross_trading::run as trun;
    if let Some(d) = &a.t.report {
        std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
    }
    let opts = trade_options(a);
    let frames = open_merged(&a.captures).context("opening captures")?;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "trading on the {path_name} path's {} events",
        events.len()
    );
    let adapters = tickcross::venues::OrderEntryAdapters { config: cfg };
    let out = trun::run(
        cfg.trading_inputs(),
        &adapters,
        config_text,
        events,
        frames,
        &opts,
        |p| progress!("{}", live::progress_line(p)),
    )
    .context("trading")?;
    o.push_str(&trade_report(&out, a.t.report.as_deref())?);
    Ok(o)
}

/// A trading run's end: what its journal held, the summary, and the report written to `dir`.
fn trade_report(
    out: &tickcross_trading::run::TradeOutcome,
    dir: Option<&std::path::Path>,
) -> Result<String> {
    use std::fmt::Write as _;
    use tickcross_trading::report as treport;
    let mut o = String::new();
    if let Some(t) = &out.torn_start {
        let _ = writeln!(
            o,
            "the journal held only a torn start ({} bytes: the process died while creating it): started afresh",
            t.bytes
        );
    }
    if let Some(info) = &out.resumed {
        let _ = writeln!(
            o,
            "resumed from the journal: {} records{}",
            info.records,
            match info.torn {
                Some(t) => format!(", torn last record cut ({} bytes at {})", t.bytes, t.offset),
                None => String::new(),
            }
        );
    }
    let st = out.engine.state();
    let setup = out.engine.setup();
    let summary = treport::summary_json(setup, st, &out.market.borrow(), out.first_ts, out.last_ts);
    o.push_str(&treport::summary_text(setup, &summary));
    if let Some(d) = dir {
        std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
        treport::write(d, setup, st, &summary)
            .with_context(|| format!("writing the report to {}", d.display()))?;
        let _ = writeln!(o, "report written to {}", d.display());
    }
    Ok(o)
}

fn compare_cmd(a: CompareArgs) -> Result<ExitCode> {
    use tickcross::compare::{self, Comparison};
    let cfg =
        Config::load(&a.config).map_err(|e| anyhow::anyhow!("{}:\n{e}", a.config.display()))?;
    let frames: Vec<tickcross_core::frame::Frame> = open_merged(&a.captures)
        .context("opening captures")?
        .collect::<Result<_, _>>()
        .context("reading captures")?;
    progress!(
        "compare: {} frames; hardware path (Verilator)",
        frames.len()
    );
    let program = cfg.program();
    // until the simulator is gone, a signal ends the run cleanly (region removed)
    catch_stop_signals();
    let opts = SimOptions {
        interrupt: Some(stop_flag()),
        ..SimOptions::default()
    };
    let mut hw = HwDetector::simulated(&program, &opts).context("starting the simulated device")?;
    let results = {
        let mut paths: Vec<&mut dyn Detector> = vec![&mut hw];
        replay::run(
            &mut paths,
            until_stopped(frames.iter().cloned().map(Ok::<_, String>)),
            |p: Progress| progress!("compare: hw {} frames, {} events", p.frames, p.events),
        )
    };
    let stats = hw.sim_stats();
    drop(hw);
    release_stop_signals();
    if stopping() {
        return Err(interrupted());
    }
    let results = results?;
    progress!("compare: software path, packet by packet");
    let sw = compare::measure_software(&cfg, &frames)?;
    let host_reaction = match cfg.trading() {
        Some(_) => {
            progress!("compare: host reaction (trading engine on the hardware events)");
            let text = std::fs::read_to_string(&a.config)?;
            Some(tickcross_trading::run::reaction_times(
                cfg.trading_inputs(),
                &text,
                &results[0].events,
                &frames,
            )?)
        }
        None => None,
    };
    let c = Comparison {
        frames: frames.len() as u64,
        hw_events: results[0].events.clone(),
        sw,
        host_reaction,
        verilator_cycles_per_second: stats.cycles_per_second(),
        delivery: compare::Delivery {
            records: stats.dma_records,
            min_cycles: stats.dma_latency_min,
            mean_cycles: stats.dma_latency_mean(),
            max_cycles: stats.dma_latency_max,
            write_latency_cycles: stats.dma_write_latency,
        },
        hw_stale_quotes: results[0].quotes.stale_count(),
    };
    let data = c.to_json();
    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    std::fs::write(
        a.out.join("compare.json"),
        serde_json::to_string_pretty(&data)? + "\n",
    )?;
    std::fs::write(a.out.join("index.html"), compare::html(&data))?;
    print!("{}", compare_text(&data));
    println!(
        "wrote {} and {}",
        a.out.join("compare.json").display(),
        a.out.join("index.html").display()
    );
    if let Some(i) = c.disagreement() {
        eprintln!("hw and sw events differ at event {i}");
        return Ok(ExitCode::from(EXIT_DIFFERENCE));
    }
    Ok(ExitCode::SUCCESS)
}

/// The comparison as a table for the terminal.
fn compare_text(d: &serde_json::Value) -> String {
    use std::fmt::Write as _;
    let mut o = String::new();
    let row = |o: &mut String, name: &str, s: &serde_json::Value, unit: &str| {
        let _ = writeln!(
            o,
            "{name:<46} {:>9} {:>10} {:>10} {:>10} {:>10}",
            s["count"],
            format!("{}{unit}", s["median"]),
            format!("{}{unit}", s["p99"]),
            format!("{}{unit}", s["p99_9"]),
            format!("{}{unit}", s["max"])
        );
    };
    let _ = writeln!(
        o,
        "{:<46} {:>9} {:>10} {:>10} {:>10} {:>10}",
        "latency", "count", "median", "p99", "p99.9", "max"
    );
    let hw = &d["hardware"];
    let sw = &d["software"];
    row(
        &mut o,
        "hw message last byte -> commit (cycles)",
        &hw["last_byte_to_commit_cycles"],
        "",
    );
    row(
        &mut o,
        "hw message last byte -> commit (ns)",
        &hw["last_byte_to_commit_ns"],
        "",
    );
    row(
        &mut o,
        "hw frame first beat -> commit (cycles)",
        &hw["frame_first_beat_to_commit_cycles"],
        "",
    );
    row(
        &mut o,
        "hw frame first beat -> commit (ns)",
        &hw["frame_first_beat_to_commit_ns"],
        "",
    );
    row(
        &mut o,
        "sw packet -> event (ns)",
        &sw["packet_to_event_ns"],
        "",
    );
    row(&mut o, "sw every packet (ns)", &sw["all_packets_ns"], "");
    if !d["host_reaction_ns"].is_null() {
        row(
            &mut o,
            "host reaction: event -> both legs handed (ns)",
            &d["host_reaction_ns"],
            "",
        );
    }
    let dl = &hw["commit_to_host_memory"];
    if !dl.is_null() {
        let _ = writeln!(
            o,
            "hw commit -> record in host memory (modelled DMA, posted write {} cycles = {} ns): {} records, min {} / mean {} / max {} cycles = {} / {} / {} ns",
            dl["posted_write_latency_cycles"],
            dl["posted_write_latency_ns"],
            dl["records"],
            dl["cycles"]["min"],
            dl["cycles"]["mean"],
            dl["cycles"]["max"],
            dl["ns"]["min"],
            dl["ns"]["mean"],
            dl["ns"]["max"]
        );
    }
    let r = &d["ratio_sw_over_hw"];
    let _ = writeln!(
        o,
        "sw/hw ratio (last byte): median {}x, p99 {}x, p99.9 {}x, max {}x",
        r["median"], r["p99"], r["p99_9"], r["max"]
    );
    let _ = writeln!(
        o,
        "sw: {} messages/s on one core (pinned to CPU {}), clock read {} ns; Verilator {} cycles/s",
        sw["messages_per_second"],
        sw["pinned_cpu"],
        sw["timer_overhead_ns"],
        hw["verilator_cycles_per_second"]
    );
    if let Some(ts) = d["targets"].as_array() {
        for t in ts {
            let _ = writeln!(
                o,
                "target {}: {} -> {} ({})",
                t["what"].as_str().unwrap_or(""),
                t["target"].as_str().unwrap_or(""),
                t["measured"].as_str().unwrap_or(""),
                if t["met"] == true { "met" } else { "MISSED" }
            );
        }
    }
    o
}

#[cfg(feature = "sim")]
fn line_rate_cmd(frames: u64) -> Result<()> {
    if frames == 0 {
        bail!("--frames must be at least 1");
    }
    let started = std::time::Instant::now();
    let r = tickcross::compare::line_rate(frames, |n| {
        if n > 0 {
            progress!(
                "line-rate: {n} frames, {:.1} s",
                started.elapsed().as_secs_f64()
            );
        }
    })?;
    println!(
        "line-rate: {} back-to-back {}-byte frames: {} accepted, {} dropped; {} beats in {} cycles \
         ({} stall cycles, input stall counter {}); {:.3} beats per cycle; Verilator {:.2} M cycles/s",
        r.frames,
        r.frame_bytes,
        r.accepted,
        r.frames - r.accepted,
        r.beats,
        r.cycles,
        r.stall_cycles,
        r.input_stall_counter,
        r.beats as f64 / r.cycles.max(1) as f64,
        r.cycles_per_second / 1e6
    );
    if r.accepted != r.frames || r.stall_cycles != 0 {
        bail!("the pipeline did not take one beat per cycle");
    }
    Ok(())
}

#[cfg(not(feature = "sim"))]
fn line_rate_cmd(_: u64) -> Result<()> {
    bail!("this tickcross was built without the simulator (feature \"sim\")")
}

fn kill_cmd(pid: Option<i32>, file: Option<PathBuf>) -> Result<()> {
    if let Some(pid) = pid {
        signal_trading_process(pid)?;
        println!("kill switch: SIGUSR1 sent to {pid}");
    }
    if let Some(f) = file {
        std::fs::write(&f, b"kill\n").with_context(|| format!("creating {}", f.display()))?;
        println!("kill switch: {} created", f.display());
    }
    Ok(())
}

/// Sends SIGUSR1 to `pid` only if it is a live tickcross process that catches SIGUSR1, which only
/// `replay --trade` and `run --trade` do: to any other process SIGUSR1 is fatal. The checks and the signal go
/// through a pidfd, so a PID that is reused in between is not the one signalled.
fn signal_trading_process(pid: i32) -> Result<()> {
    use std::os::fd::{FromRawFd, OwnedFd};
    if pid <= 0 {
        // kill(2) would signal a process group or every process
        return Err(UsageError(format!("--pid {pid}: a process id is at least 1")).into());
    }
    let no_process = || anyhow::anyhow!("no process {pid} is running");
    // SAFETY: pidfd_open(2) takes a pid and flags and returns a new descriptor or -1.
    let raw = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    let pidfd = if raw >= 0 {
        // SAFETY: a descriptor just returned to us, owned from here on.
        Some(unsafe { OwnedFd::from_raw_fd(raw as i32) })
    } else {
        match std::io::Error::last_os_error().raw_os_error() {
            Some(libc::ESRCH) => return Err(no_process()),
            // kernels before 5.3: check and kill(2), with the usual reuse race
            Some(libc::ENOSYS) => None,
            _ => bail!(
                "process {pid}: pidfd_open: {}",
                std::io::Error::last_os_error()
            ),
        }
    };
    let proc_dir = PathBuf::from(format!("/proc/{pid}"));
    let status = match std::fs::read_to_string(proc_dir.join("status")) {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(no_process()),
        Err(e) => bail!("reading {}: {e}", proc_dir.join("status").display()),
    };
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
            .map(str::trim)
            .unwrap_or("")
    };
    if field("State").starts_with('Z') || field("State").starts_with('X') {
        return Err(no_process());
    }
    // The executable's name; /proc/PID/exe is unreadable for another user's process, then the
    // kernel's command name. " (deleted)": the binary was replaced while running.
    let program = match std::fs::read_link(proc_dir.join("exe")) {
        Ok(exe) => exe
            .to_string_lossy()
            .trim_end_matches(" (deleted)")
            .to_string(),
        Err(_) => field("Name").to_string(),
    };
    if std::path::Path::new(&program).file_name() != Some(std::ffi::OsStr::new("tickcross")) {
        bail!("process {pid} is {program:?}, not tickcross: refusing to signal it");
    }
    let caught = u64::from_str_radix(field("SigCgt"), 16).unwrap_or(0);
    if caught & (1u64 << (libc::SIGUSR1 - 1)) == 0 {
        bail!(
            "tickcross process {pid} has no kill switch to turn on (only a running `replay \
             --trade` or `run --trade` catches SIGUSR1; to any other process it is fatal)"
        );
    }
    let sent = match &pidfd {
        // SAFETY: pidfd_send_signal(2) with our open pidfd, a fixed signal and no siginfo.
        Some(fd) => unsafe {
            use std::os::fd::AsRawFd;
            libc::syscall(
                libc::SYS_pidfd_send_signal,
                fd.as_raw_fd(),
                libc::SIGUSR1,
                std::ptr::null::<libc::siginfo_t>(),
                0,
            )
        },
        // SAFETY: kill(2) with a positive pid and a fixed signal.
        None => i64::from(unsafe { libc::kill(pid, libc::SIGUSR1) }),
    };
    if sent != 0 {
        let e = std::io::Error::last_os_error();
        if e.raw_os_error() == Some(libc::ESRCH) {
            return Err(no_process());
        }
        bail!("signalling process {pid}: {e}");
    }
    Ok(())
}

fn journal_verify_cmd(journal: PathBuf, report: Option<PathBuf>) -> Result<ExitCode> {
    use tickcross_trading::verify::verify;
    let v = verify(&journal, report.as_deref())?;
    println!(
        "{}: {} records, {} fills, {} trades closed, {} snapshots checked{}",
        journal.display(),
        v.records,
        v.fills,
        v.trades_closed,
        v.snapshots_checked,
        match v.torn {
            Some(t) if v.torn_start => format!(
                " (a torn start: {} bytes, the process died while creating the journal; it holds nothing)",
                t.bytes
            ),
            Some(t) => format!(
                " (torn last record: {} bytes at {}, ignored)",
                t.bytes, t.offset
            ),
            None => String::new(),
        }
    );
    println!("realized net P&L {}, fees {}", v.realized, v.fees);
    if v.busts + v.corrections > 0 {
        println!(
            "fills busted {}, corrected {} (realized net of closed trades changed by {})",
            v.busts, v.corrections, v.correction_pnl
        );
    }
    for (k, name) in v.venues.iter().enumerate() {
        let b: Vec<String> = v.balances[k]
            .iter()
            .map(|(a, x)| format!("{a} {x}"))
            .collect();
        println!("  {name}: {}", b.join(", "));
    }
    if !v.in_transit.is_empty() {
        println!("  in transit: {:?}", v.in_transit);
    }
    if v.mismatches.is_empty() {
        println!(
            "journal verified: balances and P&L re-derived from the records agree with every snapshot{}",
            if report.is_some() { " and with the report" } else { "" }
        );
        Ok(ExitCode::SUCCESS)
    } else {
        for m in &v.mismatches {
            eprintln!("MISMATCH: {m}");
        }
        eprintln!("journal verify: {} mismatches", v.mismatches.len());
        Ok(ExitCode::from(EXIT_DIFFERENCE))
    }
}

fn bridge_cmd(
    out: PathBuf,
    config_out: Option<PathBuf>,
    instrument: Option<String>,
    inputs: Vec<String>,
) -> Result<()> {
    let mut pairs = Vec::new();
    for i in &inputs {
        match i.split_once('=') {
            Some((venue, file)) if !venue.is_empty() && !file.is_empty() => {
                pairs.push((venue.to_string(), PathBuf::from(file)))
            }
            _ => return Err(UsageError(format!("{i:?}: expected VENUE=FILE")).into()),
        }
    }
    let files: Vec<&PathBuf> = pairs.iter().map(|(_, f)| f).collect();
    check_output_paths(&files, &out, config_out.as_deref())?;
    let bridge = bridge_binance_json(&pairs, &BridgeOptions::default())?;
    // Checked before anything is written: a config that `replay` would refuse is not written,
    // nor the capture it goes with.
    let config = match &config_out {
        Some(_) => Some(bridge.checked_config(instrument.as_deref())?),
        None => None,
    };
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
    if let (Some(c), Some(text)) = (config_out, config) {
        std::fs::write(&c, text).with_context(|| format!("writing {}", c.display()))?;
        println!("wrote config {}", c.display());
    }
    Ok(())
}

fn status_cmd(path: PathBuf) -> Result<()> {
    let dev = Device::open(&path)?;
    print!("{}", status_text(&path, &dev));
    Ok(())
}

/// `status` for a reader: "key  value" lines, block offsets in hex, then every counter by its
/// contract name, names and values in aligned columns.
fn status_text(path: &std::path::Path, dev: &Device) -> String {
    use std::fmt::Write as _;
    let b = dev.blocks();
    let (clearing, idle) = dev.status();
    let yes_no = |x: bool| if x { "yes" } else { "no" };
    let mut o = String::new();
    let _ = writeln!(o, "{:<10}{}", "device", path.display());
    let _ = writeln!(o, "{:<10}{}", "cycles", dev.cycles());
    let _ = writeln!(o, "{:<10}{}", "idle", yes_no(idle));
    let _ = writeln!(o, "{:<10}{}", "clearing", yes_no(clearing));
    // not a device counter: the host counts the quote window's stale flags (PIPELINE section 6)
    let _ = writeln!(
        o,
        "{:<10}{} (quote-window entries flagged stale, counted by the host)",
        "stale",
        dev.quotes().stale_count()
    );
    let _ = writeln!(o, "blocks (BAR offsets)");
    for (name, off) in [
        ("control", b.control),
        ("clock", b.clock),
        ("counters", b.counters),
        ("venues", b.venues),
        ("symbols", b.symbols),
        ("edges", b.edges),
        ("ring", b.ring),
        ("quotes", b.quotes),
    ] {
        let _ = writeln!(o, "  {name:<10}{off:#07x}");
    }
    let counters: Vec<(&str, u64)> = dev.counters().named().collect();
    let name_w = counters.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    let value_w = counters
        .iter()
        .map(|(_, v)| v.to_string().len())
        .max()
        .unwrap_or(0);
    let _ = writeln!(o, "counters");
    for (name, v) in counters {
        let _ = writeln!(o, "  {name:<name_w$}  {v:>value_w$}");
    }
    o
}

/// Set by SIGINT / SIGTERM once `catch_stop_signals` is in force; also the cancel flag of a
/// simulator driven by this process, so every wait of the simulator sees it.
static STOP: std::sync::OnceLock<std::sync::Arc<std::sync::atomic::AtomicBool>> =
    std::sync::OnceLock::new();
/// The signal that set STOP.
static STOP_SIGNAL: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);

fn stop_flag() -> std::sync::Arc<std::sync::atomic::AtomicBool> {
    STOP.get_or_init(Default::default).clone()
}

extern "C" fn on_stop_signal(sig: libc::c_int) {
    STOP_SIGNAL.store(sig, std::sync::atomic::Ordering::SeqCst);
    // initialised before the handler is installed: `get` is an atomic load
    if let Some(f) = STOP.get() {
        f.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Ctrl-C and SIGTERM ask the command to finish cleanly: `run` drains and reports, `replay` and
/// `compare` stop their simulator and remove its region, `sim` stops serving.
fn catch_stop_signals() {
    let _ = stop_flag();
    let handler = on_stop_signal as extern "C" fn(libc::c_int);
    // SAFETY: the handler only stores to atomics, which is async-signal-safe.
    unsafe {
        libc::signal(libc::SIGINT, handler as libc::sighandler_t);
        libc::signal(libc::SIGTERM, handler as libc::sighandler_t);
    }
}

/// SIGINT and SIGTERM terminate again (once there is nothing left to clean up).
fn release_stop_signals() {
    // SAFETY: restoring the default disposition.
    unsafe {
        libc::signal(libc::SIGINT, libc::SIG_DFL);
        libc::signal(libc::SIGTERM, libc::SIG_DFL);
    }
}

fn stopping() -> bool {
    STOP.get()
        .is_some_and(|f| f.load(std::sync::atomic::Ordering::SeqCst))
}

/// A command stopped by SIGINT / SIGTERM after cleaning up; exits 128 + the signal number.
#[derive(Debug)]
struct Interrupted(i32);

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match self.0 {
            libc::SIGINT => "SIGINT",
            libc::SIGTERM => "SIGTERM",
            _ => "a signal",
        };
        write!(f, "interrupted by {name}")
    }
}

impl std::error::Error for Interrupted {}

fn interrupted() -> anyhow::Error {
    Interrupted(STOP_SIGNAL.load(std::sync::atomic::Ordering::SeqCst)).into()
}

/// Frames until a stop signal, then one error: a replay ends (stopping its simulator, removing
/// its region) as it would on a bad capture.
fn until_stopped<E: std::fmt::Display>(
    mut frames: impl Iterator<Item = Result<tickcross_core::frame::Frame, E>>,
) -> impl Iterator<Item = Result<tickcross_core::frame::Frame, String>> {
    let mut done = false;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        if stopping() {
            done = true;
            return Some(Err("interrupted".to_string()));
        }
        frames.next().map(|f| f.map_err(|e| e.to_string()))
    })
}

fn run_cmd(a: RunArgs) -> Result<()> {
    use std::time::Duration;
    let dead_after = a
        .dead_after
        .unwrap_or(if a.fallback.is_some() { 0.0005 } else { 5.0 });
    if !(dead_after.is_finite() && dead_after > 0.0) {
        return Err(UsageError(format!(
            "--dead-after {dead_after}: give a number of seconds above 0"
        ))
        .into());
    }
    live::check_options(
        a.path == RunPath::Sw,
        a.device.is_some(),
        a.interface.is_some(),
        a.t.trade,
    )?;
    if a.fallback.is_some() && (a.path == RunPath::Sw || a.interface.is_none()) {
        return Err(UsageError(
            "--fallback sw stands by for a card: it needs --path hw (the default) with --device, and --interface for the frames the software path detects on".into(),
        )
        .into());
    }
    if a.t.resume && journal_of(&a.t.journal, &a.t.report).is_none() {
        return Err(UsageError(
            "--resume needs a journal to resume: give --report DIR or --journal FILE".into(),
        )
        .into());
    }
    let dead_after = Duration::from_secs_f64(dead_after);
    // read once: the text is also the journal's digest
    let config_text = std::fs::read_to_string(&a.config)
        .map_err(|e| anyhow::anyhow!("{0}:\n{0}: {e}", a.config.display()))?;
    let cfg = Config::from_toml_str(&config_text)
        .map_err(|e| anyhow::anyhow!("{}:\n{e}", a.config.display()))?;
    let trading = if a.t.trade {
        if cfg.trading().is_none() {
            bail!(
                "{}: --trade needs a [trading] section (and [risk], venue fees, balances, markets); see README",
                a.config.display()
            );
        }
        let opts = tickcross_trading::run::TradeOptions {
            journal: journal_of(&a.t.journal, &a.t.report),
            kill_file: a.t.kill_file.clone(),
            // the live inputs are the wire: a journal resumes on the same interface
            inputs_id: format!("interface:{}", a.interface.as_deref().unwrap_or("")),
        };
        check_journal_of(a.t.journal.is_some(), a.t.resume, &opts, &cfg, &config_text)?;
        if let Some(d) = &a.t.report {
            std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
        }
        Some(live::LiveTrading {
            config_text: &config_text,
            opts,
        })
    } else {
        None
    };
    let detection = match (&a.device, a.path) {
        (Some(d), RunPath::Hw) => live::Detection::Card {
            dev: Box::new(Device::open(d)?),
            dead_after,
        },
        _ => live::Detection::Software(Box::new(SwDetector::new(&cfg.program())?)),
    };
    let fallback = match a.fallback {
        Some(FallbackPath::Sw) => Some(Box::new(SwDetector::new(&cfg.program())?)),
        None => None,
    };
    // the endpoint before any work: an address that cannot be bound fails the run at once
    let metrics = match a.metrics {
        Some(addr) => {
            let m = std::sync::Arc::new(tickcross_metrics::Metrics::new());
            let exporter = tickcross_metrics::Exporter::start(addr, m.clone())?;
            progress!("run: metrics at http://{}/metrics", exporter.addr());
            Some((m, exporter))
        }
        None => None,
    };
    catch_stop_signals();
    let out = live::run(live::LivePlan {
        cfg: &cfg,
        detection,
        interface: a.interface.clone(),
        events: a.events.clone(),
        duration: a.duration,
        until_idle: a.until_idle,
        trading,
        metrics: metrics.as_ref().map(|(m, _)| m.clone()),
        fallback,
    })?;
    drop(metrics);
    let drained = &out.drained;
    print!(
        "{}",
        report::summary_of(
            out.name,
            &out.counters,
            drained.events,
            &drained.per_pair,
            &cfg
        )
    );
    if let Some(n) = out.stale {
        println!(
            "[{}] stale quotes at the end (from the quote dump): {n}",
            out.name
        );
    }
    println!(
        "event sequence: {} events lost (gaps), {} out of order or repeated",
        drained.seq.lost, drained.seq.out_of_order
    );
    for n in &out.notes {
        println!("{n}");
    }
    if let Some(sb) = &out.failover {
        for l in failover::summary_lines(sb) {
            println!("{l}");
        }
        if let Some(d) = &a.t.report {
            let p = d.join("failover.json");
            let text = serde_json::to_string_pretty(&failover::switches_json(sb))?;
            std::fs::write(&p, text + "\n").with_context(|| format!("writing {}", p.display()))?;
        }
    }
    if let Some(t) = &out.trade {
        print!("{}", trade_report(t, a.t.report.as_deref())?);
    }
    if let Some(e) = out.failure {
        return Err(e.context(format!("run stopped after {} events", drained.events)));
    }
    Ok(())
}

/// A simulator stopped by a signal is interrupted, not failed.
#[cfg(feature = "sim")]
fn stopped(e: tickcross_sim::device::SimError) -> anyhow::Error {
    match e {
        tickcross_sim::device::SimError::Cancelled => interrupted(),
        e => e.into(),
    }
}

#[cfg(feature = "sim")]
fn sim_cmd(a: SimArgs) -> Result<()> {
    use tickcross_sim::device::SimDevice;
    // a signal stops every wait of the simulator (a host that stopped draining cannot hold it)
    catch_stop_signals();
    let mut dev = SimDevice::create_with(&a.region, a.trace.as_deref(), stop_flag())
        .map_err(stopped)
        .context("starting the simulated card")?;
    dev.set_dma_latency_ns(a.dma_latency_ns);
    let served = sim_serve(&mut dev, &a);
    if served
        .as_ref()
        .is_err_and(|e| e.downcast_ref::<Interrupted>().is_none())
    {
        // a host on the region sees a dead card at once rather than after its timeout
        dev.mark_dead();
    }
    served
}

#[cfg(feature = "sim")]
fn sim_serve(dev: &mut tickcross_sim::device::SimDevice, a: &SimArgs) -> Result<()> {
    use std::time::{Duration, Instant};
    use tickcross_sim::device::SimError;
    progress!("sim: serving the BAR at {}", a.region.display());
    let wait_for_host = |dev: &mut tickcross_sim::device::SimDevice| -> Result<()> {
        progress!("sim: waiting for a host to program the device");
        while !dev.host_ready() {
            if stopping() {
                return Err(interrupted().context("before a host programmed the device"));
            }
            // a few cycles per wake-up: the clock runs, the simulator stays a light sleeper
            dev.idle(64)?;
            std::thread::sleep(Duration::from_micros(50));
        }
        Ok(())
    };
    if let Some(iface) = &a.interface {
        sim_interface(dev, iface, a.realtime, &wait_for_host)?;
    }
    if !a.wire.is_empty() {
        wait_for_host(dev)?;
        let frames = open_merged(&a.wire).context("opening captures")?;
        let mut n = 0u64;
        for f in frames {
            let f = f?;
            dev.push_frame(&f.data, f.ts_ns, f.bad)
                .map_err(stopped)
                .with_context(|| format!("after {n} frames of the wire"))?;
            n += 1;
            if stopping() {
                return Err(interrupted().context(format!("after {n} frames of the wire")));
            }
        }
        dev.wait_idle().map_err(stopped)?;
        dev.sync_all().map_err(stopped)?;
        let s = dev.stats();
        progress!(
            "sim: wire done: {n} frames, {} cycles, {:.2} M cycles/s while driving frames",
            s.cycles,
            s.cycles_per_second() / 1e6
        );
    }
    let done = Instant::now();
    while !stopping()
        && a.linger
            .is_none_or(|l| done.elapsed() < Duration::from_secs_f64(l))
    {
        // keep serving host writes and commands, without spinning a core
        dev.idle(1024)?;
        std::thread::sleep(Duration::from_micros(100));
    }
    // stopped while serving (the documented way to end it): bring the region up to date for a
    // later `status`, unless the stop interrupts that too
    match dev.sync_all() {
        Ok(()) | Err(SimError::Cancelled) => {}
        Err(e) => return Err(e.into()),
    }
    dev.flush_trace()?;
    Ok(())
}

/// `sim --interface --realtime`. A card is hardware of its own: a host watching its clock at
/// sub-millisecond scale (`run --fallback`) takes a simulator that a loaded machine leaves
/// unscheduled for a millisecond for a dead card. Real-time scheduling (SCHED_FIFO at the lowest
/// priority: it preempts ordinary processes; idle, the card sleeps between its 64-cycle steps;
/// the kernel's real-time throttling keeps 5% of every core for the rest) where it may (root,
/// CAP_SYS_NICE), else nice -10, and says what it got. Opt-in: a card processing a backlog at
/// top speed then keeps a core to itself, which starves a host's capture on a 2-core machine. Measured on the shared 2-core machine
/// under a parallel build: with nice -10 alone the card's clock still stood still past 0.5 ms
/// tens of times a run.
#[cfg(all(feature = "sim", target_os = "linux"))]
fn raise_priority() {
    let param = libc::sched_param { sched_priority: 1 };
    // SAFETY: sched_setscheduler(2) on this thread with a valid parameter block
    if unsafe { libc::sched_setscheduler(0, libc::SCHED_FIFO, &param) } == 0 {
        progress!("sim: real-time scheduling (SCHED_FIFO 1), as a card's own hardware");
        return;
    }
    let fifo = std::io::Error::last_os_error();
    // SAFETY: setpriority(2) on this thread, with constant arguments
    if unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, -10) } == 0 {
        progress!("sim: nice -10 (no real-time scheduling: {fifo})");
        return;
    }
    tracing::warn!(
        "sim: could not raise the card's scheduling priority ({fifo}; {}): on a loaded machine a host failing over at sub-millisecond scale may take it for stopped",
        std::io::Error::last_os_error()
    );
}

/// Cycles the simulated card on a wire runs per wake-up while no frame is waiting.
#[cfg(all(feature = "sim", target_os = "linux"))]
const IDLE_CYCLES: u64 = 64;

/// Frames the simulated card holds between its interface and its pipeline (its MAC's FIFO; a
/// full one drops, counted): at the Verilated model's speed a capture played at top speed
/// arrives faster than the model takes it.
#[cfg(all(feature = "sim", target_os = "linux"))]
const LIVE_BACKLOG: usize = 1 << 18;

/// Serves the card on a live interface until stopped: a thread takes frames off the interface
/// into the backlog, this one drives them into the model as they come and otherwise keeps its
/// clock running and its registers served.
#[cfg(all(feature = "sim", target_os = "linux"))]
fn sim_interface(
    dev: &mut tickcross_sim::device::SimDevice,
    iface: &str,
    realtime: bool,
    wait_for_host: &dyn Fn(&mut tickcross_sim::device::SimDevice) -> Result<()>,
) -> Result<()> {
    use std::sync::mpsc::{sync_channel, TryRecvError, TrySendError};
    use std::time::{Duration, Instant};
    use tickcross_capture::live::LiveCapture;
    // the socket is opened before a host programs the card: opening it stops the card's clock
    // for a while, which a host watching it at sub-millisecond scale would take for a death.
    // Frames that reach it in the meantime wait in the socket's queue and go in once programmed.
    let mut cap =
        LiveCapture::open(iface, Duration::from_millis(20)).context("the simulated card's wire")?;
    // before the reader thread starts: it inherits the priority
    if realtime {
        raise_priority();
    }
    wait_for_host(dev)?;
    let (tx, rx) = sync_channel(LIVE_BACKLOG);
    let reader = std::thread::spawn(
        move || -> Result<(tickcross_capture::live::LiveStats, u64)> {
            let mut backlog_drops = 0u64;
            while !stopping() {
                let Some(f) = cap.next_frame()? else { continue };
                match tx.try_send(f) {
                    Ok(()) => {}
                    Err(TrySendError::Full(_)) => {
                        backlog_drops += 1;
                        if backlog_drops.is_power_of_two() {
                            tracing::warn!(
                            backlog_drops,
                            "the card's backlog of {LIVE_BACKLOG} frames is full: frame dropped"
                        );
                        }
                    }
                    Err(TrySendError::Disconnected(_)) => break,
                }
            }
            Ok((cap.stats(), backlog_drops))
        },
    );
    // a host failing back to this card compares its quote table with the software path's
    dev.set_quote_mirror(true);
    progress!("sim: taking frames from interface {iface}");
    let mut n = 0u64;
    let mut report = Instant::now();
    let driven: Result<()> = loop {
        if stopping() {
            break Ok(());
        }
        match rx.try_recv() {
            Ok(f) => {
                if let Err(e) = dev.push_frame(&f.data, f.ts_ns, f.bad) {
                    break Err(stopped(e).context(format!("after {n} frames from {iface}")));
                }
                n += 1;
            }
            Err(TryRecvError::Empty) => {
                // a few cycles per wake-up: the clock (the host's sign of life) advances every
                // ~100 us of wall time while the simulator stays a light sleeper, which the
                // scheduler wakes at once on a loaded machine (a thousand cycles per wake-up,
                // a millisecond of CPU, made it a CPU hog that was preempted for milliseconds)
                if let Err(e) = dev.idle(IDLE_CYCLES) {
                    break Err(e.into());
                }
                std::thread::sleep(Duration::from_micros(50));
            }
            // the reader stopped: its error (or the stop) is what the join below returns
            Err(TryRecvError::Disconnected) => break Ok(()),
        }
        if report.elapsed() >= Duration::from_secs(10) {
            progress!(
                "sim: {n} frames from {iface}, {} cycles",
                dev.stats().cycles
            );
            report = Instant::now();
        }
    };
    drop(rx);
    let (stats, backlog_drops) = reader
        .join()
        .map_err(|_| anyhow::anyhow!("the interface reader thread panicked"))??;
    driven?;
    progress!(
        "sim: interface {iface}: {n} frames into the pipeline, {} bytes taken, {} dropped by the kernel, {backlog_drops} by the full backlog, {} too long",
        stats.bytes,
        stats.kernel_drops,
        stats.truncated
    );
    Ok(())
}

#[cfg(all(feature = "sim", not(target_os = "linux")))]
fn sim_interface(
    _: &mut tickcross_sim::device::SimDevice,
    _: &str,
    _: bool,
    _: &dyn Fn(&mut tickcross_sim::device::SimDevice) -> Result<()>,
) -> Result<()> {
    bail!("--interface needs Linux (AF_PACKET)")
}

#[cfg(not(feature = "sim"))]
fn sim_cmd(_: SimArgs) -> Result<()> {
    bail!("this tickcross was built without the simulator (feature \"sim\")")
}
