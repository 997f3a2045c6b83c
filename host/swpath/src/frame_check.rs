//! Frame checks and venue selection (PIPELINE section 1).

use tickcross_bindings::{counter, params};

use tickcross_core::program::Filter;

const MAX_FRAME_BYTES: usize = params::MAX_FRAME_BYTES as usize;
const ETHERTYPE_VLAN: u16 = 0x8100;
const ETHERTYPE_IPV4: u16 = 0x0800;
const IPPROTO_UDP: u8 = 17;

/// A filter reduced to what matching needs. Only filters whose venue has a protocol are kept,
/// in program order, so the first match is still the lowest-numbered one.
#[derive(Debug, Clone, Copy)]
pub struct VenueFilter {
    net: u32,
    mask: u32,
    port: u16,
    venue: u8,
}

impl VenueFilter {
    pub fn new(f: &Filter) -> VenueFilter {
        // Prefixes above 32 act as 32.
        let prefix = u32::from(f.prefix.min(32));
        let mask = if prefix == 0 {
            0
        } else {
            u32::MAX << (32 - prefix)
        };
        VenueFilter {
            net: u32::from_be_bytes(f.ip) & mask,
            mask,
            port: f.port,
            venue: f.venue,
        }
    }

    fn matches(&self, dst: u32, port: u16) -> bool {
        dst & self.mask == self.net && port == self.port
    }
}

/// The verdict on one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Dropped; the counter index of the reason.
    Drop(usize),
    /// Accepted for `venue`; the UDP payload is `data[start..start + len]`.
    Accept { venue: u8, start: usize, len: usize },
}

fn be16(d: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([d[at], d[at + 1]])
}

/// Applies the table of PIPELINE section 1, first failing rule wins. Every read is preceded by
/// the length rule that covers it.
pub fn check(data: &[u8], bad: bool, filters: &[VenueFilter]) -> Verdict {
    use Verdict::Drop;
    let len = data.len();
    // 1-3
    if bad {
        return Drop(counter::DROP_BAD_FRAME);
    }
    if !(14..=MAX_FRAME_BYTES).contains(&len) {
        return Drop(counter::DROP_LENGTH);
    }
    // 4-5
    let mut ethertype = be16(data, 12);
    let mut l2 = 14;
    if ethertype == ETHERTYPE_VLAN {
        if len < 18 {
            return Drop(counter::DROP_LENGTH);
        }
        ethertype = be16(data, 16);
        l2 = 18;
    }
    if ethertype != ETHERTYPE_IPV4 {
        return Drop(counter::DROP_NOT_IPV4_UDP);
    }
    // 6-8
    if len < l2 + 20 {
        return Drop(counter::DROP_LENGTH);
    }
    let version = data[l2] >> 4;
    let ihl = usize::from(data[l2] & 0x0f);
    if version != 4 || ihl < 5 {
        return Drop(counter::DROP_NOT_IPV4_UDP);
    }
    let ip_hdr = 4 * ihl;
    if len < l2 + ip_hdr {
        return Drop(counter::DROP_LENGTH);
    }
    // 9: MF is bit 13 of the flags/fragment word, the offset its low 13 bits.
    let frag = be16(data, l2 + 6);
    if data[l2 + 9] != IPPROTO_UDP || frag & 0x3fff != 0 {
        return Drop(counter::DROP_NOT_IPV4_UDP);
    }
    // 10: summing 32-bit words and folding gives the same ones'-complement sum (RFC 1071).
    let mut sum = 0u64;
    for word in data[l2..l2 + ip_hdr].chunks_exact(4) {
        // Always 4 bytes; try_from lets the compiler load them as one word.
        if let Ok(w) = <[u8; 4]>::try_from(word) {
            sum += u64::from(u32::from_be_bytes(w));
        }
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    // Never 0 (negative zero): the version nibble makes one word non-zero.
    if sum != 0xffff {
        return Drop(counter::DROP_CHECKSUM);
    }
    // 11-12
    let total = usize::from(be16(data, l2 + 2));
    if total < ip_hdr + 8 || l2 + total > len {
        return Drop(counter::DROP_LENGTH);
    }
    let udp = l2 + ip_hdr;
    let udp_len = usize::from(be16(data, udp + 4));
    if udp_len != total - ip_hdr {
        return Drop(counter::DROP_LENGTH);
    }
    // 13
    let dst = u32::from_be_bytes([data[l2 + 16], data[l2 + 17], data[l2 + 18], data[l2 + 19]]);
    let port = be16(data, udp + 2);
    match filters.iter().find(|f| f.matches(dst, port)) {
        Some(f) => Verdict::Accept {
            venue: f.venue,
            start: udp + 8,
            len: udp_len - 8,
        },
        None => Drop(counter::DROP_NO_VENUE),
    }
}
