//! A Verilated model driven one clock cycle per call.

use std::ffi::CString;
use std::path::Path;

/// The C entry points of one generated model.
pub struct ModelFns {
    pub new: unsafe extern "C" fn(*const std::os::raw::c_char) -> *mut std::ffi::c_void,
    pub free: unsafe extern "C" fn(*mut std::ffi::c_void),
    pub tick: unsafe extern "C" fn(*mut std::ffi::c_void, *const u64, *mut u64),
    pub flush: unsafe extern "C" fn(*mut std::ffi::c_void),
    /// The first errno of the VCD file (0: none); the shim never lets Verilator see a failure.
    pub trace_errno: unsafe extern "C" fn(*mut std::ffi::c_void) -> std::os::raw::c_int,
    pub n_in: usize,
    pub n_out: usize,
}

/// One instance of a Verilated model. Inputs are words in `inp` (indexes from the generated
/// `ffi::<model>::inp`), outputs in `out`, sampled before the rising edge of the cycle. `tick`
/// refuses (panics) if either has been resized: the C side reads and writes exactly
/// `n_in`/`n_out` words.
pub struct Model {
    ptr: *mut std::ffi::c_void,
    fns: &'static ModelFns,
    pub inp: Vec<u64>,
    pub out: Vec<u64>,
    cycles: u64,
    traced: bool,
}

// SAFETY: `ptr` is the only handle to its C++ model (never copied out, freed once in Drop), and
// the model is single-threaded Verilator code with no state tied to the thread that created it,
// so using it from another thread after a move is sound. Model is not Sync (a raw pointer), so
// two threads never call into it at once.
unsafe impl Send for Model {}

impl Model {
    /// Creates a model, optionally tracing every signal to a VCD file (an error if the file
    /// cannot be created).
    pub fn new(fns: &'static ModelFns, vcd: Option<&Path>) -> std::io::Result<Model> {
        let path = match vcd {
            Some(p) => Some(CString::new(p.to_string_lossy().as_bytes()).map_err(|_| {
                std::io::Error::new(std::io::ErrorKind::InvalidInput, "NUL in trace path")
            })?),
            None => None,
        };
        // SAFETY: `new` takes a NUL-terminated path or null; `path` (a CString) outlives the call
        // and the shim copies what it needs (Verilator opens the file before returning).
        let ptr = unsafe { (fns.new)(path.as_ref().map_or(std::ptr::null(), |c| c.as_ptr())) };
        if ptr.is_null() {
            return Err(std::io::Error::other("model allocation failed"));
        }
        let model = Model {
            ptr,
            fns,
            inp: vec![0; fns.n_in],
            out: vec![0; fns.n_out],
            cycles: 0,
            traced: vcd.is_some(),
        };
        // the VCD file is opened (and its header written) by the constructor
        model.trace_error().map_or(Ok(model), Err)
    }

    /// The first error writing the VCD trace, if any (later trace data is dropped).
    #[inline]
    pub fn trace_error(&self) -> Option<std::io::Error> {
        if !self.traced {
            return None;
        }
        // SAFETY: `ptr` is live (from `new`, freed only in Drop) and the call only reads the
        // trace file's error field; `&self` with Model !Sync means no other call runs meanwhile.
        match unsafe { (self.fns.trace_errno)(self.ptr) } {
            0 => None,
            e => Some(std::io::Error::from_raw_os_error(e)),
        }
    }

    /// Applies `inp`, samples `out`, then clocks one rising edge.
    #[inline]
    pub fn tick(&mut self) {
        assert!(
            self.inp.len() == self.fns.n_in && self.out.len() == self.fns.n_out,
            "model ports resized: {} inputs and {} outputs, the model has {} and {}",
            self.inp.len(),
            self.out.len(),
            self.fns.n_in,
            self.fns.n_out
        );
        // SAFETY: `ptr` is live and exclusively borrowed (&mut self); the shim reads n_in words
        // from `inp` and writes n_out words to `out` (generated from the same port list as
        // n_in/n_out), and the assert above proved both buffers have exactly that many.
        unsafe { (self.fns.tick)(self.ptr, self.inp.as_ptr(), self.out.as_mut_ptr()) };
        self.cycles += 1;
    }

    /// Cycles clocked so far.
    pub fn cycles(&self) -> u64 {
        self.cycles
    }

    /// Flushes the VCD trace, if any.
    pub fn flush(&mut self) {
        // SAFETY: `ptr` is live and exclusively borrowed; flush touches only the model's trace.
        unsafe { (self.fns.flush)(self.ptr) };
    }
}

