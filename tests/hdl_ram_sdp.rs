//! hdl/tc_ram_sdp.v under Icarus: random traffic (sim/tb/tc_ram_sdp_tb.v) against a reference
//! model of its documented timing, in both of its forms:
//! - behavioural (what Verilator, Icarus and the xcup synthesis see);
//! - `TC_ECP5_PRIMITIVES` (what the ECP5 flow of scripts/synth-report builds): DP16KD cells,
//!   simulated with sim/tb/ecp5_dp16kd_model.v. This is what proves the cells' wiring (address
//!   bit positions, data pins, byte enables, CE/OCE, REGMODE, the tiling): a wrong one is silent
//!   in synthesis.
//! - the DP16KD model itself against Yosys' own mapping of the behavioural RAM (synth_ecp5's
//!   netlist, the cells Yosys and nextpnr use on hardware, simulated with the model and Yosys'
//!   cells_sim.v): the model follows the same pin conventions as the toolchain.

use std::path::{Path, PathBuf};
use std::process::Command;

use tickcross_tests::{repo_root, run_tool};

/// (WIDTH, ADDR_BITS): every cell shape (512 x 36, 1K x 18, 2K x 9, 4K x 4, 8K x 2, 16K x 1),
/// several columns, cells stacked in depth (2^15), a memory shallower than a cell (2^7), and one
/// left behavioural in the ECP5 form (2^4). The first two are the event ring's and the bind
/// table's shapes at their default sizes.
const SHAPES: [(u32, u32); 9] = [
    (64, 9),
    (41, 13),
    (64, 10),
    (20, 11),
    (7, 12),
    (3, 14),
    (5, 15),
    (9, 7),
    (8, 4),
];

/// Runs the testbench on `sources` (besides the testbench) and returns the number of checked
/// cycles; panics on a FAIL line.
fn simulate(
    dir: &Path,
    sources: &[PathBuf],
    defines: &[&str],
    (width, abits): (u32, u32),
    out_reg: u32,
    seed: u32,
) -> u64 {
    let repo = repo_root();
    let vvp = dir.join(format!("tb_{width}_{abits}_{out_reg}_{seed}.vvp"));
    let mut cmd = Command::new("iverilog");
    cmd.current_dir(dir)
        .args(["-g2005", "-s", "tc_ram_sdp_tb"])
        .args(defines.iter().map(|d| format!("-D{d}")))
        .arg(format!("-Ptc_ram_sdp_tb.WIDTH={width}"))
        .arg(format!("-Ptc_ram_sdp_tb.ADDR_BITS={abits}"))
        .arg(format!("-Ptc_ram_sdp_tb.OUT_REG={out_reg}"))
        .arg(format!("-Ptc_ram_sdp_tb.SEED={seed}"))
        .arg("-o")
        .arg(&vvp)
        .arg(repo.join("sim/tb/tc_ram_sdp_tb.v"))
        .args(sources);
    run_tool(&mut cmd, "iverilog");
    let text = run_tool(
        Command::new("vvp").current_dir(dir).arg("-n").arg(&vvp),
        "vvp",
    );
    let what = format!("WIDTH {width} ADDR_BITS {abits} OUT_REG {out_reg} seed {seed} {defines:?}");
    let line = text
        .lines()
        .find(|l| l.starts_with("PASS") || l.starts_with("FAIL"))
        .unwrap_or_else(|| panic!("{what}: no result from the testbench:\n{text}"));
    assert!(line.starts_with("PASS"), "{what}:\n{text}");
    let checked: u64 = line[4..].trim().parse().expect("PASS <count>");
    // a run that compared little proves little: the traffic must reach written words
    assert!(checked >= 2000, "{what}: only {checked} cycles checked");
    checked
}

