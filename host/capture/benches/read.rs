//! Reading one pcap file end to end: our `CaptureReader` against libpcap's offline capture (the
//! `pcap` crate), on the vendored Binance recordings bridged to a pcap (nanosecond records, as
//! replay reads them). Both sides see the same bytes from the page cache; each iteration opens
//! the file and reads every record.
//!
//! `cargo bench -p tickcross-capture --bench read` (`-- --quick` on a busy machine); prints the
//! medians' ratio at the end. docs/CAPTURE.md records the figures and the conclusion.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::Criterion;
use tickcross_capture::bridge::{bridge_binance_json, BridgeOptions};
use tickcross_capture::CaptureReader;
use tickcross_core::frame::Frame;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The bridged Binance capture, written once to the target directory.
fn binance_pcap() -> PathBuf {
    let data = repo().join("data/binance");
    let inputs = [
        ("spot", data.join("spot_btcusdt_20240808.gz")),
        ("usdm", data.join("usdm_btcusdt_20240808.gz")),
        ("cm", data.join("cm_btcusd_perp_20240808.gz")),
    ];
    let bridge = bridge_binance_json(&inputs, &BridgeOptions::default()).expect("bridge");
    let dir = std::env::temp_dir().join(format!("tickcross-bench-read-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("bench dir");
    let path = dir.join("binance.pcap");
    bridge.write_pcap_file(&path).expect("write pcap");
    path
}

/// Frames and bytes through our reader: owned `Frame`s, as replay gets them.
fn ours(path: &Path) -> (u64, u64) {
    let mut n = 0u64;
    let mut bytes = 0u64;
    for f in CaptureReader::open(path).expect("open") {
        let f = f.expect("frame");
        n += 1;
        bytes += f.data.len() as u64 + (f.ts_ns & 1);
    }
    (n, bytes)
}

/// The same through libpcap, nanosecond precision; `owned` copies each packet into a `Frame`
/// (what replay would need, since libpcap reuses its buffer), else only borrows it.
fn libpcap(path: &Path, owned: bool) -> (u64, u64) {
    let mut cap =
        pcap::Capture::from_file_with_precision(path, pcap::Precision::Nano).expect("pcap open");
    let mut n = 0u64;
    let mut bytes = 0u64;
    loop {
        match cap.next_packet() {
            Ok(p) => {
                let ts_ns = p.header.ts.tv_sec as u64 * 1_000_000_000 + p.header.ts.tv_usec as u64;
                n += 1;
                if owned {
                    let f = Frame::new(ts_ns, p.data.to_vec());
                    bytes += black_box(&f).data.len() as u64 + (f.ts_ns & 1);
                } else {
                    bytes += p.data.len() as u64 + (ts_ns & 1);
                }
            }
            Err(pcap::Error::NoMorePackets) => break,
            Err(e) => panic!("libpcap: {e}"),
        }
    }
    (n, bytes)
}

fn main() {
    let path = binance_pcap();
    // Both readers must see the same records before their speeds mean anything.
    let expect = ours(&path);
    assert_eq!(libpcap(&path, false), expect, "libpcap reads other records");
    assert_eq!(libpcap(&path, true), expect, "libpcap reads other records");
    let size = std::fs::metadata(&path).expect("size").len();
    println!(
        "capture: {} ({} records, {} bytes)",
        path.display(),
        expect.0,
        size
    );

    let mut c = Criterion::default()
        .configure_from_args()
        .sample_size(20)
        .measurement_time(Duration::from_secs(5));
    let mut g = c.benchmark_group("read_pcap");
    g.throughput(criterion::Throughput::Bytes(size));
    g.bench_function("capture_reader", |b| b.iter(|| black_box(ours(&path))));
    g.bench_function("libpcap_owned", |b| {
        b.iter(|| black_box(libpcap(&path, true)))
    });
    g.bench_function("libpcap_borrowed", |b| {
        b.iter(|| black_box(libpcap(&path, false)))
    });
    g.finish();
    c.final_summary();

    let median = |name: &str| -> Option<f64> {
        let p = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join("../criterion/read_pcap")
            .join(name)
            .join("new/estimates.json");
        let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(p).ok()?).ok()?;
        v["median"]["point_estimate"].as_f64()
    };
    if let (Some(a), Some(b), Some(c)) = (
        median("capture_reader"),
        median("libpcap_owned"),
        median("libpcap_borrowed"),
    ) {
        println!(
            "medians: capture_reader {:.2} ms, libpcap_owned {:.2} ms, libpcap_borrowed {:.2} ms; \
             capture_reader / libpcap_owned = {:.2}, / libpcap_borrowed = {:.2}",
            a / 1e6,
            b / 1e6,
            c / 1e6,
            a / b,
            a / c
        );
    }
    let _ = std::fs::remove_dir_all(path.parent().expect("dir"));
}
