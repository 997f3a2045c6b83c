//! The event ring in host memory: the card writes records into it by DMA (posted writes), the
//! host polls it. No access here touches the card.
//!
//! The ring is `records` slots of `RECORD_WORDS` words (a power of two, 128 bytes each), slot
//! `i mod records` holding the card's `i`-th record since clear_state. The card writes a record
//! as two 64-byte writes, the second ending with the record's stamp (word
//! `params::RECORD_STAMP_WORD`: its sequence number + 1). Stamps only grow (sequence numbers do,
//! dropped events included), so a slot is complete exactly when its stamp is above the last one
//! taken: zeroed memory (stamp 0) and the previous lap's record (a smaller stamp) never pass. The
//! stamp is loaded with acquire ordering, then the record's words: the card (or simulator)
//! stores the stamp last, with release ordering.
//!
//! The memory is a shared file here (the simulator's stand-in for hugepages, docs/DEVICE.md) or
//! anonymous memory (benches, tests).

use std::fs::OpenOptions;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use tickcross_bindings::{params, RECORD_USED_WORDS};

const RECORD_BYTES: u64 = params::RECORD_WORDS * 8;
const STAMP_OFF: u64 = params::RECORD_STAMP_WORD * 8;

/// A slot whose stamp does not belong to its record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("host ring slot {slot}: stamp {stamp} does not match the record's sequence number {seq} (a torn or foreign write)")]
pub struct RingFault {
    pub slot: u64,
    pub stamp: u64,
    pub seq: u64,
}

/// The host's view of the DMA ring.
pub struct HostRing {
    map: memmap2::MmapRaw,
    records: u64,
    next: u64,
    last_stamp: u64,
}

impl HostRing {
    /// Bytes of a ring of `records` records.
    pub fn bytes(records: u64) -> u64 {
        records * RECORD_BYTES
    }

    /// Opens (creating it if needed) the file at `path` as a ring of `records` records, sized
    /// and zeroed.
    pub fn map_file(path: &Path, records: u64) -> std::io::Result<HostRing> {
        Self::check_records(records)?;
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        file.set_len(Self::bytes(records))?;
        let map = memmap2::MmapRaw::map_raw(&file)?;
        let mut ring = HostRing {
            map,
            records,
            next: 0,
            last_stamp: 0,
        };
        ring.zero();
        Ok(ring)
    }

    /// A ring in anonymous memory (zeroed).
    pub fn anonymous(records: u64) -> std::io::Result<HostRing> {
        Self::check_records(records)?;
        let len = usize::try_from(Self::bytes(records)).map_err(std::io::Error::other)?;
        let map = memmap2::MmapMut::map_anon(len)?;
        Ok(HostRing {
            map: map.into(),
            records,
            next: 0,
            last_stamp: 0,
        })
    }

