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

use std::collections::BTreeMap;

use super::auth::{Credentials, LogonHeader};
use super::codec::{self, CodecError, Message, RejectReason};
use super::dictionary::Dictionary;
use super::store::{SeqStore, StoreError};

/// Header tags, not copied when a message is resent.
const HEADER_TAGS: &[u32] = &[8, 9, 10, 34, 35, 43, 49, 52, 56, 97, 122];

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

    fn header(&self, msg_type: &str, seq: u64, now: u64) -> (Message, String) {
        let mut m = Message::new(msg_type);
        let t = codec::utc_timestamp(now);
        m.push(49, &self.cfg.sender)
            .push(56, &self.cfg.target)
            .push_u64(34, seq)
            .push(52, &t);
        (m, t)
    }

    fn copy_body(into: &mut Message, body: &Message) {
        for (tag, v) in body.fields().skip(1) {
            if !HEADER_TAGS.contains(&tag) {
                into.push(tag, v);
            }
        }
    }

    /// Sends a message with the next MsgSeqNum; application messages are kept in the store.
    /// Returns its MsgSeqNum. `wire_out` says whether it goes on the wire (a test hook drops it).
    pub fn send_message(
        &mut self,
        body: &Message,
        now: u64,
        out: &mut Vec<u8>,
        wire_out: bool,
    ) -> Result<u64, SessionError> {
        let seq = self.store.next_sender();
        let (mut m, _) = self.header(body.msg_type(), seq, now);
        Self::copy_body(&mut m, body);
        let start = out.len();
        codec::encode(&self.cfg.begin, &m, out);
        if !is_admin(body.msg_type()) {
            self.store.append(seq, &out[start..])?;
        }
        self.store.set_next_sender(seq + 1)?;
        if !wire_out {
            out.truncate(start);
        }
        self.last_sent = now;
        self.stats.sent += 1;
        tracing::trace!(msg = %m.display_redacted(), "FIX out");
        Ok(seq)
    }

    fn send_admin(
        &mut self,
        body: Message,
        now: u64,
        out: &mut Vec<u8>,
    ) -> Result<u64, SessionError> {
        self.send_message(&body, now, out, true)
    }

    /// A new connection: sends the Logon.
    pub fn on_connected(&mut self, now: u64, out: &mut Vec<u8>) -> Result<(), SessionError> {
        if self.cfg.reset_on_logon {
            self.store.reset()?;
        }
        self.queue.clear();
        self.resend_until = None;
        self.test_req = None;
        self.last_recv = now;
        let seq = self.store.next_sender();
        let (mut m, t) = self.header("A", seq, now);
        m.push(98, "0").push_u64(108, self.cfg.heartbeat_s);
        if self.cfg.reset_on_logon {
            m.push(141, "Y");
        }
        self.creds.logon_fields(
            &mut m,
            &LogonHeader {
                sender_comp_id: &self.cfg.sender,
                target_comp_id: &self.cfg.target,
                msg_seq_num: seq,
                sending_time: &t,
            },
        );
        self.cfg.dictionary.logon_extra(&mut m);
        codec::encode(&self.cfg.begin, &m, out);
        self.store.set_next_sender(seq + 1)?;
        self.last_sent = now;
        self.stats.sent += 1;
        self.phase = Phase::LogonSent { at: now };
        tracing::debug!(msg = %m.display_redacted(), "FIX logon sent");
        Ok(())
    }

    pub fn on_disconnected(&mut self) {
        self.phase = Phase::Disconnected;
        self.queue.clear();
        self.resend_until = None;
        self.test_req = None;
    }

    pub fn on_garbled(&mut self, err: &CodecError) {
        self.stats.garbled += 1;
        tracing::warn!(target_comp_id = %self.cfg.target, "FIX: garbled input dropped: {err}");
    }

    /// Starts a Logout of ours.
    pub fn logout(&mut self, text: &str, now: u64, out: &mut Vec<u8>) -> Result<(), SessionError> {
        let mut m = Message::new("5");
        if !text.is_empty() {
            m.push(58, text);
        }
        self.send_admin(m, now, out)?;
        self.phase = Phase::LogoutSent { at: now };
        Ok(())
    }

    /// Sends a session-level Reject(3) of a message received.
    #[allow(clippy::too_many_arguments)]
    pub fn reject(
        &mut self,
        ref_seq: u64,
        ref_msg_type: &str,
        tag: Option<u32>,
        reason: RejectReason,
        text: &str,
        now: u64,
        out: &mut Vec<u8>,
    ) -> Result<(), SessionError> {
        tracing::warn!(
            ref_seq,
            ref_msg_type,
            ?tag,
            "FIX: rejecting a message: {reason}: {text}"
        );
        let mut m = Message::new("3");
        m.push_u64(45, ref_seq);
        if let Some(t) = tag {
            m.push_u64(371, u64::from(t));
        }
        if !ref_msg_type.is_empty() {
            m.push(372, ref_msg_type);
        }
        m.push_u64(373, u64::from(reason.code()));
        m.push(58, text);
        self.stats.rejects_sent += 1;
        self.send_admin(m, now, out).map(|_| ())
    }

    /// Sends a BusinessMessageReject(j) (e.g. an application message type we do not handle).
    #[allow(clippy::too_many_arguments)]
    pub fn business_reject(
        &mut self,
        ref_seq: u64,
        ref_msg_type: &str,
        ref_id: Option<&str>,
        reason: u32,
        text: &str,
        now: u64,
        out: &mut Vec<u8>,
    ) -> Result<(), SessionError> {
        let mut m = Message::new("j");
        m.push_u64(45, ref_seq).push(372, ref_msg_type);
        if let Some(id) = ref_id {
            m.push(379, id);
        }
        m.push_u64(380, u64::from(reason)).push(58, text);
        self.stats.business_rejects_sent += 1;
        self.send_message(&m, now, out, true).map(|_| ())
    }

    fn fatal(
        &mut self,
        reason: String,
        now: u64,
        out: &mut Vec<u8>,
        ev: &mut Vec<SessionEvent>,
    ) -> Result<(), SessionError> {
        tracing::error!(target_comp_id = %self.cfg.target, "FIX session error: {reason}");
        if self.phase != Phase::Disconnected {
            let mut m = Message::new("5");
            m.push(58, &reason);
            self.send_admin(m, now, out)?;
        }
        ev.push(SessionEvent::Disconnect { reason });
        Ok(())
    }

    fn incr_target(&mut self) -> Result<(), SessionError> {
        let n = self.store.next_target();
        self.store.set_next_target(n + 1)?;
        Ok(())
    }

    /// Handles one message received.
    pub fn on_message(
        &mut self,
        begin: &str,
        msg: Message,
        now: u64,
        out: &mut Vec<u8>,
        ev: &mut Vec<SessionEvent>,
    ) -> Result<(), SessionError> {
        self.last_recv = now;
        self.stats.received += 1;
        tracing::trace!(msg = %msg.display_redacted(), "FIX in");
        if self.phase == Phase::Disconnected {
            return Ok(());
        }
        if begin != self.cfg.begin {
            return self.fatal(
                format!("BeginString {begin:?}, expected {:?}", self.cfg.begin),
                now,
                out,
                ev,
            );
        }
        let mt = msg.msg_type().to_string();
        let Ok(seq) = msg.req_u64(34) else {
            return self.fatal(
                format!("a message (MsgType {mt:?}) without a valid MsgSeqNum(34)"),
                now,
                out,
                ev,
            );
        };
        if let Phase::LogonSent { .. } = self.phase {
            if mt == "5" {
                let text = msg.get(58).unwrap_or("").to_string();
                ev.push(SessionEvent::Disconnect {
                    reason: format!("logon refused: {text}"),
                });
                return Ok(());
            }
            if mt != "A" {
                return self.fatal(
                    format!("first message is MsgType {mt:?}, not a Logon"),
                    now,
                    out,
                    ev,
                );
            }
        }
        if msg.get(49) != Some(self.cfg.target.as_str())
            || msg.get(56) != Some(self.cfg.sender.as_str())
        {
            let text = format!(
                "CompID problem: SenderCompID {:?} TargetCompID {:?}, expected {:?} {:?}",
                msg.get(49).unwrap_or(""),
                msg.get(56).unwrap_or(""),
                self.cfg.target,
                self.cfg.sender
            );
            self.reject(
                seq,
                &mt,
                Some(49),
                RejectReason::CompIdProblem,
                &text,
                now,
                out,
            )?;
            return self.fatal(text, now, out, ev);
        }
        let expected = self.store.next_target();
        if mt == "4" && msg.get_bool(123) != Ok(Some(true)) {
            // SequenceReset, Reset mode: the number is set regardless of MsgSeqNum
            match msg.req_u64(36) {
                Ok(new) if new >= expected => {
                    tracing::warn!(from = expected, to = new, "FIX: SequenceReset (reset mode)");
                    self.store.set_next_target(new)?;
                    self.stats.gap_fills_received += 1;
                }
                Ok(new) => {
                    self.reject(
                        seq,
                        &mt,
                        Some(36),
                        RejectReason::ValueIncorrect,
                        &format!("NewSeqNo {new} below the expected {expected}"),
                        now,
                        out,
                    )?;
                }
                Err(e) => {
                    self.reject(seq, &mt, Some(36), e.reason, "NewSeqNo(36)", now, out)?;
                }
            }
            return self.drain_queue(now, out, ev);
        }
        if seq > expected {
            return self.on_gap(seq, expected, msg, &mt, now, out, ev);
        }
        if seq < expected {
            if msg.get_bool(43) == Ok(Some(true)) {
                self.stats.duplicates_ignored += 1;
                tracing::debug!(seq, expected, "FIX: duplicate (PossDupFlag=Y) ignored");
                return Ok(());
            }
            return self.fatal(
                format!("MsgSeqNum too low, expecting {expected} but received {seq}"),
                now,
                out,
                ev,
            );
        }
        self.process(seq, msg, false, now, out, ev)?;
        self.drain_queue(now, out, ev)
    }

    #[allow(clippy::too_many_arguments)]
    fn on_gap(
        &mut self,
        seq: u64,
        expected: u64,
        msg: Message,
        mt: &str,
        now: u64,
        out: &mut Vec<u8>,
        ev: &mut Vec<SessionEvent>,
    ) -> Result<(), SessionError> {
        if !self.cfg.dictionary.supports_resend() {
            tracing::warn!(
                expected,
                received = seq,
                dictionary = self.cfg.dictionary.name(),
                "FIX: gap of {} messages from the venue; the venue does not support resend: skipped",
                seq - expected
            );
            self.stats.gaps_skipped += 1;
            self.store.set_next_target(seq)?;
            self.process(seq, msg, false, now, out, ev)?;
            return self.drain_queue(now, out, ev);
        }
        tracing::info!(expected, received = seq, msg_type = mt, "FIX: sequence gap");
        let handled = match mt {
            "A" => {
                self.on_logon(ev);
                true
            }
            "5" => {
                self.process(seq, msg.clone(), false, now, out, ev)?;
                return Ok(());
            }
            "2" => {
                self.answer_resend(seq, &msg, now, out, ev)?;
                true
            }
            _ => false,
        };
        self.queue.entry(seq).or_insert((msg, handled));
        if self.resend_until.is_none() {
            let mut m = Message::new("2");
            m.push_u64(7, expected).push_u64(16, 0);
            self.send_admin(m, now, out)?;
            self.stats.resend_requests_sent += 1;
            self.resend_until = Some(seq);
        }
        Ok(())
    }

    fn drain_queue(
        &mut self,
        now: u64,
        out: &mut Vec<u8>,
        ev: &mut Vec<SessionEvent>,
    ) -> Result<(), SessionError> {
        loop {
            let exp = self.store.next_target();
            while let Some((&s, _)) = self.queue.first_key_value() {
                if s >= exp {
                    break;
                }
                self.queue.remove(&s);
            }
            let Some((m, handled)) = self.queue.remove(&exp) else {
                break;
            };
            self.process(exp, m, handled, now, out, ev)?;
            if self.phase == Phase::Disconnected {
                break;
            }
        }
        if self
            .resend_until
            .is_some_and(|u| self.store.next_target() > u)
        {
            self.resend_until = None;
        }
        Ok(())
    }

    fn on_logon(&mut self, ev: &mut Vec<SessionEvent>) {
        if self.phase == Phase::Active {
            tracing::warn!("FIX: a second Logon ignored");
            return;
        }
        self.phase = Phase::Active;
        self.stats.logons += 1;
        tracing::info!(
            sender = %self.cfg.sender,
            target = %self.cfg.target,
            next_out = self.store.next_sender(),
            next_in = self.store.next_target(),
            "FIX session logged on"
        );
        ev.push(SessionEvent::LoggedOn);
    }

    /// A message with the expected MsgSeqNum (or a held one whose turn has come).
    fn process(
        &mut self,
        seq: u64,
        msg: Message,
        handled: bool,
        now: u64,
        out: &mut Vec<u8>,
        ev: &mut Vec<SessionEvent>,
    ) -> Result<(), SessionError> {
        let mt = msg.msg_type().to_string();
        if !handled {
            let sending_time = msg.req(52).and_then(|v| {
                codec::parse_utc_timestamp(v).ok_or(codec::FieldError {
                    tag: 52,
                    reason: RejectReason::IncorrectDataFormat,
                })
            });
            if let Err(e) = sending_time {
                self.incr_target()?;
                return self.reject(seq, &mt, Some(52), e.reason, "SendingTime(52)", now, out);
            }
        }
        if handled {
            return self.incr_target();
        }
        match mt.as_str() {
            "0" => {
                self.incr_target()?;
                if let (Some(id), Some((want, _))) = (msg.get(112), &self.test_req) {
                    if id == want {
                        self.test_req = None;
                    }
                }
            }
            "1" => {
                self.incr_target()?;
                match msg.req(112) {
                    Ok(id) => {
                        let mut m = Message::new("0");
                        m.push(112, id);
                        self.send_admin(m, now, out)?;
                        self.stats.heartbeats_sent += 1;
                    }
                    Err(e) => {
                        self.reject(seq, &mt, Some(112), e.reason, "TestReqID(112)", now, out)?
                    }
                }
            }
            "2" => {
                self.incr_target()?;
                self.answer_resend(seq, &msg, now, out, ev)?;
            }
            "3" => {
                self.incr_target()?;
                self.stats.rejects_received += 1;
                let text = self.cfg.dictionary.reject_text(&msg);
                let reason = msg.get(373).unwrap_or("");
                let tag = msg.get(371).unwrap_or("");
                tracing::warn!(ref_seq = ?msg.get(45), reason, tag, "FIX: the venue rejected our message: {text}");
                ev.push(SessionEvent::Rejected {
                    ref_seq: msg.get_u64(45).ok().flatten(),
                    ref_msg_type: msg.get(372).map(str::to_string),
                    text: format!(
                        "session reject{}{}: {text}",
                        if reason.is_empty() { "" } else { " reason " },
                        reason
                    ),
                });
            }
            "4" => match msg.req_u64(36) {
                Ok(new) if new > seq => {
                    self.stats.gap_fills_received += 1;
                    self.store.set_next_target(new)?;
                }
                Ok(new) => {
                    self.incr_target()?;
                    self.reject(
                        seq,
                        &mt,
                        Some(36),
                        RejectReason::ValueIncorrect,
                        &format!("GapFill NewSeqNo {new} not above its MsgSeqNum {seq}"),
                        now,
                        out,
                    )?;
                }
                Err(e) => {
                    self.incr_target()?;
                    self.reject(seq, &mt, Some(36), e.reason, "NewSeqNo(36)", now, out)?;
                }
            },
            "5" => {
                self.incr_target()?;
                let text = msg.get(58).unwrap_or("").to_string();
                if let Phase::LogoutSent { .. } = self.phase {
                    ev.push(SessionEvent::Disconnect {
                        reason: "logged out".into(),
                    });
                } else {
                    tracing::warn!("FIX: the venue logged out: {text}");
                    self.send_admin(Message::new("5"), now, out)?;
                    ev.push(SessionEvent::Disconnect {
                        reason: format!("the venue logged out: {text}"),
                    });
                }
                self.phase = Phase::Disconnected;
            }
            "A" => {
                self.incr_target()?;
                self.on_logon(ev);
            }
            _ => {
                self.incr_target()?;
                ev.push(SessionEvent::App { seq, msg });
            }
        }
        Ok(())
    }

    fn answer_resend(
        &mut self,
        seq: u64,
        msg: &Message,
        now: u64,
        out: &mut Vec<u8>,
        ev: &mut Vec<SessionEvent>,
    ) -> Result<(), SessionError> {
        self.stats.resend_requests_received += 1;
        let (begin, end) = match (msg.req_u64(7), msg.req_u64(16)) {
            (Ok(b), Ok(e)) => (b, e),
            (Err(e), _) | (_, Err(e)) => {
                return self.reject(seq, "2", Some(e.tag), e.reason, "ResendRequest", now, out)
            }
        };
        let last = self.store.next_sender().saturating_sub(1);
        let end = if end == 0 || end > last { last } else { end };
        tracing::info!(begin, end, "FIX: the venue asks for a resend");
        if begin == 0 || begin > end {
            return Ok(());
        }
        let mut next_gap = begin;
        for s in self.store.kept_in(begin, end) {
            let Some(orig) = self.sent_message(s) else {
                continue;
            };
            let orig_time = orig.get(52).unwrap_or("").to_string();
            let stale = match (
                self.cfg.resend_max_age_ns,
                codec::parse_utc_timestamp(&orig_time),
            ) {
                (Some(max), Some(t)) => now.saturating_sub(t) > max,
                _ => false,
            };
            if stale {
                tracing::warn!(
                    seq = s,
                    msg_type = orig.msg_type(),
                    "FIX: too old to resend: gap-filled"
                );
                ev.push(SessionEvent::NotResent { msg: orig });
                continue;
            }
            if next_gap < s {
                self.gap_fill(next_gap, s, now, out);
            }
            let mut m = Message::new(orig.msg_type());
            m.push(49, &self.cfg.sender)
                .push(56, &self.cfg.target)
                .push_u64(34, s)
                .push(43, "Y")
                .push(52, codec::utc_timestamp(now))
                .push(122, &orig_time);
            Self::copy_body(&mut m, &orig);
            codec::encode(&self.cfg.begin, &m, out);
            self.stats.messages_resent += 1;
            next_gap = s + 1;
        }
        if next_gap <= end {
            self.gap_fill(next_gap, end + 1, now, out);
        }
        self.last_sent = now;
        Ok(())
    }

    fn gap_fill(&mut self, from: u64, to: u64, now: u64, out: &mut Vec<u8>) {
        let t = codec::utc_timestamp(now);
        let mut m = Message::new("4");
        m.push(49, &self.cfg.sender)
            .push(56, &self.cfg.target)
            .push_u64(34, from)
            .push(43, "Y")
            .push(52, &t)
            .push(122, &t)
            .push(123, "Y")
            .push_u64(36, to);
        codec::encode(&self.cfg.begin, &m, out);
        self.stats.gap_fills_sent += 1;
    }

    /// Timers: logon and logout timeouts, heartbeats, test requests.
    pub fn tick(
        &mut self,
        now: u64,
        out: &mut Vec<u8>,
        ev: &mut Vec<SessionEvent>,
    ) -> Result<(), SessionError> {
        let hb = self.cfg.heartbeat_s.saturating_mul(1_000_000_000);
        match self.phase {
            Phase::Disconnected => {}
            Phase::LogonSent { at } => {
                if now.saturating_sub(at) > self.cfg.logon_timeout_ns {
                    ev.push(SessionEvent::Disconnect {
                        reason: format!(
                            "no Logon answer within {} s",
                            self.cfg.logon_timeout_ns / 1_000_000_000
                        ),
                    });
                }
            }
            Phase::LogoutSent { at } => {
                if now.saturating_sub(at) > self.cfg.logout_timeout_ns {
                    ev.push(SessionEvent::Disconnect {
                        reason: "no Logout answer; closed".into(),
                    });
                }
            }
            Phase::Active => {
                if now.saturating_sub(self.last_sent) >= hb {
                    self.send_admin(Message::new("0"), now, out)?;
                    self.stats.heartbeats_sent += 1;
                }
                match &self.test_req {
                    Some((_, at)) if self.last_recv > *at => self.test_req = None,
                    Some((_, at)) if now.saturating_sub(*at) >= hb => {
                        ev.push(SessionEvent::Disconnect {
                            reason: "heartbeat timeout: TestRequest not answered".into(),
                        });
                    }
                    Some(_) => {}
                    None if now.saturating_sub(self.last_recv) >= hb + hb / 5 => {
                        let id = format!("TEST-{now}");
                        let mut m = Message::new("1");
                        m.push(112, &id);
                        self.send_admin(m, now, out)?;
                        self.stats.test_requests_sent += 1;
                        self.test_req = Some((id, now));
                    }
                    None => {}
                }
            }
        }
        Ok(())
    }
}

