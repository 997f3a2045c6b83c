//! [`CaptureReader`]: a capture file (pcap or pcapng, optionally gzip-compressed) as an iterator
//! of frames, its format told by its magic numbers.

use std::fs::File;
use std::io::{self, BufReader, Cursor, Read};
use std::path::Path;

use flate2::read::MultiGzDecoder;

use tickcross_core::frame::Frame;

use crate::pcap;
use crate::pcapng;
use crate::source::{
    check_magic_len, hex, magic, CaptureError, CaptureFormat, CaptureStats, Source, READ_BUFFER,
};

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