    fn check_records(records: u64) -> std::io::Result<()> {
        if !records.is_power_of_two() || !(2..=1 << 32).contains(&records) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("a host ring of {records} records: it must be a power of two, 2..=2^32"),
            ));
        }
        Ok(())
    }

    pub fn records(&self) -> u64 {
        self.records
    }

    /// Records taken since the last `zero`.
    pub fn taken(&self) -> u64 {
        self.next
    }

    /// Zeroes every slot and starts again at record 0 (after clear_state, when the card writes
    /// nothing).
    pub fn zero(&mut self) {
        for i in 0..self.records * params::RECORD_WORDS {
            self.store(8 * i, 0);
        }
        self.next = 0;
        self.last_stamp = 0;
    }

    fn ptr(&self, off: u64) -> *mut u64 {
        assert!(
            off.is_multiple_of(8) && off + 8 <= self.map.len() as u64,
            "host ring bug: offset {off:#x} outside the {:#x}-byte ring",
            self.map.len()
        );
        // in bounds by the assert (offsets come from slot * 128 + word * 8 below)
        self.map
            .as_mut_ptr()
            .wrapping_add(off as usize)
            .cast::<u64>()
    }

    #[inline]
    fn load(&self, off: u64) -> u64 {
        // SAFETY: `ptr` checked the word is inside the mapping, which `self` owns; aligned (the
        // mapping is page-aligned, the offset a multiple of 8). The card writes this memory
        // concurrently: volatile reads through a raw pointer, no reference to it.
        unsafe { std::ptr::read_volatile(self.ptr(off)) }
    }

    #[inline]
    fn store(&self, off: u64, v: u64) {
        // SAFETY: as in `load`; the mapping is writable (read-write file or anonymous memory).
        unsafe { std::ptr::write_volatile(self.ptr(off), v) }
    }

    #[inline]
    fn stamp_at(&self, off: u64) -> &AtomicU64 {
        // SAFETY: `ptr` checked bounds and alignment; AtomicU64 has u64's layout, and the word
        // lives as long as `self` (the returned reference borrows it). The writer stores it as
        // an atomic too (release).
        unsafe { &*self.ptr(off).cast::<AtomicU64>() }
    }

    /// The next record, if the card has written it whole: its used words. A slot whose stamp is
    /// new but does not match its sequence number is an error (nothing is taken).
    #[inline]
    pub fn poll(&mut self) -> Result<Option<[u64; RECORD_USED_WORDS]>, RingFault> {
        let slot = self.next & (self.records - 1);
        let base = slot * RECORD_BYTES;
        let stamp = self.stamp_at(base + STAMP_OFF).load(Ordering::Acquire);
        if stamp <= self.last_stamp {
            return Ok(None);
        }
        let mut w = [0u64; RECORD_USED_WORDS];
        for (i, word) in w.iter_mut().enumerate() {
            *word = self.load(base + 8 * i as u64);
        }
        let seq = w[tickcross_bindings::record::SEQ];
        if seq.wrapping_add(1) != stamp {
            return Err(RingFault { slot, stamp, seq });
        }
        self.last_stamp = stamp;
        self.next += 1;
        Ok(Some(w))
    }

    /// Writes record `index` (`words`, its stamp included) as the card does: every word but
    /// the stamp, then the stamp with release ordering. For tests and benches.
    pub fn write_record(&self, index: u64, words: &[u64; params::RECORD_WORDS as usize]) {
        let base = (index & (self.records - 1)) * RECORD_BYTES;
        for (i, &v) in words.iter().enumerate() {
            if i as u64 != params::RECORD_STAMP_WORD {
                self.store(base + 8 * i as u64, v);
            }
        }
        self.stamp_at(base + STAMP_OFF)
            .store(words[params::RECORD_STAMP_WORD as usize], Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(seq: u64) -> [u64; params::RECORD_WORDS as usize] {
        let mut w = [0u64; params::RECORD_WORDS as usize];
        w[0] = seq;
        w[1] = 1 << 63;
        w[2] = seq * 3;
        w[params::RECORD_STAMP_WORD as usize] = seq + 1;
        w
    }

    #[test]
    fn zeroed_and_previous_lap_slots_are_not_taken() {
        let mut r = HostRing::anonymous(8).unwrap();
        assert_eq!(r.poll(), Ok(None), "zeroed memory");
        // sequence numbers with gaps (dropped events), over two laps
        let seqs: Vec<u64> = (0..20).map(|i| i * 3 + (i % 3)).collect();
        for (i, &s) in seqs.iter().enumerate() {
            r.write_record(i as u64, &rec(s));
            let w = r.poll().unwrap().expect("written");
            assert_eq!((w[0], w[2]), (s, s * 3));
            // the slot now holds the record just taken: the next poll finds last lap's or zero
            assert_eq!(r.poll(), Ok(None), "after record {i}");
        }
        assert_eq!(r.taken(), 20);
    }

    #[test]
    fn a_stamp_that_does_not_match_its_record_is_a_fault() {
        let mut r = HostRing::anonymous(8).unwrap();
        let mut w = rec(5);
        w[0] = 6;
        r.write_record(0, &w);
        assert_eq!(
            r.poll(),
            Err(RingFault {
                slot: 0,
                stamp: 6,
                seq: 6
            })
        );
        assert_eq!(r.taken(), 0);
    }

    #[test]
    fn sizes_that_are_not_powers_of_two_are_refused() {
        for n in [0, 1, 3, 1000] {
            assert!(HostRing::anonymous(n).is_err(), "{n}");
        }
    }
}
