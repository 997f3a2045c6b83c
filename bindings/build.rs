//! Generates the Rust access code and the Verilog headers from contract.toml into OUT_DIR.

#[path = "src/gen.rs"]
#[allow(dead_code)]
mod gen;

fn main() {
    println!("cargo:rerun-if-changed=contract.toml");
    println!("cargo:rerun-if-changed=src/gen.rs");
    let text = std::fs::read_to_string("contract.toml").expect("read contract.toml");
    let contract = match gen::parse(&text) {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    };
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    std::fs::write(out.join("contract.rs"), gen::rust(&contract)).expect("write contract.rs");
    std::fs::write(out.join("tickcross_contract.vh"), gen::verilog(&contract))
        .expect("write tickcross_contract.vh");
    std::fs::write(out.join("tc_pipeline.vh"), gen::pipeline_verilog(&contract))
        .expect("write tc_pipeline.vh");
    std::fs::write(
        out.join("tc_sym_tables.vh"),
        gen::sym_tables_verilog(&contract),
    )
    .expect("write tc_sym_tables.vh");
}
