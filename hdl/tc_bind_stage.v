// Deribit instrument bindings (docs/PIPELINE.md section 5), after commit.
//
// A direct-mapped table per venue (2^VB of them), slot = instrumentId mod 2^SLOT_BITS, holding (id, instrument)
// (the id's high part: its low bits are the slot's index).
// An instrument definition whose name resolved binds its slot (counting a displaced binding of
// another id as an eviction); one whose name did not resolve counts as unknown symbol and clears
// the slot if it held that id. A quote by instrumentId becomes a resolved QUOTE when its slot holds
// that id, else counts as unknown symbol. Resolved quotes pass through, with their feed key (a
// binance_sbe quote's bookUpdateId: m_has_uid; a deribit_mcast Ticker's {channelId, sequence,
// index}: m_tracked when its frame was its channel slot's own). A committed END (a deribit_mcast
// gap frame's, docs/PIPELINE.md section 4a) passes through as m_gap, like a QUOTE, in one cycle.
//
// Each record takes two cycles (read, then decide and write), three with MEM_REG = 1 (the block
// RAM's read registered once more before the decision, in the RAM's own output register: the
// table is tc_ram_sdp, ECP5 DP16KD cells with REGMODE OUTREG in the ECP5 flow), so a write always
// lands before the next read (at MEM_REG = 1 an unresolved definition's clear lands with it, and
// that read takes the slot as cleared); committed records arrive far slower than that. A QUOTE
// passes in one cycle either way.

`resetall
`timescale 1ns / 1ps
`default_nettype none

`include "hdl/tc_pipeline.vh"

module tc_bind_stage #(
    parameter SLOT_BITS = 10,      // slots per venue: 2^SLOT_BITS, 1..16
    parameter INSTR_BITS = 8,      // instrument index width, 1..8
    parameter VB = 3,              // venue index width, 1..3
    parameter MEM_REG = 0          // 1: the table's read is registered (one cycle more per record)
) (
    input  wire          clk,
    input  wire          rst,
    input  wire          clear,        // invalidate every binding (2^(SLOT_BITS+VB) cycles)
    output wire          clearing,

    input  wire          s_valid,
    output wire          s_ready,
    input  wire [2:0]    s_kind,
    input  wire [VB-1:0] s_venue,
    input  wire [31:0]   s_id,         // instrumentId
    input  wire [63:0]   s_key,        // feed key (see above)
    input  wire          s_kflag,
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

    output reg           m_valid,
    input  wire          m_ready,
    output reg  [VB-1:0] m_venue,
    output reg  [INSTR_BITS-1:0] m_instrument,
    output reg  [63:0]   m_key,        // the feed key
    output reg           m_has_uid,    // ... is a bookUpdateId (a quote that came resolved)
    output reg           m_tracked,    // ... is a tracked channel's (a resolved QID)
    output reg           m_gap,        // not a quote: a gap frame's END (its key's channel)
    output reg  [63:0]   m_v0,
    output reg  [63:0]   m_v1,
    output reg  [63:0]   m_v2,
    output reg  [63:0]   m_v3,
    output reg  [63:0]   m_ts,
    output reg  [63:0]   m_cyc_frame,
    output reg  [63:0]   m_cyc_first,
    output reg  [63:0]   m_cyc_last,

    output reg           inc_unknown_symbol,
    output reg           inc_bind,
    output reg           inc_eviction,

    output wire          busy
);

initial begin
    if (SLOT_BITS < 1 || SLOT_BITS > 16) begin
        $error("Error: SLOT_BITS = %0d, must be 1..16 (instance %m)", SLOT_BITS);
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

localparam AW = SLOT_BITS + VB;
// an entry: valid, the id's high part (its low SLOT_BITS bits are the slot's index), instrument
localparam IHW = 32 - SLOT_BITS;
localparam EW = 1 + IHW + INSTR_BITS;

