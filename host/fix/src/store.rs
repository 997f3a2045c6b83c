//! The session's store on disk: sequence numbers and the application messages sent, so that a
//! restart resumes the session where it was and a ResendRequest can be answered.
//!
//! A directory holding two files:
//!
//! * `seqnums`: 42 bytes, `SSSSSSSSSSSSSSSSSSSS TTTTTTTTTTTTTTTTTTTT\n`, the next MsgSeqNum we
//!   send (S) and the next we expect (T), zero-padded to 20 digits, rewritten in place (one
//!   `pwrite` of 42 bytes at offset 0) whenever either changes: before a message we send goes on
//!   the wire, and after a message we received has been handled.
//! * `messages`: the application messages sent, appended in order, each as the ASCII line
//!   `<MsgSeqNum> <length>\n` followed by the message's `length` wire bytes and `\n`. Only
//!   application messages are kept: administrative ones are answered with SequenceReset-GapFill
//!   on a ResendRequest, as FIX prescribes.
//!
//! A message is appended to `messages`, then `seqnums` is written, then the message is sent. A
//! process killed in between leaves a message in `messages` whose number `seqnums` has not caught
//! up with yet; opening takes the larger of the two. A torn last record (killed mid-append) is
//! cut off with a warning. With `store_sync = "always"` each write is followed by fdatasync
//! (survives power loss); with `"never"` (the default) the OS writes back when it likes, which
//! survives a crash of the process.
//!
//! The directory is locked (`flock` on `seqnums`) while a session has it open: a second process
//! using the same store is refused.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

use super::config::StoreSync;

const SEQ_LEN: usize = 42;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("FIX store {path}: {err}")]
    Io { path: String, err: std::io::Error },
    #[error("FIX store {path}: seqnums is malformed ({why}); repair it or delete the store to start the session over at 1")]
    Malformed { path: String, why: String },
    #[error("FIX store {0}: in use by another process")]
    Locked(String),
    #[error("FIX store {path}: messages is corrupt at byte {offset}: {why}")]
    Corrupt {
        path: String,
        offset: u64,
        why: String,
    },
}

pub struct SeqStore {
    dir: PathBuf,
    seq_file: File,
    msg_file: File,
    msg_len: u64,
    sync: StoreSync,
    next_sender: u64,
    next_target: u64,
    /// MsgSeqNum -> (offset of the wire bytes, length) in `messages`.
    index: BTreeMap<u64, (u64, u32)>,
}

impl std::fmt::Debug for SeqStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeqStore")
            .field("dir", &self.dir)
            .field("next_sender", &self.next_sender)
            .field("next_target", &self.next_target)
            .field("messages", &self.index.len())
            .finish()
    }
}

fn io(path: &Path, err: std::io::Error) -> StoreError {
    StoreError::Io {
        path: path.display().to_string(),
        err,
    }
}

fn parse_seqnums(b: &[u8]) -> Result<(u64, u64), String> {
    if b.len() != SEQ_LEN || b[20] != b' ' || b[41] != b'\n' {
        return Err(format!("{} bytes, expected {SEQ_LEN}", b.len()));
    }
    let num = |r: &[u8]| {
        std::str::from_utf8(r)
            .ok()
            .filter(|t| t.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|t| t.parse::<u64>().ok())
            .filter(|&n| n >= 1)
            .ok_or_else(|| "not a positive number".to_string())
    };
    Ok((num(&b[..20])?, num(&b[21..41])?))
}

