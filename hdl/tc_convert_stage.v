// Converts the four numbers of each quote record to Price9 (tc_price9_conv, latency 3) and carries
// every other record field alongside. A quote with any rejected number becomes NONE and counts in
// the frame's conversion count, which the frame's END record carries on. One record per cycle,
// order preserved.

`resetall
`timescale 1ns / 1ps
`default_nettype none

`include "hdl/tc_pipeline.vh"

module tc_convert_stage (
    input  wire          clk,
    input  wire          rst,

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
    input  wire [7:0]    s_pexp,
    input  wire [7:0]    s_qexp,
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
    output reg  [255:0]  m_name,
    output reg  [7:0]    m_name_len,
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

localparam LAT = 3;
localparam RW = 3 + 3 + 32 + 256 + 8 + 4*64 + 1 + `TC_C_BITS;

wire fmt = s_kind == `TC_K_QID;
wire [63:0] c0, c1, c2, c3;
wire        j0, j1, j2, j3;

tc_price9_conv conv0 (.clk(clk), .in_valid(s_valid && (s_kind == `TC_K_QNAME || s_kind == `TC_K_QID)), .in_value(s_v0), .in_exp(s_pexp), .in_fmt(fmt), .out_value(c0), .out_reject(j0));
tc_price9_conv conv1 (.clk(clk), .in_valid(s_valid && (s_kind == `TC_K_QNAME || s_kind == `TC_K_QID)), .in_value(s_v1), .in_exp(s_qexp), .in_fmt(fmt), .out_value(c1), .out_reject(j1));
tc_price9_conv conv2 (.clk(clk), .in_valid(s_valid && (s_kind == `TC_K_QNAME || s_kind == `TC_K_QID)), .in_value(s_v2), .in_exp(s_pexp), .in_fmt(fmt), .out_value(c2), .out_reject(j2));
tc_price9_conv conv3 (.clk(clk), .in_valid(s_valid && (s_kind == `TC_K_QNAME || s_kind == `TC_K_QID)), .in_value(s_v3), .in_exp(s_qexp), .in_fmt(fmt), .out_value(c3), .out_reject(j3));

// record fields delayed by the conversion latency
reg [RW-1:0] dly [0:LAT-1];
wire [RW-1:0] rin = {s_kind, s_venue, s_id, s_name, s_name_len,
                     s_ts, s_cyc_frame, s_cyc_first, s_cyc_last, s_ok, s_cnt};
integer i;
// valid bits move every cycle; the wide fields only with a record
reg [LAT-1:0] dv;
always @(posedge clk) begin
    dv <= {dv[LAT-2:0], s_valid};
    if (s_valid)
        dly[0] <= rin;
    for (i = 1; i < LAT; i = i + 1)
        if (dv[i-1])
            dly[i] <= dly[i-1];
    if (rst)
        dv <= {LAT{1'b0}};
end

wire [RW-1:0] d = dly[LAT-1];
wire          d_valid = dv[LAT-1];
wire [2:0]    d_kind = d[RW-1 -: 3];
wire [2:0]    d_venue = d[RW-4 -: 3];
wire [31:0]   d_id = d[RW-7 -: 32];
wire [255:0]  d_name = d[RW-39 -: 256];
wire [7:0]    d_name_len = d[RW-295 -: 8];
wire [63:0]   d_ts = d[RW-303 -: 64];
wire [63:0]   d_cyc_frame = d[RW-367 -: 64];
wire [63:0]   d_cyc_first = d[RW-431 -: 64];
wire [63:0]   d_cyc_last = d[RW-495 -: 64];
wire          d_ok = d[`TC_C_BITS];
wire [`TC_C_BITS-1:0] d_cnt = d[`TC_C_BITS-1:0];

wire          is_quote = d_kind == `TC_K_QNAME || d_kind == `TC_K_QID;
wire          reject = is_quote && (j0 || j1 || j2 || j3);
reg  [15:0]   conv_count;     // rejects of the current frame so far

assign busy = |dv;

always @(posedge clk) begin
    m_valid <= d_valid;
    if (d_valid) begin
    m_kind <= reject ? `TC_K_NONE : d_kind;
    m_venue <= d_venue;
    m_id <= d_id;
    m_name <= d_name;
    m_name_len <= d_name_len;
    m_v0 <= c0;
    m_v1 <= c1;
    m_v2 <= c2;
    m_v3 <= c3;
    m_ts <= d_ts;
    m_cyc_frame <= d_cyc_frame;
    m_cyc_first <= d_cyc_first;
    m_cyc_last <= d_cyc_last;
    m_ok <= d_ok;
    m_cnt <= d_cnt;
    if (d_valid && reject)
        conv_count <= conv_count + 16'd1;
    if (d_valid && d_kind == `TC_K_END) begin
        m_cnt[`TC_C_CONV +: 16] <= conv_count;
        conv_count <= 16'd0;
    end
    end
    if (rst) begin
        m_valid <= 1'b0;
        conv_count <= 16'd0;
    end
end

endmodule

`resetall
