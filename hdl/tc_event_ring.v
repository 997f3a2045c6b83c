// Event ring (DESIGN section 5, docs/PIPELINE.md section 7).
//
// Each event takes the next sequence number and is written as one record of `TC_RECORD_WORDS 64-bit
// words at index producer mod depth (2^ADDR_BITS records), stamped with the cycle it is committed. When the
// consumer index is a full ring behind, the event is dropped and counted; the input never waits. In
// tickcross_top the consumer is the host's credits as tc_dma_wr passes them (less the slots a smaller
// host ring lacks), and the read port is tc_dma_wr's, shared with the BAR's debug window.
// Up to two events arrive in a cycle (one update can buy and sell): ev_* first, ev2_* second, which
// shares the first's instrument, trigger venue, timestamp and cycle stamps. The records are kept in
// two banks, even and odd indexes, so two consecutive records are written in one cycle; each bank
// keeps one memory per word, so a record is written at once and read by word, or by half
// (rd_half: 8 words, what tc_dma_wr sends as one 64-byte write).
// Timing: the next sequence number and the second record's bank address are kept in registers
// (no adder before the memories). With MEM_REG = 1 a read's data comes a cycle later (the block
// RAMs' own output registers: the memories are tc_ram_sdp, ECP5 DP16KD cells with REGMODE OUTREG
// in the ECP5 flow), and the room left in the ring is decided from registers: the host's
// consumer index then counts from the second cycle after it changes (the host cannot tell).

`resetall
`timescale 1ns / 1ps
`default_nettype none

`include "hdl/tickcross_contract.vh"

module tc_event_ring #(
    parameter ADDR_BITS = 10,            // 2^ADDR_BITS records: 3..10 (the BAR's ring window)
    parameter INSTR_BITS = 8,            // instrument index width, 1..8
    parameter VB = 3,                    // venue index width, 1..3
    parameter MEM_REG = 0                // 1: reads registered twice; room from registers
) (
    input  wire          clk,
    input  wire          rst,
    input  wire          clear,          // sequence and producer back to 0

    input  wire [63:0]   cycle,
    input  wire [63:0]   consumer,

    input  wire          ev_valid,
    input  wire [INSTR_BITS-1:0] ev_instrument,
    input  wire [VB-1:0] ev_buy_venue,
    input  wire [VB-1:0] ev_sell_venue,
    input  wire [VB-1:0] ev_trigger_venue,
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
    input  wire [63:0]   ev_feed_key,  // both records'

    // a second event in the same cycle (only with ev_valid)
    input  wire          ev2_valid,
    input  wire [VB-1:0] ev2_buy_venue,
    input  wire [VB-1:0] ev2_sell_venue,
    input  wire          ev2_trigger_sell,
    input  wire [63:0]   ev2_buy_px,
    input  wire [63:0]   ev2_buy_qty,
    input  wire [63:0]   ev2_sell_px,
    input  wire [63:0]   ev2_sell_qty,
    input  wire [63:0]   ev2_qty,
    input  wire [63:0]   ev2_buy_ts,
    input  wire [63:0]   ev2_sell_ts,

    output reg  [63:0]   producer,
    output reg  [1:0]    inc_event,      // events this cycle (0..2)
    output reg  [1:0]    inc_overflow,   // of them dropped

    // read: record index and word, data 1 + MEM_REG cycles later (tc_dma_wr, the BAR window);
    // rd_half: the 8 words of the record's half that holds rd_word (words 0-7 or 8-15), with it
    input  wire          rd_en,
    input  wire [ADDR_BITS-1:0] rd_index,
    input  wire [3:0]    rd_word,
    output wire [63:0]   rd_data,
    output wire [511:0]  rd_half
);

