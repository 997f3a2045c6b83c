//! The hardware/software contract: the Verilog header and the Rust constants come from one file,
//! and the RTL built from the header behaves as the constants say.

use tickcross_bindings as tb;
use tickcross_bindings::record::{EventRecord, Meta};
use tickcross_bindings::RECORD_USED_WORDS;
use tickcross_bindings::{blocks, counter, params};
use tickcross_core::detect::Detector;
use tickcross_core::frame::Frame;
use tickcross_core::program::{Filter, Program, Protocol};
use tickcross_device::hwpath::{HwDetector, SimOptions};
use tickcross_tests::{binance_bbo, binance_program, udp_frame};

#[test]
fn checked_in_verilog_headers_are_the_generated_ones() {
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    assert_eq!(tb::VERILOG_HEADERS.len(), 3);
    for (path, text) in tb::VERILOG_HEADERS {
        let checked_in = std::fs::read_to_string(repo.join(path)).unwrap();
        assert!(
            checked_in == *text,
            "{path} is stale: run scripts/gen-contract (bindings/contract.toml changed)"
        );
    }
}

/// The record the RTL writes is the one the typed decoder reads: every field where the contract
/// puts it, data in the used words only, the stamp (seq + 1) in the record's last word. Read
/// from where the card puts it: host memory (the DMA ring).
#[test]
fn the_device_writes_records_the_typed_decoder_reads() {
    let mut hw = HwDetector::simulated(&binance_program(2), &SimOptions::default()).unwrap();
    // venue 0: bid 100 ask 101; venue 1: bid 102 ask 103 -> venue 1's bid crosses venue 0's ask
    let quotes = [
        (
            1000,
            0u8,
            binance_bbo("BTCUSDT", -2, -3, 10000, 1500, 10100, 2000),
        ),
        (
            2000,
            1,
            binance_bbo("BTCUSDT", -2, -3, 10200, 700, 10300, 900),
        ),
    ];
    for (ts, v, msg) in &quotes {
        let frame = udp_frame([239, 1, 1, v + 1], 5000 + *v as u16, msg);
        hw.push_frame(&Frame::new(*ts, frame)).unwrap();
    }
    hw.flush().unwrap();
    let dev = hw.device();
    let read = |off| dev.read(off).unwrap();
    let b = dev.blocks();
    assert_eq!(read(b.ring + blocks::ring::PRODUCER), 1);
    assert_eq!(read(b.dma + blocks::dma::WRITTEN), 1);
    // slot 0 of the host ring: the file the simulated card's DMA writes
    let host = std::fs::read(tickcross_device::device::host_ring_path(dev.path())).unwrap();
    let mut words: Vec<u64> = host[..8 * params::RECORD_WORDS as usize]
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().unwrap()))
        .collect();
    let stamp = words[params::RECORD_STAMP_WORD as usize];
    // the next slot was never written
    assert!(host[8 * params::RECORD_WORDS as usize..][..128]
        .iter()
        .all(|&b| b == 0));
    let rec = EventRecord::decode(&words).unwrap();
    assert_eq!(
        rec.meta,
        Meta {
            instrument: 0,
            buy_venue: 0,
            sell_venue: 1,
            trigger_venue: 1,
            trigger_side: true,
            valid: true,
        }
    );
    assert_eq!(rec.seq, 0);
    assert_eq!(
        (rec.buy_price, rec.buy_qty),
        (101_000_000_000, 2_000_000_000)
    );
    assert_eq!(
        (rec.sell_price, rec.sell_qty),
        (102_000_000_000, 700_000_000)
    );
    assert_eq!(rec.qty, 700_000_000);
    assert_eq!((rec.ts, rec.buy_ts, rec.sell_ts), (2000, 1000, 2000));
    let cycles = [rec.cyc_frame, rec.cyc_first, rec.cyc_last, rec.cyc_commit];
    assert!(
        cycles.windows(2).all(|p| 0 < p[0] && p[0] <= p[1]),
        "cycle stamps out of order: {cycles:?}"
    );
    assert_eq!(stamp, rec.seq + 1);
    words[params::RECORD_STAMP_WORD as usize] = 0;
    // the last used word carries data, the words after it (but the stamp) are zero
    assert_eq!(words[RECORD_USED_WORDS - 1], rec.feed_key);
    assert_ne!(rec.feed_key, 0, "the Binance quote's bookUpdateId");
    assert!(
        words[RECORD_USED_WORDS..].iter().all(|&w| w == 0),
        "{words:x?}"
    );
    assert_eq!(rec.encode().unwrap().to_vec(), words);
}