impl Drop for Model {
    fn drop(&mut self) {
        // SAFETY: `ptr` came from `new` and is freed exactly once, here; nothing uses it after.
        unsafe { (self.fns.free)(self.ptr) };
    }
}

macro_rules! model_fns {
    ($name:ident, $m:ident, $new:ident, $free:ident, $tick:ident, $flush:ident, $errno:ident) => {
        pub static $name: ModelFns = ModelFns {
            new: crate::ffi::$m::$new,
            free: crate::ffi::$m::$free,
            tick: crate::ffi::$m::$tick,
            flush: crate::ffi::$m::$flush,
            trace_errno: crate::ffi::$m::$errno,
            n_in: crate::ffi::$m::N_IN,
            n_out: crate::ffi::$m::N_OUT,
        };
    };
}

model_fns!(
    TOP,
    tickcross_top,
    tc_tickcross_top_new,
    tc_tickcross_top_free,
    tc_tickcross_top_tick,
    tc_tickcross_top_flush,
    tc_tickcross_top_trace_errno
);
model_fns!(
    QUOTE_DETECT,
    tc_quote_detect,
    tc_tc_quote_detect_new,
    tc_tc_quote_detect_free,
    tc_tc_quote_detect_tick,
    tc_tc_quote_detect_flush,
    tc_tc_quote_detect_trace_errno
);
model_fns!(
    EVENT_RING,
    tc_event_ring,
    tc_tc_event_ring_new,
    tc_tc_event_ring_free,
    tc_tc_event_ring_tick,
    tc_tc_event_ring_flush,
    tc_tc_event_ring_trace_errno
);
// the same two built with MEM_REG = 1 (the same ports: use the indexes of the ones above)
model_fns!(
    QUOTE_DETECT_MEM_REG,
    tc_quote_detect_mem_reg,
    tc_tc_quote_detect_mem_reg_new,
    tc_tc_quote_detect_mem_reg_free,
    tc_tc_quote_detect_mem_reg_tick,
    tc_tc_quote_detect_mem_reg_flush,
    tc_tc_quote_detect_mem_reg_trace_errno
);
model_fns!(
    EVENT_RING_MEM_REG,
    tc_event_ring_mem_reg,
    tc_tc_event_ring_mem_reg_new,
    tc_tc_event_ring_mem_reg_free,
    tc_tc_event_ring_mem_reg_tick,
    tc_tc_event_ring_mem_reg_flush,
    tc_tc_event_ring_mem_reg_trace_errno
);
model_fns!(
    UNITS,
    tc_units_tb,
    tc_tc_units_tb_new,
    tc_tc_units_tb_free,
    tc_tc_units_tb_tick,
    tc_tc_units_tb_flush,
    tc_tc_units_tb_trace_errno
);
model_fns!(
    LOOKUP,
    tc_lookup_tb,
    tc_tc_lookup_tb_new,
    tc_tc_lookup_tb_free,
    tc_tc_lookup_tb_tick,
    tc_tc_lookup_tb_flush,
    tc_tc_lookup_tb_trace_errno
);
model_fns!(
    DERIBIT,
    tc_deribit_dec,
    tc_tc_deribit_dec_new,
    tc_tc_deribit_dec_free,
    tc_tc_deribit_dec_tick,
    tc_tc_deribit_dec_flush,
    tc_tc_deribit_dec_trace_errno
);
// the same at MEM_REG = 1: the channel read registered twice, the walker's element registered
// (WALK_REG), two cycles an element (the same ports)
model_fns!(
    DERIBIT_MEM_REG,
    tc_deribit_dec_mem_reg,
    tc_tc_deribit_dec_mem_reg_new,
    tc_tc_deribit_dec_mem_reg_free,
    tc_tc_deribit_dec_mem_reg_tick,
    tc_tc_deribit_dec_mem_reg_flush,
    tc_tc_deribit_dec_mem_reg_trace_errno
);
// the event ring feeding the DMA write engine, at MEM_REG = 0 and 1 (the same ports)
model_fns!(
    DMA_WR,
    tc_dma_wr_tb,
    tc_tc_dma_wr_tb_new,
    tc_tc_dma_wr_tb_free,
    tc_tc_dma_wr_tb_tick,
    tc_tc_dma_wr_tb_flush,
    tc_tc_dma_wr_tb_trace_errno
);
model_fns!(
    DMA_WR_MEM_REG,
    tc_dma_wr_tb_mem_reg,
    tc_tc_dma_wr_tb_mem_reg_new,
    tc_tc_dma_wr_tb_mem_reg_free,
    tc_tc_dma_wr_tb_mem_reg_tick,
    tc_tc_dma_wr_tb_mem_reg_flush,
    tc_tc_dma_wr_tb_mem_reg_trace_errno
);
