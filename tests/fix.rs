//! The FIX connector against QuickFIX (Debian's libquickfix-dev), an independent FIX engine:
//! `tests/fix/acceptor.cpp`, built on first use and run as an acceptor on 127.0.0.1 that fills,
//! partially fills or rejects by rule. Logon and logout, an order round trip, partial fills,
//! rejects, a dropped connection with reconnect and resend, a sequence gap in each direction,
//! garbage both ways, and a restart that resumes sequence numbers from disk (`replay --trade`
//! through FIX is `host/tests/fix_replay.rs`, which has the binary).
//!
//! Every step waits for the other side's acknowledgement, never for time to pass: a hook is in
//! place once the acceptor has acknowledged it, an order's outcome is the connector's events, a
//! fill is in the acceptor's log before its report is sent. Waits have long limits that only
//! turn a hang into a failure naming what was seen (CI runs on a busy machine).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rust_decimal::Decimal;
use tickcross_fix::auth::{AuthSource, SecretSource, UsernameSource};
use tickcross_fix::codec::Message;
use tickcross_fix::config::{FixSettings, StoreSync};
use tickcross_fix::dictionary::{CancelOrder, Dictionary};
use tickcross_fix::FixVenue;
use tickcross_testkit::fix_acceptor::{Acceptor, AcceptorOptions};
use tickcross_trading::venue::{ExecKind, OrderRequest, Side, Venue, VenueError, VenueEvent};

const HANG: Duration = Duration::from_secs(60);

fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tickcross-fix-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn acceptor(dir: &Path, opts: AcceptorOptions) -> Acceptor {
    Acceptor::start(dir, &opts).unwrap_or_else(|e| panic!("{e}"))
}

fn settings(dir: &Path, acc: &Acceptor, password: &str) -> FixSettings {
    let pw = dir.join("password");
    std::fs::write(&pw, format!("{password}\n")).unwrap();
    FixSettings {
        host: "127.0.0.1".into(),
        port: acc.port,
        sender_comp_id: "TICKCROSS".into(),
        target_comp_id: "ACCEPTOR".into(),
        auth: AuthSource::Plain {
            username: UsernameSource::Literal("alice".into()),
            password: SecretSource::File(pw),
        },
        dictionary: Dictionary::Fix44,
        heartbeat_s: 30,
        seq_store: dir.join("store"),
        store_sync: StoreSync::Never,
        reset_on_logon: false,
        reconnect_initial_ms: 20,
        reconnect_max_ms: 200,
        // only a way out of a hang: a busy machine may take seconds to answer
        logon_timeout_s: 60,
        cl_ord_id_prefix: String::new(),
        resend_max_age_ms: None,
    }
}

fn with_creds(mut o: AcceptorOptions) -> AcceptorOptions {
    o.credentials = Some(("alice".into(), "s3cret".into()));
    o
}

fn connect(s: &FixSettings) -> FixVenue {
    let v = FixVenue::start(s, "fixtest").unwrap_or_else(|e| panic!("{e}"));
    v.wait_connected(HANG).unwrap();
    v
}

fn order(id: u64, qty: &str, price: &str, side: Side, symbol: &str) -> OrderRequest {
    OrderRequest {
        id,
        venue: 0,
        instrument: 0,
        symbol: symbol.into(),
        side,
        price: dec(price),
        qty: dec(qty),
    }
}

/// Polls the connector's events until `done` holds for what was collected.
fn collect(v: &mut FixVenue, done: impl Fn(&[VenueEvent]) -> bool) -> Vec<VenueEvent> {
    let t0 = Instant::now();
    let mut evs = Vec::new();
    loop {
        v.poll(0, &mut evs).unwrap();
        if done(&evs) {
            return evs;
        }
        assert!(
            t0.elapsed() < HANG,
            "waited too long; events so far: {evs:#?}"
        );
        std::thread::sleep(Duration::from_micros(200));
    }
}

fn final_of(evs: &[VenueEvent], id: u64) -> bool {
    evs.iter().any(|e| match e {
        VenueEvent::Exec(r) => r.order_id == id && r.kind.is_final(),
        VenueEvent::BusinessReject { order_id, .. } => *order_id == Some(id),
        _ => false,
    })
}

/// (kind, last_qty, last_price) of an order's reports.
fn reports(evs: &[VenueEvent], id: u64) -> Vec<(ExecKind, Decimal, Decimal)> {
    evs.iter()
        .filter_map(|e| match e {
            VenueEvent::Exec(r) if r.order_id == id => Some((r.kind, r.last_qty, r.last_price)),
            _ => None,
        })
        .collect()
}

