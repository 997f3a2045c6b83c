//! The FIX session layer (initiator side), as a state machine without I/O: bytes to send are
//! appended to an output buffer, what the application needs to know comes back as
//! [`SessionEvent`]s. The connection (`FixVenue`'s session thread) feeds it what it reads and the
//! clock.
//!
//! * Logon: `98=0`, `108=heartbeat`, `141=Y` when resetting (the store starts over at 1), the
//!   authentication fields, the dictionary's extras. Until the answer, only a Logon or a Logout
//!   (a refusal) is accepted; no answer within the logon timeout drops the connection.
//! * Sequence numbers: every message received must carry the next expected MsgSeqNum. Higher: a
//!   gap; the message is held, a ResendRequest(2) `7=expected|16=0` goes out (one at a time), and
//!   held messages are handled in order as the gap fills (a Logon, Logout or ResendRequest in a
//!   gap is acted on at once). Lower without PossDupFlag(43)=Y: Logout and disconnect (FIX's
//!   rule); lower with it: a duplicate, ignored. SequenceReset(4) GapFill moves the expected
//!   number up; Reset mode sets it outright.
//! * ResendRequest from the venue: application messages kept in the store are resent with
//!   PossDupFlag=Y and OrigSendingTime(122), runs of administrative (or missing) messages become
//!   one SequenceReset-GapFill each; an application message older than `resend_max_age` is
//!   gap-filled instead and reported (it never reached the venue).
//! * Heartbeat after `heartbeat_s` without sending; TestRequest after 1.2 x `heartbeat_s`
//!   without receiving; nothing received for another `heartbeat_s` after it: disconnect.
//! * A well-framed message with a bad header field gets a Reject(3) (its number is still used);
//!   garbled bytes (checksum, length) are dropped without using a number, as FIX prescribes.
//! * Logout: ours waits for the venue's answer (or a timeout); theirs is answered, then the
//!   connection closes.

mod heartbeat;
mod inbound;
mod logon;
mod outbound;
mod reject;
mod sequence;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use crate::auth::Credentials;
use crate::codec::{self, Message};
use crate::dictionary::Dictionary;
use crate::store::{SeqStore, StoreError};

#[derive(Debug, Clone)]
pub struct SessionConfig {
    pub begin: String,
    pub sender: String,
    pub target: String,
    pub heartbeat_s: u64,
    pub dictionary: Dictionary,
    pub reset_on_logon: bool,
    pub logon_timeout_ns: u64,
    pub logout_timeout_ns: u64,
    /// Application messages older than this are gap-filled rather than resent.
    pub resend_max_age_ns: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Disconnected,
    LogonSent { at: u64 },
    Active,
    LogoutSent { at: u64 },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionEvent {
    LoggedOn,
    /// An application message, in sequence order.
    App {
        seq: u64,
        msg: Message,
    },
    /// The venue refused one of our messages with a session-level Reject(3).
    Rejected {
        ref_seq: Option<u64>,
        ref_msg_type: Option<String>,
        text: String,
    },
    /// An application message of ours that the venue asked again for but was too old to resend:
    /// it never reached the venue.
    NotResent {
        msg: Message,
    },
    /// Close the connection (after writing what is in the output buffer).
    Disconnect {
        reason: String,
    },
}

/// Counters, for tests and logs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionStats {
    pub logons: u64,
    pub sent: u64,
    pub received: u64,
    pub garbled: u64,
    pub heartbeats_sent: u64,
    pub test_requests_sent: u64,
    pub resend_requests_sent: u64,
    pub resend_requests_received: u64,
    pub messages_resent: u64,
    pub gap_fills_sent: u64,
    pub gap_fills_received: u64,
    pub gaps_skipped: u64,
    pub duplicates_ignored: u64,
    pub rejects_sent: u64,
    pub rejects_received: u64,
    pub business_rejects_sent: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub struct Session {
    cfg: SessionConfig,
    creds: Credentials,
    store: SeqStore,
    phase: Phase,
    /// Messages received ahead of a gap: MsgSeqNum -> (message, already acted on).
    queue: BTreeMap<u64, (Message, bool)>,
    /// A ResendRequest is out until the expected number passes this.
    resend_until: Option<u64>,
    last_sent: u64,
    last_recv: u64,
    test_req: Option<(String, u64)>,
    pub stats: SessionStats,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("sender", &self.cfg.sender)
            .field("target", &self.cfg.target)
            .field("phase", &self.phase)
            .field("store", &self.store)
            .finish()
    }
}

impl Session {
    pub fn new(cfg: SessionConfig, creds: Credentials, store: SeqStore) -> Session {
        Session {
            cfg,
            creds,
            store,
            phase: Phase::Disconnected,
            queue: BTreeMap::new(),
            resend_until: None,
            last_sent: 0,
            last_recv: 0,
            test_req: None,
            stats: SessionStats::default(),
        }
    }

    pub fn config(&self) -> &SessionConfig {
        &self.cfg
    }

    pub fn phase(&self) -> Phase {
        self.phase
    }

    pub fn is_active(&self) -> bool {
        self.phase == Phase::Active
    }

    pub fn store(&self) -> &SeqStore {
        &self.store
    }

    pub fn next_sender(&self) -> u64 {
        self.store.next_sender()
    }

    pub fn next_target(&self) -> u64 {
        self.store.next_target()
    }

    /// Test hook: skips `n` outgoing sequence numbers (the venue sees a gap).
    pub fn skip_outgoing(&mut self, n: u64) -> Result<(), SessionError> {
        let s = self.store.next_sender();
        self.store.set_next_sender(s + n)?;
        Ok(())
    }

    /// The application message we sent as `seq`, from the store.
    pub fn sent_message(&self, seq: u64) -> Option<Message> {
        let wire = self.store.get(seq)?;
        match codec::decode(&wire) {
            codec::Decoded::Message { msg, .. } => Some(msg),
            _ => None,
        }
    }
}

pub fn is_admin(msg_type: &str) -> bool {
    matches!(msg_type, "0" | "1" | "2" | "3" | "4" | "5" | "A")
}
