// Symbol table lookup: (venue, name) -> instrument, exact (docs/PIPELINE.md section 5).
//
// The table is a two-way cuckoo hash: the host places each (venue, name) in slot H0(key) of way 0
// or H1(key) of way 1, so a lookup reads both ways at once and compares the full key. Each hash is
// NH over the key's 16-bit words with per-way keys from the contract, then murmur3's fmix32
// (tickcross_bindings::sym_hash computes the same). Names longer than the table's name width
// match nothing.
//
// Quote-by-name records become resolved QUOTE records or NONE (counted in the frame's END as
// unknown symbol). Instrument definitions pick up hit/instrument for the binding stage, which
// counts their misses after commit. Latency 3, one record per cycle.

`resetall
`timescale 1ns / 1ps
`default_nettype none

`include "hdl/tickcross_contract.vh"
`include "hdl/tc_pipeline.vh"

module tc_sym_stage #(
    parameter SLOT_BITS = `TC_SYM_HASH_BITS
) (
    input  wire          clk,
    input  wire          rst,

    // table writes from the command engine
    input  wire          wr_en,
    input  wire          wr_way,
    input  wire [SLOT_BITS-1:0] wr_slot,
    input  wire          wr_valid,
    input  wire [2:0]    wr_venue,
    /* verilator lint_off UNUSEDSIGNAL */
    input  wire [7:0]    wr_len,         // at most 32: six bits are stored
    /* verilator lint_on UNUSEDSIGNAL */
    input  wire [7:0]    wr_instrument,
    input  wire [255:0]  wr_name,
    input  wire          clear,          // invalidate every slot (takes 2^SLOT_BITS cycles)
    output wire          clearing,

    input  wire          s_valid,
    input  wire [2:0]    s_kind,
    input  wire [2:0]    s_venue,
    input  wire [31:0]   s_id,
    input  wire [255:0]  s_name,
    input  wire [7:0]    s_name_len,
    input  wire [63:0]   s_v0,
    input  wire [63:0]   s_v1,
    input  wire [63:0]   s_v2,
    input  wire [63:0]   s_v3,
    input  wire [63:0]   s_ts,
    input  wire [63:0]   s_cyc_frame,
    input  wire [63:0]   s_cyc_first,
    input  wire [63:0]   s_cyc_last,
    input  wire          s_ok,
    input  wire [`TC_C_BITS-1:0] s_cnt,

    output reg           m_valid,
    output reg  [2:0]    m_kind,
    output reg  [2:0]    m_venue,
    output reg  [31:0]   m_id,
    output reg           m_hit,
    output reg  [7:0]    m_instrument,
    output reg  [63:0]   m_v0,
    output reg  [63:0]   m_v1,
    output reg  [63:0]   m_v2,
    output reg  [63:0]   m_v3,
    output reg  [63:0]   m_ts,
    output reg  [63:0]   m_cyc_frame,
    output reg  [63:0]   m_cyc_first,
    output reg  [63:0]   m_cyc_last,
    output reg           m_ok,
    output reg  [`TC_C_BITS-1:0] m_cnt,

    output wire          busy
);

