//! Prints the generated Verilog header (`verilog`) or Rust constants (`rust`).
//! scripts/gen-contract uses it to refresh hdl/tickcross_contract.vh.

fn main() {
    let what = std::env::args().nth(1).unwrap_or_default();
    match what.as_str() {
        "verilog" => print!("{}", tickcross_bindings::VERILOG_HEADER),
        "rust" => {
            let c = tickcross_bindings::gen::parse(tickcross_bindings::CONTRACT_TOML)
                .unwrap_or_else(|e| {
                    eprintln!("{e}");
                    std::process::exit(1)
                });
            print!("{}", tickcross_bindings::gen::rust(&c));
        }
        _ => {
            eprintln!("usage: tickcross-contract verilog|rust");
            std::process::exit(2);
        }
    }
}
