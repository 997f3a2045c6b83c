//! The hardware detection path: the device behind its BAR, fed by the simulator's wire or, on a
//! card, by the network.
//!
//! With the simulator, a thread owns the Verilated model and serves the BAR as a shared region
//! (a file in /dev/shm by default); this side opens the region by path exactly as it would open a
//! card's `resource0`, programs it, and drains events from the ring in host memory (the file
//! `<region>.dma`, which the model's DMA engine writes). Frames reach the model through
//! the simulator's wire (a channel), never through the BAR.
//!
//! Nothing here waits without a way out: the simulator thread stops at a cancellation flag that
//! dropping the detector sets first (it never blocks on the channel), every wait for the thread
//! notices its end, and a simulator whose cycle counter stops advancing is reported.

use crate::device::{Device, Watchdog};
use std::path::{Path, PathBuf};
#[cfg(feature = "sim")]
use std::sync::atomic::{AtomicBool, Ordering};
#[cfg(feature = "sim")]
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
#[cfg(feature = "sim")]
use std::sync::Arc;
#[cfg(feature = "sim")]
use std::thread::JoinHandle;
use std::time::Duration;
use tickcross_core::counters::Counters;
use tickcross_core::detect::{DetectError, Detector};
use tickcross_core::event::Event;
use tickcross_core::frame::Frame;
use tickcross_core::program::Program;
use tickcross_core::quotes::QuoteTable;

/// A simulator (or card) whose cycle counter has not moved for this long while the host waits
/// for it has stopped: the wait ends with an error.
pub const STALL_TIMEOUT: Duration = Duration::from_secs(30);

/// How long the host waits before offering a frame again when the simulator's queue is full.
#[cfg(feature = "sim")]
const QUEUE_FULL_WAIT: Duration = Duration::from_micros(50);

/// How long dropping the detector waits for the simulator thread to end once told to stop.
#[cfg(feature = "sim")]
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

#[cfg(feature = "sim")]
pub use tickcross_sim::device::SimStats;

/// Options of a simulated device.
#[derive(Debug, Clone, Default)]
pub struct SimOptions {
    /// Where to create the BAR region (default: /dev/shm/tickcross-<pid>-<n>.bar, removed on drop).
    pub region: Option<PathBuf>,
    /// Write a VCD trace of every signal here.
    pub vcd: Option<PathBuf>,
    /// Once set (by a signal handler), waits for the simulator give up with an error.
    pub interrupt: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
    /// Modelled latency of the card's posted writes into host memory, in ns (default 500).
    pub dma_latency_ns: Option<u64>,
}

#[cfg(feature = "sim")]
enum ToSim {
    Frame(Frame),
    Flush,
    Stop,
}

#[cfg(feature = "sim")]
enum FromSim {
    Ready,
    Flushed(SimStats),
    Failed(String),
}

/// What the simulator thread reports when it has to stop.
#[cfg(feature = "sim")]
fn sim_failed(tx: &mpsc::Sender<FromSim>, e: impl std::fmt::Display) {
    let _ = tx.send(FromSim::Failed(e.to_string()));
}

#[cfg(feature = "sim")]
struct SimThread {
    tx: SyncSender<ToSim>,
    rx: Receiver<FromSim>,
    handle: Option<JoinHandle<SimStats>>,
    region: PathBuf,
    remove_region: bool,
    /// Makes every wait of the simulator end (SimDevice checks it in all its loops).
    cancel: Arc<AtomicBool>,
    /// `SimOptions::interrupt`.
    interrupt: Option<Arc<AtomicBool>>,
}

#[cfg(feature = "sim")]
impl SimThread {
    /// The failure the thread reported, if any.
    fn failure(&self) -> Option<DetectError> {
        self.rx.try_iter().find_map(|m| match m {
            FromSim::Failed(e) => Some(DetectError::Sim(e)),
            _ => None,
        })
    }

