// Symbol lookup and number conversion, side by side (docs/PIPELINE.md sections 3 and 5).
//
// Records from the decoders (L0: their output registers) flow through DEPTH = 3 + MEM_REG +
// ADDR_REG + CMP_REG stages, one per cycle, in order. The symbol hash (tickcross_bindings::sym_hash: double
// tabulation over 4-bit characters) is logic: every table bit is a function of one nibble (a
// LUT4), its constants generated from the contract (hdl/tc_sym_tables.vh). The two-way cuckoo
// table is block RAM.
//   L0  a name (quote by name, instrument definition): each key nibble (64 name nibbles, length,
//       venue) selects its first-level entry; the entries are XORed in HG groups, registered.
//   L1  the derived key (XOR of the groups) selects each way's second-level entries, whose XOR is
//       the way's slot: the address of the way's table. With ADDR_REG = 1 that address is
//       registered and reads the table at L2 (the read stage, L(RS)), only routing in between.
//   L(RS+1) the entries come out of the block RAM; with MEM_REG = 1 they are registered first
//       (the RAM's output register: a read costs 4.26 ns of 6.4 on the ECP5) and compared a cycle
//       later.
//   LC = RS + 1 + MEM_REG + CMP_REG: the entries are compared with the key (venue, length,
//       name); with CMP_REG = 1 in two halves at LP = LC - 1, registered, and LC ANDs them. A
//       quote by name that hits is shown on sp_* (instrument and venue) so that the quote stage
//       can read the instrument's rows a cycle before the record is complete. An END record is
//       shown on e_* the cycle before (LC - 1: two cycles before it leaves).
//   L(DEPTH) the record leaves on m_*, combinationally: quotes carry the converted numbers. A
//       quote with a rejected number becomes NONE and counts as conversion; a quote by name that
//       missed becomes NONE and counts as unknown symbol; the frame's END record carries both
//       counts.
// Latency: a record at L0 leaves on m_* DEPTH cycles later: 3 with MEM_REG = 0, 4 with MEM_REG = 1,
// 5 with ADDR_REG = 1 as well, 6 with CMP_REG = 1 too (the double tabulation in block RAM took 4
// with unregistered reads, 7 with registered ones).
// Logic between registers: L0 the first-level entries and XORs of HG-groups (17 entries), L1 a
// 4-input XOR, a second-level entry, an 8-input XOR (into the address register with ADDR_REG); LC
// the 266-bit compare (one LUT level and a carry chain per way; at CMP_REG = 1 two chains of half
// the length at LP, and at LC their AND and the instrument's select, one LUT).
// The four converters (tc_price9_conv, latency CONV_LATENCY) are fed by the decoders on cv_* as
// soon as the numbers are complete: a Binance message's numbers never complete after its last
// byte, a Deribit Ticker's are fed the cycle before its record reaches L0. Their inputs are held
// back DEPTH + 1 - CONV_LATENCY cycles so that the results come in exactly as the record reaches
// L(DEPTH) (so a Deribit Ticker's results are not overwritten by the next Ticker's first).
// With CONV_SHARE = 1 two converters do the work: v0 and v1 go in a cycle before v2 and v3, and
// their results wait a cycle in a register, so the four come in together one cycle later than
// one converter's latency (IN_REG = 1 delays the record by that cycle where the hold-back has
// none to give). Latency L0 -> m_*: DEPTH, and s_* -> m_*: DEPTH + IN_REG.
// Names longer than the table's name width match nothing. Instrument definitions pick up
// hit/instrument for the binding stage, which counts their misses after commit.

