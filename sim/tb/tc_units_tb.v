// Test wrapper for per-module tests driven from Rust (sim/tests/). It instantiates the units
// side by side with narrow ports; each test drives one unit and leaves the others idle.

`resetall
`timescale 1ns / 1ps
`default_nettype none

module tc_units_tb (
    input  wire        clk,
    input  wire        rst,

    // ---- tc_frame_rx
    input  wire [63:0] fr_tdata,
    input  wire [7:0]  fr_tkeep,
    input  wire        fr_tvalid,
    output wire        fr_tready,
    input  wire        fr_tlast,
    input  wire        fr_tuser,
    input  wire [63:0] fr_ts,
    input  wire        fr_enable,
    input  wire        fr_hold,
    input  wire        fr_cfg_wr,      // index 0..15: filter, 16..23: venue
    input  wire [4:0]  fr_cfg_idx,
    input  wire [63:0] fr_cfg_data,
    output wire        fr_m_valid,
    output wire [63:0] fr_m_data,
    output wire [7:0]  fr_m_keep,
    output wire        fr_m_sof,
    output wire        fr_m_eop,
    output wire        fr_m_eof,
    output wire        fr_m_ok,
    output wire [2:0]  fr_m_venue,
    output wire [1:0]  fr_m_proto,
    output wire [15:0] fr_m_len,
    output wire [63:0] fr_m_ts,
    output wire [63:0] fr_m_cyc_frame,
    output wire [63:0] fr_m_cyc_lo,
    output wire [63:0] fr_m_cyc_hi,
    output wire [3:0]  fr_m_split,
    output wire        fr_done_valid,
    output wire [2:0]  fr_done_reason,
    output wire [31:0] fr_done_bytes,
    output wire        fr_busy,
    output wire [63:0] cycle,

    // ---- tc_price9_conv: latency 3 (cv_out), 4 (cv4_out) and 5 (cv5_out) on the same inputs
    input  wire        cv_valid,
    input  wire [63:0] cv_value,
    input  wire [7:0]  cv_exp,
    input  wire        cv_fmt,
    output wire [63:0] cv_out,
    output wire        cv_reject,
    output wire [63:0] cv4_out,
    output wire        cv4_reject,
    output wire [63:0] cv5_out,
    output wire        cv5_reject
);

tc_price9_conv conv (
    .clk(clk),
    .in_valid(cv_valid),
    .in_value(cv_value),
    .in_exp(cv_exp),
    .in_fmt(cv_fmt),
    .out_value(cv_out),
    .out_reject(cv_reject)
);

tc_price9_conv #(.LATENCY(4)) conv4 (
    .clk(clk),
    .in_valid(cv_valid),
    .in_value(cv_value),
    .in_exp(cv_exp),
    .in_fmt(cv_fmt),
    .out_value(cv4_out),
    .out_reject(cv4_reject)
);

tc_price9_conv #(.LATENCY(5)) conv5 (
    .clk(clk),
    .in_valid(cv_valid),
    .in_value(cv_value),
    .in_exp(cv_exp),
    .in_fmt(cv_fmt),
    .out_value(cv5_out),
    .out_reject(cv5_reject)
);

reg [63:0] cycle_q;
assign cycle = cycle_q;
always @(posedge clk) begin
    cycle_q <= rst ? 64'd0 : cycle_q + 64'd1;
end

reg [64*16-1:0] filters;
reg [64*8-1:0]  venues;
always @(posedge clk) begin
    if (rst) begin
        filters <= {64*16{1'b0}};
        venues <= {64*8{1'b0}};
    end else if (fr_cfg_wr) begin
        if (fr_cfg_idx < 5'd16)
            filters[64*fr_cfg_idx[3:0] +: 64] <= fr_cfg_data;
        else
            venues[64*fr_cfg_idx[2:0] +: 64] <= fr_cfg_data;
    end
end

tc_frame_rx #(
    .N_FILTERS(16),
    .N_VENUES(8),
    .MAX_FRAME_BYTES(2048)
) frame_rx (
    .clk(clk),
    .rst(rst),
    .s_axis_tdata(fr_tdata),
    .s_axis_tkeep(fr_tkeep),
    .s_axis_tvalid(fr_tvalid),
    .s_axis_tready(fr_tready),
    .s_axis_tlast(fr_tlast),
    .s_axis_tuser(fr_tuser),
    .s_axis_ts(fr_ts),
    .cycle(cycle_q),
    .enable(fr_enable),
    .hold(fr_hold),
    .filter_cfg(filters),
    .venue_cfg(venues),
    .cfg_wr(1'b1),
    .m_valid(fr_m_valid),
    .m_data(fr_m_data),
    .m_keep(fr_m_keep),
    .m_sof(fr_m_sof),
    .m_eop(fr_m_eop),
    .m_eof(fr_m_eof),
    .m_ok(fr_m_ok),
    .m_venue(fr_m_venue),
    .m_proto(fr_m_proto),
    .m_len(fr_m_len),
    .m_ts(fr_m_ts),
    .m_cyc_frame(fr_m_cyc_frame),
    .m_cyc_lo(fr_m_cyc_lo),
    .m_cyc_hi(fr_m_cyc_hi),
    .m_split(fr_m_split),
    .done_valid(fr_done_valid),
    .done_reason(fr_done_reason),
    .done_bytes(fr_done_bytes),
    .busy(fr_busy)
);

endmodule

`resetall
