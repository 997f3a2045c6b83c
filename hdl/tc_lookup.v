// Symbol lookup and number conversion, side by side (docs/PIPELINE.md sections 3 and 5).
//
// Records from the decoders (L0: their output registers) flow through two stages, one per cycle,
// in order:
//   L0  a name (quote by name, instrument definition) is hashed (tickcross_bindings::sym_hash:
//       double tabulation, table lookups and XORs) and both ways of the two-way cuckoo table are
//       read at the two slots.
//   L1  the entries are compared with the key (venue, length, name). A quote by name that hits is
//       shown on sp_* (instrument and venue) so that the quote stage can read the instrument's
//       rows a cycle before the record is complete.
//   L2  the record leaves on m_*, combinationally: quotes carry the converted numbers. A quote
//       with a rejected number becomes NONE and counts as conversion; a quote by name that missed
//       becomes NONE and counts as unknown symbol; the frame's END record carries both counts.
// The four converters (tc_price9_conv, latency 3) are fed by the decoders on cv_* as soon as the
// numbers are complete: a Binance message's numbers never complete after its last byte, a Deribit
// Ticker's are fed as its record is emitted, so the results are in when the record reaches L2.
// Names longer than the table's name width match nothing. Instrument definitions pick up
// hit/instrument for the binding stage, which counts their misses after commit.

`resetall
`timescale 1ns / 1ps
`default_nettype none

`include "hdl/tickcross_contract.vh"
`include "hdl/tc_pipeline.vh"

module tc_lookup (
    input  wire          clk,
    input  wire          rst,

    // symbol table writes from the command engine
    input  wire          wr_en,
    input  wire          wr_way,
    input  wire [`TC_SYM_HASH_BITS-1:0] wr_slot,
    input  wire          wr_valid,
    input  wire [2:0]    wr_venue,
    /* verilator lint_off UNUSEDSIGNAL */
    input  wire [7:0]    wr_len,         // at most 32: six bits are stored
    /* verilator lint_on UNUSEDSIGNAL */
    input  wire [7:0]    wr_instrument,
    input  wire [255:0]  wr_name,
    input  wire          clear,          // invalidate every slot (takes sym_slots cycles)
    output wire          clearing,

    // L0: a record
    input  wire          s_valid,
    input  wire [2:0]    s_kind,
    input  wire [2:0]    s_venue,
    input  wire [31:0]   s_id,
    input  wire [255:0]  s_name,         // masked past its length
    input  wire [7:0]    s_name_len,
    input  wire [63:0]   s_ts,
    input  wire [63:0]   s_cyc_frame,
    input  wire [63:0]   s_cyc_first,
    input  wire [63:0]   s_cyc_last,
    input  wire          s_ok,
    input  wire [`TC_C_BITS-1:0] s_cnt,

    // numbers to convert
    input  wire          cv_valid,
    input  wire          cv_fmt,         // 0 decimal mantissas, 1 doubles
    input  wire [63:0]   cv_v0,
    input  wire [63:0]   cv_v1,
    input  wire [63:0]   cv_v2,
    input  wire [63:0]   cv_v3,
    input  wire [7:0]    cv_pexp,
    input  wire [7:0]    cv_qexp,

    // L1: a quote by name that found its instrument (its record is at L2 next cycle)
    output wire          sp_valid,
    output wire [2:0]    sp_venue,
    output wire [7:0]    sp_instrument,

    // L2: the resolved record
    output wire          m_valid,
    output reg  [2:0]    m_kind,
    output wire [2:0]    m_venue,
    output wire [31:0]   m_id,
    output wire          m_hit,
    output wire [7:0]    m_instrument,
    output wire [63:0]   m_v0,
    output wire [63:0]   m_v1,
    output wire [63:0]   m_v2,
    output wire [63:0]   m_v3,
    output wire [63:0]   m_ts,
    output wire [63:0]   m_cyc_frame,
    output wire [63:0]   m_cyc_first,
    output wire [63:0]   m_cyc_last,
    output wire          m_ok,
    output reg  [`TC_C_BITS-1:0] m_cnt,

    output wire          busy
);