impl SeqStore {
    /// Opens (or creates, starting at 1 and 1) the store in `dir`.
    pub fn open(dir: &Path, sync: StoreSync) -> Result<SeqStore, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        let sp = dir.join("seqnums");
        let mut seq_file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&sp)
            .map_err(|e| io(&sp, e))?;
        // SAFETY: flock on a file descriptor we own; no memory is involved.
        let rc = unsafe { libc::flock(seq_file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc != 0 {
            return Err(StoreError::Locked(dir.display().to_string()));
        }
        let mut b = Vec::new();
        seq_file.read_to_end(&mut b).map_err(|e| io(&sp, e))?;
        let (mut next_sender, next_target) = if b.is_empty() {
            (1, 1)
        } else {
            parse_seqnums(&b).map_err(|why| StoreError::Malformed {
                path: dir.display().to_string(),
                why,
            })?
        };

        let mp = dir.join("messages");
        let mut msg_file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&mp)
            .map_err(|e| io(&mp, e))?;
        let mut all = Vec::new();
        msg_file.read_to_end(&mut all).map_err(|e| io(&mp, e))?;
        let mut index = BTreeMap::new();
        let mut pos = 0usize;
        let mut torn = None;
        while pos < all.len() {
            let Some(nl) = all[pos..].iter().position(|&c| c == b'\n') else {
                torn = Some(pos);
                break;
            };
            let line = &all[pos..pos + nl];
            let parsed = std::str::from_utf8(line).ok().and_then(|l| {
                let (s, n) = l.split_once(' ')?;
                Some((s.parse::<u64>().ok()?, n.parse::<u32>().ok()?))
            });
            let Some((seq, len)) = parsed else {
                if pos + nl + 1 >= all.len() {
                    torn = Some(pos);
                    break;
                }
                return Err(StoreError::Corrupt {
                    path: dir.display().to_string(),
                    offset: pos as u64,
                    why: "bad record header".into(),
                });
            };
            let start = pos + nl + 1;
            let end = start + len as usize;
            if end + 1 > all.len() {
                torn = Some(pos);
                break;
            }
            if all[end] != b'\n' {
                return Err(StoreError::Corrupt {
                    path: dir.display().to_string(),
                    offset: pos as u64,
                    why: "record not followed by a newline".into(),
                });
            }
            index.insert(seq, (start as u64, len));
            next_sender = next_sender.max(seq + 1);
            pos = end + 1;
        }
        if let Some(at) = torn {
            tracing::warn!(store = %dir.display(), offset = at, bytes = all.len() - at, "FIX store: torn last message record cut off");
            msg_file.set_len(at as u64).map_err(|e| io(&mp, e))?;
            pos = at;
        }
        msg_file
            .seek(SeekFrom::Start(pos as u64))
            .map_err(|e| io(&mp, e))?;
        let mut s = SeqStore {
            dir: dir.to_path_buf(),
            seq_file,
            msg_file,
            msg_len: pos as u64,
            sync,
            next_sender,
            next_target,
            index,
        };
        s.write_seqnums()?;
        Ok(s)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn next_sender(&self) -> u64 {
        self.next_sender
    }

    pub fn next_target(&self) -> u64 {
        self.next_target
    }

    fn write_seqnums(&mut self) -> Result<(), StoreError> {
        let s = format!("{:020} {:020}\n", self.next_sender, self.next_target);
        let p = self.dir.join("seqnums");
        self.seq_file
            .write_all_at(s.as_bytes(), 0)
            .map_err(|e| io(&p, e))?;
        if self.sync == StoreSync::Always {
            self.seq_file.sync_data().map_err(|e| io(&p, e))?;
        }
        Ok(())
    }

    pub fn set_next_sender(&mut self, n: u64) -> Result<(), StoreError> {
        self.next_sender = n;
        self.write_seqnums()
    }

    pub fn set_next_target(&mut self, n: u64) -> Result<(), StoreError> {
        self.next_target = n;
        self.write_seqnums()
    }

    /// Keeps an application message sent as `seq`.
    pub fn append(&mut self, seq: u64, wire: &[u8]) -> Result<(), StoreError> {
        let head = format!("{seq} {}\n", wire.len());
        let mut rec = Vec::with_capacity(head.len() + wire.len() + 1);
        rec.extend_from_slice(head.as_bytes());
        rec.extend_from_slice(wire);
        rec.push(b'\n');
        let p = self.dir.join("messages");
        self.msg_file.write_all(&rec).map_err(|e| io(&p, e))?;
        if self.sync == StoreSync::Always {
            self.msg_file.sync_data().map_err(|e| io(&p, e))?;
        }
        self.index
            .insert(seq, (self.msg_len + head.len() as u64, wire.len() as u32));
        self.msg_len += rec.len() as u64;
        Ok(())
    }

    /// The wire bytes of the application message sent as `seq`, if kept.
    pub fn get(&self, seq: u64) -> Option<Vec<u8>> {
        let &(off, len) = self.index.get(&seq)?;
        let mut b = vec![0u8; len as usize];
        self.msg_file.read_exact_at(&mut b, off).ok()?;
        Some(b)
    }

    /// MsgSeqNums of the application messages kept in `from..=to`.
    pub fn kept_in(&self, from: u64, to: u64) -> Vec<u64> {
        if from > to {
            return Vec::new();
        }
        self.index.range(from..=to).map(|(s, _)| *s).collect()
    }

    /// Starts over: both numbers 1, no messages kept (a Logon with ResetSeqNumFlag=Y).
    pub fn reset(&mut self) -> Result<(), StoreError> {
        let p = self.dir.join("messages");
        self.msg_file.set_len(0).map_err(|e| io(&p, e))?;
        self.msg_file
            .seek(SeekFrom::Start(0))
            .map_err(|e| io(&p, e))?;
        self.msg_len = 0;
        self.index.clear();
        self.next_sender = 1;
        self.next_target = 1;
        self.write_seqnums()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("tickcross-store-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn numbers_and_messages_survive_reopening() {
        let d = dir("reopen");
        {
            let mut s = SeqStore::open(&d, StoreSync::Never).unwrap();
            assert_eq!((s.next_sender(), s.next_target()), (1, 1));
            s.append(2, b"8=FIX.4.4\x01two").unwrap();
            s.set_next_sender(3).unwrap();
            s.append(5, b"five\n\nlines").unwrap();
            s.set_next_sender(6).unwrap();
            s.set_next_target(9).unwrap();
        }
        let text = std::fs::read_to_string(d.join("seqnums")).unwrap();
        assert_eq!(text, "00000000000000000006 00000000000000000009\n");
        let s = SeqStore::open(&d, StoreSync::Always).unwrap();
        assert_eq!((s.next_sender(), s.next_target()), (6, 9));
        assert_eq!(s.get(2).unwrap(), b"8=FIX.4.4\x01two");
        assert_eq!(s.get(5).unwrap(), b"five\n\nlines");
        assert_eq!(s.get(3), None);
        assert_eq!(s.kept_in(1, 10), vec![2, 5]);
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn second_opener_is_refused_and_a_message_ahead_of_seqnums_counts() {
        let d = dir("lock");
        let mut s = SeqStore::open(&d, StoreSync::Never).unwrap();
        assert!(matches!(
            SeqStore::open(&d, StoreSync::Never),
            Err(StoreError::Locked(_))
        ));
        // killed after appending message 1 but before seqnums moved on
        s.append(1, b"one").unwrap();
        drop(s);
        let mut s = SeqStore::open(&d, StoreSync::Never).unwrap();
        assert_eq!(s.next_sender(), 2);
        s.reset().unwrap();
        assert_eq!((s.next_sender(), s.next_target()), (1, 1));
        assert_eq!(s.get(1), None);
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn torn_record_is_cut_and_malformed_seqnums_is_an_error() {
        let d = dir("torn");
        {
            let mut s = SeqStore::open(&d, StoreSync::Never).unwrap();
            s.append(1, b"one").unwrap();
        }
        let mut f = OpenOptions::new()
            .append(true)
            .open(d.join("messages"))
            .unwrap();
        f.write_all(b"2 100\nshort").unwrap();
        drop(f);
        {
            let mut s = SeqStore::open(&d, StoreSync::Never).unwrap();
            assert_eq!(s.kept_in(1, 9), vec![1]);
            s.append(2, b"two").unwrap();
        }
        let s = SeqStore::open(&d, StoreSync::Never).unwrap();
        assert_eq!(s.get(2).unwrap(), b"two");
        drop(s);
        std::fs::write(d.join("seqnums"), "garbage").unwrap();
        let e = SeqStore::open(&d, StoreSync::Never).unwrap_err();
        assert!(e.to_string().contains("malformed"), "{e}");
        let _ = std::fs::remove_dir_all(&d);
    }
}