fn work_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tickcross-ram-sdp-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn both_forms(defines: &[&str], name: &str) {
    let repo = repo_root();
    let dir = work_dir(name);
    let sources = [
        repo.join("hdl/tc_ram_sdp.v"),
        repo.join("sim/tb/ecp5_dp16kd_model.v"),
    ];
    let mut total = 0;
    for shape in SHAPES {
        for out_reg in 0..2 {
            for seed in 1..3 {
                total += simulate(&dir, &sources, defines, shape, out_reg, seed);
            }
        }
    }
    println!("{name}: {total} cycles checked");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_behavioural_ram_follows_its_timing() {
    both_forms(&[], "behav");
}

#[test]
fn the_ecp5_cells_follow_the_same_timing() {
    both_forms(&["TC_ECP5_PRIMITIVES"], "ecp5");
}

/// Yosys' data directory, next to its binary (`<prefix>/bin/yosys` -> `<prefix>/share/yosys`).
fn yosys_datdir() -> PathBuf {
    let which = run_tool(
        Command::new("sh").args(["-c", "command -v yosys"]),
        "yosys lookup",
    );
    let bin = PathBuf::from(which.trim());
    let bin = std::fs::canonicalize(&bin).unwrap_or(bin);
    let dat = bin
        .parent()
        .and_then(Path::parent)
        .expect("yosys in <prefix>/bin")
        .join("share/yosys");
    assert!(
        dat.join("ecp5/cells_sim.v").exists(),
        "no ecp5/cells_sim.v under {}",
        dat.display()
    );
    dat
}

#[test]
fn the_dp16kd_model_agrees_with_yosys_own_mapping() {
    let repo = repo_root();
    let dir = work_dir("yosys");
    let dat = yosys_datdir();
    // Yosys' ECP5 cell models without its (empty) DP16KD, which the model replaces
    let cells = std::fs::read_to_string(dat.join("ecp5/cells_sim.v")).unwrap();
    let start = cells.find("module DP16KD(").expect("DP16KD in cells_sim.v");
    let end = start + cells[start..].find("endmodule").unwrap() + "endmodule".len();
    std::fs::write(
        dir.join("cells_sim.v"),
        format!("{}{}", &cells[..start], &cells[end..]),
    )
    .unwrap();
    for entry in std::fs::read_dir(dat.join("ecp5")).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "vh") {
            std::fs::copy(&p, dir.join(p.file_name().unwrap())).unwrap();
        }
    }
    // the block-RAM shapes (Yosys maps the 2^4 one to LUT RAM, the 2^15 one with its own
    // cascade: both left out)
    for &(width, abits) in SHAPES.iter().filter(|s| (9..=14).contains(&s.1)) {
        for out_reg in 0..2 {
            let net = dir.join(format!("net_{width}_{abits}_{out_reg}.v"));
            let script = format!(
                "read_verilog {}; chparam -set WIDTH {width} -set ADDR_BITS {abits} \
                 -set OUT_REG {out_reg} tc_ram_sdp; synth_ecp5 -top tc_ram_sdp; \
                 write_verilog -noattr {}",
                repo.join("hdl/tc_ram_sdp.v").display(),
                net.display()
            );
            run_tool(Command::new("yosys").args(["-q", "-p", &script]), "yosys");
            let text = std::fs::read_to_string(&net).unwrap();
            assert!(
                text.contains("DP16KD "),
                "Yosys mapped {width} x 2^{abits} without DP16KD"
            );
            let sources = [
                net.clone(),
                repo.join("sim/tb/ecp5_dp16kd_model.v"),
                dir.join("cells_sim.v"),
            ];
            simulate(&dir, &sources, &[], (width, abits), out_reg, 1);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// tc_bind_stage at MEM_REG = 0 and 1 on the same random records (sim/tb/tc_bind_stage_tb.v):
/// the same QUOTEs and counter pulses in the same order, behavioural and as DP16KD cells (at
/// MEM_REG = 1 a definition's clear is written a cycle late and the next record may read the
/// slot as it is cleared: a wrong answer there shows, as X from the cells' collision).
#[test]
fn the_bind_stage_decides_the_same_at_both_memory_timings() {
    let repo = repo_root();
    let dir = work_dir("bind");
    for defines in [&[][..], &["TC_ECP5_PRIMITIVES"][..]] {
        for seed in 1..4 {
            let vvp = dir.join(format!("bind_{seed}_{}.vvp", defines.len()));
            let mut cmd = Command::new("iverilog");
            cmd.current_dir(&repo)
                .args(["-g2005", "-I", ".", "-s", "tc_bind_stage_tb"])
                .args(defines.iter().map(|d| format!("-D{d}")))
                .arg(format!("-Ptc_bind_stage_tb.SEED={seed}"))
                .arg("-o")
                .arg(&vvp)
                .args([
                    "sim/tb/tc_bind_stage_tb.v",
                    "hdl/tc_bind_stage.v",
                    "hdl/tc_ram_sdp.v",
                    "sim/tb/ecp5_dp16kd_model.v",
                ]);
            run_tool(&mut cmd, "iverilog");
            let text = run_tool(Command::new("vvp").arg("-n").arg(&vvp), "vvp");
            let what = format!("seed {seed} {defines:?}");
            let line = text
                .lines()
                .find(|l| l.starts_with("PASS") || l.starts_with("FAIL"))
                .unwrap_or_else(|| panic!("{what}: no result:\n{text}"));
            assert!(line.starts_with("PASS"), "{what}:\n{text}");
            let counts: Vec<u64> = line[4..]
                .split_whitespace()
                .map(|n| n.parse().expect("PASS <quotes> <pulses>"))
                .collect();
            // the records must have done real work: resolved quotes and counted pulses
            assert!(counts[0] >= 500 && counts[1] >= 1000, "{what}: {line}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
