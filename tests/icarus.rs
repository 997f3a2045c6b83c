//! A second simulator: a short stimulus run through Icarus Verilog gives the same results as the
//! Verilated model for the top level.
//!
//! The stimulus is a list of clock cycles, each with every input of `tickcross_top` (AXI-Stream
//! beat, one bus write, one bus read). It programs the device through the BAR the way the host
//! does (register writes and mailbox commands, with fixed gaps instead of polling), feeds a few
//! dozen Binance and Deribit frames back to back (some damaged), and reads back counters, the
//! ring and the quote table. The same cycles go through the Verilated model (from Rust) and
//! through `sim/tb/tb_icarus_top.v` under Icarus (from a `$readmemh` file); both produce the list
//! of (cycle, reg_rd_data) for every cycle with reg_rd_valid high, and s_axis_tready per cycle.
//! The lists must be identical, and must show the run did real work.
//!
//! Cycle numbering: cycle k is stimulus line k. Both sides log the outputs as they stand just
//! before rising edge k (Icarus after cycle k's inputs settle; the Verilated model's shim samples
//! them before applying the inputs, which is the same thing for the top level's registered
//! outputs). A read issued in cycle k therefore appears at cycle k + 2.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;
use tickcross_bindings as tb;
use tickcross_bindings::record::EventRecord;
use tickcross_bindings::{blocks, counter, opcode, params, quote_word};
use tickcross_core::frame::Frame;
use tickcross_core::program::Program;
use tickcross_device::device::{filter_word, place_symbols, symbol_stage, venue_word};
use tickcross_sim::ffi::tickcross_top::{inp, out};
use tickcross_sim::model::{Model, TOP};
use tickcross_tests::gen::{faulty, world_program, world_stream, BINANCE_A, BINANCE_B, BINANCE_C};
use tickcross_tests::{binance_bbo_id, repo_root, udp_frame};

/// Cycles with rst high at the start.
const RESET_CYCLES: usize = 4;
/// Cycles to wait after reset for the table sweeps (the bind table has 8192 entries).
const RESET_WAIT: usize = 10_000;
/// Cycles from a bus read to its data.
const READ_LATENCY: usize = 3;
/// Crafted pairs of frames that each cross the market at least once.
const CROSSING_PAIRS: usize = 8;
/// Words of a ring record read back.
const RECORD_WORDS: u64 = params::RECORD_WORDS;
/// Quote-table entries read back: venues 0..4 x instruments 0..3, every word of the entry.
const QUOTE_VENUES: u64 = 4;
const QUOTE_INSTRUMENTS: u64 = 3;
const QUOTE_WORDS: u64 = params::QUOTE_ENTRY_BYTES / 8;

/// The inputs of one clock cycle.
#[derive(Clone, Copy, Default, Debug)]
struct Cycle {
    rst: bool,
    tvalid: bool,
    tlast: bool,
    tuser: bool,
    tkeep: u8,
    tdata: u64,
    ts: u64,
    wr: Option<(u64, u64)>,
    rd: Option<u64>,
}

impl Cycle {
    /// The testbench's 256-bit stimulus word as 64 hex digits (layout in tb_icarus_top.v):
    /// flags[255:248] tkeep[247:240] tdata[239:176] ts[175:112] wr_addr[111:88] wr_data[87:24]
    /// rd_addr[23:0].
    fn hex(&self) -> String {
        let flags = self.rst as u8
            | (self.tvalid as u8) << 1
            | (self.tlast as u8) << 2
            | (self.tuser as u8) << 3
            | (self.wr.is_some() as u8) << 4
            | (self.rd.is_some() as u8) << 5;
        let (wa, wd) = self.wr.unwrap_or((0, 0));
        let ra = self.rd.unwrap_or(0);
        assert!(wa < 1 << params::BAR_ADDR_BITS && ra < 1 << params::BAR_ADDR_BITS);
        format!(
            "{flags:02x}{:02x}{:016x}{:016x}{wa:06x}{wd:016x}{ra:06x}",
            self.tkeep, self.tdata, self.ts
        )
    }
}

/// What a read is for, so the results can be checked beyond "both simulators agree".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Tag {
    Plain,
    StatusAfterReset,
    StatusAtEnd,
    CmdDone {
        seq: u16,
        error: bool,
    },
    Counter(usize),
    Producer,
    Ring {
        record: u64,
        word: u64,
    },
    Quote {
        venue: u64,
        instrument: u64,
        word: u64,
    },
    BlockType(u32, u32),
}

#[derive(Default)]
struct Stimulus {
    cycles: Vec<Cycle>,
    /// (issue cycle, address, tag) of every read.
    reads: Vec<(usize, u64, Tag)>,
    seq: u16,
    frames: usize,
}

