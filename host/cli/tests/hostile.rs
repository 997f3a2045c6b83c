//! The standing hostile suite: damaged captures through both detection paths of the release
//! binary's code. Whatever is done to a capture (cut at any byte, gzip cut, bits flipped in
//! headers and records, lengths made huge, garbage), `replay --path both` must end in bounded
//! time with either the two paths agreeing (exit 0) or a clear error that names the file (exit 1),
//! never a hang, a panic, a disagreement or a leftover BAR region.
//!
//! Every run is a child process under a deadline: a hang fails the case instead of blocking CI.
//! `TICKCROSS_PROPTEST_CASES` raises the number of cases (default 12 per property); `scripts/soak`
//! runs this suite with many more.

use proptest::prelude::*;
use proptest::test_runner::{Config as PtConfig, TestRunner};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

mod common;
use common::{bin, binance_capture, pcap_to_pcapng, shared};

/// A case that runs longer than this has hung (a clean run of these captures takes about a
/// second; the margin is for a loaded CI machine).
const DEADLINE: Duration = Duration::from_secs(180);

/// Lines taken from each Binance recording: enough events that the device ring (1024 records)
/// fills if nobody drains it, which is where the truncated-capture hang lived.
const BINANCE_LINES: usize = 1500;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn cases() -> u32 {
    std::env::var("TICKCROSS_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12)
}

/// An undamaged capture: its bytes, where each record (pcap) or block (pcapng) starts and where
/// its length field sits, and the config that replays it.
struct Base {
    name: &'static str,
    bytes: Vec<u8>,
    /// Offsets of the length fields of every record or block.
    length_fields: Vec<usize>,
    config: PathBuf,
}

struct World {
    dir: PathBuf,
    bases: Vec<Base>,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("tickcross-hostile-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let (pcap, cfg) = binance_capture(&dir, Some(BINANCE_LINES));
        let pcap_bytes = std::fs::read(&pcap).unwrap();
        let records = pcap_records(&pcap_bytes);
        let mut bases = vec![
            Base {
                name: "binance.pcap",
                length_fields: records.iter().map(|&(off, _)| off + 8).collect(),
                bytes: pcap_bytes.clone(),
                config: cfg.clone(),
            },
            {
                let bytes = pcap_to_pcapng(&pcap_bytes);
                let blocks = pcapng_blocks(&bytes);
                Base {
                    name: "binance.pcapng",
                    length_fields: blocks.iter().map(|&b| b + 4).collect(),
                    bytes,
                    config: cfg,
                }
            },
        ];
        let deribit = shared().join("data/deribit/sample_capture_v1_6.pcapng");
        match std::fs::read(&deribit) {
            Ok(bytes) => {
                let blocks = pcapng_blocks(&bytes);
                bases.push(Base {
                    name: "deribit.pcapng",
                    length_fields: blocks.iter().map(|&b| b + 4).collect(),
                    bytes,
                    config: repo().join("examples/deribit.toml"),
                });
            }
            Err(e) => eprintln!(
                "hostile: {} not readable ({e}); the Deribit capture is used when present",
                deribit.display()
            ),
        }
        World { dir, bases }
    })
}

/// (record offset, record length including its 16-byte header) of a little-endian pcap.
fn pcap_records(b: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut at = 24;
    while at + 16 <= b.len() {
        let incl = u32::from_le_bytes(b[at + 8..at + 12].try_into().unwrap()) as usize;
        out.push((at, 16 + incl));
        at += 16 + incl;
    }
    out
}

/// Offsets of the blocks of a little-endian pcapng.
fn pcapng_blocks(b: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 12 <= b.len() {
        let len = u32::from_le_bytes(b[at + 4..at + 8].try_into().unwrap()) as usize;
        if len < 12 {
            break;
        }
        out.push(at);
        at += len;
    }
    out
}

