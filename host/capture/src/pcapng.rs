//! pcapng: a sequence of blocks {type u32, total length u32, body, total length u32}, grouped in
//! sections that each start with a Section Header Block fixing the byte order.

use std::io::Read;

use crate::source::{
    frame_bytes, CaptureError, CaptureStats, Source, LINKTYPE_ETHERNET, MAX_BLOCK_LEN, MAX_CAPLEN,
};
use tickcross_core::frame::Frame;

const BT_SHB: u32 = 0x0a0d_0d0a;
const BT_IDB: u32 = 0x0000_0001;
const BT_PB: u32 = 0x0000_0002;
const BT_SPB: u32 = 0x0000_0003;
const BT_EPB: u32 = 0x0000_0006;

const BYTE_ORDER_MAGIC: u32 = 0x1a2b_3c4d;

const OPT_ENDOFOPT: u16 = 0;
const OPT_IF_TSRESOL: u16 = 9;
const OPT_IF_FCSLEN: u16 = 13;
const OPT_IF_TSOFFSET: u16 = 14;

/// Smallest blocks: generic (type, length, trailer) and SHB (plus magic, version, section length).
const MIN_BLOCK_LEN: u32 = 12;
const MIN_SHB_LEN: u32 = 28;

#[derive(Debug, Clone)]
struct Interface {
    linktype: u32,
    snaplen: u32,
    /// if_tsresol as stored: bit 7 clear is 10^-n s, set is 2^-n s. Default 6 (µs).
    tsresol: u8,
    /// if_tsoffset, seconds added to every timestamp.
    tsoffset: i64,
    /// if_fcslen, bytes of FCS at the end of each packet (0: none or unknown).
    fcs_len: u32,
}

pub(crate) struct PcapNgReader<R> {
    src: Source<R>,
    big_endian: bool,
    /// Interfaces of the current section, by id.
    interfaces: Vec<Interface>,
    /// Body of the block being parsed, reused between blocks.
    buf: Vec<u8>,
    /// Timestamp of the previous record, given to Simple Packet Blocks.
    last_ts: u64,
    pub(crate) stats: CaptureStats,
}

/// Converts a pcapng timestamp in interface units to ns since the epoch, exactly (truncating
/// sub-ns fractions). `None` when the result is not representable as u64 ns.
pub(crate) fn ts_to_ns(units: u64, tsresol: u8, tsoffset: i64) -> Option<u64> {
    let n = u32::from(tsresol & 0x7f);
    let ns: u128 = if tsresol & 0x80 == 0 {
        if n <= 9 {
            u128::from(units) * 10u128.pow(9 - n)
        } else if n - 9 <= 38 {
            u128::from(units) / 10u128.pow(n - 9)
        } else {
            0
        }
    } else {
        // units * 10^9 < 2^94 and n <= 127, so neither step overflows.
        (u128::from(units) * 1_000_000_000) >> n
    };
    let total = i128::try_from(ns).ok()? + i128::from(tsoffset) * 1_000_000_000;
    u64::try_from(total).ok()
}

impl<R: Read> PcapNgReader<R> {
    /// `src` is positioned just after the first block's type (the SHB magic).
    pub(crate) fn new(src: Source<R>) -> Result<Self, CaptureError> {
        let mut r = PcapNgReader {
            src,
            big_endian: false,
            interfaces: Vec::new(),
            buf: Vec::new(),
            last_ts: 0,
            stats: CaptureStats::default(),
        };
        let mut len = [0u8; 4];
        r.src.read_exact_or(&mut len, "section header block", 0)?;
        r.read_shb(0, len)?;
        Ok(r)
    }

    fn u16_at(&self, b: &[u8], i: usize) -> u16 {
        let w = [b[i], b[i + 1]];
        if self.big_endian {
            u16::from_be_bytes(w)
        } else {
            u16::from_le_bytes(w)
        }
    }

    fn u32_at(&self, b: &[u8], i: usize) -> u32 {
        let w = [b[i], b[i + 1], b[i + 2], b[i + 3]];
        if self.big_endian {
            u32::from_be_bytes(w)
        } else {
            u32::from_le_bytes(w)
        }
    }

