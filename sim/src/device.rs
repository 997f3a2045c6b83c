//! The simulated card: the Verilated `tickcross_top` serving its BAR as a file-backed shared region.
//!
//! The region has exactly the card's BAR layout (bindings/contract.toml), so the host maps it and
//! uses it with the same code as `/sys/bus/pci/devices/<bdf>/resource0`. Shared memory has no
//! MMIO semantics, so the simulator stands between the region and the model's register bus:
//!
//! - host-written registers (`RW_SPANS`): scanned for changes every few cycles; each change
//!   becomes one bus write, in address order, except `control.cmd`, which goes last so that a
//!   command sees the staged values written before it (the host waits for `cmd_done` before
//!   staging the next one);
//! - device registers (`RO_SPANS`) are read over the bus, one read per cycle, and copied into the
//!   region round-robin;
//! - event records never go through the region: the model's DMA engine (tc_dma_wr) emits them as
//!   posted 64-byte writes on `m_axis_dma_*`, and the simulator lands each write, `dma_latency`
//!   cycles after the engine sent it (default 500 ns at the contract's clock), in a second
//!   shared region that stands for the host's hugepage memory: the file `<region>.dma`, which the
//!   host creates, zeroes and maps. Its byte 0 is at bus address `params::SIM_DMA_BUS_BASE`
//!   (what an IOMMU mapping would give the host); a write outside the file is a fault (counted,
//!   nothing written), as an IOMMU would refuse it. Writes land in order; a record's stamp
//!   word, its last, is stored with release ordering after the rest of the record. The model's
//!   `cmd_done` is mirrored only after every write the engine sent before it has landed (a PCIe
//!   read completion does not pass posted writes), so a host that sees a command complete sees
//!   the writes before it.
//!
//! The wire side takes whole frames and drives them beat by beat. Between frames it waits while
//! more than half the ring's room is used (records committed but not credited by the host; the
//! room is the smaller of the card's ring and the host's), so a replay never overflows the ring
//! however slowly the host drains it (a card has no such luxury; the ring then counts
//! overflows).
//!
//! Every loop that waits (for the host to drain the ring, for tready, for the pipeline to go idle,
//! for the region to catch up) checks a cancellation flag and is bounded in cycles, so the thread
//! or process driving the model can always be stopped.

use crate::model::{Model, TOP};
use std::collections::VecDeque;
use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use tickcross_bindings as tb;
use tickcross_bindings::blocks;

use crate::ffi::tickcross_top::{inp, out};