    fn interrupted(&self) -> Result<(), DetectError> {
        match &self.interrupt {
            Some(f) if f.load(Ordering::SeqCst) => Err(sim_err("interrupted")),
            _ => Ok(()),
        }
    }
}

#[cfg(feature = "sim")]
impl Drop for SimThread {
    /// Stops the thread without ever blocking on it: the flag first (a thread waiting for the
    /// ring to drain sees it), a Stop only if the queue has room, then a bounded wait for the
    /// thread's end (its sender closes as it returns). A thread that does not end in time is
    /// left behind rather than hanging the process.
    fn drop(&mut self) {
        self.cancel.store(true, Ordering::SeqCst);
        let _ = self.tx.try_send(ToSim::Stop);
        let deadline = std::time::Instant::now() + STOP_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(_) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    if let Some(h) = self.handle.take() {
                        let _ = h.join();
                    }
                    break;
                }
                Err(RecvTimeoutError::Timeout) => {
                    tracing::warn!(
                        "the simulator thread did not stop within {STOP_TIMEOUT:?}; leaving it"
                    );
                    break;
                }
            }
        }
        if self.remove_region {
            let _ = std::fs::remove_file(&self.region);
            let _ = std::fs::remove_file(crate::device::host_ring_path(&self.region));
        }
    }
}

pub struct HwDetector {
    device: Device,
    #[cfg(feature = "sim")]
    sim: Option<SimThread>,
    pending: Vec<Event>,
    #[cfg(feature = "sim")]
    last_stats: SimStats,
    watchdog: Option<Watchdog>,
}

#[cfg(feature = "sim")]
fn sim_err(e: impl std::fmt::Display) -> DetectError {
    DetectError::Sim(e.to_string())
}

impl HwDetector {
    /// A card (or a simulator serving a region elsewhere): frames arrive from the network, so
    /// `push_frame` is refused.
    pub fn open(path: &Path, program: &Program) -> Result<HwDetector, DetectError> {
        let mut device = Device::open(path).map_err(|e| DetectError::Device(e.to_string()))?;
        device
            .program(program)
            .map_err(|e| DetectError::Device(e.to_string()))?;
        Ok(HwDetector {
            device,
            #[cfg(feature = "sim")]
            sim: None,
            pending: Vec::new(),
            #[cfg(feature = "sim")]
            last_stats: SimStats::default(),
            watchdog: None,
        })
    }

    /// Starts the Verilated model serving a BAR region, opens the region and programs it.
    #[cfg(feature = "sim")]
    pub fn simulated(program: &Program, opts: &SimOptions) -> Result<HwDetector, DetectError> {
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let (region, remove_region) = match &opts.region {
            Some(p) => (p.clone(), false),
            None => {
                let dir = if Path::new("/dev/shm").is_dir() {
                    PathBuf::from("/dev/shm")
                } else {
                    std::env::temp_dir()
                };
                let n = COUNTER.fetch_add(1, Ordering::Relaxed);
                (
                    dir.join(format!("tickcross-{}-{n}.bar", std::process::id())),
                    true,
                )
            }
        };
        let (tx, sim_rx) = mpsc::sync_channel::<ToSim>(4096);
        let (sim_tx, rx) = mpsc::channel::<FromSim>();
        let region_t = region.clone();
        let vcd = opts.vcd.clone();
        let latency = opts.dma_latency_ns;
        let cancel = Arc::new(AtomicBool::new(false));
        let cancel_t = cancel.clone();
        let handle = std::thread::Builder::new()
            .name("tickcross-sim".into())
            .spawn(move || sim_thread(&region_t, vcd.as_deref(), latency, cancel_t, sim_rx, sim_tx))
            .map_err(sim_err)?;
        // from here on, any early return drops `thread`: the simulator stops and the region goes
        let thread = SimThread {
            tx,
            rx,
            handle: Some(handle),
            region: region.clone(),
            remove_region,
            cancel,
            interrupt: opts.interrupt.clone(),
        };
        match thread.rx.recv() {
            Ok(FromSim::Ready) => {}
            Ok(FromSim::Failed(e)) => return Err(DetectError::Sim(e)),
            Ok(FromSim::Flushed(_)) | Err(_) => {
                return Err(sim_err("simulator thread ended during start-up"))
            }
        }
        // the simulator's own failure, when it has one, says more than the device's symptom
        let failed = |e: crate::device::DeviceError| {
            thread
                .failure()
                .unwrap_or_else(|| DetectError::Device(e.to_string()))
        };
        let mut device = Device::open(&region).map_err(failed)?;
        device.program(program).map_err(failed)?;
        Ok(HwDetector {
            device,
            sim: Some(thread),
            pending: Vec::new(),
            last_stats: SimStats::default(),
            watchdog: None,
        })
    }

