// DMA write engine: event records from the card's ring (tc_event_ring) into a ring in host
// memory (DESIGN section 9, docs/DEVICE.md).
//
// Each record the ring holds goes, in order, as two posted writes of 64 bytes (one 512-bit beat
// each, m_axis_dma_*, as a PCIe core's 512-bit requester interface takes them): words 0..7 to
// slot + 0, words 8..15 to slot + 64, where slot is the
// host ring's base + 128 * (index mod records). Word `TC_RECORD_STAMP_WORD (the record's last 8
// bytes, in its second write) carries the completion stamp seq + 1, never 0 and above every
// stamp an earlier record left in that slot: the host knows a slot is complete by reading host
// memory only. The host's ring base and size are taken at clear_state (and reset); size 0 turns
// DMA off (the ring then works as a BAR window only).
//
// Credits: the host returns its consumer index (records taken from host memory) in
// ring.consumer, now and then. The card ring decides room at commit from `room_consumer`: the
// host's consumer less the records the host ring lacks beside the card ring (a host ring smaller
// than the card ring), so a record is committed only if both rings have room, and an event that
// finds no room is dropped and counted at commit (ring_overflows); the input never waits. A
// record committed is never overwritten before it is sent (the engine is ahead of the host's
// consumer), and a host slot is never written before the host has given it back.
//
// Reads share the ring's single read port with the BAR's debug window: the BAR's read (a
// registered strobe, tc_regs) has priority, the engine reads in the other cycles: a record is two
// reads, one per half (the ring's rd_half, 8 words). Read data comes 1 + MEM_REG cycles after the
// read; the beats wait in a FIFO of 2^FIFO_BITS entries, and
// a read is issued only while the FIFO has an entry for it (reads in flight count), so the
// PCIe side's backpressure (m_axis_dma_tready low) stops the reads, never the pipeline.
//
// Timing: every condition that issues a read is a register (a record pending, FIFO entries
// reserved); the stamp is the record's word 0 + 1, taken as it passes. `busy` covers records
// pending, reads in flight and beats not yet accepted: clear_state waits for it (through the
// pipeline's idle), so every write of the records before a clear has gone out when the clear
// completes. The data out of the engine is not on the commit path: last byte -> commit is
// unchanged.

`resetall
`timescale 1ns / 1ps
`default_nettype none

`include "hdl/tickcross_contract.vh"

module tc_dma_wr #(
    parameter ADDR_BITS = 10,            // card ring: 2^ADDR_BITS records (as tc_event_ring)
    parameter MEM_REG = 0,               // 1: the ring's read data comes a cycle later
    parameter FIFO_BITS = 2              // beat FIFO: 2^FIFO_BITS beats, 2..4
) (
    input  wire          clk,
    input  wire          rst,
    input  wire          clear,          // clear_state: back to record 0, configuration taken

    input  wire [63:0]   cfg_records,    // dma.records: host ring size (0: no DMA)
    input  wire [63:0]   consumer,       // ring.consumer: the host's credits
    output reg  [63:0]   room_consumer,  // for the card ring's room (tc_event_ring.consumer)
    /* verilator lint_off UNUSEDSIGNAL */
    input  wire [63:0]   producer,       // records committed (tc_event_ring.producer; low bits)
    input  wire [63:0]   cfg_addr,       // dma.addr: host ring bus address (low 7 bits ignored)
    /* verilator lint_on UNUSEDSIGNAL */
    output reg  [63:0]   written,        // records whose second write has been accepted
    output wire          busy,

    // the BAR's read of the ring window (priority)
    input  wire          bar_rd_en,
    input  wire [ADDR_BITS-1:0] bar_rd_index,
    input  wire [3:0]    bar_rd_word,
    // the ring's read port (the engine reads by half: rd_word 0 or 8)
    output wire          ring_rd_en,
    output wire [ADDR_BITS-1:0] ring_rd_index,
    output wire [3:0]    ring_rd_word,
    input  wire [511:0]  ring_rd_half,

    // posted write requests: one beat of 64 bytes per write (tlast always high), the bus address
    // with it
    output wire [63:0]   m_axis_dma_addr,
    output wire [511:0]  m_axis_dma_tdata,
    output wire          m_axis_dma_tvalid,
    input  wire          m_axis_dma_tready,
    output wire          m_axis_dma_tlast
);

initial begin
    if (ADDR_BITS < 3 || ADDR_BITS > 30) begin
        $error("Error: ADDR_BITS = %0d, must be 3..30 (instance %m)", ADDR_BITS);
        $finish;
    end
    if (MEM_REG != 0 && MEM_REG != 1) begin
        $error("Error: MEM_REG = %0d, must be 0 or 1 (instance %m)", MEM_REG);
        $finish;
    end
    if (FIFO_BITS < 2 || FIFO_BITS > 4) begin
        $error("Error: FIFO_BITS = %0d, must be 2..4 (instance %m)", FIFO_BITS);
        $finish;
    end
    if (`TC_RECORD_WORDS != 16 || `TC_RECORD_STAMP_WORD != 15) begin
        $error("Error: records of %0d words, stamp in word %0d: this engine writes 16-word records, stamp last (instance %m)",
               `TC_RECORD_WORDS, `TC_RECORD_STAMP_WORD);
        $finish;
    end
end

localparam [63:0] DEPTH = 64'd1 << ADDR_BITS;
localparam FD = 1 << FIFO_BITS;
localparam LAT = 1 + MEM_REG;            // read -> data, cycles

