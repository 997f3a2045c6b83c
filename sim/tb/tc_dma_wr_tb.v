// tc_event_ring feeding tc_dma_wr, as tickcross_top connects them, for tests/hdl_dma_wr.rs.
// Each event's fields are wired from one 64-bit input (`ev_px`, `ev2_px` for the second event;
// the test computes the same record words), so a record's contents are checked whole.

`resetall
`timescale 1ns / 1ps
`default_nettype none

module tc_dma_wr_tb #(
    parameter ADDR_BITS = 10,
    parameter MEM_REG = 0
) (
    input  wire          clk,
    input  wire          rst,
    input  wire          clear,
    input  wire [63:0]   cycle,
    input  wire [63:0]   cfg_addr,
    input  wire [63:0]   cfg_records,
    input  wire [63:0]   consumer,
    input  wire          ev_valid,
    input  wire [63:0]   ev_px,
    input  wire          ev2_valid,
    input  wire [63:0]   ev2_px,
    input  wire          bar_rd_en,
    input  wire [ADDR_BITS-1:0] bar_rd_index,
    input  wire [3:0]    bar_rd_word,
    output wire [63:0]   ring_rd_data,
    output wire [63:0]   producer,
    output wire [1:0]    inc_overflow,
    output wire [63:0]   written,
    output wire          busy,
    output wire [63:0]   m_axis_dma_addr,
    output wire [511:0]  m_axis_dma_tdata,
    output wire          m_axis_dma_tvalid,
    input  wire          m_axis_dma_tready,
    output wire          m_axis_dma_tlast
);

wire [63:0] room_consumer;
wire        rr_en;
wire [ADDR_BITS-1:0] rr_index;
wire [3:0]  rr_word;
wire [1:0]  inc_event;
wire [511:0] ring_rd_half;
wire        unused = &{1'b0, inc_event};

tc_event_ring #(.ADDR_BITS(ADDR_BITS), .INSTR_BITS(8), .VB(3), .MEM_REG(MEM_REG)) ring (
    .clk(clk), .rst(rst), .clear(clear), .cycle(cycle), .consumer(room_consumer),
    .ev_valid(ev_valid), .ev_instrument(ev_px[7:0]), .ev_buy_venue(ev_px[10:8]),
    .ev_sell_venue(ev_px[13:11]), .ev_trigger_venue(ev_px[16:14]), .ev_trigger_sell(ev_px[17]),
    .ev_buy_px(ev_px), .ev_buy_qty(~ev_px), .ev_sell_px({ev_px[31:0], ev_px[63:32]}),
    .ev_sell_qty(ev_px ^ 64'h5555_5555_5555_5555), .ev_qty(ev_px + 64'd7),
    .ev_ts(ev_px ^ 64'h0f0f_0f0f_0f0f_0f0f), .ev_buy_ts(ev_px ^ 64'h1111_1111_1111_1111),
    .ev_sell_ts(ev_px ^ 64'h2222_2222_2222_2222), .ev_cyc_frame(ev_px ^ 64'h3333_3333_3333_3333),
    .ev_cyc_first(ev_px ^ 64'h4444_4444_4444_4444), .ev_cyc_last(ev_px ^ 64'h6666_6666_6666_6666),
    .ev_feed_key(ev_px ^ 64'h7777_7777_7777_7777),
    .ev2_valid(ev2_valid), .ev2_buy_venue(ev2_px[10:8]), .ev2_sell_venue(ev2_px[13:11]),
    .ev2_trigger_sell(ev2_px[17]), .ev2_buy_px(ev2_px), .ev2_buy_qty(~ev2_px),
    .ev2_sell_px({ev2_px[31:0], ev2_px[63:32]}), .ev2_sell_qty(ev2_px ^ 64'h5555_5555_5555_5555),
    .ev2_qty(ev2_px + 64'd7), .ev2_buy_ts(ev2_px ^ 64'h1111_1111_1111_1111),
    .ev2_sell_ts(ev2_px ^ 64'h2222_2222_2222_2222),
    .producer(producer), .inc_event(inc_event), .inc_overflow(inc_overflow),
    .rd_en(rr_en), .rd_index(rr_index), .rd_word(rr_word), .rd_data(ring_rd_data),
    .rd_half(ring_rd_half)
);

tc_dma_wr #(.ADDR_BITS(ADDR_BITS), .MEM_REG(MEM_REG)) dma (
    .clk(clk), .rst(rst), .clear(clear),
    .cfg_addr(cfg_addr), .cfg_records(cfg_records), .consumer(consumer),
    .room_consumer(room_consumer), .producer(producer), .written(written), .busy(busy),
    .bar_rd_en(bar_rd_en), .bar_rd_index(bar_rd_index), .bar_rd_word(bar_rd_word),
    .ring_rd_en(rr_en), .ring_rd_index(rr_index), .ring_rd_word(rr_word),
    .ring_rd_half(ring_rd_half),
    .m_axis_dma_addr(m_axis_dma_addr), .m_axis_dma_tdata(m_axis_dma_tdata),
    .m_axis_dma_tvalid(m_axis_dma_tvalid), .m_axis_dma_tready(m_axis_dma_tready),
    .m_axis_dma_tlast(m_axis_dma_tlast)
);

endmodule

`resetall