    pub fn device(&mut self) -> &mut Device {
        &mut self.device
    }

    /// Statistics of the simulator at the last flush.
    #[cfg(feature = "sim")]
    pub fn sim_stats(&self) -> SimStats {
        self.last_stats
    }

    fn drain_into_pending(&mut self) -> Result<(), DetectError> {
        self.device
            .drain(&mut self.pending)
            .map(|_| ())
            .map_err(|e| DetectError::Device(e.to_string()))
    }

    /// Why the simulator thread stopped: its last message, if it sent one.
    #[cfg(feature = "sim")]
    fn sim_stopped(&self) -> DetectError {
        self.sim
            .as_ref()
            .and_then(SimThread::failure)
            .unwrap_or_else(|| sim_err("the simulator thread has stopped"))
    }

    /// Queues a message for the simulator. While the queue is full the simulator may be waiting
    /// for the ring to drain, so drain it between attempts; a simulator that ends or stops
    /// advancing ends the wait.
    #[cfg(feature = "sim")]
    fn send_to_sim(&mut self, mut msg: ToSim) -> Result<(), DetectError> {
        loop {
            let Some(sim) = &self.sim else {
                return Err(sim_err("no simulator"));
            };
            match sim.tx.try_send(msg) {
                Ok(()) => return Ok(()),
                Err(TrySendError::Full(m)) => {
                    sim.interrupted()?;
                    msg = m;
                    self.drain_into_pending()
                        .map_err(|e| self.sim.as_ref().and_then(SimThread::failure).unwrap_or(e))?;
                    self.check_progress()?;
                    // The queue holds thousands of frames (milliseconds of simulation) and the
                    // ring's pacing margin hundreds of events: sleeping a moment costs the
                    // simulator nothing, while a yield loop kept this thread spinning on the
                    // other core, next to the simulator it waits for.
                    std::thread::sleep(QUEUE_FULL_WAIT);
                }
                Err(TrySendError::Disconnected(_)) => return Err(self.sim_stopped()),
            }
        }
    }

    /// While waiting on the device: an error once its cycle counter has stood still for
    /// `STALL_TIMEOUT`.
    /// (One watchdog for the detector's life: it reads the BAR at most every WATCHDOG_PERIOD.)
    fn check_progress(&mut self) -> Result<(), DetectError> {
        self.watchdog
            .get_or_insert_with(|| Watchdog::new(&self.device, STALL_TIMEOUT))
            .check(&self.device)
            .map_err(|e| DetectError::Device(e.to_string()))
    }
}

