//! Resolution (PIPELINE section 5): the symbol map and the Deribit binding table.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};

use tickcross_bindings::{counter, params};

use tickcross_core::counters::Counters;
use tickcross_core::quotes::N_VENUES;

const SYM_NAME_BYTES: usize = params::SYM_NAME_BYTES as usize;
const BIND_SLOTS: usize = params::BIND_SLOTS as usize;

/// Multiplies as u128 and folds the halves: one multiply mixes every input bit into both the
/// low bits (the table index) and the high bits (hashbrown's tag).
fn fold_mul(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ (p >> 64) as u64
}

/// Hands on the one word that [`SymKey`] hashes to: the mixing is done in `SymKey::hash`,
/// where the four name words can be mixed in parallel rather than in one long chain.
#[derive(Default, Clone, Copy)]
struct PassHasher(u64);

impl Hasher for PassHasher {
    fn write(&mut self, bytes: &[u8]) {
        // Not used by SymKey; kept correct for any other caller.
        for &b in bytes {
            self.0 = fold_mul(self.0 ^ u64::from(b), 0x9e37_79b9_7f4a_7c15);
        }
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = i;
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// Up to 8 bytes as a zero-padded little-endian word, with whole-word loads where possible.
fn load_word(s: &[u8]) -> u64 {
    let n = s.len();
    if let Ok(w) = <[u8; 8]>::try_from(s) {
        u64::from_le_bytes(w)
    } else if n >= 4 {
        // Two overlapping 4-byte loads cover bytes 0..n.
        let lo = u32::from_le_bytes([s[0], s[1], s[2], s[3]]);
        let hi = u32::from_le_bytes([s[n - 4], s[n - 3], s[n - 2], s[n - 1]]);
        u64::from(lo) | u64::from(hi) << (8 * (n - 4))
    } else if n > 0 {
        u64::from(s[0])
            | u64::from(s[n / 2]) << (8 * (n / 2))
            | u64::from(s[n - 1]) << (8 * (n - 1))
    } else {
        0
    }
}

/// A `(venue, name)` key: the name (at most SYM_NAME_BYTES) as zero-padded little-endian
/// words, with its length and venue, so that hashing and comparing take a few word operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct SymKey {
    /// length | venue << 8
    meta: u64,
    words: [u64; SYM_NAME_BYTES / 8],
}

impl Hash for SymKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        const S: [u64; 5] = [
            0xa076_1d64_78bd_642f,
            0xe703_7ed1_a0b4_28db,
            0x8ebc_6af0_9c88_c6e3,
            0x5899_65cc_7537_4cc3,
            0x1d8e_4e27_c47d_124f,
        ];
        let [w0, w1, w2, w3] = self.words;
        let a = fold_mul(w0 ^ S[0], w1 ^ S[1]);
        let b = fold_mul(w2 ^ S[2], w3 ^ S[3]);
        state.write_u64(fold_mul(a ^ self.meta, b ^ S[4]));
    }
}

impl SymKey {
    /// `None` for names longer than the table's width.
    fn new(venue: usize, name: &[u8]) -> Option<SymKey> {
        if name.len() > SYM_NAME_BYTES {
            return None;
        }
        let mut words = [0u64; SYM_NAME_BYTES / 8];
        for (w, c) in words.iter_mut().zip(name.chunks(8)) {
            *w = load_word(c);
        }
        Some(SymKey {
            meta: name.len() as u64 | (venue as u64) << 8,
            words,
        })
    }
}

/// `(venue, name) -> instrument`, exact byte comparison.
#[derive(Debug, Clone, Default)]
pub(crate) struct SymbolMap {
    map: HashMap<SymKey, u16, BuildHasherDefault<PassHasher>>,
}

impl SymbolMap {
    /// Inserts; false (and no change) if `(venue, name)` is already there or the name is too
    /// long to be held.
    pub(crate) fn insert(&mut self, venue: usize, name: &[u8], instrument: u16) -> bool {
        let Some(key) = SymKey::new(venue, name) else {
            return false;
        };
        match self.map.entry(key) {
            Entry::Occupied(_) => false,
            Entry::Vacant(slot) => {
                slot.insert(instrument);
                true
            }
        }
    }

