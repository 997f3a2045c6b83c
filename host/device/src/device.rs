//! The device as the host sees it: a memory-mapped BAR.
//!
//! `Device::open` maps a path: the simulator's shared region, or a card's
//! `/sys/bus/pci/devices/<bdf>/resource0`. The code is the same for both. Registers are 64-bit,
//! read and written through [`Bar`], which checks every offset. The block chain
//! (type/version/next headers) is walked from offset 0 and checked against the contract the host
//! was built with.
//!
//! A device reports the sizes it was built with (venues, instruments, ring records; the RTL
//! takes them as parameters): the host reads them at `open`, refuses sizes it cannot address, and
//! refuses to program a configuration that needs more than the device has ([`Sizes`]).
//!
//! Offsets the device supplies (block bases, the ring and quote windows) are checked at `open`
//! to lie inside the BAR with room for everything the host reads there. After that, the
//! device's own accesses use those bases plus contract constants, so an offset the BAR refuses
//! is a bug in this module: it panics with the offset (`reg`/`set_reg`). The public
//! [`Device::read`]/[`Device::write`] take any offset and return the refusal as an error.

use crate::bar::{Bar, BarError};
use crate::dma::{HostRing, RingFault};
use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::sync::atomic::{fence, Ordering};
use std::time::{Duration, Instant};
use tickcross_bindings as tb;
use tickcross_bindings::record::EventRecord;
use tickcross_bindings::{blocks, opcode, params, FieldError, RECORD_USED_WORDS};
use tickcross_core::counters::Counters;
use tickcross_core::event::{Event, HwCycles};
use tickcross_core::program::{Filter, Program, Protocol};
use tickcross_core::quotes::{QuoteTable, N_INSTRUMENTS, N_VENUES};

/// The sizes a device was built with, as its BAR reports them (control.n_venues,
/// control.n_instruments, ring.records). The contract's values are the largest a device can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sizes {
    pub venues: usize,
    pub instruments: usize,
    pub ring_records: u64,
}

/// The smallest event ring the RTL builds.
const MIN_RING_RECORDS: u64 = 8;

impl Sizes {
    /// The largest device the contract describes (the default build).
    pub const CONTRACT: Sizes = Sizes {
        venues: N_VENUES,
        instruments: N_INSTRUMENTS,
        ring_records: params::RING_RECORDS,
    };

    /// Checks reported sizes against what this host can address: at most the contract's venues
    /// and instruments (the quote window's layout), a power-of-two ring of 8 records up to the
    /// contract's (the ring window; records are found at index mod size).
    pub fn check(self) -> Result<Sizes, String> {
        let c = Sizes::CONTRACT;
        if !(2..=c.venues).contains(&self.venues) {
            return Err(format!(
                "the device reports {} venues; this host handles 2..={}",
                self.venues, c.venues
            ));
        }
        if !(1..=c.instruments).contains(&self.instruments) {
            return Err(format!(
                "the device reports {} instruments; this host handles 1..={}",
                self.instruments, c.instruments
            ));
        }
        if !self.ring_records.is_power_of_two()
            || !(MIN_RING_RECORDS..=c.ring_records).contains(&self.ring_records)
        {
            return Err(format!(
                "the device reports an event ring of {} records; this host reads power-of-two rings of {MIN_RING_RECORDS}..={} records",
                self.ring_records, c.ring_records
            ));
        }
        Ok(self)
    }

