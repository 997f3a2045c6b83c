//! Bad input on the wire changes nothing but counters (issue 13, test 4): the bridged Binance
//! capture with damaged copies of its frames in between (broken IPv4 checksums and lengths,
//! truncations, wrong ports and ethertypes, oversize frames, garbage, copies with trailing
//! bytes) is played by tcpreplay onto a veth wire where the simulated card (drained by a host
//! `run`) and a software-path host (`run --path sw`) both take it. Both find exactly the events
//! replay finds in the undamaged capture, and count exactly what replay counts in the damaged
//! one. Skips, saying so, where the machine forbids network namespaces.

use std::path::Path;

mod common;
mod live_common;
use common::{bin, binance_capture, ok, tempdir};
use live_common::{card, counter_lines, events, stop_card, succeeded, wire_or_skip, Logged};

/// xorshift64: the damage depends only on the seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// A damaged copy of `f` (an untagged Ethernet/IPv4/UDP frame of the bridge), in one of the
/// ways a wire damages frames, none of which may change a quote: every kind but the last is
/// dropped by the frame checks; the last (trailing bytes after the datagram) is a repeated
/// message, which Binance's bookUpdateId rule drops.
fn damaged(rng: &mut Rng, f: &[u8]) -> Vec<u8> {
    let mut d = f.to_vec();
    match rng.below(9) {
        // IPv4 header checksum broken
        0 => d[24] ^= 0x55,
        // IPv4 total length a little off
        1 => d[17] = d[17].wrapping_add(1 + rng.below(5) as u8),
        // UDP length a little off
        2 => d[39] = d[39].wrapping_add(1 + rng.below(5) as u8),
        // cut short, but a whole Ethernet header (the kernel sends nothing shorter)
        3 => d.truncate(14 + rng.below(f.len() as u64 - 14) as usize),
        // to a port no venue listens on
        4 => d[36..38].copy_from_slice(&40_000u16.to_be_bytes()),
        // not IPv4: IPv6's and ARP's ethertypes
        5 => {
            let t: u16 = if rng.below(2) == 0 { 0x86dd } else { 0x0806 };
            d[12..14].copy_from_slice(&t.to_be_bytes())
        }
        // oversize: above the pipeline's 2,048 bytes
        6 => {
            let n = 2100 - d.len();
            d.extend(rng.bytes(n));
        }
        // garbage (an Ethernet header's worth at least), under the local experimental
        // ethertype: never a VLAN tag (0x8100, 0x88a8), which the kernel would strip
        7 => {
            let n = 14 + rng.below(186) as usize;
            d = rng.bytes(n);
            d[12..14].copy_from_slice(&0x88b5u16.to_be_bytes());
        }
        // the datagram again with bytes after it (Ethernet padding)
        _ => {
            let n = 1 + rng.below(30) as usize;
            d.extend(rng.bytes(n));
        }
    }
    d
}

/// The capture with a damaged copy after every `every`-th frame; returns how many it added.
fn with_damage(clean: &Path, out: &Path, every: usize) -> usize {
    let (frames, _) = tickcross_capture::read_capture(clean).unwrap();
    let mut w = tickcross_capture::PcapWriter::create(out).unwrap();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut added = 0;
    for (k, f) in frames.iter().enumerate() {
        w.write_packet(f.ts_ns, &f.data).unwrap();
        if k % every == every - 1 {
            w.write_packet(f.ts_ns, &damaged(&mut rng, &f.data))
                .unwrap();
            added += 1;
        }
    }
    w.finish().unwrap();
    added
}

fn replay(cfg: &Path, pcap: &Path, path: &str, events: &Path) -> Vec<u8> {
    let o = bin()
        .args(["replay", "--path", path, "--config"])
        .arg(cfg)
        .arg("--events")
        .arg(events)
        .arg(pcap)
        .output()
        .unwrap();
    ok(&o, "replay");
    o.stdout
}

