//! Capture I/O: streaming readers for classic pcap and pcapng (plain or gzip-compressed), a
//! stable k-way merge of several captures by timestamp, and a classic pcap writer.
//!
//! Readers yield [`Frame`]s one at a time through `Iterator<Item = Result<Frame, CaptureError>>`
//! and never hold more than one block in memory. After the first error a reader yields nothing
//! more, so corrupt input can never loop. Byte offsets in errors count from the start of the
//! capture stream (after decompression, for gzip input).
//!
//! Also here: [`netgen`], which builds the Ethernet/IPv4/UDP frames of generated and bridged
//! feeds, and [`bridge`], which turns venues' recordings (Binance JSON) into a pcap capture of
//! the binary feed the card parses.

pub mod bridge;
pub mod netgen;

mod merge;
mod pcap;
mod pcapng;
mod writer;

use std::fs::File;
use std::io::{self, BufReader, Cursor, Read};
use std::path::Path;

use flate2::read::MultiGzDecoder;

use tickcross_core::frame::Frame;

pub use merge::{open_merged, MergedCaptures};
pub use writer::{PcapWriter, WRITER_SNAPLEN};

/// Largest captured length accepted for one record; anything above is treated as corruption.
pub const MAX_CAPLEN: u32 = 256 * 1024;

/// Largest pcapng block body the reader loads into memory (packet and header blocks). Unknown
/// blocks are skipped without being loaded, whatever their size.
pub const MAX_BLOCK_LEN: u32 = 1024 * 1024;

/// The only link type supported: LINKTYPE_ETHERNET.
pub const LINKTYPE_ETHERNET: u32 = 1;

const READ_BUFFER: usize = 1 << 16;

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
    inner: R,
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

type BoxRead = Box<dyn Read + Send>;

enum Inner {
    Pcap(pcap::PcapReader<BoxRead>),
    PcapNg(pcapng::PcapNgReader<BoxRead>),
}

/// A streaming capture reader (pcap or pcapng, optionally gzip-compressed).
pub struct CaptureReader {
    name: String,
    format: CaptureFormat,
    compressed: bool,
    inner: Inner,
    done: bool,
}

impl std::fmt::Debug for CaptureReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaptureReader")
            .field("name", &self.name)
            .field("format", &self.format)
            .field("compressed", &self.compressed)
            .field("stats", self.stats())
            .finish()
    }
}

impl CaptureReader {
    /// Opens `path`, detecting gzip, pcap and pcapng by their magic numbers.
    pub fn open(path: impl AsRef<Path>) -> Result<CaptureReader, CaptureError> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let file = File::open(path).map_err(|source| CaptureError::Open {
            file: name.clone(),
            source,
        })?;
        CaptureReader::from_reader(name, BufReader::with_capacity(READ_BUFFER, file))
    }

    /// Reads a capture from any byte stream; `name` appears in errors.
    pub fn from_reader<R: Read + Send + 'static>(
        name: impl Into<String>,
        reader: R,
    ) -> Result<CaptureReader, CaptureError> {
        let name = name.into();
        let mut src = Source::new(Box::new(reader) as BoxRead, name.clone(), 0);
        let mut head = [0u8; 4];
        let n = src.read_full(&mut head)?;
        let mut compressed = false;
        if n >= 2 && head[..2] == magic::GZIP {
            compressed = true;
            // Put the bytes already read back in front of the rest, then decompress.
            let raw = Cursor::new(head[..n].to_vec()).chain(src.inner);
            let gz = BufReader::with_capacity(READ_BUFFER, GzErrors(MultiGzDecoder::new(raw)));
            src = Source::new(Box::new(gz) as BoxRead, name.clone(), 0);
            let n = src.read_full(&mut head)?;
            check_magic_len(&src, n)?;
        } else {
            check_magic_len(&src, n)?;
        }
        let (format, inner) = match head {
            magic::PCAPNG_SHB => (
                CaptureFormat::PcapNg,
                Inner::PcapNg(pcapng::PcapNgReader::new(src)?),
            ),
            magic::PCAP_US_LE | magic::PCAP_US_BE | magic::PCAP_NS_LE | magic::PCAP_NS_BE => (
                CaptureFormat::Pcap,
                Inner::Pcap(pcap::PcapReader::new(src, head)?),
            ),
            _ => {
                return Err(CaptureError::UnknownFormat {
                    file: name,
                    magic: hex(&head),
                })
            }
        };
        Ok(CaptureReader {
            name,
            format,
            compressed,
            inner,
            done: false,
        })
    }

    /// The name given at opening (the path for [`CaptureReader::open`]).
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn format(&self) -> CaptureFormat {
        self.format
    }

    /// The capture was gzip-compressed.
    pub fn compressed(&self) -> bool {
        self.compressed
    }

    /// Counts so far; final once the iterator has returned `None`.
    pub fn stats(&self) -> &CaptureStats {
        match &self.inner {
            Inner::Pcap(r) => &r.stats,
            Inner::PcapNg(r) => &r.stats,
        }
    }
}

/// Says in a decompression error that the gzip layer failed and where offsets count from.
struct GzErrors<R>(MultiGzDecoder<R>);

impl<R: Read> Read for GzErrors<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!(
                    "gzip: {e} (the compressed file is cut short or corrupt; the offset counts \
                     decompressed bytes)"
                ),
            )
        })
    }
}

fn check_magic_len<R>(src: &Source<R>, n: usize) -> Result<(), CaptureError> {
    if n < 4 {
        return Err(src.corrupt(
            "file header",
            0,
            format!("the file is {n} bytes long, too short for any capture format"),
        ));
    }
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

impl Iterator for CaptureReader {
    type Item = Result<Frame, CaptureError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let r = match &mut self.inner {
            Inner::Pcap(r) => r.next_frame(),
            Inner::PcapNg(r) => r.next_frame(),
        };
        match r {
            Ok(Some(f)) => Some(Ok(f)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

impl std::iter::FusedIterator for CaptureReader {}

/// Opens a capture, detecting its format by magic (see [`CaptureReader::open`]).
pub fn open_capture(path: impl AsRef<Path>) -> Result<CaptureReader, CaptureError> {
    CaptureReader::open(path)
}

/// Reads a whole capture into memory, with its stats.
pub fn read_capture(path: impl AsRef<Path>) -> Result<(Vec<Frame>, CaptureStats), CaptureError> {
    let mut r = CaptureReader::open(path)?;
    let frames = r.by_ref().collect::<Result<Vec<_>, _>>()?;
    Ok((frames, r.stats().clone()))
}

/// Opens a file for line- or byte-oriented reading, transparently decompressing gzip (detected by
/// magic). Shared with the feed bridge.
pub(crate) fn open_maybe_gzip(path: &Path) -> io::Result<Box<dyn Read + Send>> {
    let mut file = BufReader::with_capacity(READ_BUFFER, File::open(path)?);
    let mut head = [0u8; 2];
    let mut n = 0;
    while n < 2 {
        match file.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let raw = Cursor::new(head[..n].to_vec()).chain(file);
    if n == 2 && head == magic::GZIP {
        Ok(Box::new(BufReader::with_capacity(
            READ_BUFFER,
            MultiGzDecoder::new(raw),
        )))
    } else {
        Ok(Box::new(raw))
    }
}

#[cfg(test)]
mod tests;
