//! The append-only trading journal: every order, execution report, transfer, venue change and
//! balance snapshot, in the order they happened, each record checksummed and chained to the
//! one before it.
//!
//! File format (version 2): the 8 bytes `TCJRNL02`, then records, each
//! `[u32 LE payload length][u32 LE CRC-32 of those 4 length bytes][u32 LE chain][payload: one
//! JSON object]`, where `chain` is the CRC-32 (IEEE) of the previous record's chain (for the
//! first record, the CRC-32 of the magic), the length bytes and the payload. The length has
//! its own check so that a damaged length is told apart from a record cut short; the chain
//! makes an edited, removed, inserted or reordered record break the checksum of every record
//! after it unless all of them are recomputed (see docs/TRADING.md for what that does and does
//! not protect against). Journals of version 1 (`TCJRNL01`) are refused with an error saying so.
//!
//! Every record is written with one `write(2)` as soon as it exists, before the engine acts on it
//! (a trade's two orders are one record, written before either leaves), so a killed process
//! loses nothing it acted on. Durability against power loss follows `[journal] sync`:
//! `always` fdatasyncs after every record; `trade` (the default) after each trade record, each
//! unwind order and each snapshot, that is before any order leaves; `never` leaves it to the OS.
//!
//! Reading: only a last record that runs past the end of the file is a torn write (the process
//! died mid-append): it is reported and cut. A file that is nothing but the start of a journal
//! (part of the magic, or the magic and part of the first record) is a torn start: the journal
//! is empty. Anything else that does not check (a length that fails its check, a checksum
//! mismatch, a record that does not parse), in the middle or at the end, is corruption and an
//! error: nothing is cut.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::config::SyncPolicy;
use super::ledger::Transfer;
use super::money::FeeCharge;
use super::venue::{ExecReport, OrderId, Side, StatusReport, TradeCorrection};

pub const MAGIC: &[u8; 8] = b"TCJRNL02";
/// The magic of format version 1 (unchained checksums), refused with a clear error.
pub const MAGIC_V1: &[u8; 8] = b"TCJRNL01";
pub const VERSION: u32 = 2;
/// A record longer than this is not one (a corrupt length).
const MAX_RECORD: u32 = 16 << 20;
/// Bytes before a record's payload: length, length check, chain.
pub const FRAME: usize = 12;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    Entry,
    Unwind,
}

/// One order as the engine sent it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderRecord {
    pub id: OrderId,
    pub trade_id: u64,
    pub purpose: Purpose,
    /// 0 for entry legs; 1.. for unwind attempts.
    pub attempt: u32,
    pub venue: usize,
    pub instrument: usize,
    pub symbol: String,
    pub side: Side,
    pub price: Decimal,
    /// The order's size in the base asset: what the engine decided (the most base it may
    /// trade).
    pub base_qty: Decimal,
    /// The same size in the venue's units at the limit price (`money::units_for_base`, the one
    /// conversion): what goes on the wire. A simulated venue never fills more base than
    /// `base_qty`, whatever price it fills at (see `SimVenue`).
    pub qty: Decimal,
    /// The price the detection saw (slippage is measured against it).
    pub detected_price: Decimal,
    /// What the order holds of the venue's balance until final.
    pub reserve_asset: String,
    pub reserve: Decimal,
    pub sent_ns: u64,
}

/// A candidate that passed every check: its two legs, sent together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TradeOpen {
    pub trade_id: u64,
    pub event_seq: u64,
    pub ts_ns: u64,
    pub instrument: usize,
    pub buy_venue: usize,
    pub sell_venue: usize,
    /// Planned size, base asset.
    pub base_qty: Decimal,
    /// Expected at the detected prices: gross, both legs' taker fees (quote value), net.
    pub gross: Decimal,
    pub fees: Decimal,
    pub net: Decimal,
    pub buy: OrderRecord,
    pub sell: OrderRecord,
}

/// A refused candidate and what it would have been.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refused {
    pub ts_ns: u64,
    pub event_seq: u64,
    pub instrument: usize,
    pub buy_venue: usize,
    pub sell_venue: usize,
    pub buy_price: Decimal,
    pub sell_price: Decimal,
    pub base_qty: Decimal,
    pub gross: Decimal,
    pub fees: Decimal,
    pub net: Decimal,
    pub reason: String,
}

