// Quote table and crossed-market detector (DESIGN section 4, docs/PIPELINE.md section 6).
//
// The table holds, per venue, one memory of N_INSTR entries {written, bid price, bid qty,
// ask price, ask qty, ts}; an update reads the instrument's entries of all venues at once. For
// update (v, i): B = highest non-empty bid of the other venues, A = lowest non-empty ask, ties to
// the lowest venue index; buy-on-v when B - ask(v) > edge(i), then sell-on-v when
// bid(v) - A > edge(i). Prices are never negative (conversions reject them), so the differences
// fit in 64 bits.
//
// Per update: read (1), candidate trees (2), compare with the edge (1), then one event per cycle.
// The BAR's reads of the quote window and of the edges share the memories' single read port with
// the updates: a bus read takes the port for its cycle and holds the next update back by one
// (block RAM has one read port; a second would double the memory).

`resetall
`timescale 1ns / 1ps
`default_nettype none

module tc_quote_detect #(
    parameter N_VENUES = 8,
    parameter INSTR_BITS = 8
) (
    input  wire          clk,
    input  wire          rst,
    input  wire          clear,          // zero the table (2^INSTR_BITS cycles)
    output wire          clearing,

    input  wire          s_valid,
    output wire          s_ready,
    input  wire [2:0]    s_venue,
    input  wire [INSTR_BITS-1:0] s_instrument,
    input  wire [63:0]   s_bid_px,
    input  wire [63:0]   s_bid_qty,
    input  wire [63:0]   s_ask_px,
    input  wire [63:0]   s_ask_qty,
    input  wire [63:0]   s_ts,
    input  wire [63:0]   s_cyc_frame,
    input  wire [63:0]   s_cyc_first,
    input  wire [63:0]   s_cyc_last,

    // edges, written by the host
    input  wire          edge_wr,
    input  wire [INSTR_BITS-1:0] edge_addr,
    input  wire [63:0]   edge_data,

    // read port for the BAR: entry (venue, instrument), word 0..5 (quote_word in the contract)
    input  wire          q_rd_en,
    input  wire [2:0]    q_rd_venue,
    input  wire [INSTR_BITS-1:0] q_rd_instrument,
    input  wire [2:0]    q_rd_word,
    output reg  [63:0]   q_rd_data,      // one cycle after the address
    input  wire          e_rd_en,
    input  wire [INSTR_BITS-1:0] e_rd_addr,
    output reg  [63:0]   e_rd_data,      // edge read-back, one cycle after the address

    // events, at most one per cycle
    output reg           ev_valid,
    output reg  [INSTR_BITS-1:0] ev_instrument,
    output reg  [2:0]    ev_buy_venue,
    output reg  [2:0]    ev_sell_venue,
    output reg  [2:0]    ev_trigger_venue,
    output reg           ev_trigger_sell,
    output reg  [63:0]   ev_buy_px,
    output reg  [63:0]   ev_buy_qty,
    output reg  [63:0]   ev_sell_px,
    output reg  [63:0]   ev_sell_qty,
    output reg  [63:0]   ev_qty,
    output reg  [63:0]   ev_ts,
    output reg  [63:0]   ev_buy_ts,
    output reg  [63:0]   ev_sell_ts,
    output reg  [63:0]   ev_cyc_frame,
    output reg  [63:0]   ev_cyc_first,
    output reg  [63:0]   ev_cyc_last,

    output reg           inc_update,
    output wire          busy
);

localparam NI = 1 << INSTR_BITS;
localparam EW = 1 + 5*64;   // written, bid px, bid qty, ask px, ask qty, ts

localparam [2:0] S_IDLE = 3'd0, S_READ = 3'd1, S_TREE1 = 3'd2, S_CMP = 3'd3, S_EV2 = 3'd4;

reg  [2:0]   state;

// the update being processed
reg  [2:0]   u_venue;
reg  [INSTR_BITS-1:0] u_instr;
reg  [63:0]  u_bid_px, u_bid_qty, u_ask_px, u_ask_qty, u_ts;
reg  [63:0]  u_cyc_frame, u_cyc_first, u_cyc_last;

assign s_ready = state == S_IDLE && !clr_busy && !q_rd_en && !e_rd_en;
wire accept = s_valid && s_ready;

// ---------------------------------------------------------------- memories
reg          clr_busy;
reg [INSTR_BITS-1:0] clr_addr;
assign clearing = clr_busy;

wire [INSTR_BITS-1:0] a_addr = clr_busy ? clr_addr : u_instr;
wire [EW-1:0] new_entry = {1'b1, u_bid_px, u_bid_qty, u_ask_px, u_ask_qty, u_ts};

reg  [EW-1:0] row [0:N_VENUES-1];    // entries of u_instr, read on accept

genvar gv;
generate
    for (gv = 0; gv < N_VENUES; gv = gv + 1) begin : venue_mem
        reg [EW-1:0] mem [0:NI-1];
        wire we = clr_busy || (state == S_READ && u_venue == gv);
        always @(posedge clk) begin
            if (we)
                mem[a_addr] <= clr_busy ? {EW{1'b0}} : new_entry;
            if (accept || q_rd_en)
                row[gv] <= mem[q_rd_en ? q_rd_instrument : s_instrument];
        end
    end
endgenerate

reg [63:0] edges [0:NI-1];
reg [63:0] edge_rd;             // the update's edge, or a bus read's
reg [63:0] u_edge;              // the update's edge, kept from S_READ on (a bus read may follow)
always @* e_rd_data = edge_rd;
always @(posedge clk) begin
    if (edge_wr)
        edges[edge_addr] <= edge_data;
    if (accept || e_rd_en)
        edge_rd <= edges[e_rd_en ? e_rd_addr : s_instrument];
end

reg [2:0] q_venue_d, q_word_d;
always @(posedge clk) begin
    if (q_rd_en) begin
        q_venue_d <= q_rd_venue;
        q_word_d <= q_rd_word;
    end
end
wire [EW-1:0] qsel = row[q_venue_d];
always @* begin
    case (q_word_d)
        3'd0: q_rd_data = qsel[319:256];
        3'd1: q_rd_data = qsel[255:192];
        3'd2: q_rd_data = qsel[191:128];
        3'd3: q_rd_data = qsel[127:64];
        3'd4: q_rd_data = qsel[63:0];
        3'd5: q_rd_data = {63'd0, qsel[320]};
        default: q_rd_data = 64'd0;
    endcase
end

// ---------------------------------------------------------------- candidate trees
// A candidate: {valid, venue, price, qty, ts}. Bids: higher price wins; asks: lower price wins;
// equal prices keep the left (lower venue index) candidate.
localparam CW = 1 + 3 + 3*64;

function [CW-1:0] pick_bid;
    input [CW-1:0] l;
    input [CW-1:0] r;
    begin
        if (!r[CW-1])                                      pick_bid = l;
        else if (!l[CW-1])                                 pick_bid = r;
        else if (r[191:128] > l[191:128])                  pick_bid = r;
        else                                               pick_bid = l;
    end
endfunction

function [CW-1:0] pick_ask;
    input [CW-1:0] l;
    input [CW-1:0] r;
    begin
        if (!r[CW-1])                                      pick_ask = l;
        else if (!l[CW-1])                                 pick_ask = r;
        else if (r[191:128] < l[191:128])                  pick_ask = r;
        else                                               pick_ask = l;
    end
endfunction

// candidates of venue w (invalid for the updating venue and for venues past N_VENUES)
// entry: [319:256] bid px, [255:192] bid qty, [191:128] ask px, [127:64] ask qty, [63:0] ts
function [CW-1:0] bid_c;
    input integer w;
    begin
        bid_c = {CW{1'b0}};
        if (w < N_VENUES && w[2:0] != u_venue)
            bid_c = {row[w][319:256] != 64'd0 && row[w][255:192] != 64'd0, w[2:0],
                     row[w][319:256], row[w][255:192], row[w][63:0]};
    end
endfunction

function [CW-1:0] ask_c;
    input integer w;
    begin
        ask_c = {CW{1'b0}};
        if (w < N_VENUES && w[2:0] != u_venue)
            ask_c = {row[w][191:128] != 64'd0 && row[w][127:64] != 64'd0, w[2:0],
                     row[w][191:128], row[w][127:64], row[w][63:0]};
    end
endfunction

reg [CW-1:0] bid_l2 [0:1];
reg [CW-1:0] ask_l2 [0:1];
reg [CW-1:0] best_bid, best_ask;

// ---------------------------------------------------------------- events
wire [63:0] buy_diff  = best_bid[191:128] - u_ask_px;    // B - ask(v)
wire [63:0] sell_diff = u_bid_px - best_ask[191:128];    // bid(v) - A
wire        v_ask_ok  = u_ask_px != 64'd0 && u_ask_qty != 64'd0;
wire        v_bid_ok  = u_bid_px != 64'd0 && u_bid_qty != 64'd0;
wire        ev_buy    = v_ask_ok && best_bid[CW-1] && $signed(buy_diff) > $signed(u_edge);
wire        ev_sell   = v_bid_ok && best_ask[CW-1] && $signed(sell_diff) > $signed(u_edge);

function [63:0] min64;
    input [63:0] a;
    input [63:0] b;
    begin
        min64 = (a < b) ? a : b;
    end
endfunction

assign busy = state != S_IDLE || ev_valid;

// buy on the trigger venue v, sell on B's venue
task emit_buy;
    begin
        ev_valid <= 1'b1;
        ev_trigger_sell <= 1'b0;
        ev_buy_venue <= u_venue;
        ev_sell_venue <= best_bid[CW-2 -: 3];
        ev_buy_px <= u_ask_px;
        ev_buy_qty <= u_ask_qty;
        ev_sell_px <= best_bid[191:128];
        ev_sell_qty <= best_bid[127:64];
        ev_qty <= min64(u_ask_qty, best_bid[127:64]);
        ev_buy_ts <= u_ts;
        ev_sell_ts <= best_bid[63:0];
    end
endtask

// sell on the trigger venue v, buy on A's venue
task emit_sell;
    begin
        ev_valid <= 1'b1;
        ev_trigger_sell <= 1'b1;
        ev_buy_venue <= best_ask[CW-2 -: 3];
        ev_sell_venue <= u_venue;
        ev_buy_px <= best_ask[191:128];
        ev_buy_qty <= best_ask[127:64];
        ev_sell_px <= u_bid_px;
        ev_sell_qty <= u_bid_qty;
        ev_qty <= min64(u_bid_qty, best_ask[127:64]);
        ev_buy_ts <= best_ask[63:0];
        ev_sell_ts <= u_ts;
    end
endtask

always @(posedge clk) begin
    ev_valid <= 1'b0;
    inc_update <= 1'b0;

    case (state)
        S_IDLE: begin
            if (accept) begin
                u_venue <= s_venue;
                u_instr <= s_instrument;
                u_bid_px <= s_bid_px;
                u_bid_qty <= s_bid_qty;
                u_ask_px <= s_ask_px;
                u_ask_qty <= s_ask_qty;
                u_ts <= s_ts;
                u_cyc_frame <= s_cyc_frame;
                u_cyc_first <= s_cyc_first;
                u_cyc_last <= s_cyc_last;
                state <= S_READ;
            end
        end
        S_READ: begin
            // rows and edge are in; the update's own entry is written now
            inc_update <= 1'b1;
            u_edge <= edge_rd;
            bid_l2[0] <= pick_bid(pick_bid(bid_c(0), bid_c(1)), pick_bid(bid_c(2), bid_c(3)));
            bid_l2[1] <= pick_bid(pick_bid(bid_c(4), bid_c(5)), pick_bid(bid_c(6), bid_c(7)));
            ask_l2[0] <= pick_ask(pick_ask(ask_c(0), ask_c(1)), pick_ask(ask_c(2), ask_c(3)));
            ask_l2[1] <= pick_ask(pick_ask(ask_c(4), ask_c(5)), pick_ask(ask_c(6), ask_c(7)));
            state <= S_TREE1;
        end
        S_TREE1: begin
            best_bid <= pick_bid(bid_l2[0], bid_l2[1]);
            best_ask <= pick_ask(ask_l2[0], ask_l2[1]);
            state <= S_CMP;
        end
        S_CMP: begin
            ev_instrument <= u_instr;
            ev_trigger_venue <= u_venue;
            ev_ts <= u_ts;
            ev_cyc_frame <= u_cyc_frame;
            ev_cyc_first <= u_cyc_first;
            ev_cyc_last <= u_cyc_last;
            if (ev_buy) begin
                emit_buy;
                state <= ev_sell ? S_EV2 : S_IDLE;
            end else begin
                if (ev_sell)
                    emit_sell;
                state <= S_IDLE;
            end
        end
        S_EV2: begin
            emit_sell;
            state <= S_IDLE;
        end
        default: state <= S_IDLE;
    endcase

    if (clear && !clr_busy) begin
        clr_busy <= 1'b1;
        clr_addr <= {INSTR_BITS{1'b0}};
    end else if (clr_busy) begin
        clr_addr <= clr_addr + 1'b1;
        if (clr_addr == {INSTR_BITS{1'b1}})
            clr_busy <= 1'b0;
    end

    if (rst) begin
        state <= S_IDLE;
        ev_valid <= 1'b0;
        inc_update <= 1'b0;
        clr_busy <= 1'b1;
        clr_addr <= {INSTR_BITS{1'b0}};
    end
end

endmodule

`resetall