localparam SLOT_BITS = `TC_SYM_HASH_BITS;
localparam SLOTS = 1 << SLOT_BITS;
localparam KB = `TC_SYM_KEY_BYTES;
localparam EW = 1 + 3 + 6 + 8 + 256;          // entry: valid, venue, len, instrument, name

// ---------------------------------------------------------------- the hash
// One ROM (case table) per key position for the first tabulation, one per derived byte and way for
// the second: each is an 8-input function, a LUT level. This file assumes the contract's 34-byte
// key (32 name bytes, the length, the venue) and 4 derived bytes.
function [31:0] t1_0;
    input [7:0] b;
    reg [31:0] v;
    begin
        v = 32'd0;
        case (b) `TC_SYM_T1_CASES_0 default: ; endcase
        t1_0 = v;
    end
endfunction
function [31:0] t1_1;
    input [7:0] b;
    reg [31:0] v;
    begin
        v = 32'd0;
        case (b) `TC_SYM_T1_CASES_1 default: ; endcase
        t1_1 = v;
    end
endfunction
function [31:0] t1_2;
    input [7:0] b;
    reg [31:0] v;
    begin
        v = 32'd0;
        case (b) `TC_SYM_T1_CASES_2 default: ; endcase
        t1_2 = v;
    end
endfunction
function [31:0] t1_3;
    input [7:0] b;
    reg [31:0] v;
    begin
        v = 32'd0;
        case (b) `TC_SYM_T1_CASES_3 default: ; endcase
        t1_3 = v;
    end
endfunction
function [31:0] t1_4;
    input [7:0] b;
    reg [31:0] v;
    begin
        v = 32'd0;
        case (b) `TC_SYM_T1_CASES_4 default: ; endcase
        t1_4 = v;
    end
endfunction
function [31:0] t1_5;
    input [7:0] b;
    reg [31:0] v;
    begin
        v = 32'd0;
        case (b) `TC_SYM_T1_CASES_5 default: ; endcase
        t1_5 = v;
    end
endfunction
function [31:0] t1_6;
    input [7:0] b;
    reg [31:0] v;
    begin
        v = 32'd0;
        case (b) `TC_SYM_T1_CASES_6 default: ; endcase
        t1_6 = v;
    end
endfunction
function [31:0] t1_7;
    input [7:0] b;
    reg [31:0] v;
    begin
        v = 32'd0;
        case (b) `TC_SYM_T1_CASES_7 default: ; endcase
        t1_7 = v;
    end
endfunction
function [31:0] t1_8;
    input [7:0] b;
    reg [31:0] v;
    begin
        v = 32'd0;
        case (b) `TC_SYM_T1_CASES_8 default: ; endcase
        t1_8 = v;
    end
endfunction
function [31:0] t1_9;
    input [7:0] b;
    reg [31:0] v;
    begin
        v = 32'd0;
        case (b) `TC_SYM_T1_CASES_9 default: ; endcase
        t1_9 = v;
    end
endfunction
function [31:0] t1_10;
    input [7:0] b;
    reg [31:0] v;
    begin
        v = 32'd0;
        case (b) `TC_SYM_T1_CASES_10 default: ; endcase
        t1_10 = v;
    end
endfunction
function [31:0] t1_11;
    input [7:0] b;
    reg [31:0] v;
    begin
        v = 32'd0;
        case (b) `TC_SYM_T1_CASES_11 default: ; endcase
        t1_11 = v;
    end
endfunction
function [31:0] t1_12;
    input [7:0] b;
    reg [31:0] v;
    begin
        v = 32'd0;
        case (b) `TC_SYM_T1_CASES_12 default: ; endcase
        t1_12 = v;
    end
endfunction
function [31:0] t1_13;
    input [7:0] b;
    reg [31:0] v;
    begin
        v = 32'd0;
        case (b) `TC_SYM_T1_CASES_13 default: ; endcase
        t1_13 = v;
    end
endfunction
function [31:0] t1_14;
    input [7:0] b;
    reg [31:0] v;
    begin
        v = 32'd0;
        case (b) `TC_SYM_T1_CASES_14 default: ; endcase
        t1_14 = v;
    end
endfunction
function [31:0] t1_15;
    input [7:0] b;
    reg [31:0] v;
    begin
        v = 32'd0;
        case (b) `TC_SYM_T1_CASES_15 default: ; endcase
        t1_15 = v;
    end