`resetall
`timescale 1ns / 1ps
`default_nettype none

`include "hdl/tickcross_contract.vh"
`include "hdl/tc_pipeline.vh"


module tc_lookup #(
    parameter MEM_REG = 0,          // 1: the block RAM read registered (one more cycle)
    parameter CONV_LATENCY = 3,     // tc_price9_conv's latency (input valid -> output), 3..5
    // 1: two converters instead of four, each taking two numbers in consecutive cycles (v0 and v1,
    // then v2 and v3; 21,000 -> 10,600 ECP5 LUT4s). The next message's numbers then come two
    // cycles after these at the earliest, and a cycle after this message's record came in on s_*
    // (not in the same cycle). The decoders feed numbers 8 cycles apart or more, their records 5
    // cycles after at most: a Binance frame is 13 beats or more, one message each, its record
    // at most 4 beats past its numbers; a Deribit Ticker's record comes the cycle after its
    // numbers, and the next Ticker's are 145 bytes further on
    parameter CONV_SHARE = 0,
    // 1: the record is registered once on its way in (a cycle more, L0 a cycle after s_*): the
    // shared converters need it when CONV_LATENCY = DEPTH + 1
    parameter IN_REG = 0,
    // 1: each way's read address registered (a cycle more: the read at L2; the ECP5's slowest
    // path was L1's logic into the address pins of the way's 16 block RAMs, most of it routing)
    parameter ADDR_REG = 0,
    // 1: the compare in two cycles (a cycle more): each way's entry is compared with the key in
    // two halves, registered, and LC ANDs them, so that sp_* (which the quote stage turns into
    // its block RAMs' read) and the hit come from registers through a LUT or two
    parameter CMP_REG = 0
) (
    input  wire          clk,
    input  wire          rst,

    // symbol table writes from the command engine: wr_* hold still from wr_en until `clearing`
    // has fallen (a write waits for a cycle without a read)
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
    input  wire          clear,          // invalidate every slot (takes sym_slots cycles or more)
    output wire          clearing,       // a clear or a write is not done yet

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

    // LC: a quote by name that found its instrument (its record is on m_* next cycle)
    output wire          sp_valid,
    output wire [2:0]    sp_venue,
    output wire [7:0]    sp_instrument,

    // LC - 1: an END record, two cycles before it leaves on m_* (the quote stage's x_end_*: the
    // first END behind a speculative quote is its frame's)
    output wire          e_valid,
    output wire          e_ok,

    // L(DEPTH): the resolved record
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
localparam KB = `TC_SYM_KEY_BYTES;            // key bytes: name, length, venue
localparam NB = `TC_SYM_NAME_BYTES;
localparam HC = `TC_SYM_HASH_CHARS;           // derived key nibbles
localparam CB = `TC_SYM_CHAR_BITS;            // bits of a hash character
localparam NQ = 8 * KB / CB;                   // key nibbles
localparam HG = 4;                             // groups of first-level entries XORed at L0
localparam GQ = (NQ + HG - 1) / HG;            // entries per group
localparam WAYS = `TC_SYM_WAYS;
localparam LEN_BITS = $clog2(NB + 1);          // a stored length (at most NB)
localparam EW = 1 + 3 + LEN_BITS + 8 + 8 * NB; // entry: valid, venue, len, instrument, name
localparam DEPTH = 3 + MEM_REG + ADDR_REG + CMP_REG; // L0 -> m_*
localparam RS = 1 + ADDR_REG;                  // the tables are read at L(RS)
localparam LC = DEPTH - 1;                     // the compare's result
localparam LP = LC - CMP_REG;                  // the entries meet the key
localparam LEAD = 1 + IN_REG;                  // cv_* -> L0, at the latest
// hold-back of the converters' inputs (with CONV_SHARE, of v0 and v1; v2 and v3 a cycle more)
localparam CONV_DELAY = DEPTH + LEAD - CONV_LATENCY - CONV_SHARE;

