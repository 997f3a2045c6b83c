//! The simulated card on a live wire (issue 13): `tickcross sim --interface` inside a network
//! namespace takes the frames tcpreplay plays into a veth pair, a host `run` in another process
//! drains its events, and they are the events `replay` finds in the same capture. Skips, saying
//! so, where the machine forbids network namespaces.

mod common;
mod live_common;
use common::{bin, binance_capture, tempdir};
use live_common::{card, events, stop_card, succeeded, wire_or_skip, Logged};

#[test]
fn a_simulated_card_on_a_veth_wire_finds_the_events_replay_finds() {
    let Some(wire) = wire_or_skip() else { return };
    let dir = tempdir("veth");
    let (pcap, cfg) = binance_capture(&dir, Some(3000));
    let region = dir.join("card.bar");
    let card = card(&wire, &region);
    let live = dir.join("live.jsonl");
    let mut c = bin();
    // --duration: a way out should no frame ever reach the card (--until-idle waits for one)
    c.args(["run", "--until-idle", "3", "--duration", "600", "--config"])
        .arg(&cfg)
        .arg("--device")
        .arg(&region)
        .arg("--events")
        .arg(&live);
    let host = Logged::spawn(c, "host");
    // the card takes frames only once the host has programmed it
    card.wait_for("taking frames from interface");
    let played = wire.tcpreplay(&pcap, true).unwrap();
    eprintln!("tcpreplay: {}", played.trim());
    let host = host.finish();
    // SIGTERM: the card stops serving and reports what its interface took
    let last = stop_card(card);
    succeeded(&host, "run");

    let (frames, _) = tickcross_capture::read_capture(&pcap).unwrap();
    assert!(
        last.contains(&format!("{} frames into the pipeline", frames.len()))
            && last.contains(" 0 dropped by the kernel, 0 by the full backlog, 0 too long"),
        "every frame of the capture reached the pipeline: {last}"
    );

    let reference = dir.join("sw.jsonl");
    let sw = bin()
        .args(["replay", "--path", "sw", "--config"])
        .arg(&cfg)
        .arg("--events")
        .arg(&reference)
        .arg(&pcap)
        .output()
        .unwrap();
    assert!(sw.status.success());
    let (a, b) = (events(&live), events(&reference));
    assert!(!b.is_empty());
    assert_eq!(a.len(), b.len(), "the host drained every event");
    assert_eq!(a, b, "the card on the wire finds replay's events");
    std::fs::remove_dir_all(&dir).ok();
}