    /// Names longer than the table's width match nothing.
    pub(crate) fn get(&self, venue: usize, name: &[u8]) -> Option<u16> {
        self.map.get(&SymKey::new(venue, name)?).copied()
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    id: u32,
    instrument: u16,
    valid: bool,
}

/// Per venue, BIND_SLOTS direct-mapped slots `id % BIND_SLOTS -> (id, instrument)`.
#[derive(Debug, Clone)]
pub(crate) struct BindTable {
    slots: Vec<Slot>,
}

impl Default for BindTable {
    fn default() -> Self {
        BindTable {
            slots: vec![Slot::default(); N_VENUES * BIND_SLOTS],
        }
    }
}

impl BindTable {
    fn index(venue: usize, id: u32) -> usize {
        venue * BIND_SLOTS + id as usize % BIND_SLOTS
    }

    pub(crate) fn clear(&mut self) {
        self.slots.fill(Slot::default());
    }

    /// The instrument bound to `id` on `venue`.
    pub(crate) fn lookup(&self, venue: usize, id: u32) -> Option<u16> {
        let s = self.slots[Self::index(venue, id)];
        (s.valid && s.id == id).then_some(s.instrument)
    }

    /// An instrument definition: `instrument` is what the symbol map gave for its name.
    pub(crate) fn define(
        &mut self,
        venue: usize,
        id: u32,
        instrument: Option<u16>,
        counters: &mut Counters,
    ) {
        let s = &mut self.slots[Self::index(venue, id)];
        match instrument {
            Some(instrument) => {
                counters.add(counter::BINDS, 1);
                if s.valid && s.id != id {
                    counters.add(counter::BIND_EVICTIONS, 1);
                }
                *s = Slot {
                    id,
                    instrument,
                    valid: true,
                };
            }
            None => {
                counters.add(counter::MSG_UNKNOWN_SYMBOL, 1);
                if s.valid && s.id == id {
                    *s = Slot::default();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_words_are_the_zero_padded_name() {
        let bytes: Vec<u8> = (1..=40u8).map(|b| b.wrapping_mul(37)).collect();
        for n in 0..=SYM_NAME_BYTES {
            let name = &bytes[..n];
            let mut padded = [0u8; SYM_NAME_BYTES];
            padded[..n].copy_from_slice(name);
            let key = SymKey::new(3, name).unwrap();
            for (j, w) in key.words.iter().enumerate() {
                let mut b = [0u8; 8];
                b.copy_from_slice(&padded[8 * j..8 * j + 8]);
                assert_eq!(*w, u64::from_le_bytes(b), "length {n}, word {j}");
            }
            assert_eq!(key.meta, n as u64 | 3 << 8);
        }
        assert!(SymKey::new(0, &bytes[..33]).is_none());
    }

    #[test]
    fn symbol_map_is_exact() {
        let mut m = SymbolMap::default();
        assert!(m.insert(0, b"AB", 1));
        assert!(m.insert(1, b"AB", 2));
        assert!(m.insert(0, b"AB\0", 3));
        assert!(m.insert(0, b"", 4));
        assert!(!m.insert(0, b"AB", 5));
        assert!(!m.insert(0, &[b'x'; 33], 6));
        assert_eq!(m.get(0, b"AB"), Some(1));
        assert_eq!(m.get(1, b"AB"), Some(2));
        assert_eq!(m.get(0, b"AB\0"), Some(3));
        assert_eq!(m.get(0, b""), Some(4));
        assert_eq!(m.get(2, b"AB"), None);
        assert_eq!(m.get(0, b"A"), None);
        assert_eq!(m.get(0, b"AB\0\0"), None);
        // Many similar names stay apart.
        let mut m = SymbolMap::default();
        for k in 0..2048u32 {
            assert!(m.insert(
                (k % 8) as usize,
                format!("SYM{k:05}-PERPETUAL").as_bytes(),
                k as u16
            ));
        }
        for k in 0..2048u32 {
            let name = format!("SYM{k:05}-PERPETUAL");
            assert_eq!(m.get((k % 8) as usize, name.as_bytes()), Some(k as u16));
            assert_eq!(m.get(((k + 1) % 8) as usize, name.as_bytes()), None);
        }
    }
}
