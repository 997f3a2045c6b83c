//! tc_frame_rx on its own (sim/tb/tc_units_tb.v): verdicts, payload and the port timing the
//! pipeline's latency rests on, with gaps in tvalid, `hold` dropping tready mid-frame, the enable
//! bit toggling between frames, and overlapping filters (the lowest-numbered match wins, prefixes
//! above 32 act as 32, a disabled venue or one without a protocol never matches).
//!
//! The expected timing, per docs: payload beat j goes out one cycle after the wire beat that
//! completes it, two when it is the final beat and completes on the same wire beat as the beat
//! before it (or, for j = 0, on the beat ending the UDP header); the done pulse and the
//! end-of-frame beat go out one cycle after tlast, two when a held beat takes that edge, and never
//! two on one edge (a later verdict queues behind an earlier one).

use tickcross_bindings::pipeline::Reason;
use tickcross_bindings::{blocks, protocol};
use tickcross_core::program::{Filter, Protocol};
use tickcross_device::device::venue_word;
use tickcross_sim::ffi::tc_units_tb::{inp, out};
use tickcross_sim::model::Model;
use tickcross_swpath::frame_check::{check as frame_check, VenueFilter, Verdict};
use tickcross_tests::gen::{mutate, Rng};
use tickcross_tests::{udp_frame_shaped, units_model, write_frame_rx_filters};

/// Filters that overlap: 239.1.1.1:5000 is venue 0 by filter 0; the rest of 239.1/16 is venue 2
/// by filter 1, which also shadows filter 2 entirely; filter 3 has a venue without a protocol,
/// filter 5 a disabled venue; filter 4's prefix of 40 acts as 32.
const FILTERS: &[Filter] = &[
    Filter {
        ip: [239, 1, 1, 1],
        prefix: 32,
        port: 5000,
        venue: 0,
    },
    Filter {
        ip: [239, 1, 200, 0],
        prefix: 16,
        port: 5000,
        venue: 2,
    },
    Filter {
        ip: [239, 1, 1, 0],
        prefix: 24,
        port: 5000,
        venue: 1,
    },
    Filter {
        ip: [0, 0, 0, 0],
        prefix: 0,
        port: 6000,
        venue: 3,
    },
    Filter {
        ip: [10, 1, 2, 3],
        prefix: 40,
        port: 6000,
        venue: 1,
    },
    Filter {
        ip: [0, 0, 0, 0],
        prefix: 0,
        port: 7000,
        venue: 4,
    },
];

/// Venue slots: `Some(Some(p))` enabled with protocol p, `Some(None)` enabled without a protocol,
/// `None` disabled (its word stays 0).
const VENUES: &[Option<Option<Protocol>>] = &[
    Some(Some(Protocol::BinanceSbe)),
    Some(Some(Protocol::BinanceSbe)),
    Some(Some(Protocol::DeribitMcast)),
    Some(None),
    None,
];

const DESTS: &[([u8; 4], u16)] = &[
    ([239, 1, 1, 1], 5000),
    ([239, 1, 7, 7], 5000),
    ([239, 1, 1, 9], 5000),
    ([10, 1, 2, 3], 6000),
    ([10, 1, 2, 4], 6000),
    ([1, 2, 3, 4], 7000),
    ([239, 1, 1, 1], 5001),
];

/// The software path's view of the table: the filters whose venue can match, in order.
fn sw_filters() -> Vec<VenueFilter> {
    FILTERS
        .iter()
        .filter(|f| matches!(VENUES.get(f.venue as usize), Some(Some(Some(_)))))
        .map(VenueFilter::new)
        .collect()
}

struct Frame {
    bytes: Vec<u8>,
    bad: bool,
    enabled: bool,
}

/// A beat seen on m_*.
#[derive(Debug, Clone, PartialEq)]
struct Beat {
    cycle: u64,
    sof: bool,
    eop: bool,
    eof: bool,
    ok: bool,
    venue: u64,
    len: u64,
    keep: u64,
    data: u64,
    split: u64,
    lo: u64,
    hi: u64,
}

struct Run {
    /// (cycle, reason, bytes) of each done pulse
    dones: Vec<(u64, u64, u64)>,
    /// the beats of each frame's stream, by frame (m_ts carries the frame's index)
    streams: Vec<Vec<Beat>>,
    /// the cycle each wire beat of each frame was accepted in
    beat_cycles: Vec<Vec<u64>>,
}