`include "hdl/tc_sym_tables.vh"

`ifndef SYNTHESIS
initial begin
    if (CONV_LATENCY < 3 || CONV_LATENCY > 5 || CONV_DELAY < 0) begin
        $display("tc_lookup: CONV_LATENCY %0d (CONV_SHARE %0d, IN_REG %0d): the results must be in by L%0d",
                 CONV_LATENCY, CONV_SHARE, IN_REG, DEPTH);
        $finish;
    end
    if ((CONV_SHARE != 0 && CONV_SHARE != 1) || (IN_REG != 0 && IN_REG != 1) ||
        (ADDR_REG != 0 && ADDR_REG != 1) || (CMP_REG != 0 && CMP_REG != 1)) begin
        $display("tc_lookup: CONV_SHARE %0d, IN_REG %0d, ADDR_REG %0d, CMP_REG %0d: 0 or 1",
                 CONV_SHARE, IN_REG, ADDR_REG, CMP_REG);
        $finish;
    end
    if (MEM_REG != 0 && MEM_REG != 1) begin
        $display("tc_lookup: MEM_REG %0d: 0 or 1", MEM_REG);
        $finish;
    end
    if (CB != 4 || HC * CB != 32) begin
        $display("tc_lookup: the hash tables are indexed by nibbles, with a 32-bit derived key");
        $finish;
    end
    if (WAYS != 2 || NB != 32 || KB != NB + 2) begin
        $display("tc_lookup: the ports carry 32 name bytes and two ways (contract: %0d, %0d)", NB, WAYS);
        $finish;
    end
end
`endif
// ---------------------------------------------------------------- converter inputs, held back
// (registers load only for valid inputs, as the converters' own do). hold[h] is cv_* h cycles
// late, its valid flag in the top bit.
localparam DW = 1 + 4 * 64 + 2 * 8;
localparam NH = CONV_DELAY + CONV_SHARE;       // hold-back registers
wire [DW:0]   hold [0:NH];
assign hold[0] = {cv_valid, cv_fmt, cv_v0, cv_v1, cv_v2, cv_v3, cv_pexp, cv_qexp};
genvar g, w;
generate
    for (g = 1; g <= NH; g = g + 1) begin : held
        reg          hv;
        reg [DW-1:0] hd;
        always @(posedge clk) begin
            hv <= hold[g-1][DW] && !rst;
            if (hold[g-1][DW])
                hd <= hold[g-1][DW-1:0];
        end
        assign hold[g] = {hv, hd};
    end
endgenerate
// the numbers as the converters take them: all four (or v0 and v1) at dv, v2 and v3 at dw
/* verilator lint_off UNUSEDSIGNAL */
wire [DW:0]   dv = hold[CONV_DELAY];
wire [DW:0]   dw = hold[NH];
wire [63:0]   dv_v2 = dv[DW-130 -: 64];    // (unused with CONV_SHARE)
wire [63:0]   dv_v3 = dv[DW-194 -: 64];
/* verilator lint_on UNUSEDSIGNAL */
wire          dv_valid = dv[DW];
wire          dv_fmt = dv[DW-1];
wire [63:0]   dv_v0 = dv[DW-2 -: 64];
wire [63:0]   dv_v1 = dv[DW-66 -: 64];
wire [7:0]    dv_pexp = dv[15:8];
wire [7:0]    dv_qexp = dv[7:0];

wire [63:0] c0, c1, c2, c3;
wire        j0, j1, j2, j3;
generate
    if (CONV_SHARE == 0) begin : conv4
        // number k: v_k, with the price exponent for prices (even k), the quantity one else
        wire [255:0] dv_vals = {dv_v3, dv_v2, dv_v1, dv_v0};
        wire [255:0] cv_out;
        wire [3:0]   cv_rej;
        for (w = 0; w < 4; w = w + 1) begin : conv
            tc_price9_conv #(.LATENCY(CONV_LATENCY)) u_conv (
                .clk(clk), .in_valid(dv_valid), .in_value(dv_vals[64*w +: 64]),
                .in_exp(w % 2 == 0 ? dv_pexp : dv_qexp), .in_fmt(dv_fmt),
                .out_value(cv_out[64*w +: 64]), .out_reject(cv_rej[w]));
        end
        assign {c3, c2, c1, c0} = cv_out;
        assign {j3, j2, j1, j0} = cv_rej;
    end else begin : conv2
        // prices (v0, then v2) in one, quantities (v1, then v3) in the other; a pair never
        // meets the next message's first pair (numbers come at most every other cycle)
        wire        dw_valid = dw[DW];
        wire        dw_fmt = dw[DW-1];
        wire [63:0] dw_v2 = dw[DW-130 -: 64];
        wire [63:0] dw_v3 = dw[DW-194 -: 64];
        wire [7:0]  dw_pexp = dw[15:8];
        wire [7:0]  dw_qexp = dw[7:0];
        wire [63:0] cp, cq;
        wire        jp, jq;
        reg  [63:0] cp_r, cq_r;
        reg         jp_r, jq_r;
        tc_price9_conv #(.LATENCY(CONV_LATENCY)) conv_p (
            .clk(clk), .in_valid(dv_valid || dw_valid), .in_value(dv_valid ? dv_v0 : dw_v2),
            .in_exp(dv_valid ? dv_pexp : dw_pexp), .in_fmt(dv_valid ? dv_fmt : dw_fmt),
            .out_value(cp), .out_reject(jp));
        tc_price9_conv #(.LATENCY(CONV_LATENCY)) conv_q (
            .clk(clk), .in_valid(dv_valid || dw_valid), .in_value(dv_valid ? dv_v1 : dw_v3),
            .in_exp(dv_valid ? dv_qexp : dw_qexp), .in_fmt(dv_valid ? dv_fmt : dw_fmt),
            .out_value(cq), .out_reject(jq));
        // the first pair's results, kept as they come out (CONV_LATENCY cycles after they went
        // in): beside the second pair's from the next cycle on, until the next message's
        reg  [CONV_LATENCY-1:0] first_in;
        always @(posedge clk) begin
            first_in <= {first_in[CONV_LATENCY-2:0], dv_valid && !rst};
            if (first_in[CONV_LATENCY-1]) begin
                cp_r <= cp;
                cq_r <= cq;
                jp_r <= jp;
                jq_r <= jq;
            end
            if (rst)
                first_in <= {CONV_LATENCY{1'b0}};
        end
        assign c0 = cp_r;
        assign c1 = cq_r;
        assign c2 = cp;
        assign c3 = cq;
        assign j0 = jp_r;
        assign j1 = jq_r;
        assign j2 = jp;
        assign j3 = jq;
`ifndef SYNTHESIS
        reg cv_last;
        always @(posedge clk) begin
            cv_last <= cv_valid && !rst;
            if (cv_valid && cv_last && !rst) begin
                $fatal(1, "tc_lookup: numbers in consecutive cycles, but the shared converters take a pair a cycle (%m)");
            end
        end
