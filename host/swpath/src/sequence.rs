//! deribit_mcast frame sequences per (venue, channel) (PIPELINE section 4a).

use tickcross_bindings::counter;
use tickcross_core::counters::Counters;
use tickcross_core::quotes::N_VENUES;

use crate::message::{le_u16, le_u32};

/// Channel slots per venue: 2^CHAN_BITS, a channel in slot `channelId mod 2^CHAN_BITS`
/// (tickcross_top's CHAN_BITS).
pub const CHAN_BITS: u32 = 6;
/// Channel slots per venue.
pub(crate) const CHAN_SLOTS: usize = 1 << CHAN_BITS;
const SLOTS: usize = CHAN_SLOTS;

/// What a frame's header says about its channel's sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Seq {
    /// Apply the frame. `source` is what its quotes record in their entries: the channel's
    /// (venue, slot) and the frame's sequence, or None for an untracked channel.
    Apply {
        source: Option<Source>,
        /// The frame is a gap: the entries its channel wrote before it become stale.
        gap: bool,
    },
    /// Drop the whole frame: its sequence is not above the channel's last.
    Duplicate,
}

/// Where a quote came from, as its quote-table entry records it (PIPELINE section 6): the
/// channel slot of its venue that checked its frame, and that frame's sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Source {
    pub(crate) slot: usize,
    pub(crate) seq: u32,
}

#[derive(Debug, Clone, Copy)]
struct Slot {
    channel: u16,
    /// The last applied sequence + 1 (33 bits: after u32::MAX every sequence is a duplicate).
    next: u64,
}

#[derive(Debug, Clone)]
pub(crate) struct Channels {
    slots: Vec<Option<Slot>>,
}

impl Default for Channels {
    fn default() -> Self {
        Channels {
            slots: vec![None; N_VENUES * SLOTS],
        }
    }
}

impl Channels {
    /// `clear_state`: every channel starts again.
    pub(crate) fn clear(&mut self) {
        self.slots.fill(None);
    }

    /// Checks the frame header of a payload of at least 8 bytes of `venue` and counts.
    pub(crate) fn check(&mut self, venue: usize, payload: &[u8], c: &mut Counters) -> Seq {
        let channel = le_u16(payload, 2);
        let seq32 = le_u32(payload, 4);
        let seq = u64::from(seq32);
        let index = usize::from(channel) % SLOTS;
        let source = Some(Source {
            slot: index,
            seq: seq32,
        });
        let slot = &mut self.slots[venue * SLOTS + index];
        match slot {
            None => {
                *slot = Some(Slot {
                    channel,
                    next: seq + 1,
                });
                Seq::Apply { source, gap: false }
            }
            Some(s) if s.channel != channel => {
                c.add(counter::SEQ_UNTRACKED, 1);
                Seq::Apply {
                    source: None,
                    gap: false,
                }
            }
            Some(s) if seq < s.next => {
                c.add(counter::FRAME_DUPLICATES, 1);
                Seq::Duplicate
            }
            Some(s) => {
                let gap = seq != s.next;
                if gap {
                    c.add(counter::SEQ_GAPS + venue, 1);
                }
                s.next = seq + 1;
                Seq::Apply { source, gap }
            }
        }
    }
}