/// Static facts `journal verify` needs to re-derive amounts without the config.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    pub version: u32,
    /// Digest of the configuration and captures the journal belongs to; a resume must match.
    pub digest: String,
    pub venues: Vec<String>,
    /// Per instrument: (name, base, quote).
    pub instruments: Vec<(String, String, String)>,
    /// Per venue, per instrument: the inverse contract size when the market is inverse.
    pub inverse: Vec<Vec<Option<Decimal>>>,
    pub initial_balances: Vec<BTreeMap<String, Decimal>>,
    /// Per venue: its taker fees, so that `journal verify` can recompute every fill's fee.
    pub fees: Vec<HeaderFees>,
}

/// The asset a venue's fees are charged in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeeIn {
    Quote,
    Base,
    /// A third asset, valued at a configured price in the quote asset.
    Other {
        asset: String,
        price: Decimal,
    },
}

/// A venue's taker fee schedule as the journal's header carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeaderFees {
    pub taker_bps: Decimal,
    pub asset: FeeIn,
    /// 30-day volume (quote) at the start; fills add to it.
    pub volume_30d: Decimal,
    /// (from volume, taker bps), ascending by volume.
    pub tiers: Vec<(Decimal, Decimal)>,
}

/// The engine's own account at a point, for `journal verify` to check against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    pub ts_ns: u64,
    pub balances: Vec<BTreeMap<String, Decimal>>,
    pub in_transit: BTreeMap<String, Decimal>,
    pub realized_pnl: Decimal,
    pub fees: Decimal,
    pub trades_closed: u64,
    /// Per instrument: net base position across venues against the initial balances.
    pub positions: Vec<Decimal>,
}

// Records are written a few per trade, not per event: their size does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Record {
    Header(Header),
    /// Events handled since the previous progress record (up to `last_event_seq`), and why the
    /// refused ones were refused.
    Progress {
        ts_ns: u64,
        last_event_seq: u64,
        events: u64,
        refused: BTreeMap<String, u64>,
    },
    TradeOpen(TradeOpen),
    /// An unwind order.
    Order(OrderRecord),
    Exec {
        ts_ns: u64,
        venue: usize,
        report: ExecReport,
        /// The fee of this report's fill (none without a fill).
        fee: Option<FeeCharge>,
    },
    /// A trade bust or correction of an earlier fill of the order: the fill as booked
    /// (`orig_fee` its fee) is reversed and, for a correction, booked again at the corrected
    /// quantity and price with `fee`, the schedule's fee for it (at the venue's volume without
    /// the original fill).
    Correction {
        ts_ns: u64,
        venue: usize,
        correction: TradeCorrection,
        orig_fee: FeeCharge,
        fee: Option<FeeCharge>,
    },
    CancelSent {
        ts_ns: u64,
        order_id: OrderId,
        why: String,
    },
    /// After a restart: what a venue reported of an order sent before it (or of a working
    /// order of ours the journal has as final or never sent), and what the journal had booked
    /// of it as filled then. The Exec records that settle the difference follow.
    Reconciled {
        ts_ns: u64,
        venue: usize,
        status: StatusReport,
        booked_qty: Decimal,
        outcome: ReconcileOutcome,
    },
    /// The venue never answered the order nor its cancel: closed with what had filled.
    OrderLost {
        ts_ns: u64,
        order_id: OrderId,
    },
    VenueState {
        ts_ns: u64,
        venue: usize,
        up: bool,
        reason: String,
    },
    /// A candidate refused by a risk or inventory check.
    Refused(Refused),
    /// An unwind waits until `until_ns` before its next try; `missed`: the try that led here
    /// found no venue able to take the order (it counts as an attempt).
    UnwindWait {
        ts_ns: u64,
        trade_id: u64,
        until_ns: u64,
        missed: bool,
    },
    /// Every order of the trade is final. `gave_up`: residual exposure is left that the unwind
    /// could not remove within its limits; it stays in inventory.
    TradeClosed {
        ts_ns: u64,
        trade_id: u64,
        gave_up: bool,
    },
    TransferSent(Transfer),
    TransferArrived {
        ts_ns: u64,
        id: u64,
    },
    Kill {
        ts_ns: u64,
        source: String,
    },
    Snapshot(Snapshot),
}

