//! Soak: mutated frames through both paths until a time budget runs out. Each round is a fresh
//! simulated device and software path fed either the generated test world (every venue protocol,
//! 35% of frames damaged) or, when captures are given, their real frames with the same damage;
//! the two must agree on every counter, event and quote. Prints each failing round's seed (replay
//! one with `--seed S --rounds 1`) and a closing `N passed, M failed` line; exits 1 on a failure.
//!
//! `cargo run --release -p tickcross-tests --example soak_frames -- [--seconds S] [--frames N]
//!  [--seed S] [--rounds R] [--config CFG CAPTURE...]`

use std::time::{Duration, Instant};
use tickcross::config::Config;
use tickcross_capture::read_capture;
use tickcross_core::frame::Frame;
use tickcross_core::program::Program;
use tickcross_tests::gen::{mutate, world_program, world_stream, Rng};
use tickcross_tests::{difference, run_both};

struct Args {
    seconds: u64,
    frames: usize,
    seed: u64,
    rounds: Option<u64>,
    config: Option<String>,
    captures: Vec<String>,
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        seconds: 300,
        frames: 50_000,
        seed: 1,
        rounds: None,
        config: None,
        captures: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    let num = |v: Option<String>, what: &str| -> Result<u64, String> {
        v.ok_or(format!("{what} needs a value"))?
            .parse()
            .map_err(|e| format!("{what}: {e}"))
    };
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--seconds" => a.seconds = num(it.next(), "--seconds")?,
            "--frames" => a.frames = num(it.next(), "--frames")? as usize,
            "--seed" => a.seed = num(it.next(), "--seed")?,
            "--rounds" => a.rounds = Some(num(it.next(), "--rounds")?),
            "--config" => a.config = Some(it.next().ok_or("--config needs a file")?),
            s if s.starts_with("--") => return Err(format!("unknown option {s}")),
            _ => a.captures.push(arg),
        }
    }
    if a.captures.is_empty() != a.config.is_none() {
        return Err("--config and captures go together".into());
    }
    Ok(a)
}

/// The real frames, each damaged with probability 35% by the same mutations as the tests use.
fn damaged(real: &[Frame], seed: u64, n: usize) -> Vec<Frame> {
    let mut rng = Rng::new(seed);
    let start = rng.below(real.len() as u64) as usize;
    (0..n.min(real.len()))
        .map(|k| {
            let f = &real[(start + k) % real.len()];
            let (data, bad) = if rng.pct(35) {
                mutate(&mut rng, f.data.clone())
            } else {
                (f.data.clone(), f.bad)
            };
            Frame {
                ts_ns: f.ts_ns,
                data,
                bad,
            }
        })
        .collect()
}

fn main() {
    let a = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("soak_frames: {e}");
            std::process::exit(2);
        }
    };
    let mut real: Vec<Frame> = Vec::new();
    let mut real_program: Option<Program> = None;
    if let Some(cfg) = &a.config {
        let cfg = Config::load(cfg).unwrap_or_else(|e| {
            eprintln!("soak_frames: {e}");
            std::process::exit(2)
        });
        real_program = Some(cfg.program());
        for c in &a.captures {
            match read_capture(c) {
                Ok((frames, _)) => real.extend(frames),
                Err(e) => {
                    eprintln!("soak_frames: {e}");
                    std::process::exit(2);
                }
            }
        }
        real.sort_by_key(|f| f.ts_ns);
    }
    let world = world_program([0, 0, 0]);
    let budget = Duration::from_secs(a.seconds);
    let started = Instant::now();
    let (mut passed, mut failed, mut frames, mut events) = (0u64, 0u64, 0u64, 0u64);
    let mut round = 0u64;
    while a.rounds.map_or(started.elapsed() < budget, |r| round < r) {
        let seed = a.seed + round;
        // alternate the generated world and the real frames, when there are any
        let (what, program, stream) = match &real_program {
            Some(p) if round % 2 == 1 => ("real", p, damaged(&real, seed, a.frames)),
            _ => ("world", &world, world_stream(seed, a.frames, 35)),
        };
        round += 1;
        frames += stream.len() as u64;
        match run_both(program, &stream) {
            Ok((h, s)) => match difference(&h, &s) {
                None => {
                    passed += 1;
                    events += h.events.len() as u64;
                }
                Some(d) => {
                    failed += 1;
                    println!("FAIL round {round} ({what}, seed {seed}): {d}");
                }
            },
            Err(e) => {
                failed += 1;
                println!("FAIL round {round} ({what}, seed {seed}): {e}");
            }
        }
        if round.is_multiple_of(10) {
            eprintln!(
                "soak_frames: {round} rounds, {frames} frames, {events} events, {failed} failed, {:.0} s",
                started.elapsed().as_secs_f64()
            );
        }
    }
    println!(
        "soak_frames: {round} rounds, {frames} mutated-stream frames through both paths, {events} events agreed, {:.0} s",
        started.elapsed().as_secs_f64()
    );
    println!("frames: {passed} passed, {failed} failed");
    if failed > 0 {
        std::process::exit(1);
    }
}