    fn u32_of(&self, w: [u8; 4]) -> u32 {
        if self.big_endian {
            u32::from_be_bytes(w)
        } else {
            u32::from_le_bytes(w)
        }
    }

    /// Reads a Section Header Block whose type has been read; `len_bytes` is its length field,
    /// not yet interpretable because the byte order comes next.
    fn read_shb(&mut self, at: u64, len_bytes: [u8; 4]) -> Result<(), CaptureError> {
        const WHAT: &str = "section header block";
        let mut bom = [0u8; 4];
        self.src.read_exact_or(&mut bom, WHAT, at)?;
        self.big_endian = if u32::from_le_bytes(bom) == BYTE_ORDER_MAGIC {
            false
        } else if u32::from_be_bytes(bom) == BYTE_ORDER_MAGIC {
            true
        } else {
            return Err(self.src.corrupt(
                WHAT,
                at,
                format!("bad byte-order magic {}", crate::source::hex(&bom)),
            ));
        };
        let len = self.u32_of(len_bytes);
        if len < MIN_SHB_LEN {
            return Err(self.src.corrupt(
                WHAT,
                at,
                format!("block length {len} is less than {MIN_SHB_LEN}"),
            ));
        }
        check_len(&self.src, at, len)?;
        if len > MAX_BLOCK_LEN {
            return Err(self.src.corrupt(
                WHAT,
                at,
                format!("block length {len} exceeds the {MAX_BLOCK_LEN}-byte limit"),
            ));
        }
        // Body after the byte-order magic: version, section length, options.
        self.load_body(len - MIN_BLOCK_LEN - 4, WHAT, at)?;
        let (major, minor) = (self.u16_at(&self.buf, 0), self.u16_at(&self.buf, 2));
        if major != 1 {
            return Err(self.src.corrupt(
                WHAT,
                at,
                format!("unsupported pcapng version {major}.{minor}"),
            ));
        }
        self.read_trailer(len, WHAT, at)?;
        // Interfaces are numbered per section.
        self.interfaces.clear();
        self.stats.sections += 1;
        Ok(())
    }

    /// Reads `n` body bytes into `self.buf`.
    fn load_body(&mut self, n: u32, what: &'static str, at: u64) -> Result<(), CaptureError> {
        self.buf.clear();
        self.buf.resize(n as usize, 0);
        let mut buf = std::mem::take(&mut self.buf);
        let r = self.src.read_exact_or(&mut buf, what, at);
        self.buf = buf;
        r
    }

    fn read_trailer(&mut self, len: u32, what: &'static str, at: u64) -> Result<(), CaptureError> {
        let mut t = [0u8; 4];
        self.src.read_exact_or(&mut t, what, at)?;
        let trailer = self.u32_of(t);
        if trailer != len {
            return Err(self.src.corrupt(
                what,
                at,
                format!("trailing block length {trailer} does not match the leading {len}"),
            ));
        }
        Ok(())
    }

    /// The next packet, `None` at a clean end of file.
    pub(crate) fn next_frame(&mut self) -> Result<Option<Frame>, CaptureError> {
        loop {
            let at = self.src.offset;
            let mut hdr = [0u8; 8];
            let n = self.src.read_full(&mut hdr)?;
            if n == 0 {
                return Ok(None);
            }
            if n < hdr.len() {
                return Err(self.src.corrupt(
                    "block",
                    at,
                    format!("truncated block header ({n} of 8 bytes)"),
                ));
            }
            let btype = self.u32_at(&hdr, 0);
            // The SHB type is a palindrome, so it reads the same in either byte order.
            if btype == BT_SHB {
                self.read_shb(at, [hdr[4], hdr[5], hdr[6], hdr[7]])?;
                continue;
            }
            let len = self.u32_at(&hdr, 4);
            check_len(&self.src, at, len)?;
            let body_len = len - MIN_BLOCK_LEN;
            match btype {
                BT_IDB | BT_EPB | BT_SPB | BT_PB => {
                    let what = block_name(btype);
                    if len > MAX_BLOCK_LEN {
                        return Err(self.src.corrupt(
                            what,
                            at,
                            format!("block length {len} exceeds the {MAX_BLOCK_LEN}-byte limit"),
                        ));
                    }
                    self.load_body(body_len, what, at)?;
                    self.read_trailer(len, what, at)?;
                    let frame = match btype {
                        BT_IDB => {
                            self.parse_idb(at)?;
                            continue;
                        }
                        BT_EPB => self.parse_epb(at)?,
                        BT_PB => self.parse_pb(at)?,
                        _ => self.parse_spb(at)?,
                    };
                    self.last_ts = frame.ts_ns;
                    self.stats.records += 1;
                    self.stats.bytes += frame.data.len() as u64;
                    return Ok(Some(frame));
                }
                _ => {
                    // Name resolution, statistics, decryption secrets, custom...: not needed.
                    self.src.skip_or(u64::from(body_len), "block", at)?;
                    self.read_trailer(len, "block", at)?;
                }
            }
        }
    }