/// Drives `frames` through tc_frame_rx; `gaps` and `holds` are the percentages of beats preceded
/// by idle cycles and of cycles with `hold` high.
fn run(frames: &[Frame], rng: &mut Rng, gaps: u64, holds: u64) -> Run {
    let mut m = units_model();
    write_frame_rx_filters(&mut m, FILTERS);
    for (v, slot) in VENUES.iter().enumerate() {
        m.inp[inp::FR_CFG_WR] = 1;
        m.inp[inp::FR_CFG_IDX] = 16 + v as u64;
        m.inp[inp::FR_CFG_DATA] = match slot {
            Some(Some(p)) => venue_word(Some(*p)),
            Some(None) => blocks::venues::Venue {
                protocol: protocol::NONE as u8,
                enable: true,
            }
            .pack()
            .unwrap(),
            None => 0,
        };
        m.tick();
    }
    m.inp[inp::FR_CFG_WR] = 0;

    let mut r = Run {
        dones: Vec::new(),
        streams: (0..frames.len()).map(|_| Vec::new()).collect(),
        beat_cycles: Vec::new(),
    };
    let observe = |m: &Model, r: &mut Run| {
        let cycle = m.out[out::CYCLE];
        if m.out[out::FR_DONE_VALID] != 0 {
            r.dones
                .push((cycle, m.out[out::FR_DONE_REASON], m.out[out::FR_DONE_BYTES]));
        }
        if m.out[out::FR_M_VALID] != 0 {
            let i = m.out[out::FR_M_TS] as usize;
            assert!(i < r.streams.len(), "a beat with ts {i}: no such frame");
            // lanes past tkeep carry whatever the wire beat held there: not compared
            let keep = m.out[out::FR_M_KEEP];
            let lanes = (0..8).fold(0u64, |a, l| a | ((keep >> l & 1) * 0xff) << (8 * l));
            r.streams[i].push(Beat {
                cycle,
                sof: m.out[out::FR_M_SOF] != 0,
                eop: m.out[out::FR_M_EOP] != 0,
                eof: m.out[out::FR_M_EOF] != 0,
                ok: m.out[out::FR_M_OK] != 0,
                venue: m.out[out::FR_M_VENUE],
                len: m.out[out::FR_M_LEN],
                keep,
                data: m.out[out::FR_M_DATA] & lanes,
                split: m.out[out::FR_M_SPLIT],
                lo: m.out[out::FR_M_CYC_LO],
                hi: m.out[out::FR_M_CYC_HI],
            });
        }
    };
    for (i, f) in frames.iter().enumerate() {
        m.inp[inp::FR_ENABLE] = f.enabled as u64;
        let beats = f.bytes.len().div_ceil(8).max(1);
        let mut cycles = Vec::new();
        for b in 0..beats {
            if rng.pct(gaps) {
                m.inp[inp::FR_TVALID] = 0;
                for _ in 0..1 + rng.below(3) {
                    m.inp[inp::FR_HOLD] = rng.pct(holds) as u64;
                    m.tick();
                    observe(&m, &mut r);
                }
            }
            let chunk = &f.bytes[(8 * b).min(f.bytes.len())..(8 * b + 8).min(f.bytes.len())];
            let mut w = [0u8; 8];
            w[..chunk.len()].copy_from_slice(chunk);
            m.inp[inp::FR_TDATA] = u64::from_le_bytes(w);
            m.inp[inp::FR_TKEEP] = (1u64 << chunk.len()) - 1;
            m.inp[inp::FR_TLAST] = (b + 1 == beats) as u64;
            m.inp[inp::FR_TUSER] = (f.bad && b + 1 == beats) as u64;
            m.inp[inp::FR_TS] = i as u64;
            m.inp[inp::FR_TVALID] = 1;
            loop {
                let hold = rng.pct(holds);
                m.inp[inp::FR_HOLD] = hold as u64;
                m.tick();
                assert_eq!(m.out[out::FR_TREADY], !hold as u64, "tready is !hold");
                observe(&m, &mut r);
                if !hold {
                    cycles.push(m.out[out::CYCLE]);
                    break;
                }
            }
        }
        r.beat_cycles.push(cycles);
    }
    m.inp[inp::FR_TVALID] = 0;
    m.inp[inp::FR_HOLD] = 0;
    for _ in 0..12 {
        m.tick();
        observe(&m, &mut r);
    }
    r
}

