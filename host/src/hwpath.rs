//! The hardware detection path: the device behind its BAR, fed by the simulator's wire or, on a
//! card, by the network.
//!
//! With the simulator, a thread owns the Verilated model and serves the BAR as a shared region
//! (a file in /dev/shm by default); this side opens the region by path exactly as it would open a
//! card's `resource0`, programs it, and drains events from the ring. Frames reach the model through
//! the simulator's wire (a channel), never through the BAR.

use crate::counters::Counters;
use crate::detect::{DetectError, Detector};
use crate::device::Device;
use crate::event::Event;
use crate::frame::Frame;
use crate::program::Program;
use crate::quotes::QuoteTable;
use std::path::{Path, PathBuf};
#[cfg(feature = "sim")]
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
#[cfg(feature = "sim")]
use std::thread::JoinHandle;
#[cfg(feature = "sim")]
use std::time::Duration;

#[cfg(feature = "sim")]
pub use tickcross_sim::device::SimStats;

/// Options of a simulated device.
#[derive(Debug, Clone, Default)]
pub struct SimOptions {
    /// Where to create the BAR region (default: /dev/shm/tickcross-<pid>-<n>.bar, removed on drop).
    pub region: Option<PathBuf>,
    /// Write a VCD trace of every signal here.
    pub vcd: Option<PathBuf>,
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
}

pub struct HwDetector {
    device: Device,
    #[cfg(feature = "sim")]
    sim: Option<SimThread>,
    pending: Vec<Event>,
    #[cfg(feature = "sim")]
    last_stats: SimStats,
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
        let handle = std::thread::Builder::new()
            .name("tickcross-sim".into())
            .spawn(move || sim_thread(&region_t, vcd.as_deref(), sim_rx, sim_tx))
            .map_err(sim_err)?;
        let mut thread = SimThread {
            tx,
            rx,
            handle: Some(handle),
            region: region.clone(),
            remove_region,
        };
        match thread.rx.recv() {
            Ok(FromSim::Ready) => {}
            Ok(FromSim::Failed(e)) => return Err(DetectError::Sim(e)),
            Ok(FromSim::Flushed(_)) | Err(_) => {
                return Err(sim_err("simulator thread ended during start-up"))
            }
        }
        let mut device = Device::open(&region).map_err(|e| DetectError::Device(e.to_string()))?;
        device
            .program(program)
            .map_err(|e| DetectError::Device(e.to_string()))?;
        let _ = &mut thread;
        Ok(HwDetector {
            device,
            sim: Some(thread),
            pending: Vec::new(),
            last_stats: SimStats::default(),
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

    fn drain_into_pending(&mut self) {
        self.device.drain(&mut self.pending);
    }

    /// Queues a message for the simulator. While the queue is full the simulator may be waiting
    /// for the ring to drain, so drain it between attempts.
    #[cfg(feature = "sim")]
    fn send_to_sim(&mut self, mut msg: ToSim) -> Result<(), DetectError> {
        loop {
            let Some(sim) = &self.sim else {
                return Err(sim_err("no simulator"));
            };
            match sim.tx.try_send(msg) {
                Ok(()) => return Ok(()),
                Err(TrySendError::Full(m)) => {
                    msg = m;
                    self.drain_into_pending();
                    std::thread::yield_now();
                }
                Err(TrySendError::Disconnected(_)) => {
                    let why = match sim.rx.try_recv() {
                        Ok(FromSim::Failed(e)) => e,
                        _ => "simulator thread has stopped".into(),
                    };
                    return Err(DetectError::Sim(why));
                }
            }
        }
    }
}

#[cfg(feature = "sim")]
fn sim_thread(
    region: &Path,
    vcd: Option<&Path>,
    rx: Receiver<ToSim>,
    tx: mpsc::Sender<FromSim>,
) -> SimStats {
    let mut dev = match tickcross_sim::device::SimDevice::create(region, vcd) {
        Ok(d) => d,
        Err(e) => {
            let _ = tx.send(FromSim::Failed(e.to_string()));
            return SimStats::default();
        }
    };
    let _ = tx.send(FromSim::Ready);
    loop {
        match rx.try_recv() {
            Ok(ToSim::Frame(f)) => {
                if let Err(e) = dev.push_frame(&f.data, f.ts_ns, f.bad) {
                    sim_failed(&tx, e);
                    break;
                }
            }
            Ok(ToSim::Flush) => {
                if let Err(e) = dev.wait_idle() {
                    sim_failed(&tx, e);
                    break;
                }
                dev.sync_all();
                dev.flush_trace();
                let _ = tx.send(FromSim::Flushed(dev.stats()));
            }
            Ok(ToSim::Stop) => break,
            Err(mpsc::TryRecvError::Empty) => {
                // keep serving the BAR (host writes, commands) while the wire is quiet
                dev.idle(256);
            }
            Err(mpsc::TryRecvError::Disconnected) => break,
        }
    }
    dev.flush_trace();
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
        self.device.drain(out);
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
                    Some(Err(RecvTimeoutError::Timeout)) => self.drain_into_pending(),
                    Some(Err(RecvTimeoutError::Disconnected)) | None => {
                        return Err(sim_err("simulator thread has stopped"))
                    }
                }
            }
            self.drain_into_pending();
            return Ok(());
        }
        // a card: wait until the pipeline reports idle
        for _ in 0..1_000_000 {
            let (clearing, idle) = self.device.status();
            if idle && !clearing {
                self.drain_into_pending();
                return Ok(());
            }
            std::thread::yield_now();
        }
        Err(DetectError::Device(
            "the pipeline did not become idle".into(),
        ))
    }

    fn counters(&mut self) -> Result<Counters, DetectError> {
        Ok(self.device.counters())
    }

    fn quotes(&mut self) -> Result<QuoteTable, DetectError> {
        Ok(self.device.quotes())
    }
}

#[cfg(feature = "sim")]
impl Drop for HwDetector {
    fn drop(&mut self) {
        if let Some(mut sim) = self.sim.take() {
            let _ = sim.tx.send(ToSim::Stop);
            if let Some(h) = sim.handle.take() {
                let _ = h.join();
            }
            if sim.remove_region {
                let _ = std::fs::remove_file(&sim.region);
            }
        }
    }
}