endfunction
function [31:0] t1_16;
    input [7:0] b;
    reg [31:0] v;
    begin
        v = 32'd0;
        case (b) `TC_SYM_T1_CASES_16 default: ; endcase
        t1_16 = v;
    end
endfunction
function [31:0] t1_17;
    input [7:0] b;
    reg [31:0] v;
    begin
        v = 32'd0;
        case (b) `TC_SYM_T1_CASES_17 default: ; endcase
        t1_17 = v;
    end
endfunction
function [31:0] t1_18;
    input [7:0] b;
    reg [31:0] v;
    begin
        v = 32'd0;
        case (b) `TC_SYM_T1_CASES_18 default: ; endcase
        t1_18 = v;
    end
endfunction
function [31:0] t1_19;
    input [7:0] b;
    reg [31:0] v;
    begin
        v = 32'd0;
        case (b) `TC_SYM_T1_CASES_19 default: ; endcase
        t1_19 = v;
    end
endfunction
function [31:0] t1_20;
    input [7:0] b;
    reg [31:0] v;
    begin
        v = 32'd0;
        case (b) `TC_SYM_T1_CASES_20 default: ; endcase
        t1_20 = v;
    end
endfunction
function [31:0] t1_21;
    input [7:0] b;
    reg [31:0] v;
    begin
        v = 32'd0;
        case (b) `TC_SYM_T1_CASES_21 default: ; endcase
        t1_21 = v;
    end
endfunction
function [31:0] t1_22;
    input [7:0] b;
    reg [31:0] v;
    begin
        v = 32'd0;
        case (b) `TC_SYM_T1_CASES_22 default: ; endcase
        t1_22 = v;
    end
endfunction
function [31:0] t1_23;
    input [7:0] b;
    reg [31:0] v;
    begin
        v = 32'd0;
        case (b) `TC_SYM_T1_CASES_23 default: ; endcase
        t1_23 = v;
    end
endfunction
function [31:0] t1_24;
    input [7:0] b;
    reg [31:0] v;
    begin
        v = 32'd0;
        case (b) `TC_SYM_T1_CASES_24 default: ; endcase
        t1_24 = v;
    end
endfunction
function [31:0] t1_25;
    input [7:0] b;
    reg [31:0] v;
    begin
        v = 32'd0;
        case (b) `TC_SYM_T1_CASES_25 default: ; endcase
        t1_25 = v;
    end
endfunction
function [31:0] t1_26;
    input [7:0] b;
    reg [31:0] v;
    begin
        v = 32'd0;
        case (b) `TC_SYM_T1_CASES_26 default: ; endcase
        t1_26 = v;
    end
endfunction
function [31:0] t1_27;
    input [7:0] b;
    reg [31:0] v;
    begin
        v = 32'd0;
        case (b) `TC_SYM_T1_CASES_27 default: ; endcase
        t1_27 = v;
    end
endfunction
function [31:0] t1_28;
    input [7:0] b;
    reg [31:0] v;
    begin
        v = 32'd0;
        case (b) `TC_SYM_T1_CASES_28 default: ; endcase
        t1_28 = v;
    end
endfunction
function [31:0] t1_29;
    input [7:0] b;
    reg [31:0] v;
    begin
        v = 32'd0;
        case (b) `TC_SYM_T1_CASES_29 default: ; endcase
        t1_29 = v;
    end
endfunction
function [31:0] t1_30;
    input [7:0] b;
    reg [31:0] v;
    begin
        v = 32'd0;
        case (b) `TC_SYM_T1_CASES_30 default: ; endcase
        t1_30 = v;
    end
endfunction
function [31:0] t1_31;
    input [7:0] b;
    reg [31:0] v;
    begin
        v = 32'd0;
        case (b) `TC_SYM_T1_CASES_31 default: ; endcase
        t1_31 = v;
    end
endfunction
function [31:0] t1_32;
    input [7:0] b;
    reg [31:0] v;
    begin
        v = 32'd0;
        case (b) `TC_SYM_T1_CASES_32 default: ; endcase
        t1_32 = v;
    end
endfunction
function [31:0] t1_33;
    input [7:0] b;
    reg [31:0] v;
    begin
        v = 32'd0;
        case (b) `TC_SYM_T1_CASES_33 default: ; endcase
        t1_33 = v;
    end
