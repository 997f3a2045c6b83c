// The pipeline's 64-bit counters (indexes from bindings/contract.toml). Each source reports its
// events on its own narrow port; a counter changes only in a cycle that has something to count.
// Read by index for the register block; reset_counters zeroes them all.

`resetall
`timescale 1ns / 1ps
`default_nettype none

`include "hdl/tickcross_contract.vh"
`include "hdl/tc_pipeline.vh"

module tc_counters #(
    parameter N = `TC_N_COUNTERS,   // counters, at most 64 (the read index is 6 bits)
    parameter VB = 3                // venue index width (per-venue message counters), 1..3
) (
    input  wire          clk,
    input  wire          rst,
    input  wire          clear,

    // frame verdicts (tc_frame_rx)
    input  wire          done_valid,
    input  wire [2:0]    done_reason,
    input  wire [31:0]   done_bytes,
    // message counts of a committed frame (tc_commit)
    input  wire          cnt_valid,
    input  wire [VB-1:0] cnt_venue,
    input  wire [`TC_C_BITS-1:0] cnt,
    // single events
    input  wire          inc_unknown_symbol,
    input  wire          inc_bind,
    input  wire          inc_eviction,
    input  wire          inc_update,
    input  wire [1:0]    inc_event,      // up to two a cycle
    input  wire [1:0]    inc_overflow,
    input  wire          inc_stall,
    input  wire          inc_out_of_order,
    // deribit_mcast frame sequences (tc_deribit_dec)
    input  wire          inc_duplicate,
    input  wire          inc_untracked,
    input  wire          inc_gap,
    input  wire [2:0]    gap_venue,

    input  wire [5:0]    rd_index,
    output wire [63:0]   rd_data
);

initial begin
    if (N < 1 || N > 64) begin
        $error("Error: N = %0d, must be 1..64 (instance %m)", N);
        $finish;
    end
    if (VB < 1 || VB > 3) begin
        $error("Error: VB = %0d, must be 1..3 (instance %m)", VB);
        $finish;
    end
end

// how much counter k grows this cycle
function [31:0] amount;
    input integer k;
    begin
        amount = 32'd0;
        if (done_valid) begin
            if (k == `TC_CNT_RX_FRAMES)         amount = 32'd1;
            if (k == `TC_CNT_RX_BYTES)          amount = done_bytes;
            if (k == `TC_CNT_FRAMES_ACCEPTED)   amount = {31'd0, done_reason == `TC_R_OK};
            if (k == `TC_CNT_DROP_DISABLED)     amount = {31'd0, done_reason == `TC_R_DISABLED};
            if (k == `TC_CNT_DROP_BAD_FRAME)    amount = {31'd0, done_reason == `TC_R_BAD};
            if (k == `TC_CNT_DROP_NOT_IPV4_UDP) amount = {31'd0, done_reason == `TC_R_NOT_IPV4};
            if (k == `TC_CNT_DROP_CHECKSUM)     amount = {31'd0, done_reason == `TC_R_CHECKSUM};
            if (k == `TC_CNT_DROP_LENGTH)       amount = {31'd0, done_reason == `TC_R_LENGTH};
            if (k == `TC_CNT_DROP_NO_VENUE)     amount = {31'd0, done_reason == `TC_R_NO_VENUE};
        end
        if (cnt_valid) begin
            if (k == `TC_CNT_MSG_TRUNCATED)         amount = {16'd0, cnt[`TC_C_TRUNC +: 16]};
            if (k == `TC_CNT_MSG_UNKNOWN_TEMPLATE)  amount = {16'd0, cnt[`TC_C_UNKNOWN +: 16]};
            if (k == `TC_CNT_MSG_CONVERSION)        amount = {16'd0, cnt[`TC_C_CONV +: 16]};
            if (k == `TC_CNT_MSG_SKIPPED)           amount = {16'd0, cnt[`TC_C_SKIPPED +: 16]};
            if (k >= `TC_CNT_MESSAGES && k < `TC_CNT_MESSAGES + `TC_CNT_MESSAGES_COUNT &&
                k - `TC_CNT_MESSAGES == {{(32-VB){1'b0}}, cnt_venue})
                amount = {16'd0, cnt[`TC_C_MSGS +: 16]};
        end
        // unknown symbols come from the commit counts and from the binding stage
        if (k == `TC_CNT_MSG_UNKNOWN_SYMBOL)
            amount = (cnt_valid ? {16'd0, cnt[`TC_C_UNKSYM +: 16]} : 32'd0) + {31'd0, inc_unknown_symbol};
        if (k == `TC_CNT_BINDS)              amount = {31'd0, inc_bind};
        if (k == `TC_CNT_BIND_EVICTIONS)     amount = {31'd0, inc_eviction};
        if (k == `TC_CNT_QUOTE_UPDATES)      amount = {31'd0, inc_update};
        if (k == `TC_CNT_EVENTS)             amount = {30'd0, inc_event};
        if (k == `TC_CNT_RING_OVERFLOWS)     amount = {30'd0, inc_overflow};
        if (k == `TC_CNT_INPUT_STALL_CYCLES) amount = {31'd0, inc_stall};
        if (k == `TC_CNT_MSG_OUT_OF_ORDER)   amount = {31'd0, inc_out_of_order};
        if (k == `TC_CNT_FRAME_DUPLICATES)   amount = {31'd0, inc_duplicate};
        if (k == `TC_CNT_SEQ_UNTRACKED)      amount = {31'd0, inc_untracked};
        if (k >= `TC_CNT_SEQ_GAPS && k < `TC_CNT_SEQ_GAPS + `TC_CNT_SEQ_GAPS_COUNT &&
            k - `TC_CNT_SEQ_GAPS == {29'd0, gap_venue})
            amount = {31'd0, inc_gap};
    end
endfunction

// one register per counter
wire [63:0] value [0:63];
genvar g;
generate
    for (g = 0; g < 64; g = g + 1) begin : counter
        if (g < N) begin : used
            reg [63:0] c;
            always @(posedge clk) begin
                if (rst || clear)
                    c <= 64'd0;
                else if (amount(g) != 32'd0)
                    c <= c + {32'd0, amount(g)};
            end
            assign value[g] = c;
        end else begin : unused
            assign value[g] = 64'd0;
        end
    end
endgenerate

assign rd_data = value[rd_index];

endmodule

`resetall
