//! The append-only trading journal: every order, execution report, transfer, venue change and
//! balance snapshot, in the order they happened, each record checksummed.
//!
//! File format: the 8 bytes `TCJRNL01`, then records, each
//! `[u32 LE payload length][u32 LE CRC-32 (IEEE) of the payload][payload: one JSON object]`.
//! Every record is written with one `write(2)` as soon as it exists, before the engine acts on it
//! (a trade's two orders are one record, written before either leaves), so a killed process
//! loses nothing it acted on. Durability against power loss follows `[journal] sync`:
//! `always` fdatasyncs after every record; `trade` (the default) after each trade record, each
//! unwind order and each snapshot, that is before any order leaves; `never` leaves it to the OS.
//!
//! Reading: a last record that is incomplete or fails its checksum is a torn write (the process
//! died mid-append); it is reported and cut. A bad record followed by more data is corruption
//! and an error: nothing after it can be trusted.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::config::SyncPolicy;
use super::ledger::Transfer;
use super::money::FeeCharge;
use super::venue::{ExecReport, OrderId, Side};

pub const MAGIC: &[u8; 8] = b"TCJRNL01";
pub const VERSION: u32 = 1;
/// A record longer than this is not one (a corrupt length).
const MAX_RECORD: u32 = 16 << 20;

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
    /// Venue units.
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
    CancelSent {
        ts_ns: u64,
        order_id: OrderId,
        why: String,
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

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("journal {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("journal {path}: not a tickcross journal (bad magic)")]
    Magic { path: PathBuf },
    #[error("journal {path}: record {index} at byte {offset} is corrupt ({what}) and more data follows; refusing to go on")]
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
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> JournalError + '_ {
    move |source| JournalError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Reads a journal; a torn last record is reported in `torn`, not an error.
pub fn read(path: &Path) -> Result<JournalContents, JournalError> {
    let mut data = Vec::new();
    File::open(path)
        .and_then(|mut f| f.read_to_end(&mut data))
        .map_err(io_err(path))?;
    parse(path, &data)
}

fn parse(path: &Path, data: &[u8]) -> Result<JournalContents, JournalError> {
    if data.len() < MAGIC.len() {
        // a journal killed while writing its magic holds nothing
        if MAGIC.starts_with(data) {
            return Ok(JournalContents {
                records: vec![],
                torn: (!data.is_empty()).then_some(TornTail {
                    offset: 0,
                    bytes: data.len() as u64,
                }),
                good_len: 0,
            });
        }
        return Err(JournalError::Magic {
            path: path.to_path_buf(),
        });
    }
    if &data[..8] != MAGIC {
        return Err(JournalError::Magic {
            path: path.to_path_buf(),
        });
    }
    let mut at = MAGIC.len();
    let mut records = Vec::new();
    while at < data.len() {
        let rest = &data[at..];
        let bad = |what: String, is_last: bool| -> Result<JournalContents, JournalError> {
            if is_last {
                Ok(JournalContents {
                    records: Vec::new(),
                    torn: Some(TornTail {
                        offset: at as u64,
                        bytes: rest.len() as u64,
                    }),
                    good_len: at as u64,
                })
            } else {
                Err(JournalError::Corrupt {
                    path: path.to_path_buf(),
                    index: records.len(),
                    offset: at as u64,
                    what,
                })
            }
        };
        if rest.len() < 8 {
            let mut r = bad("incomplete header".into(), true)?;
            r.records = records;
            return Ok(r);
        }
        let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]);
        let crc = u32::from_le_bytes([rest[4], rest[5], rest[6], rest[7]]);
        if len > MAX_RECORD {
            // an absurd length: torn only if nothing could follow it
            let mut r = bad(format!("length {len}"), true)?;
            r.records = records;
            return Ok(r);
        }
        let end = 8 + len as usize;
        if rest.len() < end {
            let mut r = bad("incomplete payload".into(), true)?;
            r.records = records;
            return Ok(r);
        }
        let payload = &rest[8..end];
        let is_last = rest.len() == end;
        if crc32fast::hash(payload) != crc {
            let mut r = bad("checksum mismatch".into(), is_last)?;
            r.records = records;
            return Ok(r);
        }
        match serde_json::from_slice::<Record>(payload) {
            Ok(rec) => records.push(rec),
            Err(e) => {
                // a checksummed record that does not parse was written by something else
                return Err(JournalError::Corrupt {
                    path: path.to_path_buf(),
                    index: records.len(),
                    offset: at as u64,
                    what: format!("unreadable record: {e}"),
                });
            }
        }
        at += end;
    }
    Ok(JournalContents {
        records,
        torn: None,
        good_len: at as u64,
    })
}

/// Frames one record.
pub fn encode(rec: &Record) -> Vec<u8> {
    let payload = serde_json::to_vec(rec).expect("journal records serialize");
    let mut out = Vec::with_capacity(payload.len() + 8);
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
    out.extend_from_slice(&payload);
    out
}