`endif
    end
endgenerate

// ---------------------------------------------------------------- the record in (IN_REG)
localparam RW = 3 + 3 + 32 + 256 + 8 + 4 * 64 + 1 + `TC_C_BITS;
wire [RW-1:0] s_rec = {s_kind, s_venue, s_id, s_name, s_name_len, s_ts, s_cyc_frame, s_cyc_first,
                       s_cyc_last, s_ok, s_cnt};
wire          i_valid;
wire [RW-1:0] i_rec;
generate
    if (IN_REG == 0) begin : in_direct
        assign {i_valid, i_rec} = {s_valid, s_rec};
    end else begin : in_reg
        reg          r_valid;
        reg [RW-1:0] r_rec;
        always @(posedge clk) begin
            r_valid <= s_valid && !rst;
            if (s_valid)
                r_rec <= s_rec;
        end
        assign {i_valid, i_rec} = {r_valid, r_rec};
    end
endgenerate
wire [2:0]    i_kind, i_venue;
wire [31:0]   i_id;
wire [255:0]  i_name;
wire [7:0]    i_name_len;
wire [63:0]   i_ts, i_cyc_frame, i_cyc_first, i_cyc_last;
wire          i_ok;
wire [`TC_C_BITS-1:0] i_cnt;
assign {i_kind, i_venue, i_id, i_name, i_name_len, i_ts, i_cyc_frame, i_cyc_first, i_cyc_last, i_ok,
        i_cnt} = i_rec;

// ---------------------------------------------------------------- the record, L0 -> L(DEPTH)
// (the name and its length go as far as the compare at LC)
reg  [DEPTH:1]    l_valid;
reg  [LC:1]       l_look;       // carries a name to look up
reg  [2:0]        l_kind      [1:DEPTH];
reg  [2:0]        l_venue     [1:DEPTH];
reg  [31:0]       l_id        [1:DEPTH];
reg  [63:0]       l_ts        [1:DEPTH];
reg  [63:0]       l_cyc_frame [1:DEPTH];
reg  [63:0]       l_cyc_first [1:DEPTH];
reg  [63:0]       l_cyc_last  [1:DEPTH];
reg               l_ok        [1:DEPTH];
reg  [`TC_C_BITS-1:0] l_cnt   [1:DEPTH];
reg  [8*NB-1:0]   l_name      [1:LC];
reg  [7:0]        l_len       [1:LC];
wire              look = i_valid && (i_kind == `TC_K_QNAME || i_kind == `TC_K_DEF);