#[test]
fn the_device_exposes_the_blocks_and_parameters_of_the_contract() {
    let mut hw = HwDetector::simulated(&binance_program(1), &SimOptions::default()).unwrap();
    let dev = hw.device();
    let read = |off| dev.read(off).unwrap();
    // walk the chain as a card's driver would, and compare with the constants
    let mut off = 0u64;
    for &(name, want_off, ty, ver) in tb::BLOCKS {
        assert_eq!(off, want_off, "block {name} is not where the chain says");
        let head = read(off);
        assert_eq!(head as u32, ty, "block {name}: type");
        assert_eq!((head >> 32) as u32, ver, "block {name}: version");
        off = read(off + 8);
    }
    assert_eq!(off, 0, "the chain ends after the last block");
    let b = dev.blocks();
    let reads = [
        (b.control + blocks::control::N_VENUES, params::N_VENUES),
        (
            b.control + blocks::control::N_INSTRUMENTS,
            params::N_INSTRUMENTS,
        ),
        (b.control + blocks::control::N_FILTERS, params::N_FILTERS),
        (
            b.control + blocks::control::MAX_FRAME_BYTES,
            params::MAX_FRAME_BYTES,
        ),
        (b.clock + blocks::clock::NOMINAL_HZ, params::CLOCK_HZ),
        (b.counters + blocks::counters::COUNT, counter::N as u64),
        (b.symbols + blocks::symbols::WAYS, params::SYM_WAYS),
        (b.symbols + blocks::symbols::SLOTS, params::SYM_SLOTS),
        (
            b.symbols + blocks::symbols::NAME_BYTES,
            params::SYM_NAME_BYTES,
        ),
        (b.ring + blocks::ring::BASE, tb::windows::RING_OFFSET),
        (b.ring + blocks::ring::RECORDS, params::RING_RECORDS),
        (
            b.ring + blocks::ring::RECORD_BYTES,
            params::RECORD_WORDS * 8,
        ),
        (b.quotes + blocks::quotes::BASE, tb::windows::QUOTES_OFFSET),
        (
            b.quotes + blocks::quotes::ENTRY_BYTES,
            params::QUOTE_ENTRY_BYTES,
        ),
    ];
    for (addr, want) in reads {
        assert_eq!(read(addr), want, "register at {addr:#x}");
    }
    // host-written registers read back what was written
    let edge = b.edges + blocks::edges::EDGE;
    assert_eq!(read(edge), 0);
    // an offset past the BAR or inside a word is refused, naming the offset: the access never
    // happens (it was a debug_assert only, so a release build read outside the mapping)
    let last = params::BAR_BYTES - 8;
    dev.read(last).unwrap();
    let past = dev.read(params::BAR_BYTES).unwrap_err().to_string();
    assert!(
        past.contains(&format!("BAR offset {:#x} is outside", params::BAR_BYTES)),
        "{past}"
    );
    let torn = dev.write(edge + 4, 1).unwrap_err().to_string();
    assert!(torn.contains("not 8-byte aligned"), "{torn}");
    assert_eq!(read(edge), 0, "a refused write wrote nothing");
}

/// Hundreds of symbols placed by the host's cuckoo placement (Rust hash) must all be found by the
/// RTL's lookup (Verilog hash), each resolving to its own instrument.
#[test]
fn the_hardware_finds_every_symbol_the_host_placed() {
    let names: Vec<String> = (0..256).map(|i| format!("SYM{i:03}USDT")).collect();
    let mut p = Program {
        edges: vec![0; 256],
        ..Program::default()
    };
    for v in 0..2u8 {
        p.venues.push(Some(Protocol::BinanceSbe));
        p.filters.push(Filter {
            ip: [239, 1, 1, v + 1],
            prefix: 32,
            port: 5000 + v as u16,
            venue: v,
        });
        for (i, n) in names.iter().enumerate() {
            p.symbols.push((v, n.as_bytes().to_vec(), i as u16));
        }
    }
    let mut hw = HwDetector::simulated(&p, &SimOptions::default()).unwrap();
    let mut ts = 1;
    for v in 0..2u8 {
        for (i, n) in names.iter().enumerate() {
            // the bid encodes the name's index; venue 1 quotes one tick higher so that nothing crosses
            let bid = 1_000 + i as i64;
            let msg = binance_bbo(n, 0, 0, bid, 1, bid + 10_000 + v as i64, 1);
            hw.push_frame(&Frame::new(
                ts,
                udp_frame([239, 1, 1, v + 1], 5000 + v as u16, &msg),
            ))
            .unwrap();
            ts += 1;
        }
        // names the table does not hold, including one that differs only in length
        for n in ["SYM000USD", "SYM000USDTX", "XYZ"] {
            let msg = binance_bbo(n, 0, 0, 5, 1, 6, 1);
            hw.push_frame(&Frame::new(
                ts,
                udp_frame([239, 1, 1, v + 1], 5000 + v as u16, &msg),
            ))
            .unwrap();
            ts += 1;
        }
    }
    hw.flush().unwrap();
    let c = hw.counters().unwrap();
    assert_eq!(c.get(counter::QUOTE_UPDATES), 512);
    assert_eq!(c.get(counter::MSG_UNKNOWN_SYMBOL), 6);
    let q = hw.quotes().unwrap();
    for v in 0..2 {
        for i in 0..256 {
            assert_eq!(
                q.get(v, i).bid_price,
                (1_000 + i as i64) * 1_000_000_000,
                "venue {v} instrument {i}"
            );
        }
    }
}