#[cfg(feature = "sim")]
fn sim_thread(
    region: &Path,
    vcd: Option<&Path>,
    dma_latency_ns: Option<u64>,
    cancel: Arc<AtomicBool>,
    rx: Receiver<ToSim>,
    tx: mpsc::Sender<FromSim>,
) -> SimStats {
    use tickcross_sim::device::{SimDevice, SimError};
    let mut dev = match SimDevice::create_with(region, vcd, cancel) {
        Ok(d) => d,
        Err(e) => {
            let _ = tx.send(FromSim::Failed(e.to_string()));
            return SimStats::default();
        }
    };
    if let Some(ns) = dma_latency_ns {
        dev.set_dma_latency_ns(ns);
    }
    let _ = tx.send(FromSim::Ready);
    let flush = |dev: &mut SimDevice| -> Result<SimStats, SimError> {
        dev.wait_idle()?;
        dev.sync_all()?;
        dev.flush_trace()?;
        Ok(dev.stats())
    };
    loop {
        let step = match rx.try_recv() {
            Ok(ToSim::Frame(f)) => dev.push_frame(&f.data, f.ts_ns, f.bad),
            Ok(ToSim::Flush) => flush(&mut dev).map(|stats| {
                let _ = tx.send(FromSim::Flushed(stats));
            }),
            Ok(ToSim::Stop) | Err(mpsc::TryRecvError::Disconnected) => break,
            // keep serving the BAR (host writes, commands) while the wire is quiet
            Err(mpsc::TryRecvError::Empty) => dev.idle(256),
        };
        match step {
            Ok(()) => {}
            // told to stop: nobody is waiting for a reason
            Err(SimError::Cancelled) => break,
            Err(e) => {
                sim_failed(&tx, e);
                // a host waiting on a command sees a dead device at once
                dev.mark_dead();
                break;
            }
        }
    }
    let _ = dev.flush_trace();
    dev.stats()
}

impl Detector for HwDetector {
    fn name(&self) -> &'static str {
        "hw"
    }

    fn push_frame(&mut self, frame: &Frame) -> Result<(), DetectError> {
        #[cfg(feature = "sim")]
        if self.sim.is_some() {
            return self.send_to_sim(ToSim::Frame(frame.clone()));
        }
        let _ = frame;
        Err(DetectError::Device(
            "this device takes frames from the network; replay needs the simulator (--path hw uses it)".into(),
        ))
    }

    fn drain_events(&mut self, out: &mut Vec<Event>) -> Result<(), DetectError> {
        out.append(&mut self.pending);
        self.device
            .drain(out)
            .map_err(|e| DetectError::Device(e.to_string()))?;
        Ok(())
    }

    fn flush(&mut self) -> Result<(), DetectError> {
        #[cfg(feature = "sim")]
        if self.sim.is_some() {
            // the queue may be full while the simulator waits for the ring to drain
            self.send_to_sim(ToSim::Flush)?;
            loop {
                match self
                    .sim
                    .as_ref()
                    .map(|s| s.rx.recv_timeout(Duration::from_millis(1)))
                {
                    Some(Ok(FromSim::Flushed(stats))) => {
                        self.last_stats = stats;
                        break;
                    }
                    Some(Ok(FromSim::Failed(e))) => return Err(DetectError::Sim(e)),
                    Some(Ok(FromSim::Ready)) => {
                        return Err(sim_err("unexpected message from the simulator"))
                    }
                    Some(Err(RecvTimeoutError::Timeout)) => {
                        if let Some(s) = &self.sim {
                            s.interrupted()?;
                        }
                        self.drain_into_pending()?;
                        self.check_progress()?;
                    }
                    Some(Err(RecvTimeoutError::Disconnected)) | None => {
                        return Err(self.sim_stopped())
                    }
                }
            }
            return self.drain_into_pending();
        }
        // a card: wait until the pipeline reports idle
        let start = std::time::Instant::now();
        while start.elapsed() < STALL_TIMEOUT {
            let (clearing, idle) = self.device.status();
            if idle && !clearing {
                return self.drain_into_pending();
            }
            self.check_progress()?;
            std::thread::yield_now();
        }
        Err(DetectError::Device(format!(
            "the pipeline did not become idle within {STALL_TIMEOUT:?}"
        )))
    }

    fn counters(&mut self) -> Result<Counters, DetectError> {
        Ok(self.device.counters())
    }

    fn quotes(&mut self) -> Result<QuoteTable, DetectError> {
        Ok(self.device.quotes())
    }
}