// The table, in slices of SLICE bits. With MEM_REG = 1 a slice is as wide as one ECP5 block RAM
// is at this depth (16 Kbit / 2^AW bits), so that no multiplexer sits between a block RAM and the
// register after it (the read would not close otherwise); at 0 it is one memory.
localparam SLICE = (MEM_REG == 0) ? EW :
                   (AW >= 14) ? 1 : (AW == 13) ? 2 : (AW == 12) ? 4 :
                   (AW == 11) ? 9 : (AW == 10) ? 18 : 36;
localparam NSL = (EW + SLICE - 1) / SLICE;
/* verilator lint_off UNUSEDSIGNAL */
wire [NSL*SLICE-1:0] rd_all;    // the last slice's padding is unused
/* verilator lint_on UNUSEDSIGNAL */
wire [EW-1:0] rd = rd_all[EW-1:0];
wire [EW-1:0] slot;            // the slot as the decision sees it

reg          clr_busy;
reg [AW-1:0] clr_addr;
assign clearing = clr_busy;

// one record in flight: latched on accept, decided the cycle after the read (MEM_REG: two)
reg          hold;
reg          hold_rd;        // its read is still in the output register (MEM_REG)
wire         decide = hold && !hold_rd;
reg [2:0]    h_kind;
reg [VB-1:0] h_venue;
reg [31:0]   h_id;
reg          h_hit;
reg [INSTR_BITS-1:0] h_instrument;

wire [AW-1:0] s_addr = {s_venue, s_id[SLOT_BITS-1:0]};
wire [AW-1:0] h_addr = {h_venue, h_id[SLOT_BITS-1:0]};

// accept when idle and the output register is free (a QUOTE may go straight through)
assign s_ready = !hold && !clr_busy && (!m_valid || m_ready);
wire accept = s_valid && s_ready;

wire         slot_cleared;    // MEM_REG: the slot was cleared as this record read it
wire         slot_valid = slot[EW-1] && !slot_cleared;
wire [IHW-1:0] slot_id_hi = slot[EW-2 -: IHW];
wire [INSTR_BITS-1:0] slot_instr = slot[INSTR_BITS-1:0];
// A slot only ever holds an id whose low SLOT_BITS bits are its index (or nothing), and a record
// reads its own slot: the table keeps and compares only the high part (fewer block RAM bits,
// one LUT level less after the block RAM).
wire         slot_has_id = slot_valid && slot_id_hi == h_id[31:SLOT_BITS];

// The writes: a definition whose name resolved binds its slot (bind), one whose name did not
// clears it if it holds the id (unbind).
wire         dec_bind = decide && h_kind == `TC_K_DEF && h_hit;
wire         dec_unbind = decide && h_kind == `TC_K_DEF && !h_hit;
wire         wr_en;
generate
    if (MEM_REG != 0) begin : unbind_reg
        // The unbind's clear is written a cycle after the decision, from a register, so that
        // nothing but the id compare follows the block RAM's output register (the write enable
        // of 21 block RAMs is far). The next record may be accepted in that cycle and read the
        // slot as it is cleared: it then takes the slot as empty (slot_cleared), which it is.
        reg unb_q, cleared_q;
        always @(posedge clk) begin
            unb_q <= !rst && dec_unbind && slot_has_id;
            if (accept)
                cleared_q <= unb_q && s_addr == h_addr;
        end
        assign wr_en = dec_bind || unb_q;
        assign slot_cleared = cleared_q;
    end else begin : unbind_now
        assign wr_en = dec_bind || (dec_unbind && slot_has_id);
        assign slot_cleared = 1'b0;
    end
endgenerate
wire [EW-1:0] wr_data = dec_bind ? {1'b1, h_id[31:SLOT_BITS], h_instrument} : {EW{1'b0}};