impl Stimulus {
    fn push(&mut self, c: Cycle) -> usize {
        self.cycles.push(c);
        self.cycles.len() - 1
    }
    fn idle(&mut self, n: usize) {
        for _ in 0..n {
            self.push(Cycle::default());
        }
    }
    fn write(&mut self, addr: u64, data: u64) {
        self.push(Cycle {
            wr: Some((addr, data)),
            ..Cycle::default()
        });
    }
    fn read(&mut self, addr: u64, tag: Tag) {
        let t = self.push(Cycle {
            rd: Some(addr),
            ..Cycle::default()
        });
        self.reads.push((t, addr, tag));
    }
    /// Writes control.cmd, waits `gap` cycles (the command must be done by then) and reads
    /// control.cmd_done, which must echo the sequence number.
    fn command(&mut self, op: u64, arg: u32, gap: usize, error: bool) {
        self.seq = self.seq.wrapping_add(1);
        let word = blocks::control::Cmd {
            seq: self.seq,
            opcode: u8::try_from(op).expect("an opcode of the contract"),
            arg,
        }
        .pack()
        .expect("every cmd field fits");
        self.write(blocks::control::OFFSET + blocks::control::CMD, word);
        self.idle(gap);
        self.read(
            blocks::control::OFFSET + blocks::control::CMD_DONE,
            Tag::CmdDone {
                seq: self.seq,
                error,
            },
        );
    }
    /// One frame, beat by beat, as `SimDevice::push_frame` drives it (tuser on the last beat of
    /// a bad frame, an empty frame is one null last beat). Assumes tready stays high; the test
    /// checks that it did.
    fn frame(&mut self, f: &Frame) {
        let beats = f.data.len().div_ceil(8).max(1);
        for b in 0..beats {
            let chunk = &f.data[(8 * b).min(f.data.len())..(8 * b + 8).min(f.data.len())];
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            let last = b + 1 == beats;
            self.push(Cycle {
                tvalid: true,
                tlast: last,
                tuser: f.bad && last,
                tkeep: ((1u16 << chunk.len()) - 1) as u8,
                tdata: u64::from_le_bytes(word),
                ts: f.ts_ns,
                ..Cycle::default()
            });
        }
        self.frames += 1;
    }

    /// The stimulus file: a header comment, then one line per cycle.
    fn file_text(&self) -> String {
        let mut s = String::with_capacity(self.cycles.len() * 65 + 512);
        s.push_str(
            "// tickcross tb_icarus_top stimulus (tests/icarus.rs): one line per clock cycle,\n\
             // flags[255:248] {rd_en,wr_en,tuser,tlast,tvalid,rst} tkeep[247:240] tdata[239:176]\n\
             // ts[175:112] wr_addr[111:88] wr_data[87:24] rd_addr[23:0]\n",
        );
        for c in &self.cycles {
            s.push_str(&c.hex());
            s.push('\n');
        }
        s
    }
}

/// One simulator's results: reads as (cycle, data as 16 hex digits), tready per cycle as a
/// character ('0', '1', or 'x'/'z' from Icarus).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Log {
    reads: Vec<(usize, String)>,
    tready: Vec<(usize, char)>,
    /// Anything else the testbench reported (reg_rd_valid neither 0 nor 1).
    other: Vec<String>,
}

impl Log {
    /// The log in the testbench's output format, for diffing against it.
    fn text(&self) -> String {
        let mut s = String::new();
        let mut reads = self.reads.iter().peekable();
        for &(t, v) in &self.tready {
            let _ = writeln!(s, "T {t} {v}");
            while let Some((_, d)) = reads.next_if(|r| r.0 == t) {
                let _ = writeln!(s, "R {t} {d}");
            }
        }
        for l in &self.other {
            let _ = writeln!(s, "{l}");
        }
        let _ = writeln!(s, "END {}", self.tready.len());
        s
    }

    /// Drops the cycles while rst is high: before reset takes effect Icarus holds x where the
    /// Verilated model (randReset(0)) holds 0.
    fn after_reset(mut self) -> Log {
        self.reads.retain(|&(t, _)| t >= RESET_CYCLES);
        self.tready.retain(|&(t, _)| t >= RESET_CYCLES);
        self.other.retain(|l| {
            l.split_whitespace()
                .nth(1)
                .and_then(|t| t.parse::<usize>().ok())
                .is_none_or(|t| t >= RESET_CYCLES)
        });
        self
    }
}