always @(posedge clk) begin
    l_valid[1] <= i_valid;
    l_look[1] <= look;
    if (i_valid) begin
        l_kind[1] <= i_kind;
        l_venue[1] <= i_venue;
        l_id[1] <= i_id;
        l_ts[1] <= i_ts;
        l_cyc_frame[1] <= i_cyc_frame;
        l_cyc_first[1] <= i_cyc_first;
        l_cyc_last[1] <= i_cyc_last;
        l_ok[1] <= i_ok;
        l_cnt[1] <= i_cnt;
    end
    if (look) begin
        l_name[1] <= i_name;
        l_len[1] <= i_name_len;
    end
    if (rst) begin
        l_valid[1] <= 1'b0;
        l_look[1] <= 1'b0;
    end
end

generate
    for (g = 2; g <= DEPTH; g = g + 1) begin : stage
        always @(posedge clk) begin
            l_valid[g] <= l_valid[g-1];
            if (l_valid[g-1]) begin
                l_kind[g] <= l_kind[g-1];
                l_venue[g] <= l_venue[g-1];
                l_id[g] <= l_id[g-1];
                l_ts[g] <= l_ts[g-1];
                l_cyc_frame[g] <= l_cyc_frame[g-1];
                l_cyc_first[g] <= l_cyc_first[g-1];
                l_cyc_last[g] <= l_cyc_last[g-1];
                l_ok[g] <= l_ok[g-1];
                l_cnt[g] <= l_cnt[g-1];
            end
            if (rst)
                l_valid[g] <= 1'b0;
        end
        if (g <= LC) begin : key
            always @(posedge clk) begin
                l_look[g] <= l_look[g-1] && !rst;
                if (l_look[g-1]) begin
                    l_name[g] <= l_name[g-1];
                    l_len[g] <= l_len[g-1];
                end
            end
        end
    end
endgenerate