/// A journal open for appending.
pub struct Journal {
    file: File,
    path: PathBuf,
    sync: SyncPolicy,
    records: u64,
    /// Fault injection for crash tests: die (SIGKILL) once this many records are written.
    kill_after: Option<u64>,
    /// With `kill_after`: write only half of the next record first, a torn write.
    kill_torn: bool,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal")
            .field("path", &self.path)
            .field("records", &self.records)
            .finish()
    }
}

/// Environment variable: SIGKILL the process after this many records (crash tests).
pub const ENV_KILL_AFTER: &str = "TICKCROSS_FAULT_KILL_AFTER_RECORDS";
/// Environment variable: with the above, tear the next record in half first.
pub const ENV_KILL_TORN: &str = "TICKCROSS_FAULT_TORN_WRITE";

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
        Journal::finish_open(file, path, sync, 0)
    }

    /// Opens an existing journal for appending after `good_len` bytes (cutting a torn tail).
    pub fn reopen(
        path: &Path,
        sync: SyncPolicy,
        good_len: u64,
        records: u64,
    ) -> Result<Journal, JournalError> {
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
        Journal::finish_open(file, path, sync, records)
    }

    fn finish_open(
        file: File,
        path: &Path,
        sync: SyncPolicy,
        records: u64,
    ) -> Result<Journal, JournalError> {
        let kill_after = std::env::var(ENV_KILL_AFTER)
            .ok()
            .and_then(|v| v.parse().ok());
        Ok(Journal {
            file,
            path: path.to_path_buf(),
            sync,
            records,
            kill_after,
            kill_torn: std::env::var(ENV_KILL_TORN).is_ok_and(|v| v == "1"),
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
        let bytes = encode(rec);
        if self.kill_after == Some(self.records) {
            if self.kill_torn {
                let _ = self.file.write_all(&bytes[..bytes.len() / 2]);
            }
            // SAFETY: sending a signal to our own process.
            unsafe {
                libc::kill(libc::getpid(), libc::SIGKILL);
            }
        }
        self.file.write_all(&bytes).map_err(io_err(&self.path))?;
        self.records += 1;
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

    #[test]
    fn round_trip_and_torn_tail() {
        let p = tmp("torn.j");
        let mut j = Journal::create(&p, SyncPolicy::Never).unwrap();
        for n in 0..3 {
            j.append(&kill(n)).unwrap();
        }
        drop(j);
        let full = std::fs::read(&p).unwrap();
        let c = read(&p).unwrap();
        assert_eq!(c.records, vec![kill(0), kill(1), kill(2)]);
        assert!(c.torn.is_none());
        // every cut inside the last record is a torn tail of the first two
        let two = MAGIC.len() + encode(&kill(0)).len() + encode(&kill(1)).len();
        for cut in two + 1..full.len() {
            std::fs::write(&p, &full[..cut]).unwrap();
            let c = read(&p).unwrap();
            assert_eq!(c.records.len(), 2, "cut {cut}");
            assert_eq!(
                c.torn,
                Some(TornTail {
                    offset: two as u64,
                    bytes: (cut - two) as u64
                })
            );
        }
        // reopening cuts it and appends after the good part
        std::fs::write(&p, &full[..full.len() - 3]).unwrap();
        let c = read(&p).unwrap();
        let mut j = Journal::reopen(&p, SyncPolicy::Never, c.good_len, 2).unwrap();
        j.append(&kill(9)).unwrap();
        drop(j);
        assert_eq!(read(&p).unwrap().records, vec![kill(0), kill(1), kill(9)]);
    }

    #[test]
    fn corruption_in_the_middle_is_an_error() {
        let p = tmp("corrupt.j");
        let mut j = Journal::create(&p, SyncPolicy::Never).unwrap();
        for n in 0..3 {
            j.append(&kill(n)).unwrap();
        }
        drop(j);
        let mut data = std::fs::read(&p).unwrap();
        let at = MAGIC.len() + encode(&kill(0)).len() + 12;
        data[at] ^= 0x20;
        std::fs::write(&p, &data).unwrap();
        let e = read(&p).unwrap_err();
        assert!(e.to_string().contains("record 1"), "{e}");
        // a flipped bit in the last record is indistinguishable from a torn write
        let mut data = std::fs::read(&p).unwrap();
        data[at] ^= 0x20;
        let last = data.len() - 2;
        data[last] ^= 0x01;
        std::fs::write(&p, &data).unwrap();
        let c = read(&p).unwrap();
        assert_eq!(c.records.len(), 2);
        assert!(c.torn.is_some());
        std::fs::write(&p, b"not a journal").unwrap();
        assert!(matches!(read(&p), Err(JournalError::Magic { .. })));
    }
}
