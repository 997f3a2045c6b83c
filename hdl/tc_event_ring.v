// Event ring (DESIGN section 5, docs/PIPELINE.md section 7).
//
// Each event takes the next sequence number and is written as one record of `TC_RECORD_WORDS 64-bit
// words at index producer mod depth, stamped with the cycle it is committed. When the host's
// consumer index is a full ring behind, the event is dropped and counted; the input never waits.
// Words are kept in one memory per word so a record is written in one cycle and read by word.

`resetall
`timescale 1ns / 1ps
`default_nettype none

`include "hdl/tickcross_contract.vh"

module tc_event_ring #(
    parameter ADDR_BITS = 10
) (
    input  wire          clk,
    input  wire          rst,
    input  wire          clear,          // sequence and producer back to 0

    input  wire [63:0]   cycle,
    input  wire [63:0]   consumer,

    input  wire          ev_valid,
    input  wire [7:0]    ev_instrument,
    input  wire [2:0]    ev_buy_venue,
    input  wire [2:0]    ev_sell_venue,
    input  wire [2:0]    ev_trigger_venue,
    input  wire          ev_trigger_sell,
    input  wire [63:0]   ev_buy_px,
    input  wire [63:0]   ev_buy_qty,
    input  wire [63:0]   ev_sell_px,
    input  wire [63:0]   ev_sell_qty,
    input  wire [63:0]   ev_qty,
    input  wire [63:0]   ev_ts,
    input  wire [63:0]   ev_buy_ts,
    input  wire [63:0]   ev_sell_ts,
    input  wire [63:0]   ev_cyc_frame,
    input  wire [63:0]   ev_cyc_first,
    input  wire [63:0]   ev_cyc_last,

    output reg  [63:0]   producer,
    output reg           inc_event,
    output reg           inc_overflow,

    // BAR read: record index and word, data one cycle later
    input  wire          rd_en,
    input  wire [ADDR_BITS-1:0] rd_index,
    input  wire [3:0]    rd_word,
    output wire [63:0]   rd_data
);

localparam DEPTH = 1 << ADDR_BITS;
localparam NW = `TC_RECORD_WORDS;

reg  [63:0] seq;

wire [63:0] meta = ({56'd0, ev_instrument}    << `TC_REC_META_INSTRUMENT_LSB) |
                   ({61'd0, ev_buy_venue}     << `TC_REC_META_BUY_VENUE_LSB) |
                   ({61'd0, ev_sell_venue}    << `TC_REC_META_SELL_VENUE_LSB) |
                   ({61'd0, ev_trigger_venue} << `TC_REC_META_TRIGGER_VENUE_LSB) |
                   ({63'd0, ev_trigger_sell}  << `TC_REC_META_TRIGGER_SIDE_LSB) |
                   (64'd1                     << `TC_REC_META_VALID_LSB);

// word k of the record, as the contract lays it out (other words read as zero)
function [63:0] rec_word;
    input integer k;
    begin
        case (k)
            `TC_REC_SEQ:        rec_word = seq;
            `TC_REC_META:       rec_word = meta;
            `TC_REC_BUY_PRICE:  rec_word = ev_buy_px;
            `TC_REC_BUY_QTY:    rec_word = ev_buy_qty;
            `TC_REC_SELL_PRICE: rec_word = ev_sell_px;
            `TC_REC_SELL_QTY:   rec_word = ev_sell_qty;
            `TC_REC_QTY:        rec_word = ev_qty;
            `TC_REC_TS:         rec_word = ev_ts;
            `TC_REC_BUY_TS:     rec_word = ev_buy_ts;
            `TC_REC_SELL_TS:    rec_word = ev_sell_ts;
            `TC_REC_CYC_FRAME:  rec_word = ev_cyc_frame;
            `TC_REC_CYC_FIRST:  rec_word = ev_cyc_first;
            `TC_REC_CYC_LAST:   rec_word = ev_cyc_last;
            `TC_REC_CYC_COMMIT: rec_word = cycle;
            default:            rec_word = 64'd0;
        endcase
    end
endfunction

wire        full = producer - consumer >= DEPTH;
wire        write = ev_valid && !full;

reg  [3:0]  rd_word_d;
wire [63:0] word_out [0:NW-1];

genvar gw;
generate
    for (gw = 0; gw < NW; gw = gw + 1) begin : word_mem
        reg [63:0] mem [0:DEPTH-1];
        reg [63:0] q;
        always @(posedge clk) begin
            if (write)
                mem[producer[ADDR_BITS-1:0]] <= rec_word(gw);
            if (rd_en && rd_word == gw)
                q <= mem[rd_index];
        end
        assign word_out[gw] = q;
    end
endgenerate

always @(posedge clk) if (rd_en) rd_word_d <= rd_word;
assign rd_data = word_out[rd_word_d];

always @(posedge clk) begin
    inc_event <= ev_valid;
    inc_overflow <= ev_valid && full;
    if (ev_valid) begin
        seq <= seq + 64'd1;
        if (!full)
            producer <= producer + 64'd1;
    end
    if (rst || clear) begin
        seq <= 64'd0;
        producer <= 64'd0;
    end
    if (rst) begin
        inc_event <= 1'b0;
        inc_overflow <= 1'b0;
    end
end

endmodule

`resetall