localparam SLOTS = 1 << SLOT_BITS;
localparam EW = 1 + 3 + 6 + 8 + 256;          // entry: valid, venue, len, instrument, name
localparam RW = 3 + 3 + 32 + 4*64 + 4*64 + 1 + `TC_C_BITS;

// ---------------------------------------------------------------- stage 1: key and hashes
// name bytes at and beyond the length are zero in the key
function [255:0] mask_name;
    input [255:0] name;
    input [7:0] len;
    integer x;
    begin
        mask_name = name;
        for (x = 0; x < 32; x = x + 1)
            if (x[7:0] >= len)
                mask_name[8*x +: 8] = 8'd0;
    end
endfunction

reg               s1_valid;
reg  [RW-1:0]     s1_rec;
reg  [255:0]      s1_name;
reg  [7:0]        s1_len;
reg  [SLOT_BITS-1:0] s1_h0, s1_h1;

wire [255:0]      s_masked = mask_name(s_name, s_name_len);
wire [31:0]       s_y;
wire [SLOT_BITS-1:0] s_h0, s_h1;
tc_sym_hash hash (
    .name(s_masked), .len(s_name_len), .venue(s_venue), .y(s_y),
    .y_in(s_y), .slot0(s_h0), .slot1(s_h1)
);

always @(posedge clk) begin
    s1_valid <= s_valid;
    if (s_valid) begin
        s1_rec <= {s_kind, s_venue, s_id, s_v0, s_v1, s_v2, s_v3,
                   s_ts, s_cyc_frame, s_cyc_first, s_cyc_last, s_ok, s_cnt};
        s1_name <= s_masked;
        s1_len <= s_name_len;
        // only names are looked up; other records skip the hashing work
        if (s_kind == `TC_K_QNAME || s_kind == `TC_K_DEF) begin
            s1_h0 <= s_h0;
            s1_h1 <= s_h1;
        end
    end
    if (rst)
        s1_valid <= 1'b0;
end

// ---------------------------------------------------------------- stage 2: table read
reg [EW-1:0] way0 [0:SLOTS-1];
reg [EW-1:0] way1 [0:SLOTS-1];
reg [EW-1:0] rd0, rd1;

reg          clr_busy;
reg [SLOT_BITS-1:0] clr_slot;
assign clearing = clr_busy;

wire [EW-1:0] wr_entry = {wr_valid, wr_venue, wr_len[5:0], wr_instrument, wr_name};
wire          w0 = clr_busy || (wr_en && !wr_way);
wire          w1 = clr_busy || (wr_en && wr_way);
wire [SLOT_BITS-1:0] wa0 = clr_busy ? clr_slot : wr_slot;
wire [SLOT_BITS-1:0] wa1 = clr_busy ? clr_slot : wr_slot;
wire [EW-1:0] wd = clr_busy ? {EW{1'b0}} : wr_entry;

always @(posedge clk) begin
    if (w0)
        way0[wa0] <= wd;
    if (s1_valid)
        rd0 <= way0[s1_h0];
end
always @(posedge clk) begin
    if (w1)
        way1[wa1] <= wd;
    if (s1_valid)
        rd1 <= way1[s1_h1];
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

reg               s2_valid;
reg  [RW-1:0]     s2_rec;
reg  [255:0]      s2_name;
reg  [7:0]        s2_len;

always @(posedge clk) begin
    s2_valid <= s1_valid;
    if (s1_valid) begin
        s2_rec <= s1_rec;
        s2_name <= s1_name;
        s2_len <= s1_len;
    end
    if (rst)
        s2_valid <= 1'b0;
end

// ---------------------------------------------------------------- stage 3: compare
wire [2:0]    r_kind = s2_rec[RW-1 -: 3];
wire [2:0]    r_venue = s2_rec[RW-4 -: 3];
wire          fits = s2_len <= 8'd32;
wire          hit0 = fits && rd0[EW-1] && rd0[EW-2 -: 3] == r_venue && {2'd0, rd0[EW-5 -: 6]} == s2_len &&
                     rd0[255:0] == s2_name;
wire          hit1 = fits && rd1[EW-1] && rd1[EW-2 -: 3] == r_venue && {2'd0, rd1[EW-5 -: 6]} == s2_len &&
                     rd1[255:0] == s2_name;
wire          hit = hit0 || hit1;
wire [7:0]    instr = hit0 ? rd0[263:256] : rd1[263:256];
reg  [15:0]   miss_count;     // quote-by-name misses of the current frame

assign busy = s1_valid || s2_valid;

always @(posedge clk) begin
    m_valid <= s2_valid;
    if (s2_valid) begin
    m_venue <= r_venue;
    m_id <= s2_rec[RW-7 -: 32];
    m_v0 <= s2_rec[RW-39 -: 64];
    m_v1 <= s2_rec[RW-103 -: 64];
    m_v2 <= s2_rec[RW-167 -: 64];
    m_v3 <= s2_rec[RW-231 -: 64];
    m_ts <= s2_rec[RW-295 -: 64];
    m_cyc_frame <= s2_rec[RW-359 -: 64];
    m_cyc_first <= s2_rec[RW-423 -: 64];
    m_cyc_last <= s2_rec[RW-487 -: 64];
    m_ok <= s2_rec[`TC_C_BITS];
    m_cnt <= s2_rec[`TC_C_BITS-1:0];
    m_hit <= hit;
    m_instrument <= instr;
    m_kind <= r_kind;
    if (r_kind == `TC_K_QNAME)
        m_kind <= hit ? `TC_K_QUOTE : `TC_K_NONE;
    if (s2_valid && r_kind == `TC_K_QNAME && !hit)
        miss_count <= miss_count + 16'd1;
    if (s2_valid && r_kind == `TC_K_END) begin
        m_cnt[`TC_C_UNKSYM +: 16] <= miss_count;
        miss_count <= 16'd0;
    end
    end
    if (rst) begin
        m_valid <= 1'b0;
        miss_count <= 16'd0;
    end
end

endmodule

`resetall