// ---------------------------------------------------------------- L0: first-level entries
// the key: name bytes (masked past the length by the decoders), the length, the venue
wire [8*KB-1:0]   key = {5'd0, i_venue, i_name_len, i_name};
// Each entry is a 16-entry table over its nibble, written as the OR of the constant rows the
// nibble's decoded value selects: one LUT4 a bit after mapping, and only constant ANDs/ORs for
// Yosys to fold (a constant indexed by the nibble becomes a shifter per bit, slow to map). The
// entries are computed inside the registers' enable, so the model does the work only for a name
// (the hardware is the same).
function [31:0] t1_entry;
    input integer pos;          // key nibble position
    input [CB-1:0] nib;
    integer v;
    begin
        t1_entry = 32'd0;
        for (v = 0; v < 16; v = v + 1)
            if ({28'd0, nib} == v)
                t1_entry = t1_entry | SYM_T1[32 * (16 * pos + v) +: 32];
    end
endfunction
// the XOR of group k's entries
function [31:0] t1_group;
    input integer k;
    input [8*KB-1:0] kv;
    integer q;
    begin
        t1_group = 32'd0;
        for (q = k * GQ; q < (k + 1) * GQ; q = q + 1)
            if (q < NQ)
                t1_group = t1_group ^ t1_entry(q, kv[CB*q +: CB]);
    end
endfunction
reg  [31:0]       hp   [0:HG-1];
integer           k;
always @(posedge clk) begin
    if (look)
        for (k = 0; k < HG; k = k + 1)
            hp[k] <= t1_group(k, key);
end

// ---------------------------------------------------------------- L1: derived key, second level
// The derived key (the XOR of the groups) and each way's slot (the XOR of its HC second-level
// entries, each a 16-entry table over a key nibble written as the first level's are) are
// computed inside the read's enable, as the first level is: the model does the work only for a
// name (the hardware is the same).
function [SLOT_BITS-1:0] t2_entry;
    input integer t;            // table: way * HC + derived key nibble
    input [CB-1:0] nib;
    integer v;
    begin
        t2_entry = {SLOT_BITS{1'b0}};
        for (v = 0; v < 16; v = v + 1)
            if ({28'd0, nib} == v)
                t2_entry = t2_entry | SYM_T2[SLOT_BITS * (16 * t + v) +: SLOT_BITS];
    end
endfunction
// way wy's HC second-level entries, side by side
function [HC*SLOT_BITS-1:0] t2_entries;
    input integer wy;           // way
    input [32*HG-1:0] hv;       // the groups, {hp[HG-1], ..., hp[0]}
    reg   [31:0] yv;
    integer q;
    begin
        yv = 32'd0;
        for (q = 0; q < HG; q = q + 1)
            yv = yv ^ hv[32*q +: 32];
        for (q = 0; q < HC; q = q + 1)
            t2_entries[SLOT_BITS*q +: SLOT_BITS] = t2_entry(wy * HC + q, yv[CB*q +: CB]);
    end
endfunction
// their XOR: the way's slot
function [SLOT_BITS-1:0] t2_xor;
    input [HC*SLOT_BITS-1:0] te;
    integer q;
    begin
        t2_xor = {SLOT_BITS{1'b0}};
        for (q = 0; q < HC; q = q + 1)
            t2_xor = t2_xor ^ te[SLOT_BITS*q +: SLOT_BITS];
    end
endfunction
reg  [32*HG-1:0]  hv;
always @* begin
    for (k = 0; k < HG; k = k + 1)
        hv[32*k +: 32] = hp[k];
end

// ---------------------------------------------------------------- L1 -> L2: the ways' tables
// A write (of a symbol, or of a clear's slot) waits for a cycle without a read: the ECP5's block
// RAM reads undefined data when the other port writes the same address in the same cycle, and
// the logic Yosys adds to give the old data instead was this module's slowest path (no_rw_check
// leaves it out). A waiting symbol write needs only a flag: its wr_* hold still meanwhile.
reg          clr_busy;
reg [SLOT_BITS-1:0] clr_slot;
reg          wr_wait;
wire         clr_go = clr_busy && !l_look[RS];
wire         wr_go = (wr_en || wr_wait) && !clr_busy && !l_look[RS];
assign clearing = clr_busy || wr_wait;

wire [EW-1:0] wr_entry = {wr_valid, wr_venue, wr_len[LEN_BITS-1:0], wr_instrument, wr_name};
wire [SLOT_BITS-1:0] wa = clr_busy ? clr_slot : wr_slot;
wire [EW-1:0] wd = clr_busy ? {EW{1'b0}} : wr_entry;
wire [EW-1:0] rd [0:WAYS-1];
generate
    for (w = 0; w < WAYS; w = w + 1) begin : way
        (* ram_style = "block", no_rw_check *)
        reg [EW-1:0] mem [0:SLOTS-1];
        reg [EW-1:0] q;
        wire         we = clr_go || (wr_go && wr_way == w);
        // the way's read address at L(RS): registered at L1 (ADDR_REG), or from L1's groups
        // (inside the read's enable, for the model's sake)
        wire [SLOT_BITS-1:0] ra;
        if (ADDR_REG != 0) begin : areg
            reg [SLOT_BITS-1:0] ra_q;
            always @(posedge clk)
                if (l_look[1])
                    ra_q <= t2_xor(t2_entries(w, hv));
            assign ra = ra_q;
        end else begin : adirect
            assign ra = {SLOT_BITS{1'b0}};
        end
        always @(posedge clk) begin
            if (we)
                mem[wa] <= wd;
            if (l_look[RS])
                q <= mem[ADDR_REG != 0 ? ra : t2_xor(t2_entries(w, hv))];
        end
        if (MEM_REG == 1) begin : oreg
            // the RAM's output register (loads every cycle: q holds the read until the next)
            reg [EW-1:0] q2;
            always @(posedge clk)
                q2 <= q;
            assign rd[w] = q2;
        end else begin : nreg
            assign rd[w] = q;
        end
    end
endgenerate

always @(posedge clk) begin
    if (clear && !clr_busy) begin
        clr_busy <= 1'b1;
        clr_slot <= {SLOT_BITS{1'b0}};
    end else if (clr_go) begin
        clr_slot <= clr_slot + 1'b1;
        if (clr_slot == SLOTS - 1)
            clr_busy <= 1'b0;
    end
    wr_wait <= (wr_en || wr_wait) && !wr_go;
    if (rst) begin
        clr_busy <= 1'b1;
        clr_slot <= {SLOT_BITS{1'b0}};
        wr_wait <= 1'b0;
    end
end
`ifndef SYNTHESIS
// (the ways' reads and writes never meet: no_rw_check)
always @(posedge clk)
    if (l_look[RS] && (way[0].we || way[1].we))
        $fatal(1, "tc_lookup: a table write in a read's cycle (%m)");
`endif

assign e_valid = l_valid[LC-1] && l_kind[LC-1] == `TC_K_END;
assign e_ok = l_ok[LC-1];

// ---------------------------------------------------------------- LC: compare
// a name that fits the table, and a quote by name among them (known a cycle ahead)
reg          lc_short, lc_qname;
always @(posedge clk) begin
    lc_short <= l_len[LC-1] <= NB;
    lc_qname <= l_look[LC-1] && l_len[LC-1] <= NB && l_kind[LC-1] == `TC_K_QNAME;
end
// Each way's entry equals the key (valid, venue, length, name) when every group of three
// compared bits does; the groups' AND is the carry out of (groups + 1), a carry chain behind one
// LUT level instead of a four-level AND tree. With CMP_REG = 1 the groups are split in NCH = 2
// chunks, each its own chain, registered at LP; LC ANDs them. Only a name's record uses the
// result (hit, sp_*, and the instrument, which only a hit carries on), so the compare is written
// inside l_look[LP]: the model does the work only for a name.
localparam CW = 1 + 3 + LEN_BITS + 8 * NB;
localparam NG = (CW + 2) / 3;
localparam NCH = 1 + CMP_REG;
localparam GPC = (NG + NCH - 1) / NCH;          // groups a chunk
wire [CW-1:0] key_cmp = {1'b1, l_venue[LP], l_len[LP][LEN_BITS-1:0], l_name[LP]};
function [NCH-1:0] way_same;
    /* verilator lint_off UNUSEDSIGNAL */
    input [EW-1:0] e;           // the instrument is not compared
    /* verilator lint_on UNUSEDSIGNAL */
    input [CW-1:0] kc;
    reg   [3*NCH*GPC-1:0] diff;
    reg   [NCH*GPC-1:0] same;   // (groups past NG: equal)
    reg   [GPC:0]       chain;
    integer             gi, ci;
    begin
        diff = {3*NCH*GPC{1'b0}};
        diff[CW-1:0] = {e[EW-1 -: 4 + LEN_BITS], e[8*NB-1:0]} ^ kc;
        for (gi = 0; gi < NCH * GPC; gi = gi + 1)
            same[gi] = diff[3*gi +: 3] == 3'd0;
        for (ci = 0; ci < NCH; ci = ci + 1) begin
            chain = {1'b0, same[GPC*ci +: GPC]} + {{GPC{1'b0}}, 1'b1};
            way_same[ci] = chain[GPC];
        end
    end
endfunction
wire [WAYS-1:0] hitw;           // (meaningful with l_look[LC])
wire [7:0]      instr;
generate
    if (CMP_REG != 0) begin : cmp_reg
        reg [NCH-1:0] part [0:WAYS-1];
        reg [7:0]     pins [0:WAYS-1];
        always @(posedge clk)
            if (l_look[LP])
                for (k = 0; k < WAYS; k = k + 1) begin
                    part[k] <= way_same(rd[k], key_cmp);
                    pins[k] <= rd[k][8*NB +: 8];
                end
        for (w = 0; w < WAYS; w = w + 1) begin : hw
            assign hitw[w] = &part[w];
        end
        assign instr = hitw[0] ? pins[0] : pins[1];
    end else begin : cmp_direct
        reg [WAYS-1:0] hitc;
        always @* begin
            hitc = {WAYS{1'b0}};
            if (l_look[LC])
                for (k = 0; k < WAYS; k = k + 1)
                    hitc[k] = way_same(rd[k], key_cmp);
        end
        assign hitw = hitc;
        assign instr = hitw[0] ? rd[0][8*NB +: 8] : rd[1][8*NB +: 8];
    end
endgenerate
wire          hit = l_look[LC] && lc_short && |hitw;

assign sp_valid = lc_qname && |hitw;
assign sp_venue = l_venue[LC];
assign sp_instrument = instr;

reg           ld_hit;
reg  [7:0]    ld_instr;
always @(posedge clk) begin
    if (l_valid[LC]) begin
        ld_hit <= hit;
        ld_instr <= instr;
    end
end

// ---------------------------------------------------------------- L(DEPTH): classify
wire          is_quote = l_kind[DEPTH] == `TC_K_QNAME || l_kind[DEPTH] == `TC_K_QID;
wire          reject = is_quote && (j0 || j1 || j2 || j3);
wire          miss = l_kind[DEPTH] == `TC_K_QNAME && !reject && !ld_hit;
reg  [15:0]   conv_count;     // conversion rejects of the current frame so far
reg  [15:0]   miss_count;     // quote-by-name misses of the current frame so far

assign m_valid = l_valid[DEPTH];
assign m_venue = l_venue[DEPTH];
assign m_id = l_id[DEPTH];
assign m_hit = ld_hit;
assign m_instrument = ld_instr;
assign m_v0 = c0;
assign m_v1 = c1;
assign m_v2 = c2;
assign m_v3 = c3;
assign m_ts = l_ts[DEPTH];
assign m_cyc_frame = l_cyc_frame[DEPTH];
assign m_cyc_first = l_cyc_first[DEPTH];
assign m_cyc_last = l_cyc_last[DEPTH];
assign m_ok = l_ok[DEPTH];

always @* begin
    m_kind = l_kind[DEPTH];
    if (reject || miss)
        m_kind = `TC_K_NONE;
    else if (l_kind[DEPTH] == `TC_K_QNAME)
        m_kind = `TC_K_QUOTE;
    m_cnt = l_cnt[DEPTH];
    if (l_kind[DEPTH] == `TC_K_END) begin
        m_cnt[`TC_C_CONV +: 16] = conv_count;
        m_cnt[`TC_C_UNKSYM +: 16] = miss_count;
    end
end

always @(posedge clk) begin
    if (l_valid[DEPTH]) begin
        if (reject)
            conv_count <= conv_count + 16'd1;
        if (miss)
            miss_count <= miss_count + 16'd1;
        if (l_kind[DEPTH] == `TC_K_END) begin
            conv_count <= 16'd0;
            miss_count <= 16'd0;
        end
    end
    if (rst) begin
        conv_count <= 16'd0;
        miss_count <= 16'd0;
    end
end

assign busy = |l_valid || (IN_REG != 0 && i_valid);

endmodule

`resetall