/// What a reconcile found ([`Record::Reconciled`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReconcileOutcome {
    /// The venue's figures are the journal's: nothing to book (the order may have ended).
    Agreed,
    /// Fills the journal lacked, or the order's end, were booked from the venue's figures.
    Recovered,
    /// The venue does not know the order: settled as never sent (nothing filled).
    NotSent,
    /// The venue reports less filled than the journal booked, or does not know an order with
    /// booked fills: nothing is booked beyond the order's end; to be reconciled by hand.
    Mismatch,
    /// A working order of ours that the journal has as final, or never sent: to be cancelled
    /// and reconciled by hand.
    Unexpected,
}

impl ReconcileOutcome {
    /// The outcome's name, as the journal and the report spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            ReconcileOutcome::Agreed => "agreed",
            ReconcileOutcome::Recovered => "recovered",
            ReconcileOutcome::NotSent => "not_sent",
            ReconcileOutcome::Mismatch => "mismatch",
            ReconcileOutcome::Unexpected => "unexpected",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("journal {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("journal {path}: not a tickcross journal (bad magic)")]
    Magic { path: PathBuf },
    #[error("journal {path}: format version 1 (TCJRNL01, unchained checksums); this tickcross reads version {VERSION} only: check it with the tickcross that wrote it, or start a new journal")]
    OldVersion { path: PathBuf },
    #[error("journal {path}: record {index} at byte {offset} is corrupt ({what}); refusing to go on (nothing is cut: a record is taken for a torn write only when it runs past the end of the file)")]
    Corrupt {
        path: PathBuf,
        index: usize,
        offset: u64,
        what: String,
    },
}

/// A cut-off last record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TornTail {
    /// Where the good part ends (the file is cut here).
    pub offset: u64,
    /// Bytes after it.
    pub bytes: u64,
}

#[derive(Debug, Clone)]
pub struct JournalContents {
    pub records: Vec<Record>,
    pub torn: Option<TornTail>,
    /// End of the last good record.
    pub good_len: u64,
    /// The chain value of the last good record (what the next record chains from).
    pub chain: u32,
}

impl JournalContents {
    /// Not one complete record: an empty file, or a torn start (the process died while
    /// writing the magic or the first record). Such a journal holds nothing.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> JournalError + '_ {
    move |source| JournalError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Reads a journal; a torn last record (or a torn start) is reported in `torn`, not an error.
pub fn read(path: &Path) -> Result<JournalContents, JournalError> {
    let mut data = Vec::new();
    File::open(path)
        .and_then(|mut f| f.read_to_end(&mut data))
        .map_err(io_err(path))?;
    parse(path, &data)
}

/// The chain value the first record chains from.
fn chain_seed() -> u32 {
    crc32fast::hash(MAGIC)
}

fn len_check(len: u32) -> u32 {
    crc32fast::hash(&len.to_le_bytes())
}

fn chain_next(prev: u32, len: u32, payload: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&prev.to_le_bytes());
    h.update(&len.to_le_bytes());
    h.update(payload);
    h.finalize()
}

/// Parses a journal's bytes (`path` names it in errors).
pub fn parse(path: &Path, data: &[u8]) -> Result<JournalContents, JournalError> {
    let torn_at = |at: usize, records: Vec<Record>, chain: u32| JournalContents {
        records,
        torn: (data.len() > at).then_some(TornTail {
            offset: at as u64,
            bytes: (data.len() - at) as u64,
        }),
        good_len: at as u64,
        chain,
    };
    if data.len() < MAGIC.len() {
        // killed while writing the magic: a torn start, nothing in it
        if MAGIC.starts_with(data) {
            return Ok(torn_at(0, Vec::new(), chain_seed()));
        }
        return Err(JournalError::Magic {
            path: path.to_path_buf(),
        });
    }
    if &data[..MAGIC.len()] == MAGIC_V1 {
        return Err(JournalError::OldVersion {
            path: path.to_path_buf(),
        });
    }
    if &data[..MAGIC.len()] != MAGIC {
        return Err(JournalError::Magic {
            path: path.to_path_buf(),
        });
    }
    let mut at = MAGIC.len();
    let mut chain = chain_seed();
    let mut records = Vec::new();
    while at < data.len() {
        let rest = &data[at..];
        let corrupt = |index: usize, what: String| JournalError::Corrupt {
            path: path.to_path_buf(),
            index,
            offset: at as u64,
            what,
        };
        if rest.len() < FRAME {
            // the frame itself runs past the end: torn
            return Ok(torn_at(at, records, chain));
        }
        let word = |k: usize| u32::from_le_bytes([rest[k], rest[k + 1], rest[k + 2], rest[k + 3]]);
        let (len, check, crc) = (word(0), word(4), word(8));
        if len_check(len) != check {
            return Err(corrupt(records.len(), "its length fails its check".into()));
        }
        if len > MAX_RECORD {
            return Err(corrupt(records.len(), format!("length {len} is too large")));
        }
        let end = FRAME + len as usize;
        if rest.len() < end {
            // a checked length that runs past the end of the file: the write was cut short
            return Ok(torn_at(at, records, chain));
        }
        let payload = &rest[FRAME..end];
        let next = chain_next(chain, len, payload);
        if next != crc {
            return Err(corrupt(
                records.len(),
                "checksum mismatch: this record, or one before it, was altered, removed or inserted"
                    .into(),
            ));
        }
        match serde_json::from_slice::<Record>(payload) {
            Ok(rec) => records.push(rec),
            Err(e) => {
                // a checksummed record that does not parse was written by something else
                return Err(corrupt(records.len(), format!("unreadable record: {e}")));
            }
        }
        chain = next;
        at += end;
    }
    Ok(JournalContents {
        records,
        torn: None,
        good_len: at as u64,
        chain,
    })
}