    /// Refuses a program that needs more venues or instruments than these sizes hold (a venue
    /// with a protocol, a filter or a symbol past them; a symbol's instrument or a non-zero edge
    /// past them), naming what needs it.
    pub fn admit(&self, program: &Program) -> Result<(), String> {
        let mut venue_need: Option<(usize, String)> = None;
        let mut need_venue = |v: usize, why: String| {
            if v >= self.venues && venue_need.as_ref().is_none_or(|(n, _)| v > *n) {
                venue_need = Some((v, why));
            }
        };
        for (v, p) in program.venues.iter().enumerate() {
            if p.is_some() {
                need_venue(v, format!("venue {v} has a protocol"));
            }
        }
        for (k, f) in program.filters.iter().enumerate() {
            need_venue(
                usize::from(f.venue),
                format!("filter {k} selects venue {}", f.venue),
            );
        }
        let mut instr_need: Option<(usize, String)> = None;
        let mut need_instr = |i: usize, why: String| {
            if i >= self.instruments && instr_need.as_ref().is_none_or(|(n, _)| i > *n) {
                instr_need = Some((i, why));
            }
        };
        for (venue, name, instrument) in &program.symbols {
            let shown = String::from_utf8_lossy(name);
            need_venue(
                usize::from(*venue),
                format!("symbol {shown:?} is on venue {venue}"),
            );
            need_instr(
                usize::from(*instrument),
                format!("symbol {shown:?} maps to instrument {instrument}"),
            );
        }
        for (i, e) in program.edges.iter().enumerate() {
            if *e != 0 {
                need_instr(i, format!("instrument {i} has an edge"));
            }
        }
        if let Some((v, why)) = venue_need {
            return Err(format!(
                "the configuration needs {} venues ({why}); the device was built with {}",
                v + 1,
                self.venues
            ));
        }
        if let Some((i, why)) = instr_need {
            return Err(format!(
                "the configuration needs {} instruments ({why}); the device was built with {}",
                i + 1,
                self.instruments
            ));
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    #[error("{path}: {source}")]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: region is {len} bytes, the BAR needs {need}")]
    TooSmall { path: PathBuf, len: u64, need: u64 },
    #[error("{path}: {msg}")]
    Map { path: PathBuf, msg: String },
    #[error("command {opcode} (seq {seq}) did not complete within {timeout:?}")]
    CommandTimeout {
        opcode: u64,
        seq: u16,
        timeout: Duration,
    },
    #[error("command {opcode} (seq {seq}) failed: the device does not know the opcode")]
    CommandFailed { opcode: u64, seq: u16 },
    #[error("program: {0}")]
    Program(String),
    #[error("program: {0}")]
    Field(#[from] FieldError),
    #[error("{path}: {source}")]
    Bar { path: PathBuf, source: BarError },
    /// The ring indexes make no sense: a drain would invent or replay events.
    #[error("{path}: event ring producer {producer}, consumer {consumer}: {why}")]
    Ring {
        path: PathBuf,
        producer: u64,
        consumer: u64,
        why: &'static str,
    },
    #[error("{path}: the device is not responding: {why}")]
    Dead { path: PathBuf, why: String },
    #[error("{path}: {source}")]
    HostRing { path: PathBuf, source: RingFault },
    #[error("{path}: host ring: {why}")]
    Dma { path: PathBuf, why: String },
}

/// BAR offsets of the blocks, as discovered.
#[derive(Debug, Clone, Copy, Default)]
pub struct BlockMap {
    pub control: u64,
    pub clock: u64,
    pub counters: u64,
    pub venues: u64,
    pub symbols: u64,
    pub edges: u64,
    pub ring: u64,
    pub quotes: u64,
    pub dma: u64,
}

/// Records of the event ring in host memory (512 KiB; a 2 MiB hugepage holds 16384).
pub const HOST_RING_RECORDS: u64 = 4096;
/// Credits go back to the card after at most this many records taken (and at most a quarter of
/// the ring's room): one MMIO write per batch, never one per event.
pub const CREDIT_BATCH: u64 = 64;

/// The host memory a card's DMA ring lives in, for a BAR at `bar`: the simulator's convention
/// (docs/DEVICE.md) is the file `<bar>.dma` beside the BAR region, whose byte 0 is at bus address
/// `params::SIM_DMA_BUS_BASE`.
pub fn host_ring_path(bar: &Path) -> PathBuf {
    let mut p = bar.as_os_str().to_owned();
    p.push(".dma");
    PathBuf::from(p)
}

pub struct Device {
    bar: Bar,
    path: PathBuf,
    blocks: BlockMap,
    ring_base: u64,
    ring_records: u64,
    sizes: Sizes,
    record_bytes: u64,
    quotes_base: u64,
    entry_bytes: u64,
    n_counters: usize,
    seq: u16,
    /// The ring in host memory (set up by `program`).
    host_ring: Option<HostRing>,
    /// Records credited to the card (ring.consumer as last written).
    credited: u64,
    /// Credit after this many records taken.
    credit_every: u64,
    /// Sequence numbers of the records taken since `program`.
    seqs: SeqCheck,
    /// How long to wait for a command before giving up.
    pub command_timeout: Duration,
}

impl Device {
    /// Maps the BAR at `path` and discovers its blocks.
    pub fn open(path: &Path) -> Result<Device, DeviceError> {
        let open_err = |source| DeviceError::Open {
            path: path.to_path_buf(),
            source,
        };
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(open_err)?;
        let len = file.metadata().map_err(open_err)?.len();
        if len < params::BAR_BYTES {
            return Err(DeviceError::TooSmall {
                path: path.to_path_buf(),
                len,
                need: params::BAR_BYTES,
            });
        }
        let bar = Bar::map(&file, params::BAR_BYTES).map_err(open_err)?;
        let mut dev = Device {
            bar,
            path: path.to_path_buf(),
            blocks: BlockMap::default(),
            ring_base: 0,
            ring_records: 0,
            sizes: Sizes::CONTRACT,
            record_bytes: 0,
            quotes_base: 0,
            entry_bytes: 0,
            n_counters: 0,
            seq: 0,
            host_ring: None,
            credited: 0,
            credit_every: 1,
            seqs: SeqCheck::default(),
            command_timeout: Duration::from_secs(10),
        };
        dev.discover()?;
        Ok(dev)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn blocks(&self) -> BlockMap {
        self.blocks
    }

    /// BAR reads made so far (every register read of this device; a test proves none is on the
    /// event path).
    pub fn bar_reads(&self) -> u64 {
        self.bar.reads()
    }

    /// The sequence numbers of the events drained since `program`: `lost` counts the numbers
    /// skipped (events the card dropped, ring_overflows).
    pub fn seq_check(&self) -> SeqCheck {
        self.seqs
    }

    /// The sizes the device was built with (read at `open`).
    pub fn sizes(&self) -> Sizes {
        self.sizes
    }

    /// Reads the 64-bit register at BAR offset `off`; an offset outside the BAR or not 8-byte
    /// aligned is an error.
    pub fn read(&self, off: u64) -> Result<u64, DeviceError> {
        self.bar.read(off).map_err(|source| self.bar_err(source))
    }

    /// Writes the 64-bit register at BAR offset `off`; an offset outside the BAR or not 8-byte
    /// aligned is an error and writes nothing.
    pub fn write(&self, off: u64, value: u64) -> Result<(), DeviceError> {
        self.bar
            .write(off, value)
            .map_err(|source| self.bar_err(source))
    }

    fn bar_err(&self, source: BarError) -> DeviceError {
        DeviceError::Bar {
            path: self.path.clone(),
            source,
        }
    }

    /// Reads a register at a checked block base plus a contract constant (see the module
    /// comment): a refused offset is a bug here, not something the device or the user can cause.
    #[inline]
    fn reg(&self, off: u64) -> u64 {
        match self.bar.read(off) {
            Ok(v) => v,
            Err(e) => panic!("device layer bug: {e} (bases are checked at open)"),
        }
    }

    /// Writes a register at a checked block base plus a contract constant (see `reg`).
    #[inline]
    fn set_reg(&self, off: u64, value: u64) {
        if let Err(e) = self.bar.write(off, value) {
            panic!("device layer bug: {e} (bases are checked at open)");
        }
    }

    fn map_err(&self, msg: String) -> DeviceError {
        DeviceError::Map {
            path: self.path.clone(),
            msg,
        }
    }

    /// Walks the block chain from offset 0 and checks each block against the contract.
    fn discover(&mut self) -> Result<(), DeviceError> {
        let mut off = 0u64;
        let mut seen = 0;
        let mut found = [None::<u64>; 9];
        loop {
            if !off.is_multiple_of(8) || off + 16 > params::BAR_BYTES {
                return Err(self.map_err(format!("block chain points outside the BAR ({off:#x})")));
            }
            let head = self.read(off)?;
            let (ty, ver) = (head as u32, (head >> 32) as u32);
            let Some(idx) = tb::BLOCKS.iter().position(|b| b.2 == ty) else {
                return Err(self.map_err(format!(
                    "unknown block type {ty:#010x} at {off:#x} (is this a tickcross device, and is it out of reset?)"
                )));
            };
            let (name, _, _, want) = tb::BLOCKS[idx];
            if ver != want {
                return Err(self.map_err(format!(
                    "block {name} at {off:#x} has version {ver}, this host speaks version {want}"
                )));
            }
            found[idx] = Some(off);
            seen += 1;
            let next = self.read(off + 8)?;
            if next == 0 {
                break;
            }
            if seen > 64 || next <= off {
                return Err(self.map_err(format!(
                    "block chain does not end (next {next:#x} after {off:#x})"
                )));
            }
            off = next;
        }
        let get = |i: usize| -> Result<u64, DeviceError> {
            let off = found[i]
                .ok_or_else(|| self.map_err(format!("block {} not found", tb::BLOCKS[i].0)))?;
            // every register the contract gives the block must be inside the BAR
            let end = off.checked_add(block_extent(i));
            if end.is_none_or(|end| end > params::BAR_BYTES) {
                return Err(self.map_err(format!(
                    "block {} at {off:#x} does not fit in the BAR",
                    tb::BLOCKS[i].0
                )));
            }
            Ok(off)
        };
        self.blocks = BlockMap {
            control: get(0)?,
            clock: get(1)?,
            counters: get(2)?,
            venues: get(3)?,
            symbols: get(4)?,
            edges: get(5)?,
            ring: get(6)?,
            quotes: get(7)?,
            dma: get(8)?,
        };
        let b = self.blocks;
        self.ring_base = self.reg(b.ring + blocks::ring::BASE);
        self.ring_records = self.reg(b.ring + blocks::ring::RECORDS);
        self.record_bytes = self.reg(b.ring + blocks::ring::RECORD_BYTES);
        self.quotes_base = self.reg(b.quotes + blocks::quotes::BASE);
        self.entry_bytes = self.reg(b.quotes + blocks::quotes::ENTRY_BYTES);
        self.n_counters = self.reg(b.counters + blocks::counters::COUNT) as usize;
        let layout_ok = self.record_bytes == params::RECORD_WORDS * 8
            && self.entry_bytes == params::QUOTE_ENTRY_BYTES
            && self.n_counters == tb::counter::N;
        if !layout_ok {
            return Err(self.map_err(format!(
                "device parameters differ from the contract ({} B records, {} B quote entries, {} counters)",
                self.record_bytes, self.entry_bytes, self.n_counters
            )));
        }
        // the sizes are the build's own: learned here, within what the contract can address
        // (a register beyond usize reads as a size too large to accept)
        let size = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
        self.sizes = Sizes {
            venues: size(self.reg(b.control + blocks::control::N_VENUES)),
            instruments: size(self.reg(b.control + blocks::control::N_INSTRUMENTS)),
            ring_records: self.ring_records,
        }
        .check()
        .map_err(|msg| self.map_err(msg))?;
        // the windows the device points to: drain and quotes read every word of them
        let windows = [
            (
                "event ring",
                self.ring_base,
                self.ring_records * self.record_bytes,
            ),
            (
                "quote table",
                self.quotes_base,
                (self.sizes.venues * self.sizes.instruments) as u64 * self.entry_bytes,
            ),
        ];
        for (what, base, bytes) in windows {
            let fits = base
                .checked_add(bytes)
                .is_some_and(|end| end <= params::BAR_BYTES);
            if !base.is_multiple_of(8) || !fits {
                return Err(self.map_err(format!(
                    "the {what} window ({bytes:#x} bytes at {base:#x}) is not an aligned span inside the BAR"
                )));
            }
        }
        self.seq = self.reg(b.control + blocks::control::CMD_DONE) as u16;
        self.credited = self.reg(b.ring + blocks::ring::CONSUMER);
        Ok(())
    }

    /// Runs one mailbox command and waits for the device to echo it.
    pub fn command(&mut self, op: u64, arg: u32) -> Result<(), DeviceError> {
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        let c = self.blocks.control;
        let opcode = u8::try_from(op).map_err(|_| {
            DeviceError::Field(FieldError {
                register: "control.cmd",
                field: "opcode",
                value: op,
                width: blocks::control::CMD_OPCODE_W,
            })
        })?;
        let word = blocks::control::Cmd { seq, opcode, arg }.pack()?;
        fence(Ordering::SeqCst);
        self.set_reg(c + blocks::control::CMD, word);
        let start = Instant::now();
        let mut spins = 0u32;
        loop {
            let done = blocks::control::CmdDone::unpack(self.reg(c + blocks::control::CMD_DONE));
            if done.seq == seq {
                if done.error {
                    return Err(DeviceError::CommandFailed { opcode: op, seq });
                }
                return Ok(());
            }
            spins += 1;
            if spins.is_multiple_of(1024) {
                self.check_alive()?;
                if start.elapsed() > self.command_timeout {
                    return Err(DeviceError::CommandTimeout {
                        opcode: op,
                        seq,
                        timeout: self.command_timeout,
                    });
                }
                std::thread::yield_now();
            }
        }
    }

    /// Sets the pipeline's enable bit.
    pub fn set_enabled(&self, on: bool) {
        let word = blocks::control::Ctrl { enable: on }.pack();
        // one bool field: nothing to refuse
        let word = word.expect("control.ctrl has only its enable bit");
        self.set_reg(self.blocks.control + blocks::control::CTRL, word);
    }

    /// The status register: (clearing, idle).
    pub fn status(&self) -> (bool, bool) {
        let s = blocks::control::Status::unpack(
            self.reg(self.blocks.control + blocks::control::STATUS),
        );
        (s.clearing, s.idle)
    }

    /// The free-running cycle counter.
    pub fn cycles(&self) -> u64 {
        self.reg(self.blocks.clock + blocks::clock::CYCLES)
    }

    /// An error if the cycle counter reads all-ones: a card gone from the bus reads so, and a
    /// simulator that failed marks its region so.
    pub fn check_alive(&self) -> Result<(), DeviceError> {
        if self.cycles() == u64::MAX {
            return Err(DeviceError::Dead {
                path: self.path.clone(),
                why: "its cycle counter reads all-ones (a card gone from the bus, or a simulator that failed)"
                    .into(),
            });
        }
        Ok(())
    }

    /// Programs venues, filters, edges and symbols, clears the state and counters, and enables
    /// the pipeline. A program that needs more venues or instruments than the device was built
    /// with is refused before anything is written.
    pub fn program(&mut self, program: &Program) -> Result<(), DeviceError> {
        let nf = params::N_FILTERS as usize;
        let nv = self.sizes.venues;
        let ni = self.sizes.instruments;
        if program.filters.len() > nf
            || program.venues.len() > N_VENUES
            || program.edges.len() > N_INSTRUMENTS
        {
            return Err(DeviceError::Program(format!(
                "the contract allows {nf} filters, {N_VENUES} venues and {N_INSTRUMENTS} instruments"
            )));
        }
        self.sizes.admit(program).map_err(DeviceError::Program)?;
        let placement = place_symbols(&program.symbols).map_err(DeviceError::Program)?;
        // packed before anything is written: a refused field leaves the device as it was
        let mut filters = vec![0u64; nf];
        for (word, f) in filters.iter_mut().zip(&program.filters) {
            *word = filter_word(f)?;
        }

        // the ring in host memory: created and zeroed here, its bus address and size taken by
        // the card at CLEAR_STATE below. DMA is off first (records 0) for a command's time, so a
        // simulator maps the file afresh even if the values below are the ones it had.
        let ring_path = host_ring_path(&self.path);
        let host_ring =
            HostRing::map_file(&ring_path, HOST_RING_RECORDS).map_err(|e| DeviceError::Dma {
                path: ring_path.clone(),
                why: e.to_string(),
            })?;
        let d = self.blocks.dma;
        self.set_reg(d + blocks::dma::RECORDS, 0);
        self.set_enabled(false);
        self.command(opcode::CLEAR_SYMBOLS, 0)?;
        let v = self.blocks.venues;
        for (i, word) in filters.into_iter().enumerate() {
            self.set_reg(v + blocks::venues::FILTER + 8 * i as u64, word);
        }
        for i in 0..nv {
            self.set_reg(
                v + blocks::venues::VENUE + 8 * i as u64,
                venue_word(program.venues.get(i).copied().flatten()),
            );
        }
        for i in 0..ni {
            let edge = program.edges.get(i).copied().unwrap_or(0);
            self.set_reg(
                self.blocks.edges + blocks::edges::EDGE + 8 * i as u64,
                edge as u64,
            );
        }
        let s = self.blocks.symbols;
        for (way, slot, venue, name, instrument) in placement {
            let (names, meta) = symbol_stage(venue, &name, instrument);
            for (w, word) in names.iter().enumerate() {
                self.set_reg(s + blocks::symbols::STAGE_NAME + 8 * w as u64, *word);
            }
            self.set_reg(s + blocks::symbols::STAGE_META, meta);
            self.command(opcode::WRITE_SYMBOL, ((way as u32) << 16) | slot)?;
        }
        self.set_reg(d + blocks::dma::ADDR, params::SIM_DMA_BUS_BASE);
        self.set_reg(d + blocks::dma::RECORDS, host_ring.records());
        self.command(opcode::CLEAR_STATE, 0)?;
        // CLEAR_STATE restarts the ring (sequence and producer at 0) while the pipeline is
        // disabled, so the consumer starts at 0 too. A producer that does not read 0 would make
        // the first drain hand out the previous run's records as new events: wait for it
        // (a simulator mirrors it a few cycles later), bounded.
        let start = Instant::now();
        loop {
            let producer = self.reg(self.blocks.ring + blocks::ring::PRODUCER);
            if producer == 0 {
                break;
            }
            self.check_alive()?;
            if start.elapsed() > self.command_timeout {
                return Err(DeviceError::Ring {
                    path: self.path.clone(),
                    producer,
                    consumer: 0,
                    why: "the ring did not restart at 0 after CLEAR_STATE",
                });
            }
            std::thread::yield_now();
        }
        // every write the card sent before the clear has landed (a command's completion does
        // not pass posted writes): zero the ring again, nothing more comes until enabled
        let mut host_ring = host_ring;
        host_ring.zero();
        let room = host_ring.records().min(self.ring_records);
        self.credit_every = (room / 4).clamp(1, CREDIT_BATCH);
        self.host_ring = Some(host_ring);
        self.seqs = SeqCheck::default();
        self.credited = 0;
        self.set_reg(self.blocks.ring + blocks::ring::CONSUMER, 0);
        self.set_enabled(true);
        // Register writes reach the device in order, so the echo of this last command proves the
        // enable above has taken effect: no frame offered after `program` returns finds the
        // pipeline disabled. Frames that arrived before it only touched the counters it zeroes.
        self.command(opcode::RESET_COUNTERS, 0)?;
        Ok(())
    }

    /// Events the card has written into host memory since the last drain, in sequence order.
    /// Reads host memory only: no BAR read (liveness is the watchdog's job). Credits go back to
    /// the card with one register write once `credit_every` records (at most CREDIT_BATCH, at
    /// most a quarter of the ring's room) have been taken since the last. A record whose stamp
    /// does not match it, or a sequence number not above the previous one, is an error.
    pub fn drain(&mut self, out: &mut Vec<Event>) -> Result<usize, DeviceError> {
        let Some(ring) = self.host_ring.as_mut() else {
            return Err(DeviceError::Dma {
                path: host_ring_path(&self.path),
                why: "not set up (program the device first)".into(),
            });
        };
        let mut n = 0;
        loop {
            let w = match ring.poll() {
                Ok(Some(w)) => w,
                Ok(None) => break,
                Err(source) => {
                    return Err(DeviceError::HostRing {
                        path: host_ring_path(&self.path),
                        source,
                    })
                }
            };
            let r = EventRecord::from_words(&w);
            if let SeqStep::Back { prev } = self.seqs.see(r.seq) {
                return Err(DeviceError::Ring {
                    path: host_ring_path(&self.path),
                    producer: r.seq,
                    consumer: prev,
                    why: "a record's sequence number is not above the previous one",
                });
            }
            out.push(event_of(&r));
            n += 1;
        }
        let taken = ring.taken();
        if taken - self.credited >= self.credit_every {
            self.credited = taken;
            // the records' reads are done before the card may write their slots again
            fence(Ordering::Release);
            self.set_reg(self.blocks.ring + blocks::ring::CONSUMER, taken);
        }
        Ok(n)
    }

    /// All counters.
    pub fn counters(&self) -> Counters {
        let mut c = Counters::default();
        for i in 0..tb::counter::N {
            c.0[i] = self.reg(self.blocks.counters + blocks::counters::COUNTER + 8 * i as u64);
        }
        c
    }

    /// The whole quote table, read through the quote window (venues and instruments the device
    /// was not built with stay empty).
    pub fn quotes(&self) -> QuoteTable {
        let mut t = QuoteTable::default();
        let (nv, ni) = (self.sizes.venues, self.sizes.instruments);
        for v in 0..nv {
            for i in 0..ni {
                let base = self.quotes_base + ((v * ni + i) as u64) * self.entry_bytes;
                let e = t.get_mut(v, i);
                e.bid_price = self.reg(base + 8 * tb::quote_word::BID_PRICE as u64) as i64;
                e.bid_qty = self.reg(base + 8 * tb::quote_word::BID_QTY as u64) as i64;
                e.ask_price = self.reg(base + 8 * tb::quote_word::ASK_PRICE as u64) as i64;
                e.ask_qty = self.reg(base + 8 * tb::quote_word::ASK_QTY as u64) as i64;
                e.ts_ns = self.reg(base + 8 * tb::quote_word::TS as u64);
                let flags = self.reg(base + 8 * tb::quote_word::FLAGS as u64);
                e.valid = flags & 1 != 0;
                t.set_stale(v, i, flags & 2 != 0);
            }
        }
        t
    }
}

/// Follows the sequence numbers of drained events. Programming restarts the sequence at 0; the
/// device numbers every event, dropped ones too, so a jump forward is events lost. A number
/// that is not above the previous one is reported as such: compared, never subtracted.
#[derive(Debug, Default, Clone, Copy)]
pub struct SeqCheck {
    last: Option<u64>,
    /// Events skipped by the sequence.
    pub lost: u64,
    /// Events whose number was not above the previous one.
    pub out_of_order: u64,
}

/// What one sequence number says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeqStep {
    /// The next one.
    Next,
    /// `missing` events were skipped before it.
    Gap { missing: u64 },
    /// Not above the previous number `prev` (it went back, or repeated).
    Back { prev: u64 },
}

impl SeqCheck {
    pub fn see(&mut self, seq: u64) -> SeqStep {
        let step = match self.last {
            Some(prev) if seq <= prev => SeqStep::Back { prev },
            Some(prev) if seq - prev > 1 => SeqStep::Gap {
                missing: seq - prev - 1,
            },
            None if seq > 0 => SeqStep::Gap { missing: seq },
            _ => SeqStep::Next,
        };
        match step {
            SeqStep::Back { .. } => self.out_of_order += 1,
            SeqStep::Gap { missing } => {
                self.lost += missing;
                self.last = Some(seq);
            }
            SeqStep::Next => self.last = Some(seq),
        }
        step
    }
}

/// A span for a person: microseconds below a second (a failover bound is a fraction of a
/// millisecond), else seconds.
fn span(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{} us", d.as_micros())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// Notices a dead device by its free-running cycle counter: a counter that reads all-ones (a card
/// gone from the bus) or stops advancing for longer than `after` (a simulator process killed or
/// stopped, a card that hung). It reads the BAR (one register) at most once per
/// `WATCHDOG_PERIOD`, however often it is asked: on PCIe a read is a round trip.
#[derive(Debug)]
pub struct Watchdog {
    after: Duration,
    period: Duration,
    /// The bound until the counter is first seen advancing (`with_grace`).
    grace: Duration,
    armed: bool,
    last: u64,
    since: Instant,
    checked: Instant,
}

/// The watchdog's lowest period between BAR reads.
pub const WATCHDOG_PERIOD: Duration = Duration::from_millis(10);

impl Watchdog {
    pub fn new(dev: &Device, after: Duration) -> Watchdog {
        Watchdog::with_period(dev, after, WATCHDOG_PERIOD)
    }

    /// A watchdog that reads the counter at most once per `period` (a host that fails over to
    /// software within a millisecond reads it every 100 us: one PCIe round trip in 100).
    pub fn with_period(dev: &Device, after: Duration, period: Duration) -> Watchdog {
        Watchdog::with_grace(dev, after, period, after)
    }

    /// A watchdog whose bound is `grace` until it first sees the counter advance, then
    /// `after`: a device just programmed or just put in charge (a simulator finishing its own
    /// set-up) is not judged at sub-millisecond scale before it has shown its clock running.
    pub fn with_grace(
        dev: &Device,
        after: Duration,
        period: Duration,
        grace: Duration,
    ) -> Watchdog {
        Watchdog {
            after,
            period,
            grace: grace.max(after),
            armed: false,
            last: dev.cycles(),
            since: Instant::now(),
            checked: Instant::now(),
        }
    }

    /// When the cycle counter was last seen advancing (or the watchdog started).
    pub fn last_advance(&self) -> Instant {
        self.since
    }

    /// Reads the cycle counter (at most once per period); an error once the device counts as
    /// dead.
    pub fn check(&mut self, dev: &Device) -> Result<(), DeviceError> {
        if self.checked.elapsed() < self.period {
            return Ok(());
        }
        self.checked = Instant::now();
        let now = dev.cycles();
        if now == u64::MAX {
            return Err(DeviceError::Dead {
                path: dev.path.clone(),
                why: "its cycle counter reads all-ones (a card gone from the bus, or a simulator that failed)"
                    .into(),
            });
        }
        let bound = if self.armed { self.after } else { self.grace };
        if now != self.last {
            self.last = now;
            self.since = Instant::now();
            self.armed = true;
        } else if self.since.elapsed() >= bound {
            return Err(DeviceError::Dead {
                path: dev.path.clone(),
                why: format!(
                    "its cycle counter has stayed at {now} for {} (the card stopped, or the simulator process was killed)",
                    span(self.since.elapsed())
                ),
            });
        }
        Ok(())
    }
}

/// The venues block's word for a filter (enabled). A prefix or venue wider than its field is
/// refused (the configuration checks both, but a `Program` can be built by hand).
pub fn filter_word(f: &Filter) -> Result<u64, FieldError> {
    blocks::venues::Filter {
        ip: u32::from_be_bytes(f.ip),
        port: f.port,
        prefix: f.prefix,
        venue: f.venue,
        enable: true,
    }
    .pack()
}

/// The venues block's word for a venue slot: enabled with its protocol, or all zero when unused.
pub fn venue_word(protocol: Option<Protocol>) -> u64 {
    match protocol {
        // the protocol codes are the contract's own constants (a test packs every one)
        Some(p) => u8::try_from(p.code())
            .ok()
            .and_then(|protocol| {
                let venue = blocks::venues::Venue {
                    protocol,
                    enable: true,
                };
                venue.pack().ok()
            })
            .expect("a contract protocol code fits venues.venue.protocol"),
        None => 0,
    }
}

/// The symbols block's staged entry for (venue, name, instrument): the four name words
/// (zero-padded, little-endian) and the meta word. `name` is at most 32 bytes (place_symbols
/// checks).
pub fn symbol_stage(venue: u8, name: &[u8], instrument: u16) -> ([u64; 4], u64) {
    let mut padded = [0u8; 32];
    let n = name.len().min(32);
    padded[..n].copy_from_slice(&name[..n]);
    let mut words = [0u64; 4];
    for (w, chunk) in words.iter_mut().zip(padded.chunks_exact(8)) {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(chunk);
        *w = u64::from_le_bytes(bytes);
    }
    let meta = blocks::symbols::StageMeta {
        len: n as u8,
        venue,
        instrument,
        valid: true,
    }
    .pack()
    // every field is exactly as wide as its Rust type, so pack has nothing to refuse
    .expect("symbols.stage_meta fields are full-width");
    (words, meta)
}

/// Decodes one whole event record as read from the ring (contract layout; only its
/// `RECORD_USED_WORDS` used words are looked at).
pub fn decode_record(w: &[u64; params::RECORD_WORDS as usize]) -> Event {
    let used = w
        .first_chunk::<RECORD_USED_WORDS>()
        .expect("the contract's used words fit in its record");
    event_of(&EventRecord::from_words(used))
}

/// The host's event for a decoded record.
pub fn event_of(r: &EventRecord) -> Event {
    Event {
        seq: r.seq,
        instrument: r.meta.instrument,
        buy_venue: r.meta.buy_venue,
        sell_venue: r.meta.sell_venue,
        trigger_venue: r.meta.trigger_venue,
        trigger_sell: r.meta.trigger_side,
        buy_price: r.buy_price,
        buy_qty: r.buy_qty,
        sell_price: r.sell_price,
        sell_qty: r.sell_qty,
        qty: r.qty,
        ts_ns: r.ts,
        buy_ts_ns: r.buy_ts,
        sell_ts_ns: r.sell_ts,
        cycles: Some(HwCycles {
            frame: r.cyc_frame,
            first: r.cyc_first,
            last: r.cyc_last,
            commit: r.cyc_commit,
        }),
        feed_key: r.feed_key,
    }
}

/// Bytes from the base of block `i` (index in `BLOCKS`) to the end of its last register, from
/// the contract's register spans.
fn block_extent(i: usize) -> u64 {
    let start = tb::BLOCKS[i].1;
    let next = tb::BLOCKS.get(i + 1).map_or(u64::MAX, |b| b.1);
    tb::RW_SPANS
        .iter()
        .chain(tb::RO_SPANS)
        .filter(|&&(off, _)| off >= start && off < next)
        .map(|&(off, words)| off + 8 * words - start)
        .max()
        .unwrap_or(16)
}

type Placed = (usize, u32, u8, Vec<u8>, u16);

/// Places (venue, name) keys in the two-way cuckoo table the hardware searches: way 0 at H0(key),
/// way 1 at H1(key). Returns (way, slot, venue, name, instrument) for every key.
pub fn place_symbols(symbols: &[(u8, Vec<u8>, u16)]) -> Result<Vec<Placed>, String> {
    let slots = params::SYM_SLOTS as usize;
    let mut table: [Vec<Option<usize>>; 2] = [vec![None; slots], vec![None; slots]];
    let mut keys = Vec::with_capacity(symbols.len());
    for (venue, name, _) in symbols {
        let key = tb::sym_key(*venue, name).ok_or_else(|| {
            format!(
                "symbol {:?} is longer than {} bytes",
                String::from_utf8_lossy(name),
                params::SYM_NAME_BYTES
            )
        })?;
        keys.push([
            tb::sym_hash(0, &key) as usize,
            tb::sym_hash(1, &key) as usize,
        ]);
    }
    for start in 0..symbols.len() {
        let mut cur = start;
        let mut way = 0usize;
        let mut placed = false;
        for _ in 0..4 * slots {
            let slot = keys[cur][way];
            match table[way][slot].replace(cur) {
                None => {
                    placed = true;
                    break;
                }
                Some(evicted) => {
                    cur = evicted;
                    way ^= 1;
                }
            }
        }
        if !placed {
            return Err(format!(
                "the symbol table cannot place {} names (cuckoo cycle)",
                symbols.len()
            ));
        }
    }
    let mut out = Vec::with_capacity(symbols.len());
    for (way, t) in table.iter().enumerate() {
        for (slot, entry) in t.iter().enumerate() {
            if let Some(k) = entry {
                let (venue, name, instrument) = &symbols[*k];
                out.push((way, slot as u32, *venue, name.clone(), *instrument));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuckoo_places_many_names_where_the_hardware_looks() {
        let symbols: Vec<(u8, Vec<u8>, u16)> = (0..600u32)
            .map(|i| {
                (
                    (i % 8) as u8,
                    format!("SYM{i}").into_bytes(),
                    (i % 256) as u16,
                )
            })
            .collect();
        let placed = place_symbols(&symbols).unwrap();
        assert_eq!(placed.len(), symbols.len());
        for (way, slot, venue, name, _) in placed {
            let key = tb::sym_key(venue, &name).unwrap();
            assert_eq!(tb::sym_hash(way, &key), slot);
        }
    }

    #[test]
    fn sequence_gaps_are_counted_and_going_back_is_not_wrapped() {
        let mut c = SeqCheck::default();
        assert_eq!(c.see(0), SeqStep::Next);
        assert_eq!(c.see(1), SeqStep::Next);
        assert_eq!(c.see(5), SeqStep::Gap { missing: 3 });
        // the old `seq - prev - 1` wrapped to 18446744073709550592 here
        assert_eq!(c.see(5), SeqStep::Back { prev: 5 });
        assert_eq!(c.see(0), SeqStep::Back { prev: 5 });
        assert_eq!(c.see(6), SeqStep::Next);
        assert_eq!((c.lost, c.out_of_order), (3, 2));
        let mut late = SeqCheck::default();
        assert_eq!(late.see(2), SeqStep::Gap { missing: 2 });
        assert_eq!(
            late.see(u64::MAX),
            SeqStep::Gap {
                missing: u64::MAX - 3
            }
        );
        assert_eq!(late.see(3), SeqStep::Back { prev: u64::MAX });
    }

    #[test]
    fn every_protocol_packs_into_the_venue_word() {
        for p in [Protocol::BinanceSbe, Protocol::DeribitMcast] {
            let v = blocks::venues::Venue::unpack(venue_word(Some(p)));
            assert_eq!(u64::from(v.protocol), p.code());
            assert!(v.enable);
        }
        assert_eq!(venue_word(None), 0);
    }

    #[test]
    fn a_filter_wider_than_its_fields_is_refused_not_truncated() {
        let f = Filter {
            ip: [10, 1, 2, 3],
            prefix: 24,
            port: 9000,
            venue: 7,
        };
        let back = blocks::venues::Filter::unpack(filter_word(&f).unwrap());
        assert_eq!(
            (back.ip, back.prefix, back.port, back.venue, back.enable),
            (0x0a01_0203, 24, 9000, 7, true)
        );
        // a truncating pack (the old field_put) turned venue 8 into venue 0
        let e = filter_word(&Filter { venue: 8, ..f }).unwrap_err();
        assert_eq!((e.field, e.value), ("venue", 8));
        let e = filter_word(&Filter { prefix: 64, ..f }).unwrap_err();
        assert_eq!((e.field, e.value), ("prefix", 64));
    }

    #[test]
    fn a_record_decodes_to_its_event() {
        let r = EventRecord {
            seq: 9,
            meta: tickcross_bindings::record::Meta {
                instrument: 300,
                buy_venue: 1,
                sell_venue: 2,
                trigger_venue: 2,
                trigger_side: true,
                valid: true,
            },
            buy_price: -5,
            buy_qty: 6,
            sell_price: 7,
            sell_qty: 8,
            qty: 6,
            ts: 10,
            buy_ts: 11,
            sell_ts: 12,
            cyc_frame: 13,
            cyc_first: 14,
            cyc_last: 15,
            cyc_commit: 16,
            feed_key: 17,
        };
        let e = decode_record(&r.encode().unwrap());
        assert_eq!(e, event_of(&r));
        assert_eq!(
            (
                e.seq,
                e.instrument,
                e.buy_venue,
                e.sell_venue,
                e.trigger_venue
            ),
            (9, 300, 1, 2, 2)
        );
        assert!(e.trigger_sell);
        assert_eq!((e.buy_price, e.qty, e.ts_ns, e.sell_ts_ns), (-5, 6, 10, 12));
        assert_eq!(
            e.cycles,
            Some(HwCycles {
                frame: 13,
                first: 14,
                last: 15,
                commit: 16
            })
        );
    }

    #[test]
    fn every_block_extent_covers_its_registers() {
        use tickcross_bindings::blocks as b;
        assert_eq!(
            block_extent(2),
            b::counters::COUNTER + 8 * b::counters::COUNTER_COUNT
        );
        assert!(tb::counter::N as u64 <= b::counters::COUNTER_COUNT);
        assert_eq!(block_extent(5), b::edges::EDGE + 8 * b::edges::EDGE_COUNT);
        assert_eq!(block_extent(7), b::quotes::ENTRY_BYTES + 8);
    }

    #[test]
    fn reported_sizes_outside_what_the_host_addresses_are_refused() {
        let c = Sizes::CONTRACT;
        assert_eq!(c.check(), Ok(c));
        let small = Sizes {
            venues: 4,
            instruments: 64,
            ring_records: 256,
        };
        assert_eq!(small.check(), Ok(small));
        let bad = [
            (
                Sizes { venues: 9, ..c },
                "9 venues; this host handles 2..=8",
            ),
            (Sizes { venues: 1, ..c }, "1 venues"),
            (
                Sizes {
                    instruments: 0,
                    ..c
                },
                "0 instruments",
            ),
            (
                Sizes {
                    instruments: 257,
                    ..c
                },
                "257 instruments; this host handles 1..=256",
            ),
            (
                Sizes {
                    ring_records: 2048,
                    ..c
                },
                "ring of 2048 records",
            ),
            (
                Sizes {
                    ring_records: 4,
                    ..c
                },
                "ring of 4 records",
            ),
            (
                Sizes {
                    ring_records: 1000,
                    ..c
                },
                "ring of 1000 records",
            ),
        ];
        for (s, want) in bad {
            let e = s.check().unwrap_err();
            assert!(e.contains(want), "{s:?}: {e}");
        }
    }

    #[test]
    fn a_program_needing_more_than_the_device_is_refused_by_name() {
        let small = Sizes {
            venues: 4,
            instruments: 64,
            ring_records: 256,
        };
        let filter = |venue| Filter {
            ip: [239, 1, 1, 1],
            prefix: 32,
            port: 9000,
            venue,
        };
        let fits = Program {
            venues: vec![
                Some(Protocol::BinanceSbe),
                None,
                None,
                Some(Protocol::DeribitMcast),
            ],
            filters: vec![filter(0), filter(3)],
            symbols: vec![(3, b"BTC-PERP".to_vec(), 63)],
            edges: {
                // trailing zero edges need nothing
                let mut e = vec![0; 256];
                e[63] = 5;
                e
            },
        };
        assert_eq!(small.admit(&fits), Ok(()));
        assert_eq!(Sizes::CONTRACT.admit(&fits), Ok(()));

        let mut p = fits.clone();
        p.venues.push(Some(Protocol::BinanceSbe));
        let e = small.admit(&p).unwrap_err();
        assert_eq!(
            e,
            "the configuration needs 5 venues (venue 4 has a protocol); the device was built with 4"
        );
        assert_eq!(Sizes::CONTRACT.admit(&p), Ok(()));

        let mut p = fits.clone();
        p.filters.push(filter(6));
        let e = small.admit(&p).unwrap_err();
        assert!(
            e.contains("needs 7 venues (filter 2 selects venue 6)"),
            "{e}"
        );

        let mut p = fits.clone();
        p.symbols.push((1, b"ETHUSDT".to_vec(), 64));
        let e = small.admit(&p).unwrap_err();
        assert_eq!(
            e,
            "the configuration needs 65 instruments (symbol \"ETHUSDT\" maps to instrument 64); the device was built with 64"
        );

        let mut p = fits.clone();
        p.edges[200] = -1;
        let e = small.admit(&p).unwrap_err();
        assert!(
            e.contains("needs 201 instruments (instrument 200 has an edge)"),
            "{e}"
        );

        let mut p = fits;
        p.symbols.push((5, b"X".to_vec(), 0));
        let e = small.admit(&p).unwrap_err();
        assert!(
            e.contains("needs 6 venues (symbol \"X\" is on venue 5)"),
            "{e}"
        );
    }

    #[test]
    fn names_too_long_are_refused() {
        let long = vec![b'x'; 33];
        assert!(place_symbols(&[(0, long, 0)]).is_err());
    }
}