#[test]
fn damaged_frames_on_the_wire_change_only_counters_on_the_card_and_the_software_path() {
    let Some(wire) = wire_or_skip() else { return };
    let dir = tempdir("live-hostile");
    let (clean, cfg) = binance_capture(&dir, Some(3000));
    let pcap = dir.join("damaged.pcap");
    let added = with_damage(&clean, &pcap, 7);
    assert!(added > 500);

    let region = dir.join("card.bar");
    let card = card(&wire, &region);
    let hw_events = dir.join("hw.jsonl");
    let sw_events = dir.join("sw.jsonl");
    let mut c = wire.exec(env!("CARGO_BIN_EXE_tickcross"));
    // --duration: a way out should no frame ever come (--until-idle waits for a first one)
    c.args(["run", "--until-idle", "3", "--duration", "600", "--config"])
        .arg(&cfg)
        .arg("--device")
        .arg(&region)
        .arg("--events")
        .arg(&hw_events);
    let hw = Logged::spawn(c, "hw host");
    let mut c = wire.exec(env!("CARGO_BIN_EXE_tickcross"));
    c.args([
        "run",
        "--path",
        "sw",
        "--until-idle",
        "3",
        "--duration",
        "600",
    ])
    .args(["--interface", &wire.b, "--config"])
    .arg(&cfg)
    .arg("--events")
    .arg(&sw_events);
    let sw = Logged::spawn(c, "sw host");
    sw.wait_for("capturing frames on");
    card.wait_for("taking frames from interface");
    let played = wire.tcpreplay(&pcap, true).unwrap();
    eprintln!("tcpreplay: {}", played.trim());
    let (hw, sw) = (hw.finish(), sw.finish());
    let last = stop_card(card);
    succeeded(&hw, "run (card)");
    succeeded(&sw, "run --path sw");
    let (frames, _) = tickcross_capture::read_capture(&pcap).unwrap();
    assert!(
        last.contains(&format!("{} frames into the pipeline", frames.len())),
        "every frame reached the card: {last}"
    );
    let out = String::from_utf8_lossy(&sw.stdout);
    assert!(
        out.contains(&format!(
            "host capture on {}: {} frames",
            wire.b,
            frames.len()
        )),
        "every frame reached the software path:\n{out}"
    );

    // the events are those of the undamaged capture
    let reference = dir.join("clean.jsonl");
    replay(&cfg, &clean, "sw", &reference);
    let want = events(&reference);
    assert!(!want.is_empty());
    assert_eq!(events(&hw_events), want, "the card's events");
    assert_eq!(events(&sw_events), want, "the software path's events");

    // the counters are those of a replay of the damaged capture: the damage was counted
    let ignored = dir.join("damaged.jsonl");
    let replayed = replay(&cfg, &pcap, "both", &ignored);
    let (want_hw, want_sw) = (
        counter_lines(&replayed, "hw"),
        counter_lines(&replayed, "sw"),
    );
    assert_eq!(
        counter_lines(&hw.stdout, "device"),
        want_hw,
        "the card's counters"
    );
    assert_eq!(
        counter_lines(&sw.stdout, "sw"),
        want_sw,
        "the software path's counters"
    );
    let drops = want_sw
        .iter()
        .find(|l| l.starts_with("dropped frames: "))
        .unwrap();
    // "dropped frames: not IPv4/UDP 177, checksum 176, ...": each reason's count ends its part
    let dropped: u64 = drops["dropped frames: ".len()..]
        .split(", ")
        .map(|part| part.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
        .sum();
    let repeats = want_sw
        .iter()
        .find(|l| l.starts_with("messages not applied: "))
        .unwrap();
    let repeated: u64 = repeats
        .rsplit(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(
        repeats.contains("out of order (bookUpdateId)"),
        "the repeated datagrams were dropped by bookUpdateId: {repeats}"
    );
    assert_eq!(
        dropped + repeated,
        added as u64,
        "every damaged frame is counted once, as a drop or a repeat: {drops}; {repeats}"
    );
    std::fs::remove_dir_all(&dir).ok();
}