const BAR_BYTES: u64 = tb::params::BAR_BYTES;
const RING_RECORDS: u64 = tb::params::RING_RECORDS;
const RECORD_WORDS: u64 = tb::params::RECORD_WORDS;
/// Ticks of reset in `create`: the model's cycle counter reads 0 in the first tick after them.
const RESET_TICKS: u64 = 4;
/// Words of one posted write (64 bytes).
const WRITE_WORDS: usize = 8;
/// The default modelled latency of a posted write, engine to host memory.
pub const DMA_LATENCY_NS: u64 = 500;
/// Cycles between scans of the host-written registers.
const SCAN_PERIOD: u32 = 64;
/// Cycles from a bus read to its data.
const READ_LATENCY: u32 = 3;
/// Words of a quote entry that carry data (bid px/qty, ask px/qty, ts, flags).
const QUOTE_WORDS: u64 = 6;

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("BAR region {path}: {source}")]
    Region {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("simulator: {0}")]
    Model(String),
    #[error("the device held tready low for {cycles} cycles on beat {beat} of frame {frame}")]
    Stuck {
        frame: u64,
        beat: usize,
        cycles: u64,
    },
    #[error("the pipeline did not become idle within {0} cycles")]
    NotIdle(u64),
    #[error("the simulator's {what} did not finish within {cycles} cycles")]
    Timeout { what: &'static str, cycles: u64 },
    #[error("the simulator was stopped")]
    Cancelled,
    #[error("VCD trace {path}: {source}")]
    Trace {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A beat waiting longer than this for tready means the pipeline is stuck (the design bounds
/// tready low by the payload FIFO draining, a few hundred cycles at most).
pub const STUCK_CYCLES: u64 = 100_000;

#[derive(Clone, Copy, Debug)]
enum Tag {
    /// A device register mirrored into the region at this offset.
    Ro(u64),
    /// The model's ring producer index (tracked, and mirrored after the records).
    Producer,
    /// control.cmd_done, read at the end of the quote-window sweep a completed command started
    /// (`set_quote_mirror`): mirrored only now.
    DoneAfterSweep,
    /// control.status, to learn when the pipeline is idle; issued when this many frames had
    /// been started and none was being driven (`u64::MAX`: issued during a frame).
    Status(u64),
}

/// Throughput and pacing statistics of a simulation run.
#[derive(Debug, Default, Clone, Copy)]
pub struct SimStats {
    pub cycles: u64,
    pub frames: u64,
    pub beats: u64,
    /// Cycles a beat waited because tready was low.
    pub stall_cycles: u64,
    /// Idle cycles inserted while the host drained the ring.
    pub pacing_cycles: u64,
    /// Wall time spent clocking the model while driving frames (pacing excluded).
    pub busy_ns: u64,
    /// Records the DMA engine landed in host memory, and their delivery latency (from the
    /// record's commit cycle to the cycle its stamp is visible in host memory), in cycles.
    pub dma_records: u64,
    pub dma_latency_sum: u64,
    pub dma_latency_min: u64,
    pub dma_latency_max: u64,
    /// Posted writes outside the host's DMA file (or with no file): refused, as an IOMMU would.
    pub dma_faults: u64,
    /// The modelled latency of one posted write, in cycles.
    pub dma_write_latency: u64,
    /// CPU time of the simulator thread over the same spans (immune to sharing the cores). The
    /// thread's CPU clock is read where a run of frames starts and ends (a read costs about as
    /// much as a frame of cycles), so the time between frames of a run counts too.
    pub busy_cpu_ns: u64,
}

impl SimStats {
    /// The mean delivery latency of a record, commit to host memory, in cycles (0: none).
    pub fn dma_latency_mean(&self) -> f64 {
        if self.dma_records == 0 {
            0.0
        } else {
            self.dma_latency_sum as f64 / self.dma_records as f64
        }
    }

    /// Model throughput while frames were on the wire, in cycles per CPU second of the
    /// simulator thread.
    pub fn cycles_per_second(&self) -> f64 {
        if self.busy_cpu_ns == 0 {
            0.0
        } else {
            (self.beats + self.stall_cycles) as f64 / (self.busy_cpu_ns as f64 / 1e9)
        }
    }
}

/// CPU time consumed by the calling thread, in ns.
fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, exclusively borrowed timespec for the call, the only memory
    // clock_gettime writes; CLOCK_THREAD_CPUTIME_ID needs nothing else.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return 0;
    }
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

pub struct SimDevice {
    model: Model,
    /// The shared region. Raw, never a Rust slice: the host process writes it concurrently, so
    /// every access is a volatile word access through `region_read`/`region_write`.
    map: memmap2::MmapRaw,
    path: PathBuf,
    rw_words: Vec<(u64, u64)>,
    ro_words: Vec<u64>,
    ro_pos: usize,
    ro_issued: u64,
    inflight: VecDeque<(u64, Tag)>,
    sweep: VecDeque<(u64, Tag)>,
    /// A command completed and its quote-window sweep is under way (see `DoneAfterSweep`).
    done_held: bool,
    /// `set_quote_mirror`: the rolling copy of the quote window.
    mirror: Option<QuoteMirror>,
    /// control.status has said idle since the last frame was driven (the quote mirror reads
    /// only then).
    quiet: bool,
    /// A frame is being driven, and frames started so far (see `Tag::Status`).
    pushing: bool,
    frames_started: u64,
    writes: VecDeque<(u64, u64)>,
    scan_countdown: u32,
    model_producer: u64,
    /// The host's DMA file (`<region>.dma`), mapped once the host has programmed the dma block.
    dma_mem: Option<memmap2::MmapRaw>,
    /// Modelled posted-write latency, in cycles.
    dma_latency: u64,
    /// Writes sent by the engine, landing at cycle `.0`.
    dma_queue: VecDeque<(u64, u64, [u64; WRITE_WORDS])>,
    status: u64,
    status_fresh: bool,
    alternate: bool,
    phase: u8,
    stats: SimStats,
    /// Thread CPU time when the current run of frames began.
    run_cpu: Option<u64>,
    /// Set by whoever owns the simulation to make every wait give up (`SimError::Cancelled`).
    cancel: Arc<AtomicBool>,
    vcd: Option<PathBuf>,
}

/// The rolling copy of the quote window: `words` words of the built table, the next at `next`.
struct QuoteMirror {
    words: u64,
    next: u64,
}

impl QuoteMirror {
    /// The window offset of the next word to copy.
    fn advance(&mut self) -> u64 {
        let off = QuoteMirror::offset(self.next);
        self.next = (self.next + 1) % self.words.max(1);
        off
    }

    /// The window offset of word `w` of the built table.
    fn offset(w: u64) -> u64 {
        let (entry, word) = (w / QUOTE_WORDS, w % QUOTE_WORDS);
        tb::windows::QUOTES_OFFSET + entry * tb::params::QUOTE_ENTRY_BYTES + 8 * word
    }
}

/// Where `create` builds a region before renaming it over `path`.
fn building_path(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(format!(".building-{}", std::process::id()));
    PathBuf::from(p)
}

/// The host's DMA file that stands beside the BAR region at `region` (docs/DEVICE.md).
pub fn dma_path(region: &Path) -> PathBuf {
    let mut p = region.as_os_str().to_owned();
    p.push(".dma");
    PathBuf::from(p)
}

/// `ns` of modelled time in cycles of the contract's clock (rounded).
pub fn ns_to_cycles(ns: u64) -> u64 {
    ((u128::from(ns) * u128::from(tb::params::CLOCK_HZ) + 500_000_000) / 1_000_000_000) as u64
}

impl SimDevice {
    /// Creates the region at `path` (truncated to the BAR size), resets the model, waits for its
    /// reset-time table sweeps and mirrors every register once.
    pub fn create(path: &Path, vcd: Option<&Path>) -> Result<SimDevice, SimError> {
        SimDevice::create_with(path, vcd, Arc::new(AtomicBool::new(false)))
    }

    /// [`SimDevice::create`] with a cancellation flag: once it is set, every wait of the device
    /// returns `SimError::Cancelled`.
    pub fn create_with(
        path: &Path,
        vcd: Option<&Path>,
        cancel: Arc<AtomicBool>,
    ) -> Result<SimDevice, SimError> {
        let region = |source| SimError::Region {
            path: path.to_path_buf(),
            source,
        };
        // Built beside the path and renamed over it once ready: a host still mapping an earlier
        // region there (a card that was killed and is now restarted) keeps a valid mapping of
        // the old file, where truncating it in place would fault its next read (SIGBUS).
        let building = building_path(path);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&building)
            .map_err(region)?;
        file.set_len(BAR_BYTES).map_err(region)?;
        let map = memmap2::MmapRaw::map_raw(&file).map_err(region)?;
        let model = Model::new(&TOP, vcd).map_err(|e| match vcd {
            Some(p) => SimError::Trace {
                path: p.to_path_buf(),
                source: e,
            },
            None => SimError::Model(e.to_string()),
        })?;

        let mut rw_words = Vec::new();
        for &(off, n) in tb::RW_SPANS {
            for i in 0..n {
                rw_words.push((off + 8 * i, 0));
            }
        }
        let mut ro_words = Vec::new();
        for &(off, n) in tb::RO_SPANS {
            for i in 0..n {
                let o = off + 8 * i;
                if o != blocks::ring::OFFSET + blocks::ring::PRODUCER {
                    ro_words.push(o);
                }
            }
        }
        let mut dev = SimDevice {
            model,
            map,
            path: path.to_path_buf(),
            rw_words,
            ro_words,
            ro_pos: 0,
            ro_issued: 0,
            inflight: VecDeque::new(),
            sweep: VecDeque::new(),
            done_held: false,
            mirror: None,
            quiet: false,
            pushing: false,
            frames_started: 0,
            writes: VecDeque::new(),
            scan_countdown: SCAN_PERIOD,
            model_producer: 0,
            dma_mem: None,
            dma_latency: ns_to_cycles(DMA_LATENCY_NS),
            dma_queue: VecDeque::new(),
            status: 0,
            status_fresh: false,
            alternate: false,
            phase: 0,
            stats: SimStats::default(),
            run_cpu: None,
            cancel,
            vcd: vcd.map(Path::to_path_buf),
        };
        dev.model.inp[inp::RST] = 1;
        for _ in 0..RESET_TICKS {
            dev.model.tick();
        }
        dev.model.inp[inp::RST] = 0;
        // Host-written registers start as the model's reset values (all zero), so the region and
        // the shadow agree before the host touches anything.
        let ready = dev.wait_idle().and_then(|()| dev.sync_all());
        if let Err(e) = ready {
            std::fs::remove_file(&building).ok();
            return Err(e);
        }
        std::fs::rename(&building, path).map_err(region)?;
        Ok(dev)
    }

    /// Mirrors the quote window into the region on its own while the pipeline is idle (a live
    /// card's host reads the window when it likes; `sim --interface`). Each bus read of the
    /// window takes the quote stage's port for a cycle, so none is made while a frame is in
    /// the pipeline: the latency a frame is stamped with is not disturbed.
    pub fn set_quote_mirror(&mut self, on: bool) {
        self.mirror = on.then(|| {
            let size = |off| self.region_read(blocks::control::OFFSET + off);
            let entries = size(blocks::control::N_VENUES) * size(blocks::control::N_INSTRUMENTS);
            QuoteMirror {
                words: entries.min(tb::params::N_VENUES * tb::params::N_INSTRUMENTS) * QUOTE_WORDS,
                next: 0,
            }
        });
    }

    /// Sets the modelled latency of a posted write (engine to host memory), in ns.
    pub fn set_dma_latency_ns(&mut self, ns: u64) {
        self.dma_latency = ns_to_cycles(ns);
    }

    /// The modelled latency of a posted write, in cycles.
    pub fn dma_latency_cycles(&self) -> u64 {
        self.dma_latency
    }

    /// The flag that stops every wait of this device.
    pub fn cancel_flag(&self) -> Arc<AtomicBool> {
        self.cancel.clone()
    }

    fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// An error if writing the VCD trace has failed (the file system is full, ...).
    fn check_trace(&self) -> Result<(), SimError> {
        match (self.model.trace_error(), &self.vcd) {
            (Some(source), Some(path)) => Err(SimError::Trace {
                path: path.clone(),
                source,
            }),
            _ => Ok(()),
        }
    }

    /// Clocks until `done` holds: at most `STUCK_CYCLES`, and not past a cancellation.
    fn cycle_until(
        &mut self,
        what: &'static str,
        mut done: impl FnMut(&SimDevice) -> bool,
    ) -> Result<(), SimError> {
        let start = self.model.cycles();
        while !done(self) {
            if self.cancelled() {
                return Err(SimError::Cancelled);
            }
            if self.model.cycles() - start > STUCK_CYCLES {
                return Err(SimError::Timeout {
                    what,
                    cycles: STUCK_CYCLES,
                });
            }
            self.cycle();
        }
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn stats(&self) -> SimStats {
        let open = self
            .run_cpu
            .map_or(0, |t| thread_cpu_ns().saturating_sub(t));
        SimStats {
            cycles: self.model.cycles(),
            dma_write_latency: self.dma_latency,
            busy_cpu_ns: self.stats.busy_cpu_ns + open,
            ..self.stats
        }
    }

    /// Ends the current run of frames (before cycles without a frame on the wire).
    fn end_run(&mut self) {
        if let Some(t) = self.run_cpu.take() {
            self.stats.busy_cpu_ns += thread_cpu_ns().saturating_sub(t);
        }
    }

    /// The byte index of the region word at `off`. Every offset the simulator uses is a contract
    /// register or a ring word computed from the contract, so one outside the region is a bug
    /// here: it panics, in release builds too, instead of touching memory outside the mapping.
    fn region_index(&self, off: u64) -> usize {
        let len = self.map.len() as u64;
        let inside = off.checked_add(8).is_some_and(|end| end <= len);
        assert!(
            off.is_multiple_of(8) && inside,
            "simulator bug: region offset {off:#x} is not an aligned word inside the {len:#x}-byte BAR region"
        );
        off as usize
    }

    fn region_read(&self, off: u64) -> u64 {
        let at = self.region_index(off);
        // SAFETY: `region_index` proved at..at + 8 is inside the mapping, which `self` owns; the
        // mapping is page-aligned and `at` a multiple of 8, so the pointer is aligned for u64.
        // The host writes the region concurrently: a volatile read through a raw pointer, with
        // no reference to the memory, is what such shared memory allows.
        unsafe { std::ptr::read_volatile(self.map.as_ptr().add(at).cast::<u64>()) }
    }

    fn region_write(&mut self, off: u64, v: u64) {
        let at = self.region_index(off);
        // SAFETY: as in `region_read`; the region was mapped from a file opened read-write.
        unsafe { std::ptr::write_volatile(self.map.as_mut_ptr().add(at).cast::<u64>(), v) }
    }

    /// Queues bus writes for host-written registers that changed since the last scan.
    fn scan_host_writes(&mut self) {
        let cmd = blocks::control::OFFSET + blocks::control::CMD;
        let mut cmd_change = None;
        for i in 0..self.rw_words.len() {
            let (off, last) = self.rw_words[i];
            let now = self.region_read(off);
            if now != last {
                self.rw_words[i].1 = now;
                if off == blocks::dma::OFFSET + blocks::dma::ADDR
                    || off == blocks::dma::OFFSET + blocks::dma::RECORDS
                {
                    // the host has set up (or moved) its ring: map its file afresh
                    self.dma_mem = None;
                }
                if off == cmd {
                    cmd_change = Some(now);
                } else {
                    self.writes.push_back((off, now));
                }
            }
        }
        if let Some(v) = cmd_change {
            self.writes.push_back((cmd, v));
        }
    }

    /// Chooses this cycle's bus read.
    fn next_read(&mut self) -> Option<(u64, Tag)> {
        if let Some(read) = self.sweep.pop_front() {
            return Some(read);
        }
        // The producer is re-read at least every 16th cycle: pacing the wire depends on it, and a
        // mirror that falls behind a burst of events must not let the model run into a full ring
        // (16 cycles is at most a couple of frames' events, far inside the half-ring margin of
        // the pacing).
        self.phase = (self.phase + 1) & 15;
        if self.phase == 0 {
            return Some((blocks::ring::OFFSET + blocks::ring::PRODUCER, Tag::Producer));
        }
        // The cycle counter is re-read every 16th cycle whatever else is read: it is the host's
        // sign of life (a host failing over watches it at sub-millisecond scale).
        if self.phase == 8 {
            let off = blocks::clock::OFFSET + blocks::clock::CYCLES;
            return Some((off, Tag::Ro(off)));
        }
        // The quote mirror, while the pipeline is idle: 12 of 16 cycles (the producer, the cycle
        // counter and the other registers keep one slot each in 4, status among them).
        if self.quiet && self.phase & 3 != 0 {
            if let Some(m) = self.mirror.as_mut() {
                let off = m.advance();
                return Some((off, Tag::Ro(off)));
            }
        }
        self.alternate = !self.alternate;
        if self.alternate {
            return Some((blocks::ring::OFFSET + blocks::ring::PRODUCER, Tag::Producer));
        }
        Some(self.next_register())
    }

    /// The next device register of the round robin (control.status once a round).
    fn next_register(&mut self) -> (u64, Tag) {
        self.ro_issued += 1;
        if self.ro_pos == self.ro_words.len() {
            self.ro_pos = 0;
            return (
                blocks::control::OFFSET + blocks::control::STATUS,
                Tag::Status(if self.pushing {
                    u64::MAX
                } else {
                    self.frames_started
                }),
            );
        }
        let off = self.ro_words[self.ro_pos];
        self.ro_pos += 1;
        (off, Tag::Ro(off))
    }

    fn complete_read(&mut self, tag: Tag, data: u64) {
        match tag {
            Tag::Ro(off) => {
                let done = blocks::control::OFFSET + blocks::control::CMD_DONE;
                if off == done && (self.done_held || data != self.region_read(off)) {
                    // a command has completed: the host that sees it must see every write sent
                    // before (a read completion does not pass posted writes)
                    self.dma_land_all();
                    if let Some(m) = &self.mirror {
                        // and, with the quote mirror on, the table as the command left it (a
                        // CLEAR_STATE empties it): the built window is swept first, cmd_done
                        // mirrored at its end, so that a host comparing the window after a
                        // command never reads a copy from before it
                        if !self.done_held {
                            self.done_held = true;
                            for w in 0..m.words {
                                let off = QuoteMirror::offset(w);
                                self.sweep.push_back((off, Tag::Ro(off)));
                            }
                            self.sweep.push_back((done, Tag::DoneAfterSweep));
                        }
                        return;
                    }
                }
                self.region_write(off, data)
            }
            Tag::DoneAfterSweep => {
                self.done_held = false;
                self.dma_land_all();
                self.region_write(blocks::control::OFFSET + blocks::control::CMD_DONE, data);
            }
            Tag::Status(issued) => {
                self.status = data;
                self.status_fresh = true;
                // idle as read after the last frame was driven in full: nothing in the pipeline
                let s = blocks::control::Status::unpack(data);
                self.quiet = s.idle && !s.clearing && issued == self.frames_started;
                self.region_write(blocks::control::OFFSET + blocks::control::STATUS, data);
            }
            Tag::Producer => {
                self.model_producer = data;
                self.region_write(blocks::ring::OFFSET + blocks::ring::PRODUCER, data);
            }
        }
    }

    /// Takes the write the engine presents this cycle (tready is always high: the modelled link
    /// has no backpressure, only latency) and lands the writes that are due.
    fn dma_cycle(&mut self) {
        let now = self.model.cycles();
        if self.model.out[out::M_AXIS_DMA_TVALID] != 0 {
            let addr = self.model.out[out::M_AXIS_DMA_ADDR];
            let mut words = [0u64; WRITE_WORDS];
            words.copy_from_slice(&self.model.out[out::M_AXIS_DMA_TDATA..][..WRITE_WORDS]);
            if self.model.out[out::M_AXIS_DMA_TLAST] == 0 {
                // the engine writes 64 bytes in one beat: anything else is a fault
                self.stats.dma_faults += 1;
            } else {
                self.dma_queue
                    .push_back((now + self.dma_latency, addr, words));
            }
        }
        while self.dma_queue.front().is_some_and(|w| w.0 <= now) {
            let (_, addr, words) = self.dma_queue.pop_front().expect("checked");
            self.dma_land(addr, &words);
        }
    }

    /// Lands every write sent so far, now.
    fn dma_land_all(&mut self) {
        while let Some((_, addr, words)) = self.dma_queue.pop_front() {
            self.dma_land(addr, &words);
        }
    }

    /// Maps `<region>.dma` as the host left it (created, sized and zeroed by the host).
    fn dma_map(&mut self) -> Option<&memmap2::MmapRaw> {
        if self.dma_mem.is_none() {
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .open(dma_path(&self.path))
                .ok()?;
            self.dma_mem = memmap2::MmapRaw::map_raw(&file).ok();
        }
        self.dma_mem.as_ref()
    }

    /// One posted write of 64 bytes at bus address `addr` into host memory. The second write of
    /// a record (offset 64 in its 128-byte slot) ends with the stamp: stored last, with release
    /// ordering, so a host that sees it (acquire) sees the whole record.
    fn dma_land(&mut self, addr: u64, words: &[u64; WRITE_WORDS]) {
        let now = self.model.cycles() - 1 - RESET_TICKS;
        let Some(map) = self.dma_map() else {
            self.stats.dma_faults += 1;
            return;
        };
        let len = map.len() as u64;
        let off = addr.wrapping_sub(tb::params::SIM_DMA_BUS_BASE);
        let inside = addr >= tb::params::SIM_DMA_BUS_BASE
            && off.is_multiple_of(64)
            && off.checked_add(64).is_some_and(|end| end <= len);
        if !inside {
            self.stats.dma_faults += 1;
            return;
        }
        let base = map.as_mut_ptr();
        let stamp_write = off % (RECORD_WORDS * 8) == 64;
        for (i, &w) in words.iter().enumerate() {
            let at = off as usize + 8 * i;
            // SAFETY: off..off + 64 lies inside the mapping (checked above), which `self` owns;
            // the mapping is page-aligned and `at` a multiple of 8, so the pointer is aligned.
            // The host reads this memory concurrently: volatile stores through a raw pointer,
            // and the stamp word as an atomic (the host loads it as one).
            unsafe {
                let p = base.add(at).cast::<u64>();
                if stamp_write && i == WRITE_WORDS - 1 {
                    (*p.cast::<AtomicU64>()).store(w, Ordering::Release);
                } else {
                    std::ptr::write_volatile(p, w);
                }
            }
        }
        if stamp_write {
            // word 13 of the record (cyc_commit) is word 5 of its second write
            let commit = words[tb::record::CYC_COMMIT - WRITE_WORDS];
            let lat = now.saturating_sub(commit);
            let st = &mut self.stats;
            st.dma_latency_min = if st.dma_records == 0 {
                lat
            } else {
                st.dma_latency_min.min(lat)
            };
            st.dma_records += 1;
            st.dma_latency_sum += lat;
            st.dma_latency_max = st.dma_latency_max.max(lat);
        }
    }

    /// One clock cycle: the wire inputs are already set; adds one bus read and one bus write.
    #[inline]
    fn cycle(&mut self) {
        self.scan_countdown -= 1;
        if self.scan_countdown == 0 {
            self.scan_countdown = SCAN_PERIOD;
            self.scan_host_writes();
        }
        if let Some((addr, v)) = self.writes.pop_front() {
            self.model.inp[inp::REG_WR_EN] = 1;
            self.model.inp[inp::REG_WR_ADDR] = addr;
            self.model.inp[inp::REG_WR_DATA] = v;
        } else {
            self.model.inp[inp::REG_WR_EN] = 0;
        }
        let read = self.next_read();
        match read {
            Some((addr, _)) => {
                self.model.inp[inp::REG_RD_EN] = 1;
                self.model.inp[inp::REG_RD_ADDR] = addr;
            }
            None => self.model.inp[inp::REG_RD_EN] = 0,
        }
        self.model.inp[inp::M_AXIS_DMA_TREADY] = 1;
        self.model.tick();
        self.dma_cycle();
        // outputs sampled before this edge: a read issued three cycles ago is valid now
        if self.model.out[out::REG_RD_VALID] != 0 {
            if let Some((_, tag)) = self.inflight.pop_front() {
                let data = self.model.out[out::REG_RD_DATA];
                self.complete_read(tag, data);
            }
        }
        if let Some((_, tag)) = read {
            self.inflight.push_back((self.model.cycles(), tag));
        }
    }

    /// The host's consumer index (its credits) as it stands in the region.
    fn host_consumer(&self) -> u64 {
        self.region_read(blocks::ring::OFFSET + blocks::ring::CONSUMER)
    }

    /// Records committed and not yet credited by the host beyond which the wire waits: half the
    /// ring's room (the card's ring, or the host's if DMA is set up with a smaller one).
    fn pacing_limit(&self) -> u64 {
        let host = self.region_read(blocks::dma::OFFSET + blocks::dma::RECORDS);
        let room = if host == 0 {
            RING_RECORDS
        } else {
            host.min(RING_RECORDS)
        };
        room / 2
    }

    fn must_wait(&self) -> bool {
        self.model_producer.saturating_sub(self.host_consumer()) > self.pacing_limit()
    }

    /// Drives one frame onto the wire, beat by beat, waiting first while more than half the
    /// ring's room is used (records not yet credited by the host).
    pub fn push_frame(&mut self, data: &[u8], ts_ns: u64, bad: bool) -> Result<(), SimError> {
        self.model.inp[inp::S_AXIS_TVALID] = 0;
        // no quote-window read until a status read made after this frame says the pipeline is
        // idle again
        self.quiet = false;
        self.pushing = true;
        self.frames_started += 1;
        if self.must_wait() {
            self.end_run();
        }
        while self.must_wait() {
            // a host that stopped draining (it failed, or was killed) must not hold us forever
            if self.cancelled() {
                return Err(SimError::Cancelled);
            }
            for _ in 0..64 {
                self.cycle();
            }
            self.stats.pacing_cycles += 64;
            std::thread::yield_now();
        }
        let started = std::time::Instant::now();
        if self.run_cpu.is_none() {
            self.run_cpu = Some(thread_cpu_ns());
        }
        let beats = data.len().div_ceil(8).max(1);
        for b in 0..beats {
            let chunk = &data[(8 * b).min(data.len())..(8 * b + 8).min(data.len())];
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            let last = b + 1 == beats;
            let keep: u64 = if chunk.is_empty() {
                0
            } else {
                (1u64 << chunk.len()) - 1
            };
            self.model.inp[inp::S_AXIS_TDATA] = u64::from_le_bytes(word);
            self.model.inp[inp::S_AXIS_TKEEP] = keep;
            self.model.inp[inp::S_AXIS_TLAST] = last as u64;
            self.model.inp[inp::S_AXIS_TUSER] = (bad && last) as u64;
            self.model.inp[inp::S_AXIS_TS] = ts_ns;
            self.model.inp[inp::S_AXIS_TVALID] = 1;
            let mut waited = 0u64;
            loop {
                self.cycle();
                // tready as it was before the edge: the beat went in if it was high
                if self.model.out[out::S_AXIS_TREADY] != 0 {
                    break;
                }
                self.stats.stall_cycles += 1;
                waited += 1;
                if self.cancelled() {
                    self.model.inp[inp::S_AXIS_TVALID] = 0;
                    return Err(SimError::Cancelled);
                }
                if waited > STUCK_CYCLES {
                    self.model.inp[inp::S_AXIS_TVALID] = 0;
                    return Err(SimError::Stuck {
                        frame: self.stats.frames,
                        beat: b,
                        cycles: waited,
                    });
                }
            }
            self.stats.beats += 1;
        }
        self.model.inp[inp::S_AXIS_TVALID] = 0;
        self.model.inp[inp::S_AXIS_TLAST] = 0;
        self.stats.frames += 1;
        self.stats.busy_ns += started.elapsed().as_nanos() as u64;
        self.pushing = false;
        self.check_trace()
    }

    /// Runs `n` cycles with no frame on the wire.
    pub fn idle(&mut self, n: u64) -> Result<(), SimError> {
        self.end_run();
        self.model.inp[inp::S_AXIS_TVALID] = 0;
        for _ in 0..n {
            self.cycle();
        }
        self.check_trace()
    }

    /// Runs until host writes are applied and the pipeline reports idle and no table is clearing.
    pub fn wait_idle(&mut self) -> Result<(), SimError> {
        self.end_run();
        self.model.inp[inp::S_AXIS_TVALID] = 0;
        let start = self.model.cycles();
        loop {
            if self.model.cycles() - start > STUCK_CYCLES {
                return Err(SimError::NotIdle(STUCK_CYCLES));
            }
            self.status_fresh = false;
            self.cycle_until("status read", |d| d.status_fresh)?;
            let status = blocks::control::Status::unpack(self.status);
            if status.idle && !status.clearing && self.writes.is_empty() {
                return self.check_trace();
            }
        }
    }

    /// Brings the whole region up to date: every device register and the quote window, and
    /// every event record into host memory. Call when the pipeline is idle.
    pub fn sync_all(&mut self) -> Result<(), SimError> {
        self.end_run();
        self.scan_host_writes();
        self.cycle_until("host writes", |d| d.writes.is_empty())?;
        // a full round of device registers (the producer is read every other cycle), then the
        // ring catches up
        let target = self.ro_issued + self.ro_words.len() as u64 + 1;
        self.cycle_until("register mirror", |d| d.ro_issued >= target)?;
        for _ in 0..READ_LATENCY {
            self.cycle();
        }
        // every record the engine sent has landed in host memory (wait_idle waited for the
        // engine itself: its busy is part of the pipeline's idle)
        self.cycle_until("DMA writes", |d| d.dma_queue.is_empty())?;
        // the quote window, one pipelined read per cycle
        let entries = tb::params::N_VENUES * tb::params::N_INSTRUMENTS;
        for e in 0..entries {
            for w in 0..QUOTE_WORDS {
                let off = tb::windows::QUOTES_OFFSET + e * tb::params::QUOTE_ENTRY_BYTES + 8 * w;
                self.sweep.push_back((off, Tag::Ro(off)));
            }
        }
        self.cycle_until("quote window copy", |d| d.sweep.is_empty())?;
        // a read returns three cycles after it is issued
        for _ in 0..READ_LATENCY {
            self.cycle();
        }
        self.check_trace()
    }

    /// True once a host has programmed the device: the pipeline is enabled and the host's last
    /// command has completed (the host ends programming with a command, as a barrier).
    pub fn host_ready(&self) -> bool {
        let ctrl = self.region_read(blocks::control::OFFSET + blocks::control::CTRL);
        let cmd = self.region_read(blocks::control::OFFSET + blocks::control::CMD);
        let done = self.region_read(blocks::control::OFFSET + blocks::control::CMD_DONE);
        blocks::control::Ctrl::unpack(ctrl).enable
            && cmd != 0
            && blocks::control::Cmd::unpack(cmd).seq == blocks::control::CmdDone::unpack(done).seq
    }

    /// Makes the region read as a dead card does (cycle counter all-ones), so that a host waiting
    /// on it (a command, a drain) stops at once instead of timing out. For a simulator that
    /// failed; it serves nothing after this.
    pub fn mark_dead(&mut self) {
        self.region_write(blocks::clock::OFFSET + blocks::clock::CYCLES, u64::MAX);
    }

    /// Flushes the VCD trace, if one is being written; an error if any of it could not be
    /// written.
    pub fn flush_trace(&mut self) -> Result<(), SimError> {
        self.model.flush();
        self.check_trace()
    }
}