/// Frames one record after a record whose chain value is `prev`; returns the bytes and the
/// record's own chain value.
pub fn encode(rec: &Record, prev: u32) -> (Vec<u8>, u32) {
    let payload = serde_json::to_vec(rec).expect("journal records serialize");
    let len = payload.len() as u32;
    let chain = chain_next(prev, len, &payload);
    let mut out = Vec::with_capacity(payload.len() + FRAME);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&len_check(len).to_le_bytes());
    out.extend_from_slice(&chain.to_le_bytes());
    out.extend_from_slice(&payload);
    (out, chain)
}

/// A whole journal file holding `records` (tests and tools).
pub fn encode_all(records: &[Record]) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    let mut chain = chain_seed();
    for r in records {
        let (b, c) = encode(r, chain);
        out.extend_from_slice(&b);
        chain = c;
    }
    out
}

/// A journal open for appending.
pub struct Journal {
    file: File,
    path: PathBuf,
    sync: SyncPolicy,
    records: u64,
    /// Chain value of the last record written.
    chain: u32,
    /// Fault injection for crash tests (feature `fault-injection` only): die (SIGKILL) once
    /// this many records are written.
    #[cfg(feature = "fault-injection")]
    kill_after: Option<u64>,
    /// With `kill_after`: write only half of the next record first, a torn write.
    #[cfg(feature = "fault-injection")]
    kill_torn: bool,
    /// Die (SIGKILL) instead of writing the first record of a fill from this venue: the
    /// process had the venue's report and never booked it.
    #[cfg(feature = "fault-injection")]
    kill_before_fill_on: Option<usize>,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal")
            .field("path", &self.path)
            .field("records", &self.records)
            .finish()
    }
}

/// Environment variable: SIGKILL the process after this many records (crash tests; read only
/// by a build with the `fault-injection` feature, never by the release binary).
pub const ENV_KILL_AFTER: &str = "TICKCROSS_FAULT_KILL_AFTER_RECORDS";
/// Environment variable: with the above, tear the next record in half first.
pub const ENV_KILL_TORN: &str = "TICKCROSS_FAULT_TORN_WRITE";
/// Environment variable: SIGKILL the process instead of writing the first fill from the venue
/// of this index (crash tests of the reconcile on resume; `fault-injection` builds only).
pub const ENV_KILL_BEFORE_FILL_ON: &str = "TICKCROSS_FAULT_KILL_BEFORE_FILL_ON_VENUE";

impl Journal {
    /// Creates a new journal (the file must not exist or be empty).
    pub fn create(path: &Path, sync: SyncPolicy) -> Result<Journal, JournalError> {
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .open(path)
            .map_err(io_err(path))?;
        file.write_all(MAGIC).map_err(io_err(path))?;
        Journal::finish_open(file, path, sync, 0, chain_seed())
    }

