// One table of the symbol hash (tickcross_bindings::sym_hash, double tabulation) as a block-RAM
// ROM: 256 entries with the contents generated from the contract (hdl/tc_sym_tables.vh, written
// by scripts/gen-contract).
//
// Timing: registered read, latency 1: q shows mem[addr] the cycle after a cycle with en (and
// holds otherwise), as block RAM reads are; no logic between addr and the RAM, none after q.

`resetall
`timescale 1ns / 1ps
`default_nettype none

`include "hdl/tickcross_contract.vh"

module tc_sym_rom #(
    parameter LEVEL = 1,        // 1: first tabulation, 2: second tabulation
    parameter TABLE = 0,        // level 1: key position; level 2: way * TC_SYM_HASH_CHARS + byte
    parameter WIDTH = 32        // level 1: 8 * TC_SYM_HASH_CHARS; level 2: TC_SYM_HASH_BITS
) (
    input  wire             clk,
    input  wire             en,
    input  wire [7:0]       addr,
    output reg  [WIDTH-1:0] q
);

`ifndef SYNTHESIS
initial begin
    if (LEVEL != 1 && LEVEL != 2) begin
        $display("tc_sym_rom: LEVEL must be 1 or 2, not %0d", LEVEL);
        $finish;
    end
    if (LEVEL == 1 && (TABLE < 0 || TABLE >= `TC_SYM_KEY_BYTES || WIDTH != 8 * `TC_SYM_HASH_CHARS)) begin
        $display("tc_sym_rom: level 1 has tables 0..%0d of %0d bits", `TC_SYM_KEY_BYTES - 1,
                 8 * `TC_SYM_HASH_CHARS);
        $finish;
    end
    if (LEVEL == 2 && (TABLE < 0 || TABLE >= `TC_SYM_WAYS * `TC_SYM_HASH_CHARS ||
                       WIDTH != `TC_SYM_HASH_BITS)) begin
        $display("tc_sym_rom: level 2 has tables 0..%0d of %0d bits",
                 `TC_SYM_WAYS * `TC_SYM_HASH_CHARS - 1, `TC_SYM_HASH_BITS);
        $finish;
    end
end
`endif

(* rom_style = "block", ram_style = "block" *)
reg [WIDTH-1:0] mem [0:255];

// the generated contents: one branch per table, so only the elaborated one has to match WIDTH
generate
`include "hdl/tc_sym_tables.vh"
endgenerate

always @(posedge clk) begin
    if (en)
        q <= mem[addr];
end

endmodule

`resetall