fn z() -> Decimal {
    Decimal::ZERO
}

fn round_trip(v: &mut FixVenue, id: u64) {
    v.submit(&order(id, "1", "100", Side::Buy, "BTCUSDT"), 0)
        .unwrap();
    let evs = collect(v, |e| final_of(e, id));
    assert_eq!(
        reports(&evs, id),
        vec![
            (ExecKind::New, z(), z()),
            (ExecKind::Fill, dec("1"), dec("100"))
        ]
    );
}

#[test]
fn logon_order_round_trip_and_logout() {
    let dir = tempdir("roundtrip");
    let mut acc = acceptor(&dir, with_creds(AcceptorOptions::default()));
    let s = settings(&dir, &acc, "s3cret");
    let mut v = connect(&s);
    acc.wait_for("logon", HANG, |l| l == "LOGON").unwrap();
    let first = collect(&mut v, |e| e.contains(&VenueEvent::Connected));
    assert_eq!(first, vec![VenueEvent::Connected]);
    v.submit(&order(7, "0.25", "60000.5", Side::Sell, "BTCUSDT"), 0)
        .unwrap();
    let evs = collect(&mut v, |e| final_of(e, 7));
    assert_eq!(
        reports(&evs, 7),
        vec![
            (ExecKind::New, z(), z()),
            (ExecKind::Fill, dec("0.25"), dec("60000.5"))
        ]
    );
    let fills = acc.fills().unwrap();
    assert_eq!(fills.len(), 1);
    assert_eq!(
        (
            fills[0].cl_ord_id.as_str(),
            fills[0].side.as_str(),
            fills[0].qty,
            fills[0].price
        ),
        ("7", "sell", dec("0.25"), dec("60000.5"))
    );
    v.close();
    acc.wait_for("our logout", HANG, |l| l.starts_with("IN type=5"))
        .unwrap();
    acc.wait_for("logout", HANG, |l| l == "LOGOUT").unwrap();
    assert!(!v.connected());
}