fn run_verilator(stim: &Stimulus) -> Log {
    let mut m = Model::new(&TOP, None).expect("Verilated tickcross_top");
    let mut log = Log {
        reads: Vec::new(),
        tready: Vec::new(),
        other: Vec::new(),
    };
    for (t, c) in stim.cycles.iter().enumerate() {
        m.inp[inp::RST] = c.rst as u64;
        m.inp[inp::S_AXIS_TVALID] = c.tvalid as u64;
        m.inp[inp::S_AXIS_TLAST] = c.tlast as u64;
        m.inp[inp::S_AXIS_TUSER] = c.tuser as u64;
        m.inp[inp::S_AXIS_TKEEP] = c.tkeep as u64;
        m.inp[inp::S_AXIS_TDATA] = c.tdata;
        m.inp[inp::S_AXIS_TS] = c.ts;
        let (wa, wd) = c.wr.unwrap_or((0, 0));
        m.inp[inp::REG_WR_EN] = c.wr.is_some() as u64;
        m.inp[inp::REG_WR_ADDR] = wa;
        m.inp[inp::REG_WR_DATA] = wd;
        m.inp[inp::REG_RD_EN] = c.rd.is_some() as u64;
        m.inp[inp::REG_RD_ADDR] = c.rd.unwrap_or(0);
        m.tick();
        // `out` now holds the outputs as they stood before this cycle's rising edge: cycle t
        log.tready.push((
            t,
            if m.out[out::S_AXIS_TREADY] != 0 {
                '1'
            } else {
                '0'
            },
        ));
        if m.out[out::REG_RD_VALID] != 0 {
            log.reads
                .push((t, format!("{:016x}", m.out[out::REG_RD_DATA])));
        }
    }
    log
}

/// Fails the test (never skips it) when an Icarus tool is missing.
fn require_tool(tool: &str) {
    match Command::new(tool).arg("-V").output() {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
            "`{tool}` not found: this test needs Icarus Verilog (iverilog and vvp, version 11 or \
             newer). Install it with `apt-get install -y iverilog` (Debian/Ubuntu), then rerun."
        ),
        Err(e) => panic!("cannot run `{tool}`: {e}"),
    }
}

fn run_checked(cmd: &mut Command, what: &str) {
    let output = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot start: {e}"));
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Compiles the testbench and the RTL with iverilog and runs the stimulus with vvp in `dir`.
fn run_icarus(stim: &Stimulus, dir: &Path) -> Log {
    run_icarus_with(stim, dir, &[])
}

/// `run_icarus` with parameters of the testbench (the build's sizes) set with `-P`.
fn run_icarus_with(stim: &Stimulus, dir: &Path, tb_params: &[(&str, u64)]) -> Log {
    let repo = repo_root();
    // As in sim/build.rs: the contract header generated by this build shadows the checked-in
    // copy. Icarus resolves `include "hdl/..."` from its working directory.
    let inc = dir.join("inc");
    std::fs::create_dir_all(inc.join("hdl")).unwrap();
    std::fs::write(inc.join("hdl/tickcross_contract.vh"), tb::VERILOG_HEADER).unwrap();
    let mut sources = Vec::new();
    for entry in std::fs::read_dir(repo.join("hdl")).unwrap() {
        let p = entry.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        if name.ends_with(".vh") && name != "tickcross_contract.vh" {
            std::fs::copy(&p, inc.join("hdl").join(&name)).unwrap();
        } else if name.ends_with(".v") {
            sources.push(p);
        }
    }
    sources.sort();
    let vvp_file = dir.join("tb.vvp");
    run_checked(
        Command::new("iverilog")
            .current_dir(&inc)
            .args(["-g2005", "-s", "tb_icarus_top"])
            .args(
                tb_params
                    .iter()
                    .map(|(name, value)| format!("-Ptb_icarus_top.{name}={value}")),
            )
            .arg("-o")
            .arg(&vvp_file)
            .arg(repo.join("sim/tb/tb_icarus_top.v"))
            .args(&sources),
        "iverilog",
    );
    std::fs::write(dir.join("stim.hex"), stim.file_text()).unwrap();
    let out_file = dir.join("out.txt");
    let _ = std::fs::remove_file(&out_file);
    // relative paths: the testbench reads plusargs into fixed-width strings
    run_checked(
        Command::new("vvp")
            .current_dir(dir)
            .arg("-n")
            .arg("tb.vvp")
            .arg("+stim=stim.hex")
            .arg(format!("+cycles={}", stim.cycles.len()))
            .arg("+out=out.txt"),
        "vvp",
    );
    let text = std::fs::read_to_string(&out_file)
        .unwrap_or_else(|e| panic!("{}: {e}", out_file.display()));
    parse_icarus(&text, stim.cycles.len())
}

fn parse_icarus(text: &str, n_cycles: usize) -> Log {
    let mut log = Log {
        reads: Vec::new(),
        tready: Vec::new(),
        other: Vec::new(),
    };
    let mut ended = false;
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        match f.as_slice() {
            ["T", t, v] if v.len() == 1 => log
                .tready
                .push((t.parse().expect("cycle"), v.chars().next().unwrap())),
            ["R", t, d] => log.reads.push((t.parse().expect("cycle"), d.to_string())),
            ["END", n] => {
                assert_eq!(n.parse::<usize>().ok(), Some(n_cycles), "{line}");
                ended = true;
            }
            _ => log.other.push(line.to_string()),
        }
    }
    assert!(
        ended,
        "the Icarus run did not complete (no END line in its output)"
    );
    log
}

