//! Helpers shared by the binary's integration tests: real Binance captures bridged by the binary
//! itself, and the same frames as a pcapng. Each test file uses some of them.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tickcross"))
}

/// The repository's root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `../shared` beside the repository (the real captures without a licence for this repository,
/// such as the Deribit capture; see its data/README.md).
pub fn shared() -> PathBuf {
    repo().join("../shared")
}

/// The first `lines` lines of each Binance recording (all of them with `None`) bridged to a pcap,
/// with its config.
pub fn binance_capture(dir: &Path, lines: Option<usize>) -> (PathBuf, PathBuf) {
    let mut inputs = Vec::new();
    for (venue, file) in [
        ("spot", "binance/spot_btcusdt_20240808.gz"),
        ("usdm", "binance/usdm_btcusdt_20240808.gz"),
        ("cm", "binance/cm_btcusd_perp_20240808.gz"),
    ] {
        let src = repo().join("data").join(file);
        let path = match lines {
            None => src,
            Some(n) => {
                let f = std::fs::File::open(&src).unwrap();
                let path = dir.join(format!("{venue}.txt"));
                let mut w = std::fs::File::create(&path).unwrap();
                for l in BufReader::new(flate2::read::GzDecoder::new(f))
                    .lines()
                    .take(n)
                {
                    writeln!(w, "{}", l.unwrap()).unwrap();
                }
                path
            }
        };
        inputs.push(format!("{venue}={}", path.display()));
    }
    let pcap = dir.join("binance.pcap");
    let cfg = dir.join("binance.toml");
    let out = bin()
        .args(["bridge", "binance-json", "--out"])
        .arg(&pcap)
        .arg("--config-out")
        .arg(&cfg)
        .args(["--instrument", "BTC"])
        .args(&inputs)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "bridge: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (pcap, cfg)
}

/// The same frames as a pcapng (section header, one interface with nanosecond timestamps,
/// enhanced packet blocks).
pub fn pcap_to_pcapng(pcap: &[u8]) -> Vec<u8> {
    let u32le = |b: &[u8]| u32::from_le_bytes(b[..4].try_into().unwrap());
    let nanos = match u32le(pcap) {
        0xa1b2_c3d4 => false,
        0xa1b2_3c4d => true,
        m => panic!("not a little-endian pcap (magic {m:#x})"),
    };
    let mut out = Vec::new();
    let block = |out: &mut Vec<u8>, ty: u32, body: &[u8]| {
        let len = 12 + body.len().next_multiple_of(4);
        out.extend_from_slice(&ty.to_le_bytes());
        out.extend_from_slice(&(len as u32).to_le_bytes());
        out.extend_from_slice(body);
        out.resize(out.len() + body.len().next_multiple_of(4) - body.len(), 0);
        out.extend_from_slice(&(len as u32).to_le_bytes());
    };
    let mut shb = Vec::new();
    shb.extend_from_slice(&0x1a2b_3c4du32.to_le_bytes());
    shb.extend_from_slice(&1u16.to_le_bytes());
    shb.extend_from_slice(&0u16.to_le_bytes());
    shb.extend_from_slice(&(-1i64).to_le_bytes());
    block(&mut out, 0x0a0d_0d0a, &shb);
    let mut idb = Vec::new();
    idb.extend_from_slice(&1u16.to_le_bytes()); // Ethernet
    idb.extend_from_slice(&0u16.to_le_bytes());
    idb.extend_from_slice(&0u32.to_le_bytes());
    idb.extend_from_slice(&[9, 0, 1, 0, 9, 0, 0, 0]); // if_tsresol = 10^-9, padded
    idb.extend_from_slice(&[0, 0, 0, 0]); // opt_endofopt
    block(&mut out, 1, &idb);
    let mut at = 24;
    while at + 16 <= pcap.len() {
        let (sec, frac) = (u32le(&pcap[at..]) as u64, u32le(&pcap[at + 4..]) as u64);
        let (incl, orig) = (u32le(&pcap[at + 8..]), u32le(&pcap[at + 12..]));
        let ts = sec * 1_000_000_000 + if nanos { frac } else { frac * 1000 };
        let data = &pcap[at + 16..at + 16 + incl as usize];
        let mut epb = Vec::new();
        epb.extend_from_slice(&0u32.to_le_bytes());
        epb.extend_from_slice(&((ts >> 32) as u32).to_le_bytes());
        epb.extend_from_slice(&(ts as u32).to_le_bytes());
        epb.extend_from_slice(&incl.to_le_bytes());
        epb.extend_from_slice(&orig.to_le_bytes());
        epb.extend_from_slice(data);
        block(&mut out, 6, &epb);
        at += 16 + incl as usize;
    }
    out
}

/// A fresh directory for one test (a trading test's journal, report and recordings; a live test's
/// region and events).
pub fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tickcross-trade-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Asserts that a run of the binary succeeded, showing its output when it did not.
pub fn ok(o: &Output, what: &str) {
    assert!(
        o.status.success(),
        "{what} failed ({:?}):\nstdout:\n{}\nstderr:\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Three venues' bookTicker recordings in Binance's JSON form: a random walk each, with
/// dislocations that cross them now and then; bridged to a pcap with the real bridge.
pub fn synthetic_capture(dir: &Path, steps: usize) -> PathBuf {
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut rnd = move |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    let mut files: Vec<std::io::BufWriter<std::fs::File>> = (0..3)
        .map(|v| {
            std::io::BufWriter::new(std::fs::File::create(dir.join(format!("v{v}.txt"))).unwrap())
        })
        .collect();
    let mut mid: i64 = 6_000_000; // cents
    let t0: u64 = 1_723_161_255_000_000_000;
    for k in 0..steps {
        mid += rnd(201) as i64 - 100;
        let v = rnd(3) as usize;
        let skew = if rnd(6) == 0 {
            rnd(40_001) as i64 - 20_000
        } else {
            0
        };
        let m = mid + skew;
        let half = 1 + rnd(50) as i64;
        let qty = |r: u64| format!("0.{:03}", 1 + r);
        let line = format!(
            "{} {{\"stream\":\"btcusdt@bookTicker\",\"data\":{{\"u\":{k},\"s\":\"BTCUSDT\",\"b\":\"{}.{:02}\",\"B\":\"{}\",\"a\":\"{}.{:02}\",\"A\":\"{}\"}}}}",
            t0 + k as u64 * 1_000_000,
            (m - half) / 100,
            (m - half) % 100,
            qty(rnd(400)),
            (m + half) / 100,
            (m + half) % 100,
            qty(rnd(400)),
        );
        writeln!(files[v], "{line}").unwrap();
    }
    drop(files);
    let pcap = dir.join("synthetic.pcap");
    let mut c = bin();
    c.args(["bridge", "binance-json", "--out"]).arg(&pcap);
    for v in 0..3 {
        c.arg(format!("v{v}={}", dir.join(format!("v{v}.txt")).display()));
    }
    ok(&c.output().unwrap(), "bridge");
    pcap
}
