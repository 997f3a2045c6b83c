//! Prints a generated text: the Verilog contract header (`verilog`), the pipeline header
//! (`pipeline`), the symbol hash tables (`tables`) or the Rust access code (`rust`).
//! scripts/gen-contract uses it to refresh the checked-in headers hdl/tickcross_contract.vh,
//! hdl/tc_pipeline.vh and hdl/tc_sym_tables.vh.

fn main() {
    let what = std::env::args().nth(1).unwrap_or_default();
    match what.as_str() {
        "verilog" => print!("{}", tickcross_bindings::VERILOG_HEADER),
        "pipeline" => print!("{}", tickcross_bindings::PIPELINE_HEADER),
        "tables" => print!("{}", tickcross_bindings::SYM_TABLES_HEADER),
        "rust" => {
            let c = tickcross_bindings::gen::parse(tickcross_bindings::CONTRACT_TOML)
                .unwrap_or_else(|e| {
                    eprintln!("{e}");
                    std::process::exit(1)
                });
            print!("{}", tickcross_bindings::gen::rust(&c));
        }
        _ => {
            eprintln!("usage: tickcross-contract verilog|pipeline|tables|rust");
            std::process::exit(2);
        }
    }
}