    /// Opens an existing journal, as `read` found it, for appending after its last good record
    /// (cutting a torn tail).
    pub fn reopen(
        path: &Path,
        sync: SyncPolicy,
        contents: &JournalContents,
    ) -> Result<Journal, JournalError> {
        let (good_len, records) = (contents.good_len, contents.records.len() as u64);
        let file = OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(io_err(path))?;
        file.set_len(good_len.max(MAGIC.len() as u64))
            .map_err(io_err(path))?;
        let mut file = OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(io_err(path))?;
        if good_len < MAGIC.len() as u64 {
            // only a torn magic was there
            file.set_len(0).map_err(io_err(path))?;
            file.write_all(MAGIC).map_err(io_err(path))?;
        }
        file.sync_data().map_err(io_err(path))?;
        Journal::finish_open(file, path, sync, records, contents.chain)
    }

    fn finish_open(
        file: File,
        path: &Path,
        sync: SyncPolicy,
        records: u64,
        chain: u32,
    ) -> Result<Journal, JournalError> {
        Ok(Journal {
            file,
            path: path.to_path_buf(),
            sync,
            records,
            chain,
            #[cfg(feature = "fault-injection")]
            kill_after: std::env::var(ENV_KILL_AFTER)
                .ok()
                .and_then(|v| v.parse().ok()),
            #[cfg(feature = "fault-injection")]
            kill_torn: std::env::var(ENV_KILL_TORN).is_ok_and(|v| v == "1"),
            #[cfg(feature = "fault-injection")]
            kill_before_fill_on: std::env::var(ENV_KILL_BEFORE_FILL_ON)
                .ok()
                .and_then(|v| v.parse().ok()),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn records(&self) -> u64 {
        self.records
    }

    /// Appends a record (one write); syncs per the policy.
    pub fn append(&mut self, rec: &Record) -> Result<(), JournalError> {
        let (bytes, chain) = encode(rec, self.chain);
        #[cfg(feature = "fault-injection")]
        let fill_from = match rec {
            Record::Exec { venue, report, .. } if report.last_qty > Decimal::ZERO => Some(*venue),
            _ => None,
        };
        #[cfg(feature = "fault-injection")]
        if self.kill_after == Some(self.records)
            || (fill_from.is_some() && fill_from == self.kill_before_fill_on)
        {
            if self.kill_torn {
                let _ = self.file.write_all(&bytes[..bytes.len() / 2]);
            }
            // SAFETY: kill(2) reads and writes no memory of ours; SIGKILL to our own pid ends
            // the process at once, which is the crash this fault injection asks for.
            unsafe {
                libc::kill(libc::getpid(), libc::SIGKILL);
            }
        }
        self.file.write_all(&bytes).map_err(io_err(&self.path))?;
        self.records += 1;
        self.chain = chain;
        let sync = match self.sync {
            SyncPolicy::Always => true,
            SyncPolicy::Trade => matches!(
                rec,
                Record::TradeOpen(_) | Record::Order(_) | Record::Snapshot(_)
            ),
            SyncPolicy::Never => false,
        };
        if sync {
            self.file.sync_data().map_err(io_err(&self.path))?;
        }
        Ok(())
    }

    pub fn sync(&mut self) -> Result<(), JournalError> {
        self.file.sync_data().map_err(io_err(&self.path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("tickcross-journal-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d.join(name)
    }

    fn kill(n: u64) -> Record {
        Record::Kill {
            ts_ns: n,
            source: "test".into(),
        }
    }

    fn three(name: &str) -> (PathBuf, Vec<u8>) {
        let p = tmp(name);
        let mut j = Journal::create(&p, SyncPolicy::Never).unwrap();
        for n in 0..3 {
            j.append(&kill(n)).unwrap();
        }
        drop(j);
        let data = std::fs::read(&p).unwrap();
        (p, data)
    }

    /// Byte offsets where records 0, 1, 2 start, and the end.
    fn starts(data: &[u8]) -> Vec<usize> {
        let mut at = MAGIC.len();
        let mut out = vec![at];
        while at < data.len() {
            let len = u32::from_le_bytes(data[at..at + 4].try_into().unwrap()) as usize;
            at += FRAME + len;
            out.push(at);
        }
        out
    }

    fn corrupt_index(data: &[u8]) -> usize {
        match parse(Path::new("j"), data) {
            Err(JournalError::Corrupt { index, .. }) => index,
            other => panic!("expected corruption, got {other:?}"),
        }
    }

    #[test]
    fn round_trip_and_torn_tail() {
        let (p, full) = three("torn.j");
        assert_eq!(full, encode_all(&[kill(0), kill(1), kill(2)]));
        let c = read(&p).unwrap();
        assert_eq!(c.records, vec![kill(0), kill(1), kill(2)]);
        assert!(c.torn.is_none());
        // every cut inside the last record is a torn tail of the first two
        let two = starts(&full)[2];
        for cut in two + 1..full.len() {
            let c = parse(&p, &full[..cut]).unwrap();
            assert_eq!(c.records.len(), 2, "cut {cut}");
            assert_eq!(
                c.torn,
                Some(TornTail {
                    offset: two as u64,
                    bytes: (cut - two) as u64
                })
            );
        }
        // reopening cuts it and appends after the good part, chained to it
        std::fs::write(&p, &full[..full.len() - 3]).unwrap();
        let c = read(&p).unwrap();
        let mut j = Journal::reopen(&p, SyncPolicy::Never, &c).unwrap();
        j.append(&kill(9)).unwrap();
        drop(j);
        assert_eq!(read(&p).unwrap().records, vec![kill(0), kill(1), kill(9)]);
    }

    #[test]
    fn a_corrupt_length_in_the_middle_is_corruption_not_a_torn_tail() {
        let (_, full) = three("len.j");
        let at = starts(&full)[1];
        // any damage to record 1's length: one bit, a huge length, a length past the end, zero
        let mut lengths: Vec<u32> = (0..32).map(|b| 1u32 << b).collect();
        lengths.extend([0, u32::MAX, full.len() as u32]);
        for x in lengths {
            let mut data = full.clone();
            let len = u32::from_le_bytes(data[at..at + 4].try_into().unwrap());
            let bad = if x.is_power_of_two() { len ^ x } else { x };
            data[at..at + 4].copy_from_slice(&bad.to_le_bytes());
            assert_eq!(corrupt_index(&data), 1, "length {bad}");
        }
    }

    #[test]
    fn a_bad_complete_record_is_corruption_even_at_the_end() {
        let (_, full) = three("crc.j");
        let s = starts(&full);
        for rec in 0..3 {
            // a flipped bit in the payload of any record, the last included
            let mut data = full.clone();
            data[s[rec] + FRAME + 3] ^= 0x01;
            assert_eq!(corrupt_index(&data), rec, "record {rec}");
            // or in its chain field
            let mut data = full.clone();
            data[s[rec] + 9] ^= 0x40;
            assert_eq!(corrupt_index(&data), rec, "chain of record {rec}");
        }
        assert!(matches!(
            parse(Path::new("j"), b"not a journal"),
            Err(JournalError::Magic { .. })
        ));
    }

    #[test]
    fn a_record_rewritten_with_its_own_checksum_breaks_the_chain_after_it() {
        let (_, full) = three("chain.j");
        let s = starts(&full);
        // record 1 replaced by another record framed as if it were the first: a valid CRC of
        // its own payload, but not chained to record 0
        let (forged, _) = encode(&kill(7), chain_seed());
        let mut data = full[..s[1]].to_vec();
        data.extend_from_slice(&forged);
        data.extend_from_slice(&full[s[2]..]);
        assert_eq!(corrupt_index(&data), 1);
        // a removed record: the next one no longer chains
        let mut data = full[..s[1]].to_vec();
        data.extend_from_slice(&full[s[2]..]);
        assert_eq!(corrupt_index(&data), 1);
        // a duplicated record
        let mut data = full[..s[2]].to_vec();
        data.extend_from_slice(&full[s[1]..]);
        assert_eq!(corrupt_index(&data), 2);
    }

    #[test]
    fn a_torn_start_is_an_empty_journal() {
        let (p, full) = three("start.j");
        let first = starts(&full)[1];
        for cut in 0..first {
            let c = parse(&p, &full[..cut]).unwrap_or_else(|e| panic!("cut {cut}: {e}"));
            assert!(c.is_empty(), "cut {cut}");
            assert_eq!(c.good_len, if cut < MAGIC.len() { 0 } else { 8 });
            assert_eq!(c.torn.is_some(), cut > 0 && cut != MAGIC.len(), "cut {cut}");
        }
        // something else than the start of a journal is not one
        assert!(matches!(parse(&p, b"TCX"), Err(JournalError::Magic { .. })));
    }

    #[test]
    fn a_version_1_journal_is_refused_saying_so() {
        let mut data = MAGIC_V1.to_vec();
        data.extend_from_slice(&[0; 20]);
        let e = parse(Path::new("old.j"), &data).unwrap_err();
        assert!(matches!(e, JournalError::OldVersion { .. }));
        assert!(e.to_string().contains("version 1"), "{e}");
    }
}
