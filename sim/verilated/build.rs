//! Compiles the Verilator runtime (verilated.cpp, verilated_threads.cpp, verilated_vcd_c.cpp)
//! with -O2 into a static library, and tells dependents where Verilator's headers are
//! (DEP_VERILATED_ROOT / DEP_VERILATED_INCLUDE).

use std::path::PathBuf;
use std::process::Command;

fn verilator_root() -> PathBuf {
    if let Ok(root) = std::env::var("VERILATOR_ROOT") {
        return PathBuf::from(root);
    }
    let out = Command::new("verilator")
        .arg("--getenv")
        .arg("VERILATOR_ROOT")
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run `verilator` ({e}). Install it: apt-get install -y verilator \
                 (scripts/setup does this)"
            )
        });
    assert!(
        out.status.success(),
        "verilator --getenv VERILATOR_ROOT failed"
    );
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

fn main() {
    println!("cargo:rerun-if-env-changed=VERILATOR_ROOT");
    let root = verilator_root();
    let include = root.join("include");
    assert!(
        include.join("verilated.cpp").exists(),
        "no verilated.cpp under {}",
        include.display()
    );
    cc::Build::new()
        .cpp(true)
        .std("c++17")
        .opt_level(2)
        .debug(false)
        .warnings(false)
        .define("VM_TRACE", "1")
        .define("VM_TRACE_VCD", "1")
        .include(&include)
        .include(include.join("vltstd"))
        .file(include.join("verilated.cpp"))
        .file(include.join("verilated_threads.cpp"))
        .file(include.join("verilated_vcd_c.cpp"))
        .compile("verilated");
    println!("cargo:root={}", root.display());
    println!("cargo:include={}", include.display());
    println!("cargo:rustc-link-lib=stdc++");
}