#[test]
fn wrong_or_missing_credentials_are_clear_errors() {
    let dir = tempdir("creds");
    let mut acc = acceptor(&dir, with_creds(AcceptorOptions::default()));
    let s = settings(&dir, &acc, "wrong");
    let v = FixVenue::start(&s, "fixtest").unwrap();
    acc.wait_for("refusal", HANG, |l| l == "LOGON_REFUSED")
        .unwrap();
    let t0 = Instant::now();
    while !v
        .last_error()
        .is_some_and(|e| e.contains("logon refused") && e.contains("bad username or password"))
    {
        assert!(t0.elapsed() < HANG, "last error: {:?}", v.last_error());
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(!v.connected());
    drop(v);

    let mut s2 = settings(&dir, &acc, "x");
    s2.seq_store = dir.join("store2");
    s2.auth = AuthSource::Plain {
        username: UsernameSource::Literal("alice".into()),
        password: SecretSource::Env("TICKCROSS_FIX_TEST_UNSET_PASSWORD".into()),
    };
    let e = FixVenue::start(&s2, "fixtest").unwrap_err().to_string();
    assert_eq!(
        e,
        "venue \"fixtest\": FIX credentials: password: environment variable TICKCROSS_FIX_TEST_UNSET_PASSWORD is not set"
    );
}

#[test]
fn partial_fills_then_the_ioc_remainder() {
    let dir = tempdir("partial");
    let mut o = with_creds(AcceptorOptions::default());
    o.liquidity = Some(dec("0.3"));
    o.partials = 2;
    let acc = acceptor(&dir, o);
    let mut v = connect(&settings(&dir, &acc, "s3cret"));
    v.submit(&order(1, "1", "100.25", Side::Buy, "BTCUSDT"), 0)
        .unwrap();
    let evs = collect(&mut v, |e| final_of(e, 1));
    assert_eq!(
        reports(&evs, 1),
        vec![
            (ExecKind::New, z(), z()),
            (ExecKind::PartialFill, dec("0.15"), dec("100.25")),
            (ExecKind::PartialFill, dec("0.15"), dec("100.25")),
            (ExecKind::Expired, z(), z()),
        ]
    );
    let fills: Decimal = acc.fills().unwrap().iter().map(|f| f.qty).sum();
    assert_eq!(fills, dec("0.3"));
    let last = evs
        .iter()
        .rev()
        .find_map(|e| match e {
            VenueEvent::Exec(r) => Some(r.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!((last.cum_qty, last.leaves_qty), (dec("0.3"), z()));

    // a venue that reports the IOC remainder as Canceled (150=4): still Expired, as no cancel
    // was asked for
    let dir2 = tempdir("partial-canceled");
    let mut o = with_creds(AcceptorOptions::default());
    o.liquidity = Some(dec("0.5"));
    o.remainder_canceled = true;
    let acc2 = acceptor(&dir2, o);
    let mut v2 = connect(&settings(&dir2, &acc2, "s3cret"));
    v2.submit(&order(2, "2", "10", Side::Sell, "ETHUSDT"), 0)
        .unwrap();
    let evs = collect(&mut v2, |e| final_of(e, 2));
    assert_eq!(
        reports(&evs, 2),
        vec![
            (ExecKind::New, z(), z()),
            (ExecKind::PartialFill, dec("0.5"), dec("10")),
            (ExecKind::Expired, z(), z()),
        ]
    );
}

#[test]
fn rejects_business_rejects_and_cancels() {
    let dir = tempdir("rejects");
    let mut o = with_creds(AcceptorOptions::default());
    o.reject_above = Some(dec("10"));
    o.hold_below = Some(dec("0.01"));
    o.bmr_symbols = vec!["NOSUCH".into()];
    let acc = acceptor(&dir, o);
    let mut v = connect(&settings(&dir, &acc, "s3cret"));
    // above the acceptor's limit: ExecutionReport Rejected
    v.submit(&order(1, "11", "100", Side::Buy, "BTCUSDT"), 0)
        .unwrap();
    let evs = collect(&mut v, |e| final_of(e, 1));
    let rej: Vec<_> = evs
        .iter()
        .filter_map(|e| match e {
            VenueEvent::Exec(r) if r.order_id == 1 => Some((r.kind, r.text.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        rej,
        vec![(ExecKind::Rejected, Some("quantity above limit".into()))]
    );
    // unknown symbol: BusinessMessageReject naming the order
    v.submit(&order(2, "1", "100", Side::Buy, "NOSUCH"), 0)
        .unwrap();
    let evs = collect(&mut v, |e| final_of(e, 2));
    assert!(
        evs.iter().any(|e| matches!(e, VenueEvent::BusinessReject { order_id: Some(2), text } if text.contains("unknown security NOSUCH"))),
        "{evs:?}"
    );
    // a resting order, cancelled on request
    v.submit(&order(3, "0.001", "100", Side::Sell, "BTCUSDT"), 0)
        .unwrap();
    let evs = collect(&mut v, |e| !reports(e, 3).is_empty());
    assert_eq!(reports(&evs, 3), vec![(ExecKind::New, z(), z())]);
    v.cancel(3, 0).unwrap();
    let evs = collect(&mut v, |e| final_of(e, 3));
    assert_eq!(reports(&evs, 3), vec![(ExecKind::Canceled, z(), z())]);
    // a cancel of an order that is no longer open: the connector refuses it once it has the
    // final report; one that crossed that report on the wire (sent by hand here, as the
    // connector's own cancel cannot be made to race deterministically) gets OrderCancelReject
    round_trip(&mut v, 4);
    assert!(matches!(v.cancel(4, 0), Err(VenueError::UnknownOrder(4))));
    late_cancel(&v, 4, Side::Buy, "1");
    let evs = collect(&mut v, |e| {
        e.iter()
            .any(|x| matches!(x, VenueEvent::CancelRejected { order_id: 4, .. }))
    });
    assert!(reports(&evs, 4).is_empty(), "{evs:?}");
    v.submit(&order(5, "0.002", "100", Side::Buy, "BTCUSDT"), 0)
        .unwrap();
    collect(&mut v, |e| !reports(e, 5).is_empty());
    v.cancel(5, 0).unwrap();
    let evs = collect(&mut v, |e| final_of(e, 5));
    assert_eq!(reports(&evs, 5), vec![(ExecKind::Canceled, z(), z())]);
    assert!(matches!(v.cancel(5, 0), Err(VenueError::UnknownOrder(5))));
    late_cancel(&v, 5, Side::Buy, "0.002");
    let evs = collect(&mut v, |e| {
        e.iter()
            .any(|x| matches!(x, VenueEvent::CancelRejected { order_id: 5, text } if text.contains("already final")))
    });
    assert!(reports(&evs, 5).is_empty(), "{evs:?}");
}

/// An OrderCancelRequest for `id` written as the connector writes one, past its own check that
/// the order is still open.
fn late_cancel(v: &FixVenue, id: u64, side: Side, qty: &str) {
    let body = Dictionary::Fix44.order_cancel_request(&CancelOrder {
        cl_ord_id: &format!("{id}-c99"),
        orig_cl_ord_id: &id.to_string(),
        symbol: "BTCUSDT",
        side,
        qty: dec(qty),
        transact_time: "20240101-00:00:00.000",
    });
    v.send_app_message(&body).unwrap();
}

#[test]
fn dropped_connection_reconnects_and_resends_what_was_missed() {
    let dir = tempdir("drop");
    let mut acc = acceptor(&dir, with_creds(AcceptorOptions::default()));
    let mut v = connect(&settings(&dir, &acc, "s3cret"));
    round_trip(&mut v, 1);
    // the acceptor drops the connection on receiving order 2, before answering it: its reports
    // are numbered and kept, and come back as a resend after we log on again (the hook is in
    // place once acknowledged; the acceptor numbers the reports before it answers the logon)
    acc.command("drop").unwrap();
    v.submit(&order(2, "1", "101", Side::Buy, "BTCUSDT"), 0)
        .unwrap();
    let evs = collect(&mut v, |e| final_of(e, 2));
    let kinds: Vec<&str> = evs
        .iter()
        .map(|e| match e {
            VenueEvent::Connected => "connected",
            VenueEvent::Disconnected { .. } => "disconnected",
            VenueEvent::Exec(r) if r.kind == ExecKind::New => "new",
            VenueEvent::Exec(r) if r.kind == ExecKind::Fill => "fill",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, vec!["disconnected", "connected", "new", "fill"]);
    let st = v.stats();
    assert_eq!(st.logons, 2);
    assert!(st.resend_requests_sent >= 1, "{st:?}");
    acc.wait_for("hook", HANG, |l| l == "HOOK drop").unwrap();
    acc.wait_for("second logon", HANG, |l| l == "LOGON")
        .unwrap();
    acc.wait_for("our resend request", HANG, |l| l.starts_with("IN type=2"))
        .unwrap();
    // a drop on our side (no logout), then the session goes on
    v.kill_connection();
    collect(&mut v, |e| e.contains(&VenueEvent::Connected));
    round_trip(&mut v, 3);
    assert_eq!(acc.fills().unwrap().len(), 3);
}

#[test]
fn gap_toward_the_acceptor_is_resent_with_possdup() {
    let dir = tempdir("gap-out");
    let mut acc = acceptor(&dir, with_creds(AcceptorOptions::default()));
    let mut v = connect(&settings(&dir, &acc, "s3cret"));
    // order 1 is numbered and kept but lost on the wire; order 2 shows the acceptor the gap;
    // it asks for a resend and gets order 1 with PossDupFlag=Y
    v.drop_next_outgoing(1);
    v.submit(&order(1, "1", "100", Side::Buy, "BTCUSDT"), 0)
        .unwrap();
    v.submit(&order(2, "2", "100", Side::Sell, "BTCUSDT"), 0)
        .unwrap();
    let evs = collect(&mut v, |e| final_of(e, 1) && final_of(e, 2));
    assert_eq!(
        reports(&evs, 1),
        vec![
            (ExecKind::New, z(), z()),
            (ExecKind::Fill, dec("1"), dec("100"))
        ]
    );
    assert_eq!(
        reports(&evs, 2),
        vec![
            (ExecKind::New, z(), z()),
            (ExecKind::Fill, dec("2"), dec("100"))
        ]
    );
    let resent = acc
        .wait_for("order 1 resent", HANG, |l| {
            l.starts_with("IN type=D") && l.contains("clordid=1")
        })
        .unwrap();
    assert!(resent.contains("possdup=Y"), "{resent}");
    let st = v.stats();
    assert!(
        st.resend_requests_received >= 1 && st.messages_resent >= 1,
        "{st:?}"
    );
    // skipped numbers (nothing kept for them) are gap-filled
    v.skip_outgoing_seq(3).unwrap();
    round_trip(&mut v, 3);
    acc.wait_for("gap fill", HANG, |l| {
        l.starts_with("IN type=4") && l.contains("gapfill=Y")
    })
    .unwrap();
    assert!(v.stats().gap_fills_sent >= 1);
    let ids: Vec<String> = acc
        .fills()
        .unwrap()
        .into_iter()
        .map(|f| f.cl_ord_id)
        .collect();
    // the acceptor handles the resent order 1 first, then order 2 it had held
    assert_eq!(ids, vec!["1", "2", "3"]);
}

#[test]
fn gap_toward_us_is_requested_and_filled() {
    let dir = tempdir("gap-in");
    let mut acc = acceptor(&dir, with_creds(AcceptorOptions::default()));
    let mut v = connect(&settings(&dir, &acc, "s3cret"));
    round_trip(&mut v, 1);
    acc.command("gap 3").unwrap();
    round_trip(&mut v, 2);
    let rr = acc
        .wait_for("resend request", HANG, |l| l.starts_with("IN type=2"))
        .unwrap();
    assert!(rr.contains("end=0"), "{rr}");
    let st = v.stats();
    assert_eq!(st.resend_requests_sent, 1, "{st:?}");
    assert!(st.gap_fills_received >= 1, "{st:?}");
    round_trip(&mut v, 3);
}

#[test]
fn garbage_is_rejected_both_ways_and_the_session_survives() {
    let dir = tempdir("garbage");
    let mut acc = acceptor(&dir, with_creds(AcceptorOptions::default()));
    let mut v = connect(&settings(&dir, &acc, "s3cret"));
    // from the acceptor: an ExecutionReport with LastQty "abc" gets our Reject(3) (incorrect
    // data format, tag 32); the order's real reports follow
    acc.command("garbage").unwrap();
    round_trip(&mut v, 1);
    let rej = acc
        .wait_for("our reject", HANG, |l| l.starts_with("IN type=3"))
        .unwrap();
    assert!(rej.contains("reason=6") && rej.contains("tag=32"), "{rej}");
    assert_eq!(v.stats().rejects_sent, 1);
    // to the acceptor: bytes that are not FIX (dropped by QuickFIX), then an order with a
    // malformed quantity, which QuickFIX rejects (Reject 3) and we report as the order's reject
    v.send_raw(b"this is not FIX\x01at all\x01").unwrap();
    let mut bad = Message::new("D");
    bad.push(11, "2")
        .push(55, "BTCUSDT")
        .push(54, "1")
        .push(60, "20240101-00:00:00.000")
        .push(38, "abc")
        .push(40, "2")
        .push(44, "100")
        .push(59, "3");
    v.send_app_message(&bad).unwrap();
    let evs = collect(&mut v, |e| {
        e.iter().any(|x| {
            matches!(
                x,
                VenueEvent::BusinessReject {
                    order_id: Some(2),
                    ..
                }
            )
        })
    });
    assert!(
        evs.iter().any(|x| matches!(x, VenueEvent::BusinessReject { text, .. } if text.contains("session reject"))),
        "{evs:?}"
    );
    round_trip(&mut v, 3);
    assert!(v.connected());
    assert_eq!(v.stats().logons, 1);
}

#[test]
fn a_restart_resumes_sequence_numbers_from_disk() {
    let dir = tempdir("restart");
    let mut acc = acceptor(&dir, with_creds(AcceptorOptions::default()));
    let s = settings(&dir, &acc, "s3cret");
    let mut v = connect(&s);
    round_trip(&mut v, 1);
    round_trip(&mut v, 2);
    v.close();
    let (out1, in1) = v.seq_nums();
    drop(v);
    assert!(out1 > 4 && in1 > 5, "{out1} {in1}");
    let text = std::fs::read_to_string(s.seq_store.join("seqnums")).unwrap();
    assert_eq!(text, format!("{out1:020} {in1:020}\n"));
    // a new process (a new FixVenue on the same store) logs on with the next number
    let mut v = connect(&s);
    let logon = acc
        .wait_for("second logon", HANG, |l| {
            l.starts_with("IN type=A") && l != "IN type=A seq=1 possdup=N"
        })
        .unwrap();
    assert_eq!(logon, format!("IN type=A seq={out1} possdup=N"));
    round_trip(&mut v, 3);
    // killed without a logout: the next start still resumes from what the store holds
    v.abort();
    let text = std::fs::read_to_string(s.seq_store.join("seqnums")).unwrap();
    let out2: u64 = text.split_whitespace().next().unwrap().parse().unwrap();
    assert!(out2 > out1 + 1, "{text}");
    let mut v = connect(&s);
    let logon = acc
        .wait_for("third logon", HANG, |l| {
            l.starts_with("IN type=A") && l != format!("IN type=A seq={out1} possdup=N")
        })
        .unwrap();
    assert_eq!(logon, format!("IN type=A seq={out2} possdup=N"));
    round_trip(&mut v, 4);
    assert!(!acc.lines().iter().any(|l| l.contains("too low")));
}