/// The test's program and frames: the test world of tests/common/gen.rs plus crafted crossing
/// pairs.
fn traffic() -> (Program, Vec<Frame>) {
    let program = world_program([0, 0, 0]);
    // lost, repeated and swapped frames: duplicates, gaps and out-of-order quotes
    let world = faulty(&world_stream(0x1ca705, 40, 30), 0x1ca705, 5, 15, 10);
    let mut frames: Vec<Frame> = Vec::new();
    for (i, f) in world.into_iter().enumerate() {
        if i % 5 == 2 && i / 5 < CROSSING_PAIRS {
            // venue x quotes ask 101.00, then venue y bids 102.00: whatever came before, the
            // lowest ask of the other venues is at most 101.00, so y's bid crosses (edge 0)
            let k = i / 5;
            let sym = ["BTCUSDT", "ETHUSDT", "SOLUSDT"][k % 3];
            let (x, y) = [
                (BINANCE_A, BINANCE_B),
                (BINANCE_C, BINANCE_A),
                (BINANCE_B, BINANCE_C),
            ][k % 3];
            let qty = 1000 + 111 * k as i64;
            for (dst, bid, ask) in [(x, 9_900, 10_100), (y, 10_200, 10_400)] {
                let ts = frames.last().map_or(1_700_000_000_000_000_000, |f| f.ts_ns) + 777;
                frames.push(Frame::new(
                    ts,
                    udp_frame(
                        dst.0,
                        dst.1,
                        // between the world's quotes (ids 2 * (i + 1)): never out of order
                        &binance_bbo_id(sym, -2, -3, [bid, qty, ask, qty + 5], 2 * i as i64 + 1),
                    ),
                ));
            }
        }
        frames.push(f);
    }
    (program, frames)
}

