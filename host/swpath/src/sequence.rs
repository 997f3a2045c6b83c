//! deribit_mcast frame sequences per (venue, channel) (PIPELINE section 4a).

use tickcross_bindings::counter;
use tickcross_core::counters::Counters;
use tickcross_core::quotes::N_VENUES;

use crate::message::{le_u16, le_u32};

/// Channel slots per venue: 2^CHAN_BITS, a channel in slot `channelId mod 2^CHAN_BITS`
/// (tickcross_top's CHAN_BITS).
pub const CHAN_BITS: u32 = 6;
const SLOTS: usize = 1 << CHAN_BITS;

/// What a frame's header says about its channel's sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Seq {
    /// Apply the frame (in order, the channel's first frame, a gap, or an untracked channel).
    Apply,
    /// Drop the whole frame: its sequence is not above the channel's last.
    Duplicate,
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
        let seq = u64::from(le_u32(payload, 4));
        let slot = &mut self.slots[venue * SLOTS + usize::from(channel) % SLOTS];
        match slot {
            None => {
                *slot = Some(Slot {
                    channel,
                    next: seq + 1,
                });
                Seq::Apply
            }
            Some(s) if s.channel != channel => {
                c.add(counter::SEQ_UNTRACKED, 1);
                Seq::Apply
            }
            Some(s) if seq < s.next => {
                c.add(counter::FRAME_DUPLICATES, 1);
                Seq::Duplicate
            }
            Some(s) => {
                if seq != s.next {
                    c.add(counter::SEQ_GAPS + venue, 1);
                }
                s.next = seq + 1;
                Seq::Apply
            }
        }
    }
}
