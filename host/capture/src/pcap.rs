//! Classic pcap: a 24-byte file header, then records of a 16-byte header and the captured bytes.

use std::io::Read;

use crate::source::{
    frame_bytes, magic, CaptureError, CaptureStats, Source, LINKTYPE_ETHERNET, MAX_CAPLEN,
};
use tickcross_core::frame::Frame;

const FILE_HEADER_LEN: usize = 24;
const RECORD_HEADER_LEN: usize = 16;
/// The "F" bit of the link-type word: bits 28..31 give the FCS length in 16-bit words.
const FCS_PRESENT: u32 = 1 << 26;

pub(crate) struct PcapReader<R> {
    src: Source<R>,
    big_endian: bool,
    /// Sub-second field unit in ns: 1 (ns magic) or 1000 (µs magic).
    frac_ns: u64,
    fcs_len: u32,
    pub(crate) stats: CaptureStats,
}

impl<R: Read> PcapReader<R> {
    /// `src` is positioned just after the 4 magic bytes `head`.
    pub(crate) fn new(mut src: Source<R>, head: [u8; 4]) -> Result<Self, CaptureError> {
        let (big_endian, frac_ns) = match head {
            magic::PCAP_US_LE => (false, 1000),
            magic::PCAP_US_BE => (true, 1000),
            magic::PCAP_NS_LE => (false, 1),
            _ => (true, 1),
        };
        let mut rest = [0u8; FILE_HEADER_LEN - 4];
        src.read_exact_or(&mut rest, "file header", 0)?;
        let u16_at = |i: usize| {
            let b = [rest[i], rest[i + 1]];
            if big_endian {
                u16::from_be_bytes(b)
            } else {
                u16::from_le_bytes(b)
            }
        };
        let u32_at = |i: usize| {
            let b = [rest[i], rest[i + 1], rest[i + 2], rest[i + 3]];
            if big_endian {
                u32::from_be_bytes(b)
            } else {
                u32::from_le_bytes(b)
            }
        };
        let (major, minor) = (u16_at(0), u16_at(2));
        if major != 2 {
            return Err(src.corrupt(
                "file header",
                0,
                format!("unsupported pcap version {major}.{minor}"),
            ));
        }
        // thiszone (offset 8) is always 0 in practice and libpcap ignores it; so do we.
        let network = u32_at(16);
        let linktype = network & 0xffff;
        if linktype != LINKTYPE_ETHERNET {
            return Err(CaptureError::UnsupportedLinkType {
                file: src.name.clone(),
                offset: 20,
                interface: 0,
                linktype,
            });
        }
        let fcs_len = if network & FCS_PRESENT != 0 {
            (network >> 28) * 2
        } else {
            0
        };
        Ok(PcapReader {
            src,
            big_endian,
            frac_ns,
            fcs_len,
            stats: CaptureStats {
                sections: 1,
                interfaces: 1,
                ..CaptureStats::default()
            },
        })
    }

    fn u32_at(&self, b: &[u8], i: usize) -> u32 {
        let w = [b[i], b[i + 1], b[i + 2], b[i + 3]];
        if self.big_endian {
            u32::from_be_bytes(w)
        } else {
            u32::from_le_bytes(w)
        }
    }

    /// The next record, `None` at a clean end of file.
    pub(crate) fn next_frame(&mut self) -> Result<Option<Frame>, CaptureError> {
        let at = self.src.offset;
        let mut hdr = [0u8; RECORD_HEADER_LEN];
        let n = self.src.read_full(&mut hdr)?;
        if n == 0 {
            return Ok(None);
        }
        if n < RECORD_HEADER_LEN {
            return Err(self.src.corrupt(
                "record",
                at,
                format!("truncated record header ({n} of {RECORD_HEADER_LEN} bytes)"),
            ));
        }
        let sec = self.u32_at(&hdr, 0);
        let frac = self.u32_at(&hdr, 4);
        let caplen = self.u32_at(&hdr, 8);
        let orig_len = self.u32_at(&hdr, 12);
        if caplen > MAX_CAPLEN {
            return Err(self.src.corrupt(
                "record",
                at,
                format!("captured length {caplen} exceeds the {MAX_CAPLEN}-byte limit"),
            ));
        }
        let mut data = vec![0u8; caplen as usize];
        let got = self.src.read_full(&mut data)?;
        if got < data.len() {
            return Err(self.src.corrupt(
                "record",
                at,
                format!("truncated record: {got} of {caplen} captured bytes present"),
            ));
        }
        // Cannot overflow: u32::MAX * 10^9 + u32::MAX * 1000 < 2^64.
        let ts_ns = u64::from(sec) * 1_000_000_000 + u64::from(frac) * self.frac_ns;
        if caplen < orig_len {
            self.stats.truncated_records += 1;
        }
        let data = if self.fcs_len == 0 {
            data
        } else {
            frame_bytes(&data, orig_len, self.fcs_len)
        };
        self.stats.records += 1;
        self.stats.bytes += data.len() as u64;
        Ok(Some(Frame::new(ts_ns, data)))
    }
}
