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
//! the binary feed the card parses; and, on Linux, [`live`]: frames taken off a network interface.

pub mod bridge;
#[cfg(target_os = "linux")]
pub mod live;
pub mod netgen;

mod merge;
mod pcap;
mod pcapng;
mod reader;
mod source;
mod writer;

pub use merge::{open_merged, MergedCaptures};
pub use reader::{open_capture, read_capture, CaptureReader};
pub use source::{
    CaptureError, CaptureFormat, CaptureStats, LINKTYPE_ETHERNET, MAX_BLOCK_LEN, MAX_CAPLEN,
};
pub use writer::{PcapWriter, WRITER_SNAPLEN};

#[cfg(test)]
mod tests;