    fn parse_idb(&mut self, at: u64) -> Result<(), CaptureError> {
        const WHAT: &str = "interface description block";
        if self.buf.len() < 8 {
            return Err(self.src.corrupt(
                WHAT,
                at,
                format!("body of {} bytes is shorter than 8", self.buf.len()),
            ));
        }
        let mut iface = Interface {
            linktype: u32::from(self.u16_at(&self.buf, 0)),
            snaplen: self.u32_at(&self.buf, 4),
            tsresol: 6,
            tsoffset: 0,
            fcs_len: 0,
        };
        let mut i = 8;
        while i + 4 <= self.buf.len() {
            let code = self.u16_at(&self.buf, i);
            let olen = usize::from(self.u16_at(&self.buf, i + 2));
            let v = i + 4;
            if code == OPT_ENDOFOPT {
                break;
            }
            if v + olen > self.buf.len() {
                return Err(self.src.corrupt(
                    WHAT,
                    at,
                    format!(
                        "option {code} of length {olen} at body offset {i} runs past the block"
                    ),
                ));
            }
            let val = &self.buf[v..v + olen];
            match code {
                OPT_IF_TSRESOL if olen >= 1 => iface.tsresol = val[0],
                OPT_IF_FCSLEN if olen >= 1 => iface.fcs_len = u32::from(val[0]),
                OPT_IF_TSOFFSET if olen >= 8 => {
                    let w = [
                        val[0], val[1], val[2], val[3], val[4], val[5], val[6], val[7],
                    ];
                    iface.tsoffset = if self.big_endian {
                        i64::from_be_bytes(w)
                    } else {
                        i64::from_le_bytes(w)
                    };
                }
                OPT_IF_TSRESOL | OPT_IF_FCSLEN | OPT_IF_TSOFFSET => {
                    return Err(self.src.corrupt(
                        WHAT,
                        at,
                        format!("option {code} has impossible length {olen}"),
                    ));
                }
                _ => {}
            }
            // Option values are padded to 32 bits.
            i = v + olen.div_ceil(4) * 4;
        }
        self.interfaces.push(iface);
        self.stats.interfaces += 1;
        Ok(())
    }

    /// The interface `id` of the current section, checked to be Ethernet.
    fn interface(&self, id: u32, what: &'static str, at: u64) -> Result<&Interface, CaptureError> {
        let Some(iface) = self.interfaces.get(id as usize) else {
            return Err(self.src.corrupt(
                what,
                at,
                format!(
                    "packet on interface {id}, but the section describes {} interface(s)",
                    self.interfaces.len()
                ),
            ));
        };
        if iface.linktype != LINKTYPE_ETHERNET {
            return Err(CaptureError::UnsupportedLinkType {
                file: self.src.name.clone(),
                offset: at,
                interface: id,
                linktype: iface.linktype,
            });
        }
        Ok(iface)
    }

