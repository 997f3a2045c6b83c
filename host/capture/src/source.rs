//! What every capture format reader shares: the error and statistics types, the format magics,
//! and [`Source`], the byte stream that knows its file name and offset for error messages.

use std::io::{self, Read};

/// Largest captured length accepted for one record; anything above is treated as corruption.
pub const MAX_CAPLEN: u32 = 256 * 1024;

/// Largest pcapng block body the reader loads into memory (packet and header blocks). Unknown
/// blocks are skipped without being loaded, whatever their size.
pub const MAX_BLOCK_LEN: u32 = 1024 * 1024;

/// The only link type supported: LINKTYPE_ETHERNET.
pub const LINKTYPE_ETHERNET: u32 = 1;

pub(crate) const READ_BUFFER: usize = 1 << 16;

/// A capture could not be opened or read.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("{file}: cannot open: {source}")]
    Open {
        file: String,
        #[source]
        source: io::Error,
    },
    #[error("{file}: read error at offset {offset}: {source}")]
    Io {
        file: String,
        offset: u64,
        #[source]
        source: io::Error,
    },
    /// Malformed content; `what` names the structure at `offset` ("record", "block", ...).
    #[error("{file}: {what} at offset {offset}: {reason}")]
    Corrupt {
        file: String,
        what: &'static str,
        offset: u64,
        reason: String,
    },
    #[error("{file}: not a pcap, pcapng or gzip file (magic {magic})")]
    UnknownFormat { file: String, magic: String },
    /// `offset`: the file header's link type (pcap) or the first packet on the interface (pcapng).
    #[error(
        "{file}: at offset {offset}: interface {interface}: link type {linktype} is not supported (only {}, Ethernet)",
        LINKTYPE_ETHERNET
    )]
    UnsupportedLinkType {
        file: String,
        offset: u64,
        interface: u32,
        linktype: u32,
    },
}

/// The container format of a capture, after any gzip layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptureFormat {
    Pcap,
    PcapNg,
}

/// What a reader has seen so far; complete once the reader is exhausted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaptureStats {
    /// Frames yielded.
    pub records: u64,
    /// Sum of the yielded frames' lengths.
    pub bytes: u64,
    /// Records whose captured length is below their original length (kept as captured).
    pub truncated_records: u64,
    /// pcapng Simple Packet Blocks (these carry no timestamp: they get the previous record's).
    pub simple_packet_blocks: u64,
    /// pcapng sections (Section Header Blocks); 1 for classic pcap.
    pub sections: u64,
    /// Interfaces described over all sections; 1 for classic pcap.
    pub interfaces: u64,
}

/// The magic numbers that identify the formats, as the first four bytes of a file.
pub(crate) mod magic {
    pub const GZIP: [u8; 2] = [0x1f, 0x8b];
    pub const PCAPNG_SHB: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];
    pub const PCAP_US_LE: [u8; 4] = [0xd4, 0xc3, 0xb2, 0xa1];
    pub const PCAP_US_BE: [u8; 4] = [0xa1, 0xb2, 0xc3, 0xd4];
    pub const PCAP_NS_LE: [u8; 4] = [0x4d, 0x3c, 0xb2, 0xa1];
    pub const PCAP_NS_BE: [u8; 4] = [0xa1, 0xb2, 0x3c, 0x4d];
}

/// A byte stream with the file name and the current offset, for error messages.
pub(crate) struct Source<R> {
    pub(crate) inner: R,
    pub(crate) name: String,
    pub(crate) offset: u64,
}

impl<R> Source<R> {
    pub(crate) fn corrupt(&self, what: &'static str, at: u64, reason: String) -> CaptureError {
        CaptureError::Corrupt {
            file: self.name.clone(),
            what,
            offset: at,
            reason,
        }
    }
}

impl<R: Read> Source<R> {
    pub(crate) fn new(inner: R, name: String, offset: u64) -> Self {
        Source {
            inner,
            name,
            offset,
        }
    }

    /// Reads until `buf` is full or the stream ends; returns the number of bytes read.
    pub(crate) fn read_full(&mut self, buf: &mut [u8]) -> Result<usize, CaptureError> {
        let mut got = 0;
        while got < buf.len() {
            match self.inner.read(&mut buf[got..]) {
                Ok(0) => break,
                Ok(n) => {
                    got += n;
                    self.offset += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.io_error(e)),
            }
        }
        Ok(got)
    }

    /// Reads exactly `buf.len()` bytes; a short read is corruption of `what` at `at`.
    pub(crate) fn read_exact_or(
        &mut self,
        buf: &mut [u8],
        what: &'static str,
        at: u64,
    ) -> Result<(), CaptureError> {
        let n = self.read_full(buf)?;
        if n < buf.len() {
            return Err(self.corrupt(
                what,
                at,
                format!(
                    "truncated: the file ends {} bytes short of its end",
                    buf.len() - n
                ),
            ));
        }
        Ok(())
    }

    /// Skips `n` bytes; a stream ending early is corruption of `what` at `at`.
    pub(crate) fn skip_or(
        &mut self,
        n: u64,
        what: &'static str,
        at: u64,
    ) -> Result<(), CaptureError> {
        let copied = match io::copy(&mut (&mut self.inner).take(n), &mut io::sink()) {
            Ok(c) => c,
            Err(e) => return Err(self.io_error(e)),
        };
        self.offset += copied;
        if copied < n {
            return Err(self.corrupt(
                what,
                at,
                format!(
                    "truncated: the file ends {} bytes short of its end",
                    n - copied
                ),
            ));
        }
        Ok(())
    }

    fn io_error(&self, source: io::Error) -> CaptureError {
        CaptureError::Io {
            file: self.name.clone(),
            offset: self.offset,
            source,
        }
    }
}

/// Keeps the bytes of a record that belong to the frame: as captured, minus a trailing FCS of
/// `fcs_len` bytes where the capture holds it (the frame ends `fcs_len` bytes before `orig_len`).
pub(crate) fn frame_bytes(data: &[u8], orig_len: u32, fcs_len: u32) -> Vec<u8> {
    let keep = if fcs_len == 0 {
        data.len()
    } else {
        data.len().min(orig_len.saturating_sub(fcs_len) as usize)
    };
    data[..keep].to_vec()
}

pub(crate) fn check_magic_len<R>(src: &Source<R>, n: usize) -> Result<(), CaptureError> {
    if n < 4 {
        return Err(src.corrupt(
            "file header",
            0,
            format!("the file is {n} bytes long, too short for any capture format"),
        ));
    }
    Ok(())
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}