/// The whole stimulus, as the host would drive the card, with fixed gaps instead of polling.
fn build(program: &Program, frames: &[Frame]) -> Stimulus {
    let mut s = Stimulus::default();
    let c = blocks::control::OFFSET;
    let status = c + blocks::control::STATUS;
    for _ in 0..RESET_CYCLES {
        s.push(Cycle {
            rst: true,
            ..Cycle::default()
        });
    }
    s.idle(RESET_WAIT);
    s.read(status, Tag::StatusAfterReset);

    // program: as tickcross_device::device::Device::program
    s.write(c + blocks::control::CTRL, 0);
    // the symbol sweep takes 1024 cycles
    s.command(opcode::CLEAR_SYMBOLS, 0, 1_100, false);
    let v = blocks::venues::OFFSET;
    for i in 0..params::N_FILTERS as usize {
        let word = program.filters.get(i).map_or(0, |f| {
            filter_word(f).expect("the example configuration's filters fit their fields")
        });
        s.write(v + blocks::venues::FILTER + 8 * i as u64, word);
    }
    for i in 0..params::N_VENUES as usize {
        let word = venue_word(program.venues.get(i).copied().flatten());
        s.write(v + blocks::venues::VENUE + 8 * i as u64, word);
    }
    // the edge memory has no reset: every entry is written (instruments nobody quotes get a
    // pattern, so reading them back means something)
    for i in 0..params::N_INSTRUMENTS {
        let edge = program
            .edges
            .get(i as usize)
            .copied()
            .unwrap_or(i as i64 * 1_000_003 - 77_000_000);
        s.write(
            blocks::edges::OFFSET + blocks::edges::EDGE + 8 * i,
            edge as u64,
        );
    }
    let sym = blocks::symbols::OFFSET;
    for (way, slot, venue, name, instrument) in place_symbols(&program.symbols).unwrap() {
        let (names, meta) = symbol_stage(venue, &name, instrument);
        for (w, word) in names.iter().enumerate() {
            s.write(sym + blocks::symbols::STAGE_NAME + 8 * w as u64, *word);
        }
        s.write(sym + blocks::symbols::STAGE_META, meta);
        s.command(opcode::WRITE_SYMBOL, ((way as u32) << 16) | slot, 4, false);
    }
    // an opcode the device does not know: echoed with the error bit
    s.command(0x7f, 0, 4, true);
    // drain (immediate: no traffic yet), then the 8192-cycle bind sweep
    s.command(opcode::CLEAR_STATE, 0, 8_500, false);
    s.write(blocks::ring::OFFSET + blocks::ring::CONSUMER, 0);
    s.write(c + blocks::control::CTRL, 1);
    s.command(opcode::RESET_COUNTERS, 0, 4, false);
    s.idle(16);

    // traffic, back to back, while the bus reads counters and the ring producer every cycle
    let first_beat = s.cycles.len();
    for f in frames {
        s.frame(f);
    }
    let watch: Vec<u64> = (0..tb::counter::N as u64)
        .map(|i| blocks::counters::OFFSET + blocks::counters::COUNTER + 8 * i)
        .chain([
            blocks::ring::OFFSET + blocks::ring::PRODUCER,
            status,
            blocks::clock::OFFSET + blocks::clock::CYCLES,
        ])
        .collect();
    for t in first_beat..s.cycles.len() {
        let addr = watch[(t - first_beat) % watch.len()];
        s.cycles[t].rd = Some(addr);
        s.reads.push((t, addr, Tag::Plain));
    }
    s.idle(1_000);

    // read back
    s.read(status, Tag::StatusAtEnd);
    s.read(c + blocks::control::CMD_DONE, Tag::Plain);
    s.read(blocks::clock::OFFSET + blocks::clock::CYCLES, Tag::Plain);
    for &(_, off, ty, ver) in tb::BLOCKS {
        s.read(off, Tag::BlockType(ty, ver));
        s.read(off + 8, Tag::Plain);
    }
    s.read(
        blocks::counters::OFFSET + blocks::counters::COUNT,
        Tag::Plain,
    );
    for i in 0..tb::counter::N {
        s.read(
            blocks::counters::OFFSET + blocks::counters::COUNTER + 8 * i as u64,
            Tag::Counter(i),
        );
    }
    s.read(blocks::ring::OFFSET + blocks::ring::PRODUCER, Tag::Producer);
    s.read(blocks::ring::OFFSET + blocks::ring::CONSUMER, Tag::Plain);
    // only records that certainly exist: the ring memory has no reset (Icarus reads x there)
    for r in 0..CROSSING_PAIRS as u64 {
        for w in 0..RECORD_WORDS {
            s.read(
                tb::windows::RING_OFFSET + (r * RECORD_WORDS + w) * 8,
                Tag::Ring { record: r, word: w },
            );
        }
    }
    for venue in 0..QUOTE_VENUES {
        for instrument in 0..QUOTE_INSTRUMENTS {
            for word in 0..QUOTE_WORDS {
                s.read(
                    tb::windows::QUOTES_OFFSET
                        + (venue * params::N_INSTRUMENTS + instrument) * params::QUOTE_ENTRY_BYTES
                        + 8 * word,
                    Tag::Quote {
                        venue,
                        instrument,
                        word,
                    },
                );
            }
        }
    }
    for i in [0u64, 1, 2, 3, 200, 255] {
        s.read(
            blocks::edges::OFFSET + blocks::edges::EDGE + 8 * i,
            Tag::Plain,
        );
    }
    for i in 0..params::N_FILTERS {
        s.read(v + blocks::venues::FILTER + 8 * i, Tag::Plain);
    }
    for i in 0..params::N_VENUES {
        s.read(v + blocks::venues::VENUE + 8 * i, Tag::Plain);
    }
    for w in 0..4 {
        s.read(sym + blocks::symbols::STAGE_NAME + 8 * w, Tag::Plain);
    }
    s.read(sym + blocks::symbols::STAGE_META, Tag::Plain);
    s.idle(READ_LATENCY + 2);
    s
}

/// The first differences between two logs, for the failure message.
fn describe_difference(stim: &Stimulus, v: &Log, i: &Log) -> String {
    let addr_at: HashMap<usize, u64> = stim
        .reads
        .iter()
        .map(|&(t, a, _)| (t + READ_LATENCY, a))
        .collect();
    let mut msg = String::new();
    let _ = writeln!(
        msg,
        "Verilator: {} reads, {} tready cycles; Icarus: {} reads, {} tready cycles",
        v.reads.len(),
        v.tready.len(),
        i.reads.len(),
        i.tready.len()
    );
    let mut shown = 0;
    for (a, b) in v.reads.iter().zip(&i.reads) {
        if a != b && shown < 10 {
            let addr = addr_at.get(&a.0).copied().unwrap_or(u64::MAX);
            let _ = writeln!(
                msg,
                "  read (addr {addr:#x}): verilator cycle {} {}, icarus cycle {} {}",
                a.0, a.1, b.0, b.1
            );
            shown += 1;
        }
    }
    let mut shown = 0;
    for (a, b) in v.tready.iter().zip(&i.tready) {
        if a != b && shown < 10 {
            let _ = writeln!(
                msg,
                "  tready: verilator cycle {} {}, icarus cycle {} {}",
                a.0, a.1, b.0, b.1
            );
            shown += 1;
        }
    }
    for l in i.other.iter().take(10) {
        let _ = writeln!(msg, "  icarus: {l}");
    }
    msg
}

