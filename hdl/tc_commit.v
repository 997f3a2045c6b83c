// Frame commit (docs/PIPELINE.md section 4).
//
// Records of a frame are written to a buffer as they are decoded, ahead of the frame's verdict
// (except a quote the quote stage took speculatively, which waits there for the verdict itself).
// The frame's END record commits them (verdict good) or rewinds the write pointer (verdict bad), so
// a frame dropped at its last beat leaves no trace. END records of good frames hand their message
// counts to the counters; a good END whose key flag is set (a deribit_mcast gap frame) is stored
// too, behind the frame's records, so that the quote stage sets the channel's gap marker in
// stream order. Committed records leave through a valid/ready port.
//
// The buffer holds 2^ADDR_BITS records. Frames are at most max_frame_bytes long, so a frame carries
// at most (2048 - 42) / 17 < 128 stored records (Instrument messages, the shortest kind) and its
// END, and
// records leave faster than they arrive; 512 entries cover a committed frame still draining plus
// the frame being decoded, with room to spare.

`resetall
`timescale 1ns / 1ps
`default_nettype none

`include "hdl/tc_pipeline.vh"

module tc_commit #(
    parameter ADDR_BITS = 9,         // 2^ADDR_BITS records, 8..12 (see above)
    parameter INSTR_BITS = 8,        // instrument index width, 1..8
    parameter VB = 3                 // venue index width, 1..3
) (
    input  wire          clk,
    input  wire          rst,

    input  wire          s_valid,
    input  wire [2:0]    s_kind,
    input  wire [VB-1:0] s_venue,
    input  wire [31:0]   s_id,           // instrumentId
    input  wire [63:0]   s_key,          // feed key: a QUOTE's bookUpdateId, a QID's or END's
    input  wire          s_kflag,        //   {channelId, sequence, index}, and its flag
    input  wire          s_hit,
    input  wire [INSTR_BITS-1:0] s_instrument,
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
    input  wire          s_skip,         // the quote stage took this record speculatively

    // counts of a committed frame (one pulse per good frame)
    output reg           cnt_valid,
    output reg  [VB-1:0] cnt_venue,
    output reg  [`TC_C_BITS-1:0] cnt,

    output reg           m_valid,
    input  wire          m_ready,
    output wire [2:0]    m_kind,
    output wire [VB-1:0] m_venue,
    output wire [31:0]   m_id,
    output wire [63:0]   m_key,
    output wire          m_kflag,
    output wire          m_hit,
    output wire [INSTR_BITS-1:0] m_instrument,
    output wire [63:0]   m_v0,
    output wire [63:0]   m_v1,
    output wire [63:0]   m_v2,
    output wire [63:0]   m_v3,
    output wire [63:0]   m_ts,
    output wire [63:0]   m_cyc_frame,
    output wire [63:0]   m_cyc_first,
    output wire [63:0]   m_cyc_last,

    output wire          empty,          // nothing held or arriving: a speculative update may go
    output wire          busy
);

initial begin
    if (ADDR_BITS < 8 || ADDR_BITS > 12) begin
        $error("Error: ADDR_BITS = %0d, must be 8..12 (instance %m)", ADDR_BITS);
        $finish;
    end
    if (INSTR_BITS < 1 || INSTR_BITS > 8) begin
        $error("Error: INSTR_BITS = %0d, must be 1..8 (instance %m)", INSTR_BITS);
        $finish;
    end
    if (VB < 1 || VB > 3) begin
        $error("Error: VB = %0d, must be 1..3 (instance %m)", VB);
        $finish;
    end
end

localparam DEPTH = 1 << ADDR_BITS;
localparam W = 3 + VB + 32 + 64 + 1 + 1 + INSTR_BITS + 8*64;

reg [W-1:0] mem [0:DEPTH-1];
reg [W-1:0] rd;
reg [ADDR_BITS:0] wr_ptr, commit_ptr, rd_ptr;

wire end_rec = s_valid && s_kind == `TC_K_END;
// a gap frame's END: stored and committed with the frame
wire end_gap = end_rec && s_ok && s_kflag;
wire store = s_valid && !s_skip && (s_kind == `TC_K_QUOTE || s_kind == `TC_K_QID || s_kind == `TC_K_DEF) ||
             end_gap;

wire have = rd_ptr != commit_ptr;
wire take = have && (!m_valid || m_ready);

always @(posedge clk) begin
    if (store)
        mem[wr_ptr[ADDR_BITS-1:0]] <= {s_kind, s_venue, s_id, s_key, s_kflag, s_hit, s_instrument,
                                       s_v0, s_v1, s_v2, s_v3, s_ts, s_cyc_frame, s_cyc_first, s_cyc_last};
    if (take)
        rd <= mem[rd_ptr[ADDR_BITS-1:0]];
end

assign {m_kind, m_venue, m_id, m_key, m_kflag, m_hit, m_instrument, m_v0, m_v1, m_v2, m_v3,
        m_ts, m_cyc_frame, m_cyc_first, m_cyc_last} = rd;

assign busy = wr_ptr != rd_ptr || m_valid;
assign empty = !busy && !store;

always @(posedge clk) begin
    cnt_valid <= 1'b0;
    if (store)
        wr_ptr <= wr_ptr + 1'b1;
    if (end_rec) begin
        if (s_ok) begin
            commit_ptr <= end_gap ? wr_ptr + 1'b1 : wr_ptr;
            cnt_valid <= 1'b1;
            cnt_venue <= s_venue;
            cnt <= s_cnt;
        end else begin
            wr_ptr <= commit_ptr;
        end
    end
    if (take) begin
        rd_ptr <= rd_ptr + 1'b1;
        m_valid <= 1'b1;
    end else if (m_ready) begin
        m_valid <= 1'b0;
    end
    if (rst) begin
        wr_ptr <= {ADDR_BITS+1{1'b0}};
        commit_ptr <= {ADDR_BITS+1{1'b0}};
        rd_ptr <= {ADDR_BITS+1{1'b0}};
        m_valid <= 1'b0;
        cnt_valid <= 1'b0;
    end
end

endmodule

`resetall