/// The payload tc_frame_rx forwards for `f` whatever its late checks say: `Some((venue, start,
/// n))` when the header checks and the filters pass (the software path on the frame cut or padded to
/// its IPv4 length, unflagged) and the frame reaches the end of its UDP header.
fn forwarded(f: &[u8], filters: &[VenueFilter]) -> Option<(u64, usize, usize)> {
    let l2 = if f.len() >= 14 && f[12..14] == [0x81, 0x00] {
        18
    } else {
        14
    };
    if f.len() < l2 + 4 {
        return None;
    }
    let tot = u16::from_be_bytes([f[l2 + 2], f[l2 + 3]]) as usize;
    let mut cut = f.to_vec();
    cut.resize(l2 + tot, 0);
    match frame_check(&cut, false, filters) {
        Verdict::Accept { venue, start, len } if f.len() >= start => {
            Some((u64::from(venue), start, len))
        }
        _ => None,
    }
}

/// The expected stream of a frame: its payload beats with their cycles, then the end-of-frame
/// beat with the verdict `ok`, on the cycle of the done pulse.
fn expected_stream(
    f: &Frame,
    fwd: Option<(u64, usize, usize)>,
    ok: bool,
    cycles: &[u64],
    done_cycle: u64,
) -> Vec<Beat> {
    let Some((venue, start, n)) = fwd else {
        return Vec::new();
    };
    let mut beats = Vec::new();
    let mut j = 0;
    while 8 * j < n {
        let cnt = (n - 8 * j).min(8);
        let last = start + 8 * j + cnt - 1;
        let w = last / 8;
        if w >= cycles.len() {
            break; // the frame ends before the wire beat that completes this one
        }
        let held = w == (start + 8 * j - 1) / 8;
        // a frame cut short inside its final wire beat: the lanes past its end are the driver's 0s
        let mut d = [0u8; 8];
        for (k, b) in d.iter_mut().take(cnt).enumerate() {
            *b = f.bytes.get(start + 8 * j + k).copied().unwrap_or(0);
        }
        let first_wire = (start + 8 * j) / 8;
        let (split, lo) = if first_wire == w {
            (8, cycles[w])
        } else {
            (8 - ((start + 8 * j) % 8) as u64, cycles[first_wire])
        };
        beats.push(Beat {
            cycle: cycles[w] + 1 + held as u64,
            sof: j == 0,
            eop: 8 * j + cnt == n,
            eof: false,
            ok: false,
            venue,
            len: n as u64,
            keep: (1 << cnt) - 1,
            data: u64::from_le_bytes(d),
            split,
            lo,
            hi: cycles[w],
        });
        j += 1;
    }
    beats.push(Beat {
        cycle: done_cycle,
        sof: beats.is_empty(),
        eop: false,
        eof: true,
        ok,
        venue,
        len: n as u64,
        keep: 0,
        data: 0,
        split: 8,
        lo: done_cycle - 1,
        hi: done_cycle - 1,
    });
    beats
}