// ---------------------------------------------------------------- configuration (at clear)
reg         en;
reg  [63:0] base;                        // host ring base, 128-byte aligned
reg  [63:0] size_m1;                     // records - 1
reg  [63:0] slack;                       // card ring records the host ring lacks
always @(posedge clk) begin
    if (rst || clear) begin
        en <= cfg_records != 64'd0;
        base <= {cfg_addr[63:7], 7'd0};
        size_m1 <= cfg_records - 64'd1;
        slack <= (cfg_records == 64'd0 || cfg_records >= DEPTH) ? 64'd0 : DEPTH - cfg_records;
    end
    // (a register: the ring's room sees the host's credits a cycle later, which only delays them)
    room_consumer <= consumer - slack;
end

// ---------------------------------------------------------------- reads of the card ring
// (producer - ptr <= DEPTH: the low ADDR_BITS + 1 bits tell them apart)
reg  [ADDR_BITS:0] ptr;                  // the record being read (its index, low bits)
reg  [ADDR_BITS:0] ptr1;                 // ptr + 1
reg              rw;                     // its next half
reg              pend;                   // a record is waiting at ptr
reg  [FIFO_BITS:0] reserved;             // FIFO entries taken by reads in flight and beats
wire             space = reserved != FD;
wire             issue = en && pend && !bar_rd_en && !clear && space;
wire             advance = issue && rw;
wire             pop;

assign ring_rd_en = bar_rd_en || issue;
assign ring_rd_index = bar_rd_en ? bar_rd_index : ptr[ADDR_BITS-1:0];
assign ring_rd_word = bar_rd_en ? bar_rd_word : {rw, 3'd0};

wire pend_now = producer[ADDR_BITS:0] != ptr[ADDR_BITS:0];
wire pend_next = producer[ADDR_BITS:0] != ptr1[ADDR_BITS:0];

always @(posedge clk) begin
    if (issue) begin
        rw <= !rw;
        if (rw) begin
            ptr <= ptr1;
            ptr1 <= ptr1 + 1'b1;
        end
    end
    pend <= advance ? pend_next : pend_now;
    reserved <= reserved + {{FIFO_BITS{1'b0}}, issue} - {{FIFO_BITS{1'b0}}, pop};
    if (rst || clear) begin
        ptr <= {(ADDR_BITS+1){1'b0}};
        ptr1 <= {{ADDR_BITS{1'b0}}, 1'b1};
        rw <= 1'b0;
        pend <= 1'b0;
    end
    // (never at clear: clear_state waits for busy to fall, and a write is never cut short)
    if (rst)
        reserved <= {(FIFO_BITS+1){1'b0}};
end

// the half of each read, and whether the data is the engine's, 1 + MEM_REG cycles on
reg  [LAT-1:0] d_v;
reg  [LAT-1:0] d_w;
wire       dw = d_w[LAT-1];
wire       dv = d_v[LAT-1];
generate
    if (LAT > 1) begin : lat2
        always @(posedge clk) begin
            d_v <= {d_v[LAT-2:0], issue};
            d_w <= {d_w[LAT-2:0], rw};
            if (rst)
                d_v <= {LAT{1'b0}};
        end
    end else begin : lat1
        always @(posedge clk) begin
            d_v <= issue;
            d_w <= rw;
            if (rst)
                d_v <= 1'b0;
        end
    end
endgenerate

// the stamp: word 0 (seq) + 1, replacing word 15 (the second half's last; the second half is read
// at least a cycle after the first)
reg  [63:0] stamp;
always @(posedge clk)
    if (dv && !dw)
        stamp <= ring_rd_half[63:0] + 64'd1;

// ---------------------------------------------------------------- beat FIFO
reg  [511:0]       fifo [0:FD-1];
reg  [FIFO_BITS-1:0] wp, rp;
reg  [FIFO_BITS:0] count;
wire [511:0]       push_beat = dw ? {stamp, ring_rd_half[447:0]} : ring_rd_half;
assign pop = m_axis_dma_tvalid && m_axis_dma_tready;

always @(posedge clk) begin
    if (dv)
        fifo[wp] <= push_beat;
    if (dv)
        wp <= wp + 1'b1;
    if (pop)
        rp <= rp + 1'b1;
    count <= count + {{FIFO_BITS{1'b0}}, dv} - {{FIFO_BITS{1'b0}}, pop};
    if (rst) begin
        wp <= {FIFO_BITS{1'b0}};
        rp <= {FIFO_BITS{1'b0}};
        count <= {(FIFO_BITS+1){1'b0}};
    end
end

// ---------------------------------------------------------------- write addresses
reg  [63:0] slot;                        // host address of the record at the FIFO's head
reg         half;                        // its second write
reg  [63:0] left;                        // slots after this one before the ring wraps
reg         wrap;                        // left == 0 (a register: left moves every 2 beats at most)
wire        rec_done = pop && half;

assign m_axis_dma_tvalid = count != {(FIFO_BITS+1){1'b0}};
assign m_axis_dma_tdata = fifo[rp];
assign m_axis_dma_tlast = 1'b1;
assign m_axis_dma_addr = {slot[63:7], half, 6'd0};

always @(posedge clk) begin
    wrap <= left == 64'd0;
    if (pop)
        half <= !half;
    if (rec_done) begin
        slot <= wrap ? base : slot + 64'd128;
        left <= wrap ? size_m1 : left - 64'd1;
        written <= written + 64'd1;
    end
    // (clear_state comes only with nothing in flight: see busy)
    if (rst || clear) begin
        slot <= {cfg_addr[63:7], 7'd0};
        left <= cfg_records - 64'd1;
        half <= 1'b0;
        written <= 64'd0;
    end
end

assign busy = (en && pend) || reserved != {(FIFO_BITS+1){1'b0}} || rw;

endmodule

`resetall