pub fn is_admin(msg_type: &str) -> bool {
    matches!(msg_type, "0" | "1" | "2" | "3" | "4" | "5" | "A")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Secret;
    use crate::config::StoreSync;

    const S: u64 = 1_000_000_000;

    fn session(name: &str) -> Session {
        let d =
            std::env::temp_dir().join(format!("tickcross-session-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        let store = SeqStore::open(&d, StoreSync::Never).unwrap();
        Session::new(
            SessionConfig {
                begin: "FIX.4.4".into(),
                sender: "US".into(),
                target: "THEM".into(),
                heartbeat_s: 10,
                dictionary: Dictionary::Fix44,
                reset_on_logon: false,
                logon_timeout_ns: 5 * S,
                logout_timeout_ns: 2 * S,
                resend_max_age_ns: Some(60 * S),
            },
            Credentials::Plain {
                username: "u".into(),
                password: Secret::new("p"),
            },
            store,
        )
    }

    /// A message from the venue.
    fn theirs(mt: &str, seq: u64, now: u64, extra: &[(u32, &str)]) -> Message {
        let mut m = Message::new(mt);
        m.push(49, "THEM")
            .push(56, "US")
            .push_u64(34, seq)
            .push(52, codec::utc_timestamp(now));
        for (t, v) in extra {
            m.push(*t, v);
        }
        m
    }

    fn decode_all(out: &[u8]) -> Vec<Message> {
        let mut r = codec::Reader::new();
        r.push(out);
        let mut v = Vec::new();
        while let Some(x) = r.next_message() {
            v.push(x.unwrap().1);
        }
        v
    }

    fn logged_on(name: &str) -> Session {
        let mut s = session(name);
        let (mut out, mut ev) = (Vec::new(), Vec::new());
        s.on_connected(S, &mut out).unwrap();
        let sent = decode_all(&out);
        assert_eq!(sent[0].msg_type(), "A");
        assert_eq!(sent[0].get(553), Some("u"));
        assert_eq!(sent[0].get(554), Some("p"));
        s.on_message(
            "FIX.4.4",
            theirs("A", 1, S, &[(98, "0"), (108, "10")]),
            S,
            &mut out,
            &mut ev,
        )
        .unwrap();
        assert_eq!(ev, vec![SessionEvent::LoggedOn]);
        assert!(s.is_active());
        s
    }

    #[test]
    fn gap_from_the_venue_is_requested_held_and_released_in_order() {
        let mut s = logged_on("gap");
        let (mut out, mut ev) = (Vec::new(), Vec::new());
        // 2 and 3 lost; 4 arrives
        s.on_message(
            "FIX.4.4",
            theirs("8", 4, S, &[(11, "x4")]),
            S,
            &mut out,
            &mut ev,
        )
        .unwrap();
        let sent = decode_all(&out);
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].msg_type(), "2");
        assert_eq!(sent[0].get(7), Some("2"));
        assert_eq!(sent[0].get(16), Some("0"));
        assert!(ev.is_empty());
        // 5 arrives too: held, no second ResendRequest
        out.clear();
        s.on_message(
            "FIX.4.4",
            theirs("8", 5, S, &[(11, "x5")]),
            S,
            &mut out,
            &mut ev,
        )
        .unwrap();
        assert!(out.is_empty());
        // the venue resends 2 (PossDup) and gap-fills 3
        s.on_message(
            "FIX.4.4",
            theirs(
                "8",
                2,
                S,
                &[(43, "Y"), (122, "20240101-00:00:00"), (11, "x2")],
            ),
            S,
            &mut out,
            &mut ev,
        )
        .unwrap();
        s.on_message(
            "FIX.4.4",
            theirs("4", 3, S, &[(43, "Y"), (123, "Y"), (36, "4")]),
            S,
            &mut out,
            &mut ev,
        )
        .unwrap();
        let ids: Vec<_> = ev
            .iter()
            .map(|e| match e {
                SessionEvent::App { seq, msg } => (*seq, msg.get(11).unwrap().to_string()),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            ids,
            vec![(2, "x2".into()), (4, "x4".into()), (5, "x5".into())]
        );
        assert_eq!(s.next_target(), 6);
        // a late duplicate is ignored; a low number without PossDup is fatal
        ev.clear();
        s.on_message(
            "FIX.4.4",
            theirs("8", 4, S, &[(43, "Y")]),
            S,
            &mut out,
            &mut ev,
        )
        .unwrap();
        assert!(ev.is_empty());
        out.clear();
        s.on_message("FIX.4.4", theirs("0", 3, S, &[]), S, &mut out, &mut ev)
            .unwrap();
        assert!(
            matches!(&ev[0], SessionEvent::Disconnect { reason } if reason.contains("too low"))
        );
        assert_eq!(decode_all(&out)[0].msg_type(), "5");
    }

    #[test]
    fn resend_request_resends_orders_and_gap_fills_admin_and_stale() {
        let mut s = logged_on("resend");
        let (mut out, mut ev) = (Vec::new(), Vec::new());
        // our 2: an order; 3: heartbeat; 4: an old order; 5: an order
        let mut d = Message::new("D");
        d.push(11, "1");
        s.send_message(&d, 2 * S, &mut out, true).unwrap();
        s.tick(12 * S + S / 2, &mut out, &mut ev).unwrap(); // heartbeat (10 s idle)
        assert_eq!(s.stats.heartbeats_sent, 1);
        let mut d2 = Message::new("D");
        d2.push(11, "2");
        s.send_message(&d2, 14 * S, &mut out, true).unwrap();
        let mut d3 = Message::new("D");
        d3.push(11, "3");
        s.send_message(&d3, 100 * S, &mut out, true).unwrap();
        // keep the session alive (no test request in the way)
        s.on_message(
            "FIX.4.4",
            theirs("0", 2, 100 * S, &[]),
            100 * S,
            &mut out,
            &mut ev,
        )
        .unwrap();
        out.clear();
        ev.clear();
        s.on_message(
            "FIX.4.4",
            theirs("2", 3, 110 * S, &[(7, "2"), (16, "0")]),
            110 * S,
            &mut out,
            &mut ev,
        )
        .unwrap();
        let got: Vec<(String, String, Option<String>)> = decode_all(&out)
            .iter()
            .map(|m| {
                (
                    m.msg_type().to_string(),
                    m.get(34).unwrap().to_string(),
                    m.get(36).or(m.get(11)).map(str::to_string),
                )
            })
            .collect();
        // 2 (order 1) is 108 s old: gap-filled with 3 (heartbeat) and 4 (order 2, 96 s old);
        // 5 (order 3, 10 s old) resent
        assert_eq!(
            got,
            vec![
                ("4".into(), "2".into(), Some("5".into())),
                ("D".into(), "5".into(), Some("3".into())),
            ]
        );
        let resent = &decode_all(&out)[1];
        assert_eq!(resent.get(43), Some("Y"));
        assert_eq!(
            resent.get(122),
            Some(codec::utc_timestamp(100 * S).as_str())
        );
        let stale: Vec<_> = ev
            .iter()
            .filter_map(|e| match e {
                SessionEvent::NotResent { msg } => msg.get(11).map(str::to_string),
                _ => None,
            })
            .collect();
        assert_eq!(stale, vec!["1", "2"]);
        // the resent messages did not use new numbers
        assert_eq!(s.next_sender(), 6);
    }

    #[test]
    fn bad_header_is_rejected_and_the_session_goes_on() {
        let mut s = logged_on("reject");
        let (mut out, mut ev) = (Vec::new(), Vec::new());
        let mut m = Message::new("8");
        m.push(49, "THEM")
            .push(56, "US")
            .push(34, "2")
            .push(52, "yesterday");
        s.on_message("FIX.4.4", m, S, &mut out, &mut ev).unwrap();
        let sent = decode_all(&out);
        assert_eq!(sent[0].msg_type(), "3");
        assert_eq!(sent[0].get(45), Some("2"));
        assert_eq!(sent[0].get(373), Some("6"));
        assert_eq!(s.next_target(), 3);
        assert!(ev.is_empty());
        s.on_garbled(&CodecError::NoCheckSum);
        s.on_message(
            "FIX.4.4",
            theirs("1", 3, S, &[(112, "hi")]),
            S,
            &mut out,
            &mut ev,
        )
        .unwrap();
        let hb = decode_all(&out).pop().unwrap();
        assert_eq!((hb.msg_type(), hb.get(112)), ("0", Some("hi")));
        assert!(s.is_active());
    }

    #[test]
    fn heartbeat_timeout_and_logon_timeout_disconnect() {
        let mut s = session("timeouts");
        let (mut out, mut ev) = (Vec::new(), Vec::new());
        s.on_connected(0, &mut out).unwrap();
        s.tick(4 * S, &mut out, &mut ev).unwrap();
        assert!(ev.is_empty());
        s.tick(6 * S, &mut out, &mut ev).unwrap();
        assert!(matches!(&ev[0], SessionEvent::Disconnect { reason } if reason.contains("Logon")));
        s.on_disconnected();
        let mut s = logged_on("timeouts2");
        ev.clear();
        out.clear();
        s.tick(13 * S, &mut out, &mut ev).unwrap();
        let kinds: Vec<_> = decode_all(&out)
            .iter()
            .map(|m| m.msg_type().to_string())
            .collect();
        assert_eq!(kinds, vec!["0", "1"]);
        s.tick(22 * S, &mut out, &mut ev).unwrap();
        assert!(ev.is_empty());
        s.tick(23 * S, &mut out, &mut ev).unwrap();
        assert!(
            matches!(&ev[0], SessionEvent::Disconnect { reason } if reason.contains("heartbeat"))
        );
    }

    #[test]
    fn wrong_comp_id_is_rejected_and_logged_out() {
        let mut s = logged_on("compid");
        let (mut out, mut ev) = (Vec::new(), Vec::new());
        let mut m = Message::new("0");
        m.push(49, "OTHER")
            .push(56, "US")
            .push(34, "2")
            .push(52, codec::utc_timestamp(S));
        s.on_message("FIX.4.4", m, S, &mut out, &mut ev).unwrap();
        let kinds: Vec<_> = decode_all(&out)
            .iter()
            .map(|m| m.msg_type().to_string())
            .collect();
        assert_eq!(kinds, vec!["3", "5"]);
        assert!(matches!(&ev[0], SessionEvent::Disconnect { .. }));
    }
}