    /// Shared by EPB and the obsolete PB: timestamp, lengths and data from `base` in the body.
    fn timed_packet(
        &mut self,
        iface_id: u32,
        base: usize,
        what: &'static str,
        at: u64,
    ) -> Result<Frame, CaptureError> {
        let ts_hi = self.u32_at(&self.buf, base);
        let ts_lo = self.u32_at(&self.buf, base + 4);
        let caplen = self.u32_at(&self.buf, base + 8);
        let orig_len = self.u32_at(&self.buf, base + 12);
        let data_at = base + 16;
        if caplen > MAX_CAPLEN {
            return Err(self.src.corrupt(
                what,
                at,
                format!("captured length {caplen} exceeds the {MAX_CAPLEN}-byte limit"),
            ));
        }
        if data_at + caplen as usize > self.buf.len() {
            return Err(self.src.corrupt(
                what,
                at,
                format!(
                    "captured length {caplen} runs past the block (body of {} bytes)",
                    self.buf.len()
                ),
            ));
        }
        let iface = self.interface(iface_id, what, at)?;
        let units = (u64::from(ts_hi) << 32) | u64::from(ts_lo);
        let Some(ts_ns) = ts_to_ns(units, iface.tsresol, iface.tsoffset) else {
            return Err(self.src.corrupt(
                what,
                at,
                format!(
                    "timestamp {units} (if_tsresol {:#04x}, if_tsoffset {}) is outside the u64 ns range",
                    iface.tsresol, iface.tsoffset
                ),
            ));
        };
        let fcs_len = iface.fcs_len;
        if caplen < orig_len {
            self.stats.truncated_records += 1;
        }
        let data = frame_bytes(
            &self.buf[data_at..data_at + caplen as usize],
            orig_len,
            fcs_len,
        );
        Ok(Frame::new(ts_ns, data))
    }

    fn parse_epb(&mut self, at: u64) -> Result<Frame, CaptureError> {
        const WHAT: &str = "enhanced packet block";
        if self.buf.len() < 20 {
            return Err(self.src.corrupt(
                WHAT,
                at,
                format!("body of {} bytes is shorter than 20", self.buf.len()),
            ));
        }
        let iface = self.u32_at(&self.buf, 0);
        self.timed_packet(iface, 4, WHAT, at)
    }

    fn parse_pb(&mut self, at: u64) -> Result<Frame, CaptureError> {
        const WHAT: &str = "packet block";
        if self.buf.len() < 20 {
            return Err(self.src.corrupt(
                WHAT,
                at,
                format!("body of {} bytes is shorter than 20", self.buf.len()),
            ));
        }
        // interface_id u16, drops_count u16.
        let iface = u32::from(self.u16_at(&self.buf, 0));
        self.timed_packet(iface, 4, WHAT, at)
    }

    fn parse_spb(&mut self, at: u64) -> Result<Frame, CaptureError> {
        const WHAT: &str = "simple packet block";
        if self.buf.len() < 4 {
            return Err(self.src.corrupt(
                WHAT,
                at,
                format!("body of {} bytes is shorter than 4", self.buf.len()),
            ));
        }
        let orig_len = self.u32_at(&self.buf, 0);
        let iface = self.interface(0, WHAT, at)?;
        // The captured length is implied: the original length, cut by the snap length of
        // interface 0 and by the block itself.
        let avail = (self.buf.len() - 4) as u32;
        let mut caplen = orig_len.min(avail);
        if iface.snaplen != 0 {
            caplen = caplen.min(iface.snaplen);
        }
        let fcs_len = iface.fcs_len;
        if caplen > MAX_CAPLEN {
            return Err(self.src.corrupt(
                WHAT,
                at,
                format!("captured length {caplen} exceeds the {MAX_CAPLEN}-byte limit"),
            ));
        }
        if caplen < orig_len {
            self.stats.truncated_records += 1;
        }
        self.stats.simple_packet_blocks += 1;
        let data = frame_bytes(&self.buf[4..4 + caplen as usize], orig_len, fcs_len);
        Ok(Frame::new(self.last_ts, data))
    }
}

fn block_name(btype: u32) -> &'static str {
    match btype {
        BT_IDB => "interface description block",
        BT_EPB => "enhanced packet block",
        BT_SPB => "simple packet block",
        BT_PB => "packet block",
        _ => "block",
    }
}

fn check_len<R>(src: &Source<R>, at: u64, len: u32) -> Result<(), CaptureError> {
    if len & 3 != 0 {
        return Err(src.corrupt(
            "block",
            at,
            format!("block length {len} is not a multiple of 4"),
        ));
    }
    if len < MIN_BLOCK_LEN {
        return Err(src.corrupt(
            "block",
            at,
            format!("block length {len} is less than {MIN_BLOCK_LEN}"),
        ));
    }
    Ok(())
}