endfunction
function [SLOT_BITS-1:0] t2_00;
    input [7:0] b;
    reg [SLOT_BITS-1:0] v;
    begin
        v = {SLOT_BITS{1'b0}};
        case (b) `TC_SYM_T2_CASES_0_0 default: ; endcase
        t2_00 = v;
    end
endfunction
function [SLOT_BITS-1:0] t2_01;
    input [7:0] b;
    reg [SLOT_BITS-1:0] v;
    begin
        v = {SLOT_BITS{1'b0}};
        case (b) `TC_SYM_T2_CASES_0_1 default: ; endcase
        t2_01 = v;
    end
endfunction
function [SLOT_BITS-1:0] t2_02;
    input [7:0] b;
    reg [SLOT_BITS-1:0] v;
    begin
        v = {SLOT_BITS{1'b0}};
        case (b) `TC_SYM_T2_CASES_0_2 default: ; endcase
        t2_02 = v;
    end
endfunction
function [SLOT_BITS-1:0] t2_03;
    input [7:0] b;
    reg [SLOT_BITS-1:0] v;
    begin
        v = {SLOT_BITS{1'b0}};
        case (b) `TC_SYM_T2_CASES_0_3 default: ; endcase
        t2_03 = v;
    end
endfunction
function [SLOT_BITS-1:0] t2_10;
    input [7:0] b;
    reg [SLOT_BITS-1:0] v;
    begin
        v = {SLOT_BITS{1'b0}};
        case (b) `TC_SYM_T2_CASES_1_0 default: ; endcase
        t2_10 = v;
    end
endfunction
function [SLOT_BITS-1:0] t2_11;
    input [7:0] b;
    reg [SLOT_BITS-1:0] v;
    begin
        v = {SLOT_BITS{1'b0}};
        case (b) `TC_SYM_T2_CASES_1_1 default: ; endcase
        t2_11 = v;
    end
endfunction
function [SLOT_BITS-1:0] t2_12;
    input [7:0] b;
    reg [SLOT_BITS-1:0] v;
    begin
        v = {SLOT_BITS{1'b0}};
        case (b) `TC_SYM_T2_CASES_1_2 default: ; endcase
        t2_12 = v;
    end
endfunction
function [SLOT_BITS-1:0] t2_13;
    input [7:0] b;
    reg [SLOT_BITS-1:0] v;
    begin
        v = {SLOT_BITS{1'b0}};
        case (b) `TC_SYM_T2_CASES_1_3 default: ; endcase
        t2_13 = v;
    end
endfunction

// the derived key of (venue, length, masked name)
function [31:0] derive;
    input [2:0]   venue;
    input [7:0]   len;
    input [255:0] name;
    reg [8*KB-1:0] key;
    begin
        key = {5'd0, venue, len, name};
        derive = t1_0(key[7:0]) ^
             t1_1(key[15:8]) ^
             t1_2(key[23:16]) ^
             t1_3(key[31:24]) ^
             t1_4(key[39:32]) ^
             t1_5(key[47:40]) ^
             t1_6(key[55:48]) ^
             t1_7(key[63:56]) ^
             t1_8(key[71:64]) ^
             t1_9(key[79:72]) ^
             t1_10(key[87:80]) ^
             t1_11(key[95:88]) ^
             t1_12(key[103:96]) ^
             t1_13(key[111:104]) ^
             t1_14(key[119:112]) ^
             t1_15(key[127:120]) ^
             t1_16(key[135:128]) ^
             t1_17(key[143:136]) ^
             t1_18(key[151:144]) ^
             t1_19(key[159:152]) ^
             t1_20(key[167:160]) ^
             t1_21(key[175:168]) ^
             t1_22(key[183:176]) ^
             t1_23(key[191:184]) ^
             t1_24(key[199:192]) ^
             t1_25(key[207:200]) ^
             t1_26(key[215:208]) ^
             t1_27(key[223:216]) ^
             t1_28(key[231:224]) ^
             t1_29(key[239:232]) ^
             t1_30(key[247:240]) ^
             t1_31(key[255:248]) ^
             t1_32(key[263:256]) ^
             t1_33(key[271:264]);
    end
endfunction

// second tabulation: the slot of each way
function [SLOT_BITS-1:0] slot0;
    input [31:0] y;
    begin
        slot0 = t2_00(y[7:0]) ^ t2_01(y[15:8]) ^ t2_02(y[23:16]) ^ t2_03(y[31:24]);
    end
endfunction
function [SLOT_BITS-1:0] slot1;
    input [31:0] y;
    begin
        slot1 = t2_10(y[7:0]) ^ t2_11(y[15:8]) ^ t2_12(y[23:16]) ^ t2_13(y[31:24]);
    end
endfunction

// ---------------------------------------------------------------- converters
wire [63:0] c0, c1, c2, c3;
wire        j0, j1, j2, j3;
tc_price9_conv conv0 (.clk(clk), .in_valid(cv_valid), .in_value(cv_v0), .in_exp(cv_pexp), .in_fmt(cv_fmt), .out_value(c0), .out_reject(j0));
tc_price9_conv conv1 (.clk(clk), .in_valid(cv_valid), .in_value(cv_v1), .in_exp(cv_qexp), .in_fmt(cv_fmt), .out_value(c1), .out_reject(j1));
tc_price9_conv conv2 (.clk(clk), .in_valid(cv_valid), .in_value(cv_v2), .in_exp(cv_pexp), .in_fmt(cv_fmt), .out_value(c2), .out_reject(j2));
tc_price9_conv conv3 (.clk(clk), .in_valid(cv_valid), .in_value(cv_v3), .in_exp(cv_qexp), .in_fmt(cv_fmt), .out_value(c3), .out_reject(j3));

// ---------------------------------------------------------------- L0: hash and table read
reg [EW-1:0] way0 [0:SLOTS-1];
reg [EW-1:0] way1 [0:SLOTS-1];
reg [EW-1:0] rd0, rd1;

reg          clr_busy;
reg [SLOT_BITS-1:0] clr_slot;
assign clearing = clr_busy;

wire [EW-1:0] wr_entry = {wr_valid, wr_venue, wr_len[5:0], wr_instrument, wr_name};
wire          w0 = clr_busy || (wr_en && !wr_way);
wire          w1 = clr_busy || (wr_en && wr_way);
wire [SLOT_BITS-1:0] wa = clr_busy ? clr_slot : wr_slot;
wire [EW-1:0] wd = clr_busy ? {EW{1'b0}} : wr_entry;
wire          look = s_valid && (s_kind == `TC_K_QNAME || s_kind == `TC_K_DEF);

// the derived key is computed once for both ways (a function in the clocked blocks: the
// simulator evaluates it only for records that carry a name)
reg  [31:0]   y0;
always @(posedge clk) begin
    if (w0)
        way0[wa] <= wd;
    if (look) begin
        /* verilator lint_off BLKSEQ */
        y0 = derive(s_venue, s_name_len, s_name);
        /* verilator lint_on BLKSEQ */
        rd0 <= way0[slot0(y0)];
        rd1 <= way1[slot1(y0)];
    end
    if (w1)
        way1[wa] <= wd;
end

always @(posedge clk) begin
    if (clear && !clr_busy) begin
        clr_busy <= 1'b1;
        clr_slot <= {SLOT_BITS{1'b0}};
    end else if (clr_busy) begin
        clr_slot <= clr_slot + 1'b1;
        if (clr_slot == SLOTS - 1)
            clr_busy <= 1'b0;
    end
    if (rst) begin
        clr_busy <= 1'b1;
        clr_slot <= {SLOT_BITS{1'b0}};
    end
end

reg               l1_valid;
reg  [2:0]        l1_kind, l1_venue;
reg  [31:0]       l1_id;
reg  [255:0]      l1_name;
reg  [7:0]        l1_len;
reg  [63:0]       l1_ts, l1_cyc_frame, l1_cyc_first, l1_cyc_last;
reg               l1_ok;
reg  [`TC_C_BITS-1:0] l1_cnt;

always @(posedge clk) begin
    l1_valid <= s_valid;
    if (s_valid) begin
        l1_kind <= s_kind;
        l1_venue <= s_venue;
        l1_id <= s_id;
        l1_name <= s_name;
        l1_len <= s_name_len;
        l1_ts <= s_ts;
        l1_cyc_frame <= s_cyc_frame;
        l1_cyc_first <= s_cyc_first;
        l1_cyc_last <= s_cyc_last;
        l1_ok <= s_ok;
        l1_cnt <= s_cnt;
    end
    if (rst)
        l1_valid <= 1'b0;
end

// ---------------------------------------------------------------- L1: compare
// (evaluated only with a record at L1)
reg           hit0, hit1;
always @* begin
    hit0 = 1'b0;
    hit1 = 1'b0;
    if (l1_valid && l1_len <= 8'd32) begin
        hit0 = rd0[EW-1] && rd0[EW-2 -: 3] == l1_venue && {2'd0, rd0[EW-5 -: 6]} == l1_len &&
               rd0[255:0] == l1_name;
        hit1 = rd1[EW-1] && rd1[EW-2 -: 3] == l1_venue && {2'd0, rd1[EW-5 -: 6]} == l1_len &&
               rd1[255:0] == l1_name;
    end
end
wire          hit = hit0 || hit1;
wire [7:0]    instr = hit0 ? rd0[263:256] : rd1[263:256];

assign sp_valid = l1_valid && l1_kind == `TC_K_QNAME && hit;
assign sp_venue = l1_venue;
assign sp_instrument = instr;

reg               l2_valid;
reg  [2:0]        l2_kind, l2_venue;
reg  [31:0]       l2_id;
reg               l2_hit;
reg  [7:0]        l2_instr;
reg  [63:0]       l2_ts, l2_cyc_frame, l2_cyc_first, l2_cyc_last;
reg               l2_ok;
reg  [`TC_C_BITS-1:0] l2_cnt;

always @(posedge clk) begin
    l2_valid <= l1_valid;
    if (l1_valid) begin
        l2_kind <= l1_kind;
        l2_venue <= l1_venue;
        l2_id <= l1_id;
        l2_hit <= hit;
        l2_instr <= instr;
        l2_ts <= l1_ts;
        l2_cyc_frame <= l1_cyc_frame;
        l2_cyc_first <= l1_cyc_first;
        l2_cyc_last <= l1_cyc_last;
        l2_ok <= l1_ok;
        l2_cnt <= l1_cnt;
    end
    if (rst)
        l2_valid <= 1'b0;
end

// ---------------------------------------------------------------- L2: classify
wire          is_quote = l2_kind == `TC_K_QNAME || l2_kind == `TC_K_QID;
wire          reject = is_quote && (j0 || j1 || j2 || j3);
wire          miss = l2_kind == `TC_K_QNAME && !reject && !l2_hit;
reg  [15:0]   conv_count;     // conversion rejects of the current frame so far
reg  [15:0]   miss_count;     // quote-by-name misses of the current frame so far

assign m_valid = l2_valid;
assign m_venue = l2_venue;
assign m_id = l2_id;
assign m_hit = l2_hit;
assign m_instrument = l2_instr;
assign m_v0 = c0;
assign m_v1 = c1;
assign m_v2 = c2;
assign m_v3 = c3;
assign m_ts = l2_ts;
assign m_cyc_frame = l2_cyc_frame;
assign m_cyc_first = l2_cyc_first;
assign m_cyc_last = l2_cyc_last;
assign m_ok = l2_ok;

always @* begin
    m_kind = l2_kind;
    if (reject || miss)
        m_kind = `TC_K_NONE;
    else if (l2_kind == `TC_K_QNAME)
        m_kind = `TC_K_QUOTE;
    m_cnt = l2_cnt;
    if (l2_kind == `TC_K_END) begin
        m_cnt[`TC_C_CONV +: 16] = conv_count;
        m_cnt[`TC_C_UNKSYM +: 16] = miss_count;
    end
end

always @(posedge clk) begin
    if (l2_valid) begin
        if (reject)
            conv_count <= conv_count + 16'd1;
        if (miss)
            miss_count <= miss_count + 16'd1;
        if (l2_kind == `TC_K_END) begin
            conv_count <= 16'd0;
            miss_count <= 16'd0;
        end
    end
    if (rst) begin
        conv_count <= 16'd0;
        miss_count <= 16'd0;
    end
end

assign busy = l1_valid || l2_valid;

endmodule

`resetall