/// What is done to a capture. Positions are reduced modulo the capture's size.
#[derive(Debug, Clone)]
enum Damage {
    /// Cut at a byte.
    Truncate { at: u64 },
    /// Gzip the capture, then cut the compressed stream.
    GzipTruncate { at: u64 },
    /// Flip single bits anywhere (file header, record headers, payloads).
    FlipBits { spots: Vec<(u64, u8)> },
    /// Flip bits inside the first bytes, where the file and first record headers are.
    FlipHeaderBits { spots: Vec<(u8, u8)> },
    /// A record's or block's length field set to an arbitrary, often huge, value.
    Length { record: u64, value: u32 },
    /// A run of random bytes written over the capture.
    Overwrite { at: u64, bytes: Vec<u8> },
    /// Random bytes appended after the last record.
    Trailing { bytes: Vec<u8> },
    /// A file of random bytes, sometimes with a valid capture magic in front.
    Garbage { magic: u8, bytes: Vec<u8> },
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        any::<u64>().prop_map(|at| Damage::Truncate { at }),
        any::<u64>().prop_map(|at| Damage::GzipTruncate { at }),
        proptest::collection::vec((any::<u64>(), 0u8..8), 1..16)
            .prop_map(|spots| Damage::FlipBits { spots }),
        proptest::collection::vec((0u8..64, 0u8..8), 1..4)
            .prop_map(|spots| Damage::FlipHeaderBits { spots }),
        (
            any::<u64>(),
            prop_oneof![
                Just(u32::MAX),
                Just(0u32),
                any::<u32>(),
                0u32..2048,
                (1u32 << 16)..(1u32 << 30)
            ]
        )
            .prop_map(|(record, value)| Damage::Length { record, value }),
        (any::<u64>(), proptest::collection::vec(any::<u8>(), 1..256))
            .prop_map(|(at, bytes)| Damage::Overwrite { at, bytes }),
        proptest::collection::vec(any::<u8>(), 1..200).prop_map(|bytes| Damage::Trailing { bytes }),
        (0u8..4, proptest::collection::vec(any::<u8>(), 0..4096))
            .prop_map(|(magic, bytes)| Damage::Garbage { magic, bytes }),
    ]
}

/// The damaged capture's bytes and the file name to write them under.
fn apply(base: &Base, d: &Damage) -> (Vec<u8>, String) {
    let mut b = base.bytes.clone();
    let len = b.len() as u64;
    let mut name = base.name.to_string();
    match d {
        Damage::Truncate { at } => b.truncate((at % len) as usize),
        Damage::GzipTruncate { at } => {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            gz.write_all(&b).unwrap();
            b = gz.finish().unwrap();
            let at = (at % b.len() as u64) as usize;
            b.truncate(at);
            name.push_str(".gz");
        }
        Damage::FlipBits { spots } => {
            for &(at, bit) in spots {
                b[(at % len) as usize] ^= 1 << bit;
            }
        }
        Damage::FlipHeaderBits { spots } => {
            let n = b.len();
            for &(at, bit) in spots {
                b[at as usize % n] ^= 1 << bit;
            }
        }
        Damage::Length { record, value } => {
            let f = base.length_fields[(record % base.length_fields.len() as u64) as usize];
            b[f..f + 4].copy_from_slice(&value.to_le_bytes());
        }
        Damage::Overwrite { at, bytes } => {
            let at = (at % len) as usize;
            let end = (at + bytes.len()).min(b.len());
            b[at..end].copy_from_slice(&bytes[..end - at]);
        }
        Damage::Trailing { bytes } => b.extend_from_slice(bytes),
        Damage::Garbage { magic, bytes } => {
            let head: &[u8] = match magic {
                0 => &[],
                1 => &base.bytes[..24.min(base.bytes.len())],
                2 => &[0x0a, 0x0d, 0x0d, 0x0a],
                _ => &[0x1f, 0x8b],
            };
            b = head.iter().chain(bytes.iter()).copied().collect();
        }
    }
    (b, name)
}

