//! FIX order entry: encoding one NewOrderSingle (header, body, BodyLength and CheckSum); encoding
//! and writing one the way `FixVenue::submit` does (numbered by the session, kept in the
//! sequence store: two write(2)s, written to a local TCP socket: one more); and the round trip of
//! one IOC order to the QuickFIX test acceptor on 127.0.0.1 (submit, then poll until its final
//! ExecutionReport). `cargo bench -p tickcross --bench fix`; the acceptor needs libquickfix-dev.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use rust_decimal::Decimal;
use tickcross_fix::auth::{AuthSource, Credentials, Secret, SecretSource, UsernameSource};
use tickcross_fix::codec;
use tickcross_fix::config::{FixSettings, StoreSync};
use tickcross_fix::dictionary::{Dictionary, NewOrder};
use tickcross_fix::session::{Session, SessionConfig};
use tickcross_fix::store::SeqStore;
use tickcross_fix::FixVenue;
use tickcross_testkit::fix_acceptor::{Acceptor, AcceptorOptions};
use tickcross_trading::venue::{OrderRequest, Side, Venue, VenueEvent};

fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tickcross-bench-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn session(dir: &std::path::Path) -> Session {
    Session::new(
        SessionConfig {
            begin: "FIX.4.4".into(),
            sender: "TICKCROSS".into(),
            target: "ACCEPTOR".into(),
            heartbeat_s: 30,
            dictionary: Dictionary::Fix44,
            reset_on_logon: false,
            logon_timeout_ns: 10_000_000_000,
            logout_timeout_ns: 2_000_000_000,
            resend_max_age_ns: None,
        },
        Credentials::Plain {
            username: "bench".into(),
            password: Secret::new("bench"),
        },
        SeqStore::open(dir, StoreSync::Never).unwrap(),
    )
}

fn encode_and_write(c: &mut Criterion) {
    let dir = tempdir("encode");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut buf = vec![0u8; 1 << 16];
        while matches!(s.read(&mut buf), Ok(n) if n > 0) {}
    });
    let mut sock = TcpStream::connect(addr).unwrap();
    sock.set_nodelay(true).unwrap();
    let mut sess = session(&dir.join("store"));
    let mut out = Vec::with_capacity(1024);
    let mut id: u64 = 0;
    let mut g = c.benchmark_group("fix");
    g.bench_function("encode_new_order_single", |b| {
        let mut buf = Vec::with_capacity(1024);
        let mut m = codec::Message::new("D");
        m.push(49, "TICKCROSS").push(56, "ACCEPTOR");
        b.iter(|| {
            let now = codec::now_ns();
            let t = codec::utc_timestamp(now);
            let body = Dictionary::Fix44.new_order_single(&NewOrder {
                cl_ord_id: "123456",
                symbol: "BTCUSDT",
                side: Side::Buy,
                qty: Decimal::new(125, 3),
                price: Decimal::new(6_012_345, 2),
                transact_time: &t,
            });
            let mut full = m.clone();
            full.push_u64(34, 123456).push(52, &t);
            for (tag, v) in body.fields().skip(1) {
                full.push(tag, v);
            }
            buf.clear();
            codec::encode("FIX.4.4", &full, &mut buf);
            std::hint::black_box(&buf);
        })
    });
    g.bench_function("encode_store_write_new_order_single", |b| {
        b.iter_custom(|iters| {
            let t0 = Instant::now();
            for _ in 0..iters {
                id += 1;
                let cl = id.to_string();
                let now = codec::now_ns();
                let t = codec::utc_timestamp(now);
                let body = Dictionary::Fix44.new_order_single(&NewOrder {
                    cl_ord_id: &cl,
                    symbol: "BTCUSDT",
                    side: Side::Buy,
                    qty: Decimal::new(125, 3),
                    price: Decimal::new(6_012_345, 2),
                    transact_time: &t,
                });
                sess.send_message(&body, now, &mut out, true).unwrap();
                sock.write_all(&out).unwrap();
                out.clear();
            }
            let el = t0.elapsed();
            // keep the store small between batches (not timed)
            if id > 200_000 {
                drop(std::mem::replace(&mut sess, session(&tempdir("encode2"))));
                id = 0;
            }
            el
        })
    });
    g.finish();
}

fn round_trip(c: &mut Criterion) {
    let dir = tempdir("rtt");
    let acc = match Acceptor::start(&dir.join("acceptor"), &AcceptorOptions::default()) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("round trip benchmark skipped: {e}");
            return;
        }
    };
    let pw = dir.join("pw");
    std::fs::write(&pw, "x").unwrap();
    let settings = FixSettings {
        host: "127.0.0.1".into(),
        port: acc.port,
        sender_comp_id: "TICKCROSS".into(),
        target_comp_id: "ACCEPTOR".into(),
        auth: AuthSource::Plain {
            username: UsernameSource::Literal("bench".into()),
            password: SecretSource::File(pw),
        },
        dictionary: Dictionary::Fix44,
        heartbeat_s: 30,
        seq_store: dir.join("store"),
        store_sync: StoreSync::Never,
        reset_on_logon: false,
        reconnect_initial_ms: 20,
        reconnect_max_ms: 200,
        logon_timeout_s: 10,
        cl_ord_id_prefix: String::new(),
        resend_max_age_ms: None,
    };
    let mut v = FixVenue::start(&settings, "bench").unwrap();
    v.wait_connected(Duration::from_secs(30)).unwrap();
    let mut evs = Vec::new();
    let mut id: u64 = 0;
    let mut g = c.benchmark_group("fix");
    g.sample_size(30);
    g.bench_function("round_trip_ioc_order_to_quickfix_acceptor", |b| {
        b.iter_custom(|iters| {
            let t0 = Instant::now();
            for _ in 0..iters {
                id += 1;
                let o = OrderRequest {
                    id,
                    venue: 0,
                    instrument: 0,
                    symbol: "BTCUSDT".into(),
                    side: Side::Sell,
                    price: Decimal::new(6_012_345, 2),
                    qty: Decimal::new(125, 3),
                };
                v.submit(&o, 0).unwrap();
                loop {
                    evs.clear();
                    v.poll(0, &mut evs).unwrap();
                    if evs.iter().any(
                        |e| matches!(e, VenueEvent::Exec(r) if r.order_id == id && r.kind.is_final()),
                    ) {
                        break;
                    }
                    std::hint::spin_loop();
                }
            }
            t0.elapsed()
        })
    });
    g.finish();
    v.close();
    drop(acc);
}

criterion_group!(benches, encode_and_write, round_trip);
criterion_main!(benches);