// one write port: the sweep, or the decision
wire          t_we = clr_busy || wr_en;
wire [AW-1:0] t_addr = clr_busy ? clr_addr : h_addr;
/* verilator lint_off WIDTH */
wire [NSL*SLICE-1:0] t_data = clr_busy ? {NSL*SLICE{1'b0}} : wr_data;
/* verilator lint_on WIDTH */

genvar gs;
generate
    for (gs = 0; gs < NSL; gs = gs + 1) begin : table_slice
        // a read in the cycle of a write to its address is never used (the record waits for
        // its decision; the sweep reads nothing): no collision logic after the block RAM. With
        // MEM_REG = 1 the read's second register is the block RAM's own output register
        // (tc_ram_sdp's OUT_REG; an ECP5 DP16KD with REGMODE OUTREG in the ECP5 flow).
        tc_ram_sdp #(.WIDTH(SLICE), .ADDR_BITS(AW), .OUT_REG(MEM_REG), .NO_RW_CHECK(1)) ram (
            .clk(clk),
            .we(t_we), .waddr(t_addr), .wdata(t_data[gs*SLICE +: SLICE]),
            .re(1'b1), .raddr(s_addr),
            .rdata(rd_all[gs*SLICE +: SLICE])
        );
    end
endgenerate
// the slot as the decision sees it: the read 1 + MEM_REG cycles after the accept
assign slot = rd;

assign busy = hold || m_valid;

always @(posedge clk) begin
    inc_unknown_symbol <= 1'b0;
    inc_bind <= 1'b0;
    inc_eviction <= 1'b0;
    if (m_valid && m_ready)
        m_valid <= 1'b0;

    if (accept) begin
        h_kind <= s_kind;
        h_venue <= s_venue;
        h_id <= s_id[31:0];
        h_hit <= s_hit;
        h_instrument <= s_instrument;
        m_venue <= s_venue;
        m_instrument <= s_instrument;
        m_key <= s_key;
        m_has_uid <= s_kind == `TC_K_QUOTE;
        m_tracked <= s_kind == `TC_K_QID && s_kflag;
        m_gap <= s_kind == `TC_K_END;
        m_v0 <= s_v0;
        m_v1 <= s_v1;
        m_v2 <= s_v2;
        m_v3 <= s_v3;
        m_ts <= s_ts;
        m_cyc_frame <= s_cyc_frame;
        m_cyc_first <= s_cyc_first;
        m_cyc_last <= s_cyc_last;
        if (s_kind == `TC_K_QUOTE || s_kind == `TC_K_END)
            m_valid <= 1'b1;
        else begin
            hold <= 1'b1;
            hold_rd <= MEM_REG != 0;
        end
    end

    if (hold && hold_rd)
        hold_rd <= 1'b0;
    if (decide) begin
        hold <= 1'b0;
        if (h_kind == `TC_K_QID) begin
            if (slot_has_id) begin
                m_valid <= 1'b1;
                m_instrument <= slot_instr;
            end else begin
                inc_unknown_symbol <= 1'b1;
            end
        end else begin
            // instrument definition
            if (h_hit) begin
                inc_bind <= 1'b1;
                inc_eviction <= slot_valid && !slot_has_id;
            end else begin
                inc_unknown_symbol <= 1'b1;
            end
        end
    end

    if (clear && !clr_busy) begin
        clr_busy <= 1'b1;
        clr_addr <= {AW{1'b0}};
    end else if (clr_busy) begin
        clr_addr <= clr_addr + 1'b1;
        if (clr_addr == {AW{1'b1}})
            clr_busy <= 1'b0;
    end

    if (rst) begin
        hold <= 1'b0;
        hold_rd <= 1'b0;
        m_valid <= 1'b0;
        clr_busy <= 1'b1;
        clr_addr <= {AW{1'b0}};
        inc_unknown_symbol <= 1'b0;
        inc_bind <= 1'b0;
        inc_eviction <= 1'b0;
    end
end

endmodule

`resetall