initial begin
    if (ADDR_BITS < 3 || (64'd1 << ADDR_BITS) * 8 * `TC_RECORD_WORDS > `TC_WIN_RING_BYTES) begin
        $error("Error: ADDR_BITS = %0d: the ring must hold 8 or more records and fit the BAR window (instance %m)",
               ADDR_BITS);
        $finish;
    end
    if (INSTR_BITS < 1 || INSTR_BITS > 8) begin
        $error("Error: INSTR_BITS = %0d, must be 1..8 (instance %m)", INSTR_BITS);
        $finish;
    end
    if (MEM_REG != 0 && MEM_REG != 1) begin
        $error("Error: MEM_REG = %0d, must be 0 or 1 (instance %m)", MEM_REG);
        $finish;
    end
    if (VB < 1 || VB > 3) begin
        $error("Error: VB = %0d, must be 1..3 (instance %m)", VB);
        $finish;
    end
end

localparam DEPTH = 1 << ADDR_BITS;
localparam NW = `TC_RECORD_WORDS;
localparam BA = ADDR_BITS - 1;        // address bits within a bank

reg  [63:0] seq;
reg  [63:0] seq1;                     // seq + 1
reg  [BA-1:0] next_addr2;             // (producer + 1)'s address in its bank

function [63:0] meta;
    input [INSTR_BITS-1:0] instrument;
    input [VB-1:0] buy_venue;
    input [VB-1:0] sell_venue;
    input [VB-1:0] trigger_venue;
    input       trigger_sell;
    begin
        meta = ({{(64-INSTR_BITS){1'b0}}, instrument} << `TC_REC_META_INSTRUMENT_LSB) |
               ({{(64-VB){1'b0}}, buy_venue}        << `TC_REC_META_BUY_VENUE_LSB) |
               ({{(64-VB){1'b0}}, sell_venue}       << `TC_REC_META_SELL_VENUE_LSB) |
               ({{(64-VB){1'b0}}, trigger_venue}    << `TC_REC_META_TRIGGER_VENUE_LSB) |
               ({63'd0, trigger_sell}     << `TC_REC_META_TRIGGER_SIDE_LSB) |
               (64'd1                     << `TC_REC_META_VALID_LSB);
    end
endfunction

// word k of the first (rec1_w) and of the second record (rec2_w), as the contract lays them out
// (other words zero). Continuous assignments of the signals themselves: a function that reads
// module signals, in a port expression, is not re-evaluated by Icarus when they change. The
// whole buses are left out of VCD traces: they hold the commit cycle, so they change every cycle
// and would write the whole record to the trace each time (each word is traced, as rec[k].w1/w2).
/* verilator tracing_off */
wire [64*NW-1:0] rec1_w, rec2_w;
/* verilator tracing_on */
genvar gk;
generate
    for (gk = 0; gk < NW; gk = gk + 1) begin : rec
        wire [63:0] w1, w2;
        if (gk == `TC_REC_SEQ) begin : k_seq
            assign w1 = seq;
            assign w2 = seq1;
        end else if (gk == `TC_REC_META) begin : k_meta
            assign w1 = meta(ev_instrument, ev_buy_venue, ev_sell_venue, ev_trigger_venue,
                             ev_trigger_sell);
            assign w2 = meta(ev_instrument, ev2_buy_venue, ev2_sell_venue, ev_trigger_venue,
                             ev2_trigger_sell);
        end else if (gk == `TC_REC_BUY_PRICE) begin : k_buy_px
            assign w1 = ev_buy_px;
            assign w2 = ev2_buy_px;
        end else if (gk == `TC_REC_BUY_QTY) begin : k_buy_qty
            assign w1 = ev_buy_qty;
            assign w2 = ev2_buy_qty;
        end else if (gk == `TC_REC_SELL_PRICE) begin : k_sell_px
            assign w1 = ev_sell_px;
            assign w2 = ev2_sell_px;
        end else if (gk == `TC_REC_SELL_QTY) begin : k_sell_qty
            assign w1 = ev_sell_qty;
            assign w2 = ev2_sell_qty;
        end else if (gk == `TC_REC_QTY) begin : k_qty
            assign w1 = ev_qty;
            assign w2 = ev2_qty;
        end else if (gk == `TC_REC_TS) begin : k_ts
            assign w1 = ev_ts;
            assign w2 = ev_ts;
        end else if (gk == `TC_REC_BUY_TS) begin : k_buy_ts
            assign w1 = ev_buy_ts;
            assign w2 = ev2_buy_ts;
        end else if (gk == `TC_REC_SELL_TS) begin : k_sell_ts
            assign w1 = ev_sell_ts;
            assign w2 = ev2_sell_ts;
        end else if (gk == `TC_REC_CYC_FRAME) begin : k_cyc_frame
            assign w1 = ev_cyc_frame;
            assign w2 = ev_cyc_frame;
        end else if (gk == `TC_REC_CYC_FIRST) begin : k_cyc_first
            assign w1 = ev_cyc_first;
            assign w2 = ev_cyc_first;
        end else if (gk == `TC_REC_CYC_LAST) begin : k_cyc_last
            assign w1 = ev_cyc_last;
            assign w2 = ev_cyc_last;
        end else if (gk == `TC_REC_FEED_KEY) begin : k_feed_key
            assign w1 = ev_feed_key;
            assign w2 = ev_feed_key;
        end else if (gk == `TC_REC_CYC_COMMIT) begin : k_cyc_commit
            assign w1 = cycle;
            assign w2 = cycle;
        end else begin : k_zero
            assign w1 = 64'd0;
            assign w2 = 64'd0;
        end
        assign rec1_w[64*gk +: 64] = w1;
        assign rec2_w[64*gk +: 64] = w2;
    end
endgenerate

// room for one and for two more records
wire        room1, room2;
wire        write1 = ev_valid && room1;
wire        write2 = ev_valid && ev2_valid && room2;
reg  [63:0] p1, p2;                   // producer + 1, producer + 2
generate
    if (MEM_REG != 0) begin : room_reg
        // Registered, for the producer as it will be (each of the three candidates judged side
        // by side, one chosen) and the consumer of the cycle before: the consumer counts two
        // cycles late. Without a 64-bit subtraction: p - c < DEPTH exactly when the high parts
        // satisfy hi(p) - borrow == hi(c) (mod 2^HW; borrow: lo(p) < lo(c)). A candidate
        // p + j (j <= 2 < DEPTH) has the high part hi(p) + k_j, k_j in {0, 1} (a carry out of the
        // low part), so it needs hi(c) == hi(p) + d for d = k_j - borrow in {-1, 0, 1}: three
        // wide equalities shared by all candidates. They are taken a cycle ahead (stage 1, from
        // the consumer as it is and the high parts the producer will have, kept in registers
        // beside it), registered (q_*), and stage 2 adds only the low-part borrows and selects.
        localparam HW = 64 - ADDR_BITS;
        reg         room1_r, room2_r;
        wire [ADDR_BITS-1:0] lo_ones = {ADDR_BITS{1'b1}};
        wire [ADDR_BITS-1:0] lo_one = {{(ADDR_BITS-1){1'b0}}, 1'b1};
        reg  [ADDR_BITS-1:0] p3_lo;       // (p2 + 1)'s low part
        // the low parts of producer, p1, p2 again, near this logic (producer[0] also chooses
        // the banks of every memory: its fanout is far away)
        (* keep *) reg [ADDR_BITS-1:0] lo0, lo1, lo2;
        wire [HW-1:0] c_hi = consumer[63:ADDR_BITS];
        // stage 1: hi(producer) - 1 .. + 3 (hc[0..4]; hc[4] follows hc[3] a cycle late: the
        // high part moves at most once per DEPTH / 2 >= 4 cycles)
        reg  [HW-1:0] hc [0:4];
        // the producer's high part moves this cycle: the new producer p + 1 or p + 2 carries
        wire        k1 = lo0 == lo_ones;
        wire        k2 = lo0[ADDR_BITS-1:1] == lo_ones[ADDR_BITS-1:1];
        wire        step_hi = write1 && (write2 ? k2 : k1);
        // hi(c) == hi(p) + d - 1 for d = 0..3; (keep: each a tree of its own)
        wire [3:0]  e;
        genvar gd;
        for (gd = 0; gd < 4; gd = gd + 1) begin : eqs
            (* keep *) wire eq = c_hi == hc[gd];
            assign e[gd] = eq;
        end
        // (after a clear the producer is 0: hi(c) == -1, 0, 1)
        wire        z_m1_c = c_hi == {HW{1'b1}};
        wire        z_0_c = c_hi == {HW{1'b0}};
        wire        z_p1_c = c_hi == {{(HW-1){1'b0}}, 1'b1};
        // stage 2 inputs: hi(c) == hi(producer) - 1, + 0, + 1 and == -1, 0 (for the clear
        // candidate), all of the consumer of the cycle before (c_lo its low part)
        reg         q_m1, q_0, q_p1, z_m1, z_0;
        reg  [ADDR_BITS-1:0] c_lo;
        integer i;
        always @(posedge clk) begin
            c_lo <= consumer[ADDR_BITS-1:0];
            z_m1 <= z_m1_c;
            z_0 <= z_0_c;
            {q_p1, q_0, q_m1} <= step_hi ? e[3:1] : e[2:0];
            if (step_hi)
                for (i = 0; i < 4; i = i + 1)
                    hc[i] <= hc[i + 1];
            hc[4] <= hc[3] + 1'b1;
            if (rst || clear) begin
                {q_m1, q_0, q_p1} <= {z_m1_c, z_0_c, z_p1_c};
                // (i - 1 sign-extended: hc[0] is -1)
                for (i = 0; i < 5; i = i + 1)
                    /* verilator lint_off WIDTH */
                    hc[i] <= i - 1;
                    /* verilator lint_on WIDTH */
            end
        end
        // stage 2: {room for one, room for two} after candidate p: room for two also needs
        // p - c != DEPTH - 1, i.e. (p + 1)'s low part != c's.
        // Candidates: 0 producer, 1 p1, 2 p2, 3 the producer after a clear (0).
        wire [ADDR_BITS-1:0] cand_lo [0:3];
        wire [ADDR_BITS-1:0] cand_next_lo [0:3];
        /* verilator lint_off UNUSEDSIGNAL */
        wire [3:0] cand_k = {1'b0, k2, k1, 1'b0};  // (candidate 3 has its own compare)
        /* verilator lint_on UNUSEDSIGNAL */
        assign cand_lo[0] = lo0;
        assign cand_lo[1] = lo1;
        assign cand_lo[2] = lo2;
        assign cand_lo[3] = {ADDR_BITS{1'b0}};
        assign cand_next_lo[0] = lo1;
        assign cand_next_lo[1] = lo2;
        assign cand_next_lo[2] = p3_lo;
        assign cand_next_lo[3] = lo_one;
        wire [3:0] room1_c, room2_c;
        genvar gc;
        for (gc = 0; gc < 4; gc = gc + 1) begin : cand
            wire borrow = cand_lo[gc] < c_lo;
            wire hi_ok;
            if (gc == 3) begin : clr
                assign hi_ok = borrow ? z_m1 : z_0;
            end else begin : run
                assign hi_ok = cand_k[gc] ? (borrow ? q_0 : q_p1) : (borrow ? q_m1 : q_0);
            end
            assign room1_c[gc] = hi_ok;
            assign room2_c[gc] = hi_ok && cand_next_lo[gc] != c_lo;
        end
        always @(posedge clk) begin
            if (rst || clear)
                {room1_r, room2_r} <= {room1_c[3], room2_c[3]};
            else if (write1 && write2)
                {room1_r, room2_r} <= {room1_c[2], room2_c[2]};
            else if (write1)
                {room1_r, room2_r} <= {room1_c[1], room2_c[1]};
            else
                {room1_r, room2_r} <= {room1_c[0], room2_c[0]};
            // (p2 + 1)'s low part, following p2; the others shifted along
            if (write1) begin
                lo0 <= write2 ? lo2 : lo1;
                lo1 <= write2 ? p3_lo : lo2;
                lo2 <= write2 ? p3_lo + 1'b1 : p3_lo;
                p3_lo <= write2 ? p3_lo + {{(ADDR_BITS-2){1'b0}}, 2'd2} : p3_lo + {{(ADDR_BITS-1){1'b0}}, 1'b1};
            end
            if (rst || clear) begin
                lo0 <= {ADDR_BITS{1'b0}};
                lo1 <= lo_one;
                lo2 <= lo_one + 1'b1;
                p3_lo <= lo_one + {{(ADDR_BITS-2){1'b0}}, 2'd2};
            end
        end
        assign room1 = room1_r;
        assign room2 = room2_r;
    end else begin : room_now
        wire [63:0] used = producer - consumer;
        assign room1 = used < DEPTH;
        assign room2 = used < DEPTH - 1;
    end
endgenerate
// the second record's address in its bank: the next index, producer + 1
wire [BA-1:0] addr2 = next_addr2;
wire        first_bank = producer[0];

reg  [3:0]  rd_word_d;
reg         rd_bank_d;
wire [63:0] word_out [0:2*NW-1];

// bank b takes the first record when the producer index is in it, else the second
genvar gb, gw;
generate
    for (gb = 0; gb < 2; gb = gb + 1) begin : bank
        // (address and data follow the producer's bank alone: the room only enables the write)
        wire             is_first = first_bank == gb;
        wire             take1 = write1 && is_first;
        wire             take2 = write2 && !is_first;
        wire [BA-1:0]    waddr = is_first ? producer[ADDR_BITS-1:1] : addr2;
        for (gw = 0; gw < NW; gw = gw + 1) begin : word_mem
            // (OUT_REG: the block RAM's output register, REGMODE OUTREG in the ECP5 flow; a
            // read of the record being written is of one the host has consumed: never used)
            // (the data through a plain wire: Yosys 0.23 fails an assertion when hierarchy
            // -chparam meets an array element on an instance's port)
            wire [63:0] q;
            tc_ram_sdp #(.WIDTH(64), .ADDR_BITS(BA), .OUT_REG(MEM_REG)) ram (
                .clk(clk),
                .we(take1 || take2), .waddr(waddr),
                .wdata(is_first ? rec1_w[64*gw +: 64] : rec2_w[64*gw +: 64]),
                .re(rd_en && rd_word[3] == (gw >= 8) && rd_index[0] == gb),
                .raddr(rd_index[ADDR_BITS-1:1]),
                .rdata(q)
            );
            assign word_out[2*gw+gb] = q;
        end
    end
endgenerate

always @(posedge clk) begin
    if (rd_en) begin
        rd_word_d <= rd_word;
        rd_bank_d <= rd_index[0];
    end
end
generate
    if (MEM_REG != 0) begin : rd_sel_reg
        reg [4:0] rd_sel_dd;
        always @(posedge clk)
            rd_sel_dd <= {rd_word_d, rd_bank_d};
        assign rd_data = word_out[rd_sel_dd];
        for (gw = 0; gw < 8; gw = gw + 1) begin : half_reg
            localparam [2:0] K = gw;
            assign rd_half[64*gw +: 64] = word_out[{rd_sel_dd[4], K, rd_sel_dd[0]}];
        end
    end else begin : rd_sel_direct
        assign rd_data = word_out[{rd_word_d, rd_bank_d}];
        for (gw = 0; gw < 8; gw = gw + 1) begin : half_direct
            localparam [2:0] K = gw;
            assign rd_half[64*gw +: 64] = word_out[{rd_word_d[3], K, rd_bank_d}];
        end
    end
endgenerate

always @(posedge clk) begin
    inc_event <= {1'b0, ev_valid} + {1'b0, ev_valid && ev2_valid};
    inc_overflow <= {1'b0, ev_valid && !room1} + {1'b0, ev_valid && ev2_valid && !room2};
    if (ev_valid) begin
        seq <= ev2_valid ? seq + 64'd2 : seq1;
        seq1 <= ev2_valid ? seq + 64'd3 : seq + 64'd2;
    end
    // (the next values chosen from sums kept in registers: no adder after the room)
    if (write1) begin
        producer <= write2 ? p2 : p1;
        p1 <= write2 ? p2 + 64'd1 : p2;
        p2 <= write2 ? p2 + 64'd2 : p2 + 64'd1;
        // ((new producer) + 1) / 2 in its bank
        next_addr2 <= write2 ? p1[ADDR_BITS-1:1] + {{(BA-1){1'b0}}, 1'b1} : p2[ADDR_BITS-1:1];
    end
    if (rst || clear) begin
        seq <= 64'd0;
        seq1 <= 64'd1;
        producer <= 64'd0;
        p1 <= 64'd1;
        p2 <= 64'd2;
        next_addr2 <= {BA{1'b0}};
    end
    if (rst) begin
        inc_event <= 2'd0;
        inc_overflow <= 2'd0;
    end
end

endmodule

`resetall