fn check(frames: &[Frame], seed: u64, gaps: u64, holds: u64) {
    let filters = sw_filters();
    let mut rng = Rng::new(seed);
    let r = run(frames, &mut rng, gaps, holds);
    assert_eq!(r.dones.len(), frames.len(), "one done pulse per frame");
    let mut prev_done = 0;
    for (i, f) in frames.iter().enumerate() {
        let cycles = &r.beat_cycles[i];
        let (done_cycle, reason, bytes) = r.dones[i];
        let v = frame_check(&f.bytes, f.bad, &filters);
        let want = if !f.enabled {
            Reason::Disabled
        } else {
            match v {
                Verdict::Accept { .. } => Reason::Ok,
                Verdict::Drop(c) => Reason::from_counter(c).expect("a verdict's counter"),
            }
        };
        assert_eq!(
            Reason::from_code(reason),
            Some(want),
            "frame {i} (len {}): verdict (code {reason})",
            f.bytes.len()
        );
        assert_eq!(bytes, f.bytes.len() as u64, "frame {i}: byte count");

        let fwd = if f.enabled {
            forwarded(&f.bytes, &filters)
        } else {
            None
        };
        if let Verdict::Accept { venue, start, len } = v {
            if f.enabled {
                assert_eq!(
                    fwd,
                    Some((u64::from(venue), start, len)),
                    "frame {i}: an accepted frame is forwarded"
                );
            }
        }
        // a held final beat on the tlast beat takes the edge after it; verdicts never share one
        let tlast = *cycles.last().expect("a frame has a beat");
        let held_on_tlast = fwd.is_some_and(|(_, start, n)| {
            n > 0 && {
                let last = start + n - 1;
                let j = (n - 1) / 8;
                last / 8 == cycles.len() - 1 && last / 8 == (start + 8 * j - 1) / 8
            }
        });
        let due = (tlast + 2 + held_on_tlast as u64).max(prev_done + 1);
        assert_eq!(
            done_cycle,
            due,
            "frame {i}: done pulse (tlast in cycle {tlast}, held final beat: {held_on_tlast}, \
             forwarded: {fwd:?}, len {}, stream {:?})",
            f.bytes.len(),
            r.streams[i]
        );
        prev_done = done_cycle;

        let ok = matches!(v, Verdict::Accept { .. }) && f.enabled;
        let want = expected_stream(f, fwd, ok, cycles, done_cycle);
        assert_eq!(
            r.streams[i].len(),
            want.len(),
            "frame {i}: beats on m_* (forwarded: {fwd:?}, got {:#?})",
            r.streams[i]
        );
        for (k, (got, want)) in r.streams[i].iter().zip(&want).enumerate() {
            assert_eq!(got, want, "frame {i}: beat {k} of its stream");
        }
    }
}

fn random_frames(rng: &mut Rng, count: usize) -> Vec<Frame> {
    (0..count)
        .map(|_| {
            let (dst, port) = *rng.pick(DESTS);
            let len = rng.below(100) as usize;
            let payload = rng.bytes(len);
            let vlan = rng.pct(25);
            let options = 4 * rng.below(11) as usize;
            let f = udp_frame_shaped(&payload, dst, port, vlan, options);
            let (bytes, bad) = if rng.pct(30) {
                mutate(rng, f)
            } else {
                (f, rng.pct(5))
            };
            Frame {
                bytes,
                bad,
                enabled: !rng.pct(5),
            }
        })
        .collect()
}

#[test]
fn frame_rx_timing_back_to_back() {
    let mut rng = Rng::new(11);
    let frames = random_frames(&mut rng, 800);
    check(&frames, 12, 0, 0);
}

#[test]
fn frame_rx_timing_with_gaps_and_hold() {
    let mut rng = Rng::new(21);
    let frames = random_frames(&mut rng, 800);
    check(&frames, 22, 25, 20);
}

#[test]
fn frame_rx_every_payload_length_and_header_shape_under_hold() {
    let mut frames = Vec::new();
    let mut rng = Rng::new(31);
    for len in 0..40 {
        for (vlan, options) in [(false, 0), (true, 0), (false, 4), (true, 4), (true, 40)] {
            let payload = rng.bytes(len);
            for &(dst, port) in &DESTS[..4] {
                frames.push(Frame {
                    bytes: udp_frame_shaped(&payload, dst, port, vlan, options),
                    bad: false,
                    enabled: true,
                });
            }
        }
    }
    check(&frames, 32, 10, 30);
}

#[test]
fn frame_rx_back_to_back_single_beat_frames_queue_their_verdicts() {
    // a forwarded frame whose final beat is held on its tlast beat, then runs of one-beat frames:
    // each verdict takes the next free edge, in order
    let mut frames = Vec::new();
    let mut rng = Rng::new(41);
    for run_len in 1..6 {
        // 42-byte headers: a 5-byte payload ends on beat 5 with the UDP header, a 14-byte one
        // holds its final beat on the last wire beat
        for n in [5, 14] {
            frames.push(Frame {
                bytes: udp_frame_shaped(&rng.bytes(n), [239, 1, 1, 1], 5000, false, 0),
                bad: false,
                enabled: true,
            });
            for _ in 0..run_len {
                let len = rng.below(9) as usize;
                frames.push(Frame {
                    bytes: rng.bytes(len),
                    bad: false,
                    enabled: true,
                });
            }
        }
    }
    check(&frames, 42, 0, 0);
}
