// The symbol table's hash (tickcross_bindings::sym_hash): double tabulation.
//
// Stage 1 (key -> y): each key byte indexes its position's table (256 x 32 bits), and the 34
// entries are XORed into the derived key y (4 bytes). Stage 2 (y -> slot): each byte of y indexes
// the way's table (256 x SLOT_BITS), XORed into the slot. A table lookup is one LUT level (an
// 8-input function) and the XORs are shallow trees, so stage 1 is about three LUT levels and stage
// 2 two. Both are combinational; the instantiating stage places the registers. The key is the
// name with bytes at and beyond its length zeroed, then the length byte, then the venue byte
// (tickcross_bindings::sym_key). The tables come from the contract header (generated from
// sym_hash_seed); this file assumes its 34-byte key (sym_name_bytes = 32).

`resetall
`timescale 1ns / 1ps
`default_nettype none

`include "hdl/tickcross_contract.vh"

module tc_sym_hash (
    input  wire [255:0]  name,       // masked: bytes at and beyond len are zero
    input  wire [7:0]    len,
    input  wire [2:0]    venue,
    output wire [31:0]   y,          // stage 1 result

    input  wire [31:0]   y_in,       // stage 2 input (y, possibly registered)
    output wire [`TC_SYM_HASH_BITS-1:0] slot0,
    output wire [`TC_SYM_HASH_BITS-1:0] slot1
);

localparam SLOT_BITS = `TC_SYM_HASH_BITS;
localparam KB = `TC_SYM_KEY_BYTES;
localparam TW = 256 * SLOT_BITS;

function [8191:0] t1_table;
    input integer x;
    begin
        case (x)
            0: t1_table = `TC_SYM_T1_0;
            1: t1_table = `TC_SYM_T1_1;
            2: t1_table = `TC_SYM_T1_2;
            3: t1_table = `TC_SYM_T1_3;
            4: t1_table = `TC_SYM_T1_4;
            5: t1_table = `TC_SYM_T1_5;
            6: t1_table = `TC_SYM_T1_6;
            7: t1_table = `TC_SYM_T1_7;
            8: t1_table = `TC_SYM_T1_8;
            9: t1_table = `TC_SYM_T1_9;
            10: t1_table = `TC_SYM_T1_10;
            11: t1_table = `TC_SYM_T1_11;
            12: t1_table = `TC_SYM_T1_12;
            13: t1_table = `TC_SYM_T1_13;
            14: t1_table = `TC_SYM_T1_14;
            15: t1_table = `TC_SYM_T1_15;
            16: t1_table = `TC_SYM_T1_16;
            17: t1_table = `TC_SYM_T1_17;
            18: t1_table = `TC_SYM_T1_18;
            19: t1_table = `TC_SYM_T1_19;
            20: t1_table = `TC_SYM_T1_20;
            21: t1_table = `TC_SYM_T1_21;
            22: t1_table = `TC_SYM_T1_22;
            23: t1_table = `TC_SYM_T1_23;
            24: t1_table = `TC_SYM_T1_24;
            25: t1_table = `TC_SYM_T1_25;
            26: t1_table = `TC_SYM_T1_26;
            27: t1_table = `TC_SYM_T1_27;
            28: t1_table = `TC_SYM_T1_28;
            29: t1_table = `TC_SYM_T1_29;
            30: t1_table = `TC_SYM_T1_30;
            31: t1_table = `TC_SYM_T1_31;
            32: t1_table = `TC_SYM_T1_32;
            33: t1_table = `TC_SYM_T1_33;
            default: t1_table = 8192'd0;
        endcase
    end
endfunction

wire [8*KB-1:0] key = {5'd0, venue, len, name};
wire [31:0]     part [0:KB-1];

genvar gx;
generate
    for (gx = 0; gx < KB; gx = gx + 1) begin : pos
        localparam [8191:0] T = t1_table(gx);
        assign part[gx] = T[32*key[8*gx +: 8] +: 32];
    end
endgenerate

reg [31:0] acc;
integer i;
always @* begin
    acc = 32'd0;
    for (i = 0; i < KB; i = i + 1)
        acc = acc ^ part[i];
end
assign y = acc;

localparam [TW-1:0] T2_00 = `TC_SYM_T2_0_0;
localparam [TW-1:0] T2_01 = `TC_SYM_T2_0_1;
localparam [TW-1:0] T2_02 = `TC_SYM_T2_0_2;
localparam [TW-1:0] T2_03 = `TC_SYM_T2_0_3;
localparam [TW-1:0] T2_10 = `TC_SYM_T2_1_0;
localparam [TW-1:0] T2_11 = `TC_SYM_T2_1_1;
localparam [TW-1:0] T2_12 = `TC_SYM_T2_1_2;
localparam [TW-1:0] T2_13 = `TC_SYM_T2_1_3;

assign slot0 = T2_00[SLOT_BITS*y_in[7:0] +: SLOT_BITS] ^ T2_01[SLOT_BITS*y_in[15:8] +: SLOT_BITS] ^
               T2_02[SLOT_BITS*y_in[23:16] +: SLOT_BITS] ^ T2_03[SLOT_BITS*y_in[31:24] +: SLOT_BITS];
assign slot1 = T2_10[SLOT_BITS*y_in[7:0] +: SLOT_BITS] ^ T2_11[SLOT_BITS*y_in[15:8] +: SLOT_BITS] ^
               T2_12[SLOT_BITS*y_in[23:16] +: SLOT_BITS] ^ T2_13[SLOT_BITS*y_in[31:24] +: SLOT_BITS];

endmodule

`resetall
