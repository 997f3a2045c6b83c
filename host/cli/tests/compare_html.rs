//! `tickcross compare` end to end: both paths on a real capture, compare.json with the figures,
//! and the HTML page opened in a real headless Chromium, which must run its script and draw the
//! histogram bars, the latency lines and the tables.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tickcross"))
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tickcross-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The first `n` lines of each shared Binance recording, bridged.
fn binance_capture(dir: &Path, n: usize) -> PathBuf {
    let mut c = bin();
    let pcap = dir.join("binance.pcap");
    c.args(["bridge", "binance-json", "--out"]).arg(&pcap);
    for (venue, file) in [
        ("spot", "spot_btcusdt_20240808.gz"),
        ("usdm", "usdm_btcusdt_20240808.gz"),
        ("cm", "cm_btcusd_perp_20240808.gz"),
    ] {
        let f = std::fs::File::open(repo().join("data/binance").join(file)).unwrap();
        let path = dir.join(format!("{venue}.txt"));
        let mut w = std::fs::File::create(&path).unwrap();
        for l in std::io::BufReader::new(flate2::read::GzDecoder::new(f))
            .lines()
            .take(n)
        {
            writeln!(w, "{}", l.unwrap()).unwrap();
        }
        c.arg(format!("{venue}={}", path.display()));
    }
    let o = c.output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    pcap
}

fn chromium(args: &[&str], page: &Path, profile: &Path) -> std::process::Output {
    let o = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .output();
    match o {
        Ok(o) => o,
        Err(e) => panic!(
            "cannot run chromium ({e}): scripts/setup installs it (apt-get install -y chromium)"
        ),
    }
}

#[test]
fn compare_writes_figures_and_a_page_that_renders() {
    let dir = tempdir("compare");
    let pcap = binance_capture(&dir, 8000);
    let out = dir.join("report");
    let o = bin()
        .args(["compare", "--config"])
        .arg(repo().join("examples/binance-trading.toml"))
        .arg("--out")
        .arg(&out)
        .arg(&pcap)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        stdout.contains("hw message last byte -> commit (cycles)"),
        "{stdout}"
    );

    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("compare.json")).unwrap()).unwrap();
    assert_eq!(j["paths_agree"], true);
    let hw = &j["hardware"];
    let n = hw["events"].as_u64().unwrap();
    assert!(n > 0);
    assert_eq!(j["software"]["events"].as_u64().unwrap(), n);
    // cycle counts and their ns agree at 322.265625 MHz
    let c = hw["last_byte_to_commit_cycles"]["median"].as_f64().unwrap();
    let ns = hw["last_byte_to_commit_ns"]["median"].as_f64().unwrap();
    assert!(
        (c * 1e9 / 322_265_625.0 - ns).abs() < 0.01,
        "{c} cycles vs {ns} ns"
    );
    let frame = hw["frame_first_beat_to_commit_cycles"]["median"]
        .as_u64()
        .unwrap();
    assert!(
        frame > c as u64,
        "the frame's first beat comes before the message's last byte"
    );
    let hist_hw: u64 = j["histogram"]["hardware"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(hist_hw, n, "every hardware event is in the histogram");
    // hardware, software and Verilator targets, plus host reaction when a trade was measured
    let reacted = j["host_reaction_ns"]["count"].as_u64().unwrap_or(0) > 0;
    assert_eq!(
        j["targets"].as_array().unwrap().len(),
        3 + usize::from(reacted)
    );

    let page = out.join("index.html");
    let profile = dir.join("chromium-profile");
    let dom = chromium(&["--dump-dom"], &page, &profile);
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(
        dom.contains("data-rendered=\"ok\""),
        "the page's script did not finish:\n{dom}"
    );
    let attr = |name: &str| -> u64 {
        let k = dom
            .find(&format!("{name}=\""))
            .unwrap_or_else(|| panic!("no {name}"));
        dom[k + name.len() + 2..]
            .split('"')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    assert!(attr("data-bars") >= 2, "histogram bars drawn");
    assert!(attr("data-points") > 10, "latency lines drawn");
    assert!(dom.matches("<polyline").count() >= 2);
    assert!(dom.contains("hardware, last byte to commit (cycles)"));
    assert!(dom.contains("ratio software / hardware"));

    let png = dir.join("page.png");
    let shot = chromium(
        &[
            "--window-size=1000,1500",
            &format!("--screenshot={}", png.display()),
        ],
        &page,
        &profile,
    );
    assert!(
        shot.status.success(),
        "{}",
        String::from_utf8_lossy(&shot.stderr)
    );
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[1..4], b"PNG");
    assert!(
        bytes.len() > 20_000,
        "a blank page would be a few KB: {}",
        bytes.len()
    );
}

#[test]
fn line_rate_takes_one_beat_per_cycle() {
    let o = bin()
        .args(["line-rate", "--frames", "20000"])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        out.contains("20000 back-to-back 60-byte frames: 20000 accepted, 0 dropped"),
        "{out}"
    );
    assert!(
        out.contains("160000 beats in 160000 cycles (0 stall cycles"),
        "{out}"
    );
    let o = bin().args(["line-rate", "--frames", "0"]).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
}
