//! Messages in: the checks every message passes (BeginString, MsgSeqNum, CompIDs, the Logon
//! first), then the handling of each message type in sequence order.

use super::{Phase, Session, SessionError, SessionEvent};
use crate::codec::{self, Message, RejectReason};

impl Session {
    pub(super) fn incr_target(&mut self) -> Result<(), SessionError> {
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

    /// A message with the expected MsgSeqNum (or a held one whose turn has come).
    pub(super) fn process(
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
}
