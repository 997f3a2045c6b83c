//! The host's cost of taking one event from the ring in host memory: the stamp load (acquire),
//! the record's used words, the stamp check, and the decode into an `Event` — what
//! `Device::drain` does per event (no BAR access). The card's writes are made outside the timed
//! part: a lap of the ring is written, then taken record by record.
//!
//! Times are the bench thread's CPU time (CLOCK_THREAD_CPUTIME_ID, read once per lap of 4096
//! records): the machines this runs on are shared, and wall time there counts other processes'
//! slices.
//!
//! `cargo bench -p tickcross-device --no-default-features --bench host_ring` (no simulator needed)

use criterion::Criterion;
use std::hint::black_box;
use std::time::Duration;
use tickcross_bindings::params;
use tickcross_bindings::record::EventRecord;
use tickcross_device::device::event_of;
use tickcross_device::dma::HostRing;

const RECORDS: u64 = 4096;

fn record(seq: u64) -> [u64; params::RECORD_WORDS as usize] {
    let mut w = [0u64; params::RECORD_WORDS as usize];
    for (i, v) in w.iter_mut().enumerate() {
        *v = seq.wrapping_mul(0x9e37_79b9) ^ i as u64;
    }
    w[tickcross_bindings::record::SEQ] = seq;
    w[tickcross_bindings::record::META] = (1 << 63) | 7;
    w[params::RECORD_STAMP_WORD as usize] = seq + 1;
    w
}

/// CPU time of the calling thread.
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, exclusively borrowed timespec, the only memory the call writes.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

fn bench(c: &mut Criterion) {
    let mut ring = HostRing::anonymous(RECORDS).expect("ring");
    let mut seq = 0u64;
    let mut written = 0u64;
    c.bench_function("host ring: take one event (poll + decode)", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            let mut left = iters;
            while left > 0 {
                // the card: up to a lap of records (gaps in the sequence, as drops leave)
                let n = left.min(RECORDS);
                for _ in 0..n {
                    seq += 1 + u64::from(seq.is_multiple_of(7));
                    ring.write_record(written, &record(seq));
                    written += 1;
                }
                let t = thread_cpu();
                for _ in 0..n {
                    let w = ring.poll().expect("stamp matches").expect("written");
                    black_box(event_of(&EventRecord::from_words(&w)));
                }
                total += thread_cpu() - t;
                left -= n;
            }
            // nothing more to take: a poll of the next slot finds the last lap's record
            assert!(ring.poll().expect("no fault").is_none());
            total
        })
    });
    c.bench_function("host ring: poll an empty ring", |b| {
        b.iter_custom(|iters| {
            let t = thread_cpu();
            for _ in 0..iters {
                black_box(ring.poll().expect("no fault"));
            }
            thread_cpu() - t
        })
    });
}

fn main() {
    let mut c = Criterion::default()
        .configure_from_args()
        .measurement_time(Duration::from_secs(3));
    bench(&mut c);
    c.final_summary();
}
