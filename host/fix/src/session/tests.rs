use super::*;
use crate::auth::Secret;
use crate::codec::CodecError;
use crate::config::StoreSync;

const S: u64 = 1_000_000_000;

fn session(name: &str) -> Session {
    let d = std::env::temp_dir().join(format!("tickcross-session-{name}-{}", std::process::id()));
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
    assert!(matches!(&ev[0], SessionEvent::Disconnect { reason } if reason.contains("too low")));
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
    assert!(matches!(&ev[0], SessionEvent::Disconnect { reason } if reason.contains("heartbeat")));
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