#[test]
fn icarus_and_verilator_agree_on_the_top_level() {
    require_tool("iverilog");
    require_tool("vvp");
    let (program, frames) = traffic();
    let stim = build(&program, &frames);
    let n_reads_after_reset = stim.reads.len();
    eprintln!(
        "stimulus: {} cycles, {} frames ({} beats), {} bus reads",
        stim.cycles.len(),
        stim.frames,
        stim.cycles.iter().filter(|c| c.tvalid).count(),
        n_reads_after_reset
    );

    let t0 = Instant::now();
    let verilator_full = run_verilator(&stim);
    let verilator = verilator_full.clone().after_reset();
    let t_verilator = t0.elapsed();

    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("icarus-top-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let t1 = Instant::now();
    let icarus = run_icarus(&stim, &dir).after_reset();
    let t_icarus = t1.elapsed();
    eprintln!("verilator {t_verilator:.2?}, icarus (compile + run) {t_icarus:.2?}");

    if verilator != icarus {
        std::fs::write(dir.join("verilator.txt"), verilator_full.text()).unwrap();
    }
    assert!(
        verilator == icarus,
        "Icarus and Verilator disagree (stim.hex, Icarus' out.txt and the same log from \
         the Verilated model, verilator.txt, kept in {}):\n{}",
        dir.display(),
        describe_difference(&stim, &verilator, &icarus)
    );
    let _ = std::fs::remove_dir_all(&dir);

    // ---- the agreed results are non-trivial
    let log = &verilator;
    assert_eq!(log.tready.len(), stim.cycles.len() - RESET_CYCLES);
    // every bus read came back, READ_LATENCY cycles after it was issued
    let data: HashMap<usize, u64> = log
        .reads
        .iter()
        .map(|(t, d)| {
            let v = u64::from_str_radix(d, 16).unwrap_or_else(|e| {
                panic!("the read returning at cycle {t}: {d:?} is not hex: {e}")
            });
            (*t, v)
        })
        .collect();
    assert_eq!(log.reads.len(), n_reads_after_reset, "reads returned");
    let mut got: HashMap<Tag, Vec<u64>> = HashMap::new();
    let mut counters = [0u64; tb::counter::N];
    let mut ring = vec![[0u64; RECORD_WORDS as usize]; CROSSING_PAIRS];
    let mut quotes = HashMap::new();
    for &(t, addr, tag) in &stim.reads {
        let d = *data
            .get(&(t + READ_LATENCY))
            .unwrap_or_else(|| panic!("read of {addr:#x} issued at cycle {t} never returned"));
        match tag {
            Tag::Counter(i) => counters[i] = d,
            Tag::Ring { record, word } => ring[record as usize][word as usize] = d,
            Tag::Quote {
                venue,
                instrument,
                word,
            } => {
                quotes.insert((venue, instrument, word), d);
            }
            Tag::Plain => {}
            _ => got.entry(tag).or_default().push(d),
        }
    }
    let one = |tag: Tag| -> u64 { got[&tag][0] };
    let clearing = |s: u64| blocks::control::Status::unpack(s).clearing;
    let idle = |s: u64| blocks::control::Status::unpack(s).idle;
    let s = one(Tag::StatusAfterReset);
    assert!(
        !clearing(s),
        "the reset-time table sweeps had not finished after {RESET_WAIT} cycles (status {s:#x})"
    );
    let s = one(Tag::StatusAtEnd);
    assert!(
        idle(s) && !clearing(s),
        "the pipeline did not drain (status {s:#x})"
    );
    for (tag, values) in &got {
        if let Tag::CmdDone { seq, error } = *tag {
            let d = values[0];
            let done = blocks::control::CmdDone::unpack(d);
            assert_eq!(
                (done.seq, done.error),
                (seq, error),
                "command {seq}: cmd_done {d:#x} (the gap after it was too short?)"
            );
        }
        if let Tag::BlockType(ty, ver) = *tag {
            assert_eq!(values[0], ((ver as u64) << 32) | ty as u64, "block header");
        }
    }
    // every beat went in: the stimulus is not interactive, so tready must have been high
    // whenever it offered one
    for (t, c) in stim.cycles.iter().enumerate() {
        if c.tvalid {
            assert_eq!(
                log.tready[t - RESET_CYCLES],
                (t, '1'),
                "tready low under a beat: the stimulus assumes it never is"
            );
        }
    }
    let named: Vec<String> = tb::COUNTER_NAMES
        .iter()
        .zip(counters)
        .filter(|(_, v)| *v != 0)
        .map(|(n, v)| format!("{n}={v}"))
        .collect();
    eprintln!("counters: {}", named.join(" "));
    assert_eq!(counters[counter::RX_FRAMES], frames.len() as u64);
    assert_eq!(
        counters[counter::RX_BYTES],
        frames.iter().map(|f| f.data.len() as u64).sum::<u64>()
    );
    assert!(counters[counter::FRAMES_ACCEPTED] > 0);
    assert!(counters[counter::FRAMES_ACCEPTED] < frames.len() as u64);
    let dropped: u64 = (counter::DROP_DISABLED..=counter::DROP_NO_VENUE)
        .map(|i| counters[i])
        .sum();
    assert_eq!(
        counters[counter::FRAMES_ACCEPTED] + dropped,
        frames.len() as u64,
        "every frame gets exactly one verdict"
    );
    assert_eq!(counters[counter::DROP_DISABLED], 0);
    assert!(dropped >= 3, "only {dropped} damaged frames dropped");
    assert!(counters[counter::QUOTE_UPDATES] > 0);
    assert!(counters[counter::BINDS] > 0, "no Deribit instrument bound");
    assert!(counters[counter::MESSAGES + 2] > 0, "no Deribit message");
    assert!(
        counters[counter::FRAME_DUPLICATES] > 0,
        "no Deribit frame came twice"
    );
    assert!(counters[counter::EVENTS] >= CROSSING_PAIRS as u64);
    assert_eq!(counters[counter::RING_OVERFLOWS], 0);
    assert_eq!(counters[counter::INPUT_STALL_CYCLES], 0);
    assert_eq!(one(Tag::Producer), counters[counter::EVENTS]);
    for (r, rec) in ring.iter().enumerate() {
        let e = EventRecord::decode(rec).unwrap();
        assert_eq!(e.seq, r as u64, "ring record {r}: {e:?}");
        assert!(e.meta.valid, "ring record {r}: {e:?}");
        assert!(e.qty > 0 && e.cyc_commit > 0, "ring record {r}: {e:?}");
    }
    let written = (0..QUOTE_VENUES)
        .flat_map(|v| (0..QUOTE_INSTRUMENTS).map(move |i| (v, i)))
        .filter(|&(v, i)| quotes[&(v, i, quote_word::FLAGS as u64)] & 1 != 0)
        .count();
    assert!(written >= 4, "only {written} quote entries written");
}

/// A build with 4 venues x 64 instruments and a 256-record ring (the smallest configuration
/// issue 11 asks to fit an ECP5), from the same RTL: under Icarus, the test world's 4 venues
/// (Binance and Deribit, damaged frames, crossing pairs) give the software path's events,
/// counters and quote table, and the BAR reports the built sizes.
#[test]
fn a_four_venue_build_matches_the_software_path() {
    four_venue_build(0);
}

/// The same build with MEM_REG = 1 (every block RAM read registered, as the ECP5 needs at
/// 156.25 MHz): bus reads take a cycle more, the results are the same.
#[test]
fn a_four_venue_build_with_registered_memory_reads_matches_the_software_path() {
    four_venue_build(1);
}

fn four_venue_build(mem_reg: u64) {
    require_tool("iverilog");
    require_tool("vvp");
    const VENUES: u64 = 4;
    const INSTR_BITS: u64 = 6;
    const RING_BITS: u64 = 8;
    let instruments = 1u64 << INSTR_BITS;
    let (program, frames) = traffic();
    assert!(program.venues.len() as u64 <= VENUES);

    let mut sw = tickcross_swpath::SwDetector::new(&program).unwrap();
    let mut sw_events = Vec::new();
    for f in &frames {
        tickcross_core::detect::Detector::push_frame(&mut sw, f).unwrap();
    }
    tickcross_core::detect::Detector::drain_events(&mut sw, &mut sw_events).unwrap();
    let want = tickcross_tests::Outcome {
        events: sw_events,
        counters: sw.counter_values().clone(),
        quotes: sw.quote_table().clone(),
    };
    let n_events = want.events.len() as u64;
    assert!(n_events >= CROSSING_PAIRS as u64 && n_events < 1 << RING_BITS);

    // the stimulus of the default build (its read-back assumes 256 instruments, harmless
    // here), then this build's read-back: sizes, every event record, every quote entry
    let mut stim = build(&program, &frames);
    let mut extra: Vec<(usize, u64)> = Vec::new();
    let mut read = |s: &mut Stimulus, addr: u64| {
        s.read(addr, Tag::Plain);
        extra.push((s.cycles.len() - 1, addr));
    };
    let c = blocks::control::OFFSET;
    read(&mut stim, c + blocks::control::N_VENUES);
    read(&mut stim, c + blocks::control::N_INSTRUMENTS);
    read(&mut stim, blocks::ring::OFFSET + blocks::ring::RECORDS);
    for r in 0..n_events {
        for w in 0..RECORD_WORDS {
            read(
                &mut stim,
                tb::windows::RING_OFFSET + (r * RECORD_WORDS + w) * 8,
            );
        }
    }
    for v in 0..VENUES {
        for i in 0..instruments {
            for w in 0..QUOTE_WORDS {
                read(
                    &mut stim,
                    tb::windows::QUOTES_OFFSET
                        + (v * instruments + i) * params::QUOTE_ENTRY_BYTES
                        + 8 * w,
                );
            }
        }
    }
    stim.idle(READ_LATENCY + 2);

    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("icarus-4v-m{mem_reg}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let t0 = Instant::now();
    let log = run_icarus_with(
        &stim,
        &dir,
        &[
            ("N_VENUES", VENUES),
            ("INSTR_BITS", INSTR_BITS),
            ("RING_BITS", RING_BITS),
            ("MEM_REG", mem_reg),
        ],
    )
    .after_reset();
    // a bus read's data comes a cycle later with registered memory reads (every read, in order)
    let latency = READ_LATENCY + mem_reg as usize;
    eprintln!(
        "icarus, 4 venues x 64 instruments, 256-record ring, MEM_REG = {mem_reg}: {} cycles in {:.2?}",
        stim.cycles.len(),
        t0.elapsed()
    );
    let raw: HashMap<usize, &String> = log.reads.iter().map(|(t, d)| (*t, d)).collect();
    let read = |t: usize, addr: u64| {
        let d = raw
            .get(&(t + latency))
            .unwrap_or_else(|| panic!("read of {addr:#x} issued at cycle {t} never returned"));
        u64::from_str_radix(d, 16)
            .unwrap_or_else(|e| panic!("read of {addr:#x} issued at cycle {t}: {d:?}: {e}"))
    };
    let mut values = extra.iter().map(|&(t, addr)| read(t, addr));
    let mut next = || values.next().expect("a read per value");
    assert_eq!(
        (next(), next(), next()),
        (VENUES, instruments, 1 << RING_BITS),
        "the BAR reports the built sizes"
    );
    let mut events = Vec::new();
    for _ in 0..n_events {
        let mut w = [0u64; RECORD_WORDS as usize];
        for x in w.iter_mut() {
            *x = next();
        }
        events.push(tickcross_device::device::decode_record(&w));
    }
    // last byte -> commit, from the records' cycle stamps (the software path has none)
    let lat: Vec<u64> = events
        .iter()
        .filter_map(|e| e.cycles.map(|c| c.commit - c.last))
        .collect();
    assert_eq!(lat.len(), events.len(), "every record has its cycle stamps");
    eprintln!(
        "MEM_REG = {mem_reg}: last byte -> commit {}..{} cycles over {} events",
        lat.iter().min().unwrap(),
        lat.iter().max().unwrap(),
        lat.len()
    );
    let mut quotes = tickcross_core::quotes::QuoteTable::default();
    for v in 0..VENUES as usize {
        for i in 0..instruments as usize {
            let mut w = [0u64; QUOTE_WORDS as usize];
            for x in w.iter_mut() {
                *x = next();
            }
            let e = quotes.get_mut(v, i);
            e.bid_price = w[quote_word::BID_PRICE] as i64;
            e.bid_qty = w[quote_word::BID_QTY] as i64;
            e.ask_price = w[quote_word::ASK_PRICE] as i64;
            e.ask_qty = w[quote_word::ASK_QTY] as i64;
            e.ts_ns = w[quote_word::TS];
            e.valid = w[quote_word::FLAGS] & 1 != 0;
            quotes.set_stale(v, i, w[quote_word::FLAGS] & 2 != 0);
        }
    }
    // the counters the default build's read-back took, in counter order
    let mut counters = tickcross_core::counters::Counters::default();
    let counter_base = blocks::counters::OFFSET + blocks::counters::COUNTER;
    for &(t, addr, tag) in &stim.reads {
        if let Tag::Counter(i) = tag {
            assert_eq!(addr, counter_base + 8 * i as u64);
            counters.0[i] = read(t, addr);
        }
    }
    // the venue block's registers read back as written (their words come through the read
    // stage's window decode, which MEM_REG = 1 registers a cycle early); a venue past the build's
    // VENUES is no register and reads 0
    let written: HashMap<u64, u64> = stim.cycles.iter().filter_map(|c| c.wr).collect();
    let venues_block = blocks::venues::OFFSET;
    let (filters, venues) = (
        venues_block + blocks::venues::FILTER,
        venues_block + blocks::venues::VENUE,
    );
    let mut checked = 0;
    for &(t, addr, _) in &stim.reads {
        let filter = (filters..filters + 8 * params::N_FILTERS).contains(&addr);
        let venue = (venues..venues + 8 * params::N_VENUES).contains(&addr);
        if !(filter || venue) {
            continue;
        }
        let want = if venue && (addr - venues) / 8 >= VENUES {
            0
        } else {
            written[&addr]
        };
        assert_eq!(
            read(t, addr),
            want,
            "read-back of {addr:#x} (MEM_REG = {mem_reg})"
        );
        checked += 1;
    }
    assert_eq!(checked, params::N_FILTERS + params::N_VENUES);
    let got = tickcross_tests::Outcome {
        events,
        counters,
        quotes,
    };
    if let Some(d) = tickcross_tests::difference(&got, &want) {
        panic!(
            "the 4-venue build and the software path differ (stimulus kept in {}): {d}",
            dir.display()
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(got.counters.0[counter::EVENTS], n_events);
    assert!(got.quotes.written().count() >= 4);
}
