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
/// `ffi::<model>::inp`), outputs in `out`, sampled before the rising edge of the cycle.
pub struct Model {
    ptr: *mut std::ffi::c_void,
    fns: &'static ModelFns,
    pub inp: Vec<u64>,
    pub out: Vec<u64>,
    cycles: u64,
    traced: bool,
}

// The model is plain memory owned by this handle; moving it between threads is safe as long as
// one thread uses it at a time, which &mut self guarantees.
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
        match unsafe { (self.fns.trace_errno)(self.ptr) } {
            0 => None,
            e => Some(std::io::Error::from_raw_os_error(e)),
        }
    }

    /// Applies `inp`, samples `out`, then clocks one rising edge.
    #[inline]
    pub fn tick(&mut self) {
        unsafe { (self.fns.tick)(self.ptr, self.inp.as_ptr(), self.out.as_mut_ptr()) };
        self.cycles += 1;
    }

    /// Cycles clocked so far.
    pub fn cycles(&self) -> u64 {
        self.cycles
    }

    /// Flushes the VCD trace, if any.
    pub fn flush(&mut self) {
        unsafe { (self.fns.flush)(self.ptr) };
    }
}

impl Drop for Model {
    fn drop(&mut self) {
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
    UNITS,
    tc_units_tb,
    tc_tc_units_tb_new,
    tc_tc_units_tb_free,
    tc_tc_units_tb_tick,
    tc_tc_units_tb_flush,
    tc_tc_units_tb_trace_errno
);
