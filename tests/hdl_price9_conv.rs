//! tc_price9_conv under Icarus (sim/tb/tc_price9_conv_tb.v) in the two forms synthesis builds:
//! the behavioural one (Verilator, the xcup flow) and the ECP5 flow's (`TC_ECP5_PRIMITIVES`:
//! the exact division's ten 16 x 16 products in MULT18X18D cells that hold the operands and the
//! products in their own registers, hdl/tc_mul16_reg.v, simulated with
//! sim/tb/ecp5_mult18x18d_model.v). Every result is compared with the software path's
//! conversion (tickcross_core::price9), at LATENCY 4 and 5 (the ones with the products
//! registered). The inputs lean on the division (exponent below -9: every piece of the
//! multiply, numbers up to 2^63 - 1, multiples of 10^j and not), with scale-ups and doubles
//! between them; one input is fed a cycle, every third cycle idle.

use std::path::Path;
use std::process::Command;

use tickcross_core::price9;
use tickcross_tests::gen::Rng;
use tickcross_tests::{repo_root, run_tool};

/// One converter input: (fmt, exponent, value).
type Input = (bool, i8, u64);

fn inputs() -> Vec<Input> {
    let mut g = Rng::new(1);
    let mut v = Vec::new();
    for i in 0..3000u64 {
        let input = match i % 10 {
            // the division: e in -10..=-28 (j 1..=19), an exact multiple of 10^j of any size
            0..=3 => {
                let e = -10 - g.below(19) as i8;
                let j = (-9 - i32::from(e)) as u32;
                let q = if j < 19 {
                    g.next_u64() % (i64::MAX as u64 / 10u64.pow(j) + 1)
                } else {
                    0
                };
                let m = q.saturating_mul(10u64.pow(j.min(18)));
                (false, e, m)
            }
            // ... and numbers that are not (mostly), wide and narrow, some negative
            4..=5 => {
                let e = -10 - g.below(20) as i8;
                let m = match g.below(4) {
                    0 => g.next_u64() >> g.below(64),
                    1 => g.next_u64() >> 1,
                    2 => g.next_u64() | (1 << 63),
                    _ => (g.below(1_000_000) * 10 + g.below(10)) * 10u64.pow(g.below(10) as u32),
                };
                (false, e, m)
            }
            // scale-ups, into and past the top
            6..=7 => (false, -9 + g.below(22) as i8, g.next_u64() >> g.below(64)),
            // doubles: prices and quantities as venues send them, and any bits
            _ => {
                let bits = if g.below(2) == 0 {
                    let x = (g.below(10_000_000) as f64) / 10f64.powi(g.below(9) as i32);
                    x.to_bits()
                } else {
                    g.next_u64()
                };
                (true, 0, bits)
            }
        };
        v.push(input);
    }
    v
}

fn expected((fmt, e, value): Input) -> Option<i64> {
    if fmt {
        price9::from_f64_bits(value)
    } else {
        price9::from_mantissa(value as i64, e)
    }
}

/// Runs the testbench in one form and returns each result: None for a reject.
fn simulate(dir: &Path, latency: u32, ecp5: bool, inputs: &[Input]) -> Vec<Option<u64>> {
    let repo = repo_root();
    let hex: String = inputs
        .iter()
        .map(|&(fmt, e, value)| format!("{:01x}{:02x}{:016x}\n", u8::from(fmt), e as u8, value))
        .collect();
    std::fs::write(dir.join("inputs.hex"), hex).unwrap();
    let vvp = dir.join(format!("tb_{latency}_{ecp5}.vvp"));
    let mut cmd = Command::new("iverilog");
    cmd.current_dir(dir)
        .args(["-g2005", "-s", "tc_price9_conv_tb"])
        .arg(format!("-Ptc_price9_conv_tb.LATENCY={latency}"))
        .arg(format!("-Ptc_price9_conv_tb.N={}", inputs.len()))
        .arg("-o")
        .arg(&vvp)
        .arg(repo.join("sim/tb/tc_price9_conv_tb.v"))
        .arg(repo.join("hdl/tc_price9_conv.v"))
        .arg(repo.join("hdl/tc_mul16_reg.v"));
    if ecp5 {
        cmd.arg("-DTC_ECP5_PRIMITIVES")
            .arg(repo.join("sim/tb/ecp5_mult18x18d_model.v"));
    }
    run_tool(&mut cmd, "iverilog");
    let text = run_tool(
        Command::new("vvp").current_dir(dir).arg("-n").arg(&vvp),
        "vvp",
    );
    assert!(
        !text.contains("FAIL"),
        "LATENCY {latency} ecp5 {ecp5}:\n{text}"
    );
    let results: Vec<Option<u64>> = text
        .lines()
        .filter_map(|l| l.strip_prefix("R "))
        .map(|l| {
            let (value, reject) = l.split_once(' ').expect("R <value> <reject>");
            (reject == "0").then(|| u64::from_str_radix(value, 16).expect("hex value"))
        })
        .collect();
    assert_eq!(
        results.len(),
        inputs.len(),
        "LATENCY {latency} ecp5 {ecp5}: results\n{text}"
    );
    results
}

fn check(latency: u32, ecp5: bool) {
    let dir = std::env::temp_dir().join(format!(
        "tickcross-price9-conv-{latency}-{ecp5}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let inputs = inputs();
    let got = simulate(&dir, latency, ecp5, &inputs);
    let mut divided = 0;
    for (k, (&input, got)) in inputs.iter().zip(&got).enumerate() {
        let want = expected(input);
        assert_eq!(
            got.map(|v| v as i64),
            want,
            "LATENCY {latency} ecp5 {ecp5}: input {k} {input:?}"
        );
        if !input.0 && input.1 < -9 && want.is_some_and(|v| v > 1 << 32) {
            divided += 1;
        }
    }
    // the division's wide quotients (every piece of the multiply) were exercised
    assert!(divided >= 500, "only {divided} wide exact divisions");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn behavioural_converter_matches_the_software_path() {
    check(4, false);
    check(5, false);
}

#[test]
fn ecp5_multiplier_cells_match_the_software_path() {
    check(4, true);
    check(5, true);
}
