//! Classic pcap writer: nanosecond magic, little-endian, Ethernet, snaplen 262144.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use crate::source::LINKTYPE_ETHERNET;
use tickcross_core::frame::Frame;

/// The snap length written in the header; longer frames are refused rather than cut.
pub const WRITER_SNAPLEN: u32 = 262_144;

const MAGIC_NS: u32 = 0xa1b2_3c4d;

/// Writes frames as a classic pcap with nanosecond timestamps.
pub struct PcapWriter<W: Write> {
    w: W,
    records: u64,
}

impl PcapWriter<BufWriter<File>> {
    /// Creates (or truncates) `path` and writes the file header.
    pub fn create(path: impl AsRef<Path>) -> io::Result<Self> {
        PcapWriter::new(BufWriter::with_capacity(1 << 16, File::create(path)?))
    }
}

impl<W: Write> PcapWriter<W> {
    /// Writes the 24-byte file header to `w`.
    pub fn new(mut w: W) -> io::Result<Self> {
        let mut h = Vec::with_capacity(24);
        h.extend_from_slice(&MAGIC_NS.to_le_bytes());
        h.extend_from_slice(&2u16.to_le_bytes());
        h.extend_from_slice(&4u16.to_le_bytes());
        h.extend_from_slice(&0i32.to_le_bytes()); // thiszone
        h.extend_from_slice(&0u32.to_le_bytes()); // sigfigs
        h.extend_from_slice(&WRITER_SNAPLEN.to_le_bytes());
        h.extend_from_slice(&LINKTYPE_ETHERNET.to_le_bytes());
        w.write_all(&h)?;
        Ok(PcapWriter { w, records: 0 })
    }

    pub fn write_frame(&mut self, frame: &Frame) -> io::Result<()> {
        self.write_packet(frame.ts_ns, &frame.data)
    }

    /// Writes one record; fails for frames above the snap length or timestamps past 2106.
    pub fn write_packet(&mut self, ts_ns: u64, data: &[u8]) -> io::Result<()> {
        let len = u32::try_from(data.len())
            .ok()
            .filter(|&l| l <= WRITER_SNAPLEN)
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "frame of {} bytes exceeds the snap length {WRITER_SNAPLEN}",
                        data.len()
                    ),
                )
            })?;
        let sec = u32::try_from(ts_ns / 1_000_000_000).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("timestamp {ts_ns} ns does not fit the pcap 32-bit seconds field"),
            )
        })?;
        let ns = (ts_ns % 1_000_000_000) as u32;
        let mut h = [0u8; 16];
        h[0..4].copy_from_slice(&sec.to_le_bytes());
        h[4..8].copy_from_slice(&ns.to_le_bytes());
        h[8..12].copy_from_slice(&len.to_le_bytes());
        h[12..16].copy_from_slice(&len.to_le_bytes());
        self.w.write_all(&h)?;
        self.w.write_all(data)?;
        self.records += 1;
        Ok(())
    }

    /// Records written so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Flushes and returns the underlying writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.w.flush()?;
        Ok(self.w)
    }
}