/// Runs the binary with a deadline; output goes to files so a full pipe cannot stall it.
/// Returns (exit code, stdout, stderr, child pid); a run past the deadline is killed and fails.
fn run_bounded(args: &[&std::ffi::OsStr], dir: &Path) -> (Option<i32>, String, String, u32) {
    let out_path = dir.join("stdout");
    let err_path = dir.join("stderr");
    let mut child = bin()
        .args(args)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .unwrap();
    let pid = child.id();
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if started.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            // a killed process cannot remove its own region
            for r in leftover_regions(pid) {
                let _ = std::fs::remove_file(r);
            }
            panic!(
                "tickcross {:?} still running after {:?}: a hang\nstderr:\n{}",
                args,
                DEADLINE,
                std::fs::read_to_string(&err_path).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    (
        status.code(),
        std::fs::read_to_string(&out_path).unwrap_or_default(),
        std::fs::read_to_string(&err_path).unwrap_or_default(),
        pid,
    )
}

/// BAR regions a process with this pid left behind.
fn leftover_regions(pid: u32) -> Vec<PathBuf> {
    let prefix = format!("tickcross-{pid}-");
    let mut out = Vec::new();
    for dir in [PathBuf::from("/dev/shm"), std::env::temp_dir()] {
        if let Ok(rd) = std::fs::read_dir(&dir) {
            for e in rd.flatten() {
                let n = e.file_name().to_string_lossy().to_string();
                if n.starts_with(&prefix) && n.ends_with(".bar") {
                    out.push(e.path());
                }
            }
        }
    }
    out
}

/// One damaged capture through `replay --path both`: agreement or a clear error, in bounded time.
fn check(base: &Base, d: &Damage, case: u64) -> Result<(), TestCaseError> {
    let w = world();
    let dir = w.dir.join(format!("case-{}-{case}", base.name));
    std::fs::create_dir_all(&dir).unwrap();
    let (bytes, name) = apply(base, d);
    let capture = dir.join(&name);
    std::fs::write(&capture, &bytes).unwrap();
    let events = dir.join("events.jsonl");
    let args: Vec<&std::ffi::OsStr> = vec![
        "replay".as_ref(),
        "--config".as_ref(),
        base.config.as_os_str(),
        "--path".as_ref(),
        "both".as_ref(),
        "--events".as_ref(),
        events.as_os_str(),
        capture.as_os_str(),
    ];
    let (code, stdout, stderr, pid) = run_bounded(&args, &dir);
    let left = leftover_regions(pid);
    prop_assert!(left.is_empty(), "{d:?}: BAR regions left behind: {left:?}");
    prop_assert!(
        !stderr.contains("panicked"),
        "{d:?}: the binary panicked:\n{stderr}"
    );
    match code {
        Some(0) => {
            prop_assert!(
                stdout.contains("agree"),
                "{d:?}: exit 0 without the paths' verdict:\n{stdout}"
            );
        }
        Some(1) => {
            // a clear error: it names the capture (and, for damage inside it, where)
            prop_assert!(
                stderr.contains(&name),
                "{d:?}: error does not name the file {name}:\n{stderr}"
            );
            prop_assert!(
                stderr.contains("offset") || stderr.contains("not a pcap"),
                "{d:?}: error does not say where in the file:\n{stderr}"
            );
        }
        other => prop_assert!(
            false,
            "{d:?}: exit {other:?} (only 0, paths agree, or 1, a clear error, are acceptable)\nstdout:\n{stdout}\nstderr:\n{stderr}"
        ),
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn hostile(base_name: &str) {
    let w = world();
    let Some(base) = w.bases.iter().find(|b| b.name == base_name) else {
        eprintln!("hostile: no {base_name} here; skipped");
        return;
    };
    let mut runner = TestRunner::new(PtConfig {
        cases: cases(),
        failure_persistence: None,
        // a failing case may be a hang that takes the whole deadline: shrink only a little
        max_shrink_iters: 8,
        ..PtConfig::default()
    });
    let n = std::sync::atomic::AtomicU64::new(0);
    let result = runner.run(&damage(), |d| {
        let case = n.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        check(base, &d, case)
    });
    if let Err(e) = result {
        panic!("{base_name}: {e}");
    }
}

#[test]
fn damaged_pcap_agrees_or_fails_clearly() {
    hostile("binance.pcap");
}

#[test]
fn damaged_pcapng_agrees_or_fails_clearly() {
    hostile("binance.pcapng");
}

#[test]
fn damaged_real_deribit_capture_agrees_or_fails_clearly() {
    hostile("deribit.pcapng");
}

/// The class that hung: a capture cut mid-record after enough events to fill half the device
/// ring, in every format, through each path that uses the simulated device.
#[test]
fn cut_after_many_events_ends_with_an_error_naming_file_and_offset() {
    let w = world();
    for base in w.bases.iter().filter(|b| b.name.starts_with("binance")) {
        for path in ["hw", "both"] {
            let dir = w.dir.join(format!("cut-{}-{path}", base.name));
            std::fs::create_dir_all(&dir).unwrap();
            // cut in the middle of the last record: every event of the capture but the last
            // frame's is undrained when the error arrives
            let last = *base.length_fields.last().unwrap();
            let cut = last + 12;
            for gz in [false, true] {
                let mut bytes = base.bytes[..cut].to_vec();
                let mut name = base.name.to_string();
                if gz {
                    // a whole gzip member of the cut capture, itself cut
                    let mut e =
                        flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                    e.write_all(&base.bytes).unwrap();
                    let z = e.finish().unwrap();
                    bytes = z[..z.len() - 40].to_vec();
                    name.push_str(".gz");
                }
                let capture = dir.join(&name);
                std::fs::write(&capture, &bytes).unwrap();
                let args: Vec<&std::ffi::OsStr> = vec![
                    "replay".as_ref(),
                    "--config".as_ref(),
                    base.config.as_os_str(),
                    "--path".as_ref(),
                    path.as_ref(),
                    capture.as_os_str(),
                ];
                let (code, _, stderr, pid) = run_bounded(&args, &dir);
                assert_eq!(code, Some(1), "{name} --path {path}: {stderr}");
                assert!(
                    stderr.contains(&name) && stderr.contains("offset"),
                    "{name} --path {path}: the error must name the file and the offset:\n{stderr}"
                );
                assert!(leftover_regions(pid).is_empty(), "{name}: region left");
            }
        }
    }
}
