//! The BAR: a mapping of a card's `resource0` or of the simulator's shared region, accessed one
//! 64-bit register at a time with volatile reads and writes.
//!
//! Every access checks its offset, in release builds too: it must be 8-byte aligned and the
//! whole word must lie inside the mapping, or the access is refused with a [`BarError`] and
//! nothing is touched. This is the only place in the host that dereferences the mapping.

use std::cell::Cell;
use std::fs::File;

/// An offset that no access may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BarError {
    #[error("BAR offset {off:#x} is outside the {len:#x}-byte BAR")]
    OutOfRange { off: u64, len: u64 },
    #[error("BAR offset {off:#x} is not 8-byte aligned (registers are 64-bit words)")]
    Misaligned { off: u64 },
}

/// A mapped BAR of `len` bytes. It counts its reads: on PCIe each is a non-posted round trip
/// (0.5-2 us), so tests check that none is on the event path. (A `Cell`: one add per read, no
/// atomic; a `Bar` is used by one thread at a time.)
pub struct Bar {
    map: memmap2::MmapRaw,
    reads: Cell<u64>,
}

impl Bar {
    /// Maps the first `len` bytes of `file` (a card's resource file or the simulator's region)
    /// for reading and writing. The caller checks that the file is at least `len` bytes long.
    pub fn map(file: &File, len: u64) -> std::io::Result<Bar> {
        let len = usize::try_from(len).map_err(std::io::Error::other)?;
        let map = memmap2::MmapOptions::new().len(len).map_raw(file)?;
        Ok(Bar {
            map,
            reads: Cell::new(0),
        })
    }

    /// A BAR over anonymous memory, for tests of the accessors.
    #[cfg(test)]
    fn anonymous(len: usize) -> Bar {
        let map = memmap2::MmapMut::map_anon(len).expect("anonymous map");
        Bar {
            map: map.into(),
            reads: Cell::new(0),
        }
    }

    /// Register reads made so far (refused ones not counted).
    pub fn reads(&self) -> u64 {
        self.reads.get()
    }

    /// The mapped length in bytes.
    pub fn len(&self) -> u64 {
        self.map.len() as u64
    }

    /// Always false: a BAR has at least one register (`map` of zero bytes fails).
    pub fn is_empty(&self) -> bool {
        self.map.len() == 0
    }

    /// The byte index of the word at `off`, if a 64-bit access there is in bounds and aligned.
    pub fn check(&self, off: u64) -> Result<usize, BarError> {
        if !off.is_multiple_of(8) {
            return Err(BarError::Misaligned { off });
        }
        let len = self.len();
        match off.checked_add(8) {
            Some(end) if end <= len => Ok(off as usize),
            _ => Err(BarError::OutOfRange { off, len }),
        }
    }

    /// Reads the 64-bit register at `off`.
    #[inline]
    pub fn read(&self, off: u64) -> Result<u64, BarError> {
        let at = self.check(off)?;
        self.reads.set(self.reads.get() + 1);
        // SAFETY: `check` proved at..at + 8 lies inside the mapping, which lives as long as
        // `self`; the mapping is page-aligned and `at` a multiple of 8, so the pointer is
        // aligned for u64. The memory is shared with the device (or simulator) and changes
        // under us, which is why this is a volatile read through a raw pointer and no Rust
        // reference to it is ever made.
        Ok(unsafe { std::ptr::read_volatile(self.map.as_ptr().add(at).cast::<u64>()) })
    }

    /// Writes the 64-bit register at `off`.
    #[inline]
    pub fn write(&self, off: u64, value: u64) -> Result<(), BarError> {
        let at = self.check(off)?;
        // SAFETY: as in `read`: in bounds and aligned by `check`, the mapping is writable
        // (`map_raw` of a file opened read-write) and is only ever accessed through volatile
        // raw-pointer accesses, so no reference aliases the written word.
        unsafe { std::ptr::write_volatile(self.map.as_mut_ptr().add(at).cast::<u64>(), value) };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // These run in `cargo test --release` too: the checks are not debug assertions.

    #[test]
    fn the_last_word_is_reachable_and_round_trips() {
        let bar = Bar::anonymous(4096);
        bar.write(4088, 0x0123_4567_89ab_cdef).unwrap();
        assert_eq!(bar.read(4088), Ok(0x0123_4567_89ab_cdef));
        bar.write(0, 7).unwrap();
        assert_eq!(bar.read(0), Ok(7));
        assert_eq!(bar.reads(), 2);
    }

    #[test]
    fn offsets_past_the_end_are_refused() {
        let bar = Bar::anonymous(4096);
        for off in [4096, 4104, 1 << 40, u64::MAX - 7] {
            let want = Err(BarError::OutOfRange { off, len: 4096 });
            assert_eq!(bar.read(off), want, "{off:#x}");
            assert_eq!(bar.write(off, 1), want.map(|_| ()), "{off:#x}");
        }
    }

    #[test]
    fn misaligned_offsets_are_refused_even_in_range() {
        let bar = Bar::anonymous(4096);
        bar.write(8, u64::MAX).unwrap();
        for off in [1, 4, 12, 4092, u64::MAX] {
            assert_eq!(bar.read(off), Err(BarError::Misaligned { off }), "{off:#x}");
            assert_eq!(bar.write(off, 0), Err(BarError::Misaligned { off }));
        }
        // a refused write touched nothing
        assert_eq!(bar.read(8), Ok(u64::MAX));
        assert_eq!(bar.read(0), Ok(0));
    }

    #[test]
    fn errors_name_the_offset() {
        let bar = Bar::anonymous(4096);
        let e = bar.read(0x2000).unwrap_err().to_string();
        assert_eq!(e, "BAR offset 0x2000 is outside the 0x1000-byte BAR");
        let e = bar.read(0x13).unwrap_err().to_string();
        assert!(
            e.starts_with("BAR offset 0x13 is not 8-byte aligned"),
            "{e}"
        );
    }
}
