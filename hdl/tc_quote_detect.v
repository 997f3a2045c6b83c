// Quote table and crossed-market detector (DESIGN section 4, docs/PIPELINE.md section 6).
//
// The table holds, per venue, one memory of 2^INSTR_BITS entries {has id, tag, written,
// bid price, bid qty, ask price, ask qty, ts}; an update reads the instrument's entries of all
// venues at once. The tag is a binance_sbe quote's bookUpdateId (has id), or a deribit_mcast
// quote's source {channelId, sequence, 15 zero bits, tracked} (docs/PIPELINE.md section 6: an
// entry is stale when tracked and its sequence is below its venue's gap marker of the slot
// channelId mod 2^CHAN_BITS). The gap markers (per venue a 2^CHAN_BITS x 32 memory, read
// without a clock) are set by the gap records (s_gap) that come in stream order behind their
// frame's quotes; each row's stale bit is computed from the row and its venue's markers in R+1
// (with MEM_REG = 1: the entry's source and its marker are read in the extra cycle from the copy
// below and registered, the compare done in R+1) and enters the candidate flags there, beside the bid/ask emptiness (a stale entry counts as
// empty). The quote window's flags word shows it as bit 1, decided in the bus read's address
// cycle from a copy of the entries' sources kept without a clock (LUT RAM) and registered. An update with a bookUpdateId (binance_sbe) whose entry holds one not below it
// is dropped (out of order: counted, nothing written, no event). For
// update (v, i): B = highest non-empty bid of the other venues, A = lowest non-empty ask, ties to
// the lowest venue index; buy-on-v when B - ask(v) > edge(i), then sell-on-v when
// bid(v) - A > edge(i).
//
// Per update, three cycles (four with MEM_REG = 1):
//   R    the rows of the instrument and its edge are read (block RAM address).
//   (R+1 with MEM_REG = 1: the rows and the edge pass the block RAMs' output registers; a
//        speculative update's record arrives here. Every stage below is then one cycle later.)
//   R+1  every comparison at once: each venue's bid against every other's and ask against every
//        other's (ties to the lower index), each venue's bid - ask(v) - edge and bid(v) - ask -
//        edge against zero (three operands, one carry chain), the quantities, each venue's
//        bookUpdateId against the update's (the update's venue's result kept: uid_ok), each
//        row's stale bit into its candidate flags (cb, ca);
//        registered with a copy of the rows.
//   R+2  the winners (one-hot) select B and A; the events (one, or two when both sides cross) go
//        to the ring in this cycle and the update's own entry is written.
// B - ask(v) > edge holds for B exactly when it holds for some other venue's bid, so the decision
// does not wait for the selection. The events carry the update's feed key (ev_feed_key: the
// bookUpdateId, or {channelId, sequence, message index}) as it came in.
//
// Updates arrive committed (s_*, after the frame commit and the bindings), or speculatively: a
// quote by name whose symbol resolved (sp_*, lookup stage L1) while the commit buffer is empty
// starts its read before its frame is known good; its numbers and stamps arrive on l2_* the cycle
// after, and its frame's END record on x_end_* (the first END behind it). Nothing is written and
// no event leaves before the frame is known good; a bad frame (or a rejected number) drops it.
// The BAR's reads of the quote window and of the edges share the memories' single read port with
// the updates: a bus read takes the port for its cycle and holds the next update back by one. Its
// data comes 1 + MEM_REG cycles after the address.

`resetall
`timescale 1ns / 1ps
`default_nettype none

`include "hdl/tc_pipeline.vh"

module tc_quote_detect #(
    parameter N_VENUES = 8,                  // 2..8 (the contract's venue field is 3 bits)
    parameter INSTR_BITS = 8,                // 2^INSTR_BITS instruments, at most 256
    parameter CHAN_BITS = 6,                 // deribit_mcast channel slots per venue: 2^CHAN_BITS
    // venue index width (a parameter only so that ports can use it; never override it)
    parameter VB = (N_VENUES > 1) ? $clog2(N_VENUES) : 1,
    // 1: every block RAM read is registered once more (one cycle more per update and bus read)
    parameter MEM_REG = 0
) (
    input  wire          clk,
    input  wire          rst,
    input  wire          clear,          // zero the table and the gap markers
                                         //   (2^max(INSTR_BITS, CHAN_BITS) cycles)
    output wire          clearing,

    // committed updates
    input  wire          s_valid,
    output wire          s_ready,
    input  wire [VB-1:0] s_venue,
    input  wire [INSTR_BITS-1:0] s_instrument,
    input  wire [63:0]   s_bid_px,
    input  wire [63:0]   s_bid_qty,
    input  wire [63:0]   s_ask_px,
    input  wire [63:0]   s_ask_qty,
    input  wire [63:0]   s_ts,
    input  wire [63:0]   s_cyc_frame,
    input  wire [63:0]   s_cyc_first,
    input  wire [63:0]   s_cyc_last,
    input  wire [63:0]   s_key,          // feed key: bookUpdateId (i64) when s_has_uid, else
    input  wire          s_has_uid,      //   {channelId, sequence, index} (deribit_mcast)
    input  wire          s_tracked,      // a deribit_mcast quote of its channel slot's own channel
    input  wire          s_gap,          // not a quote: set venue s_venue's gap marker of s_key's
                                         //   channel slot to s_key's sequence

    // speculative updates: start (lookup L1), record (L2, next cycle), commit (END at L0)
    input  wire          sp_valid,
    input  wire          sp_allow,       // nothing older is waiting to be applied
    output wire          sp_take,
    output wire          sp_claim,       // the record at L2 is the speculative update's
    input  wire [VB-1:0] sp_venue,
    input  wire [INSTR_BITS-1:0] sp_instrument,
    input  wire [2:0]    l2_kind,
    input  wire [63:0]   l2_bid_px,
    input  wire [63:0]   l2_bid_qty,
    input  wire [63:0]   l2_ask_px,
    input  wire [63:0]   l2_ask_qty,
    input  wire [63:0]   l2_ts,
    input  wire [63:0]   l2_cyc_frame,
    input  wire [63:0]   l2_cyc_first,
    input  wire [63:0]   l2_cyc_last,
    input  wire [63:0]   l2_key,         // (a speculative update is a binance_sbe quote: its id)
    input  wire          x_end_valid,
    input  wire          x_end_ok,

    // edges, written by the host
    input  wire          edge_wr,
    input  wire [INSTR_BITS-1:0] edge_addr,
    input  wire [63:0]   edge_data,

    // read port for the BAR: entry (venue, instrument), word 0..5 (quote_word in the contract)
    input  wire          q_rd_en,
    input  wire [VB-1:0] q_rd_venue,
    input  wire [INSTR_BITS-1:0] q_rd_instrument,
    input  wire [2:0]    q_rd_word,
    output reg  [63:0]   q_rd_data,      // 1 + MEM_REG cycles after the address
    input  wire          e_rd_en,
    input  wire [INSTR_BITS-1:0] e_rd_addr,
    output reg  [63:0]   e_rd_data,      // edge read-back, 1 + MEM_REG cycles after the address

    // events, to the ring in the same cycle: the first, and a second (sell) when both sides cross
    output reg           ev_valid,
    output reg  [INSTR_BITS-1:0] ev_instrument,
    output reg  [VB-1:0] ev_buy_venue,
    output reg  [VB-1:0] ev_sell_venue,
    output reg  [VB-1:0] ev_trigger_venue,
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
    output reg  [63:0]   ev_feed_key,    // the update's feed key (both events': the record's)
    output reg           ev2_valid,
    output reg  [VB-1:0] ev2_buy_venue,
    output reg  [VB-1:0] ev2_sell_venue,
    output reg           ev2_trigger_sell,
    output reg  [63:0]   ev2_buy_px,
    output reg  [63:0]   ev2_buy_qty,
    output reg  [63:0]   ev2_sell_px,
    output reg  [63:0]   ev2_sell_qty,
    output reg  [63:0]   ev2_qty,
    output reg  [63:0]   ev2_buy_ts,
    output reg  [63:0]   ev2_sell_ts,

    output reg           inc_update,
    output reg           inc_out_of_order,
    output wire          busy
);

localparam NI = 1 << INSTR_BITS;
localparam NS = 1 << CHAN_BITS;
// the clear sweep covers the table and the gap markers
localparam CLR_BITS = (INSTR_BITS > CHAN_BITS) ? INSTR_BITS : CHAN_BITS;
localparam NV = N_VENUES;
localparam CW = 1 + 5*64;   // written, bid px, bid qty, ask px, ask qty, ts
localparam EW = 1 + 64 + CW; // has id, bookUpdateId, and the above

initial begin
    if (N_VENUES < 2 || N_VENUES > 8) begin
        $error("Error: N_VENUES = %0d, must be 2..8 (instance %m)", N_VENUES);
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
    if (CHAN_BITS < 1 || CHAN_BITS > 8) begin
        $error("Error: CHAN_BITS = %0d, must be 1..8 (instance %m)", CHAN_BITS);
        $finish;
    end
    if (VB != ((N_VENUES > 1) ? $clog2(N_VENUES) : 1)) begin
        $error("Error: VB = %0d is derived from N_VENUES, do not set it (instance %m)", VB);
        $finish;
    end
end

localparam [1:0] S_IDLE = 2'd0, S_ROWS = 2'd1, S_SEL = 2'd2, S_MEM = 2'd3;
// the state after the start: where the speculative record (L2) is seen
localparam [1:0] S_L2 = (MEM_REG != 0) ? S_MEM : S_ROWS;

reg  [1:0]   state;
reg          spec;           // the update in flight is speculative
reg          c_seen, c_ok;   // its frame's verdict, once seen

// the update being processed
reg  [VB-1:0] u_venue;
reg  [INSTR_BITS-1:0] u_instr;
reg  [63:0]  u_bid_px, u_bid_qty, u_ask_px, u_ask_qty, u_ts;
reg  [63:0]  u_cyc_frame, u_cyc_first, u_cyc_last;
reg  [63:0]  u_key;
reg          u_has_uid;
reg          u_tracked;
reg          uid_ok;         // R+1: the update's id is above its entry's (or either has none)

reg          clr_busy;
reg [CLR_BITS-1:0] clr_addr;
assign clearing = clr_busy;

assign s_ready = state == S_IDLE && !clr_busy && !q_rd_en && !e_rd_en;
// a gap record only writes its marker (in this cycle); an update starts
wire accept_gap = s_valid && s_ready && s_gap;
wire accept = s_valid && s_ready && !s_gap;
assign sp_take = sp_valid && sp_allow && s_ready && !s_valid;
wire start = accept || sp_take;
wire [INSTR_BITS-1:0] start_instr = s_valid ? s_instrument : sp_instrument;
assign sp_claim = state == S_L2 && spec;

// the frame's verdict as of this cycle (committed updates are good by construction)
wire         known = c_seen || x_end_valid;
wire         good = c_seen ? c_ok : x_end_ok;
wire         apply = state == S_SEL && known && good && uid_ok;

// ---------------------------------------------------------------- memories
wire [INSTR_BITS-1:0] a_addr = clr_busy ? clr_addr[INSTR_BITS-1:0] : u_instr;
// a deribit_mcast quote keeps its source: channelId, sequence, tracked
wire [63:0] u_tag = u_has_uid ? u_key : {u_key[63:16], 15'd0, u_tracked};
wire [EW-1:0] new_entry = {u_has_uid, u_tag, 1'b1, u_bid_px, u_bid_qty, u_ask_px, u_ask_qty, u_ts};
localparam SRC_W = 1 + CHAN_BITS + 32;
wire [SRC_W-1:0] u_src = {!u_has_uid && u_tracked, u_key[48 +: CHAN_BITS], u_key[47:16]};

// entries of the instrument, read on start, as R+1 sees them: the read, or (MEM_REG) the read
// registered again (a register, not a wire that aliases one: a Verilated model would copy the
// whole array every cycle)
reg  [EW-1:0] rowv [0:NV-1];
wire [NV-1:0] stale;           // ... each stale (from the row and its venue's gap markers)
wire [NV-1:0] q_stale;         // a bus read's entry of each venue is stale, as its data shows
wire [CHAN_BITS-1:0] g_addr = clr_busy ? clr_addr[CHAN_BITS-1:0] : s_key[48 +: CHAN_BITS];
wire [31:0]   g_data = clr_busy ? 32'd0 : s_key[47:16];

genvar gv;
generate
    for (gv = 0; gv < NV; gv = gv + 1) begin : venue_mem
        reg [EW-1:0] mem [0:NI-1];
        // a copy of each entry's source {tracked, slot, sequence} without a clock, for the quote
        // window: its stale bit is decided in the read's address cycle and registered, so that
        // nothing but a venue and word select follows the block RAM there
        reg [SRC_W-1:0] smem [0:NI-1];
        wire we = clr_busy || (apply && u_venue == gv);
        always @(posedge clk) begin
            if (we) begin
                mem[a_addr] <= clr_busy ? {EW{1'b0}} : new_entry;
                smem[a_addr] <= clr_busy ? {SRC_W{1'b0}} : u_src;
            end
        end
        // the gap markers: the sequence of each channel slot's last gap frame (0: none)
        reg [31:0] gmem [0:NS-1];
        wire       g_we = clr_busy || (accept_gap && s_venue == gv);
        always @(posedge clk)
            if (g_we)
                gmem[g_addr] <= g_data;
        // the row's tag (EW-2 .. CW): {channelId, sequence, 15 zero bits, tracked}
        wire [CHAN_BITS-1:0] r_slot = rowv[gv][CW+48 +: CHAN_BITS];
        wire [31:0] r_seq = rowv[gv][CW+16 +: 32];
        wire        r_trk = rowv[gv][CW];
        if (MEM_REG != 0) begin : st_early
            // the row's extra cycle (S_MEM) decides it from the copy of the sources at the
            // update's own instrument, a register, and registers it: R+1 starts from flags, not
            // from the block RAM's output register through a LUT RAM and a compare (the ECP5's
            // critical path otherwise). The copy holds what the row holds: the writes before
            // this update have landed, and gap records come only between updates.
            // (the two LUT RAM reads in S_MEM, the compare in R+1: neither follows the other)
            wire [SRC_W-1:0] u_rd = smem[u_instr];
            reg        trk_m;
            reg [31:0] seq_m, gap_m;
            always @(posedge clk)
                if (state == S_MEM) begin
                    trk_m <= u_rd[SRC_W-1];
                    seq_m <= u_rd[31:0];
                    gap_m <= gmem[u_rd[32 +: CHAN_BITS]];
                end
            assign stale[gv] = trk_m && seq_m < gap_m;
            wire unused_row_src = &{1'b0, r_trk, r_seq, r_slot};
        end else begin : st_row
            assign stale[gv] = !rowv[gv][EW-1] && r_trk && r_seq < gmem[r_slot];
        end
        wire [SRC_W-1:0] q_src = smem[q_rd_instrument];
        reg  q_st;
        always @(posedge clk)
            if (q_rd_en)
                q_st <= q_src[SRC_W-1] && q_src[31:0] < gmem[q_src[32 +: CHAN_BITS]];
        if (MEM_REG != 0) begin : st_reg
            reg q_st_q;
            always @(posedge clk)
                q_st_q <= q_st;
            assign q_stale[gv] = q_st_q;
        end else begin : st_direct
            assign q_stale[gv] = q_st;
        end
        if (MEM_REG != 0) begin : rd_reg
            // the block RAM's output register (OUTREG): nothing but a register after the read
            reg [EW-1:0] row;
            always @(posedge clk) begin
                if (start || q_rd_en)
                    row <= mem[q_rd_en ? q_rd_instrument : start_instr];
                rowv[gv] <= row;
            end
        end else begin : rd_direct
            always @(posedge clk)
                if (start || q_rd_en)
                    rowv[gv] <= mem[q_rd_en ? q_rd_instrument : start_instr];
        end
    end
endgenerate

reg [63:0] edges [0:NI-1];
reg [63:0] edge_rd;             // the update's edge, or a bus read's
wire [63:0] edge_v;             // ... as R+1 and the bus see it
always @* e_rd_data = edge_v;
always @(posedge clk) begin
    if (edge_wr)
        edges[edge_addr] <= edge_data;
    if (start || e_rd_en)
        edge_rd <= edges[e_rd_en ? e_rd_addr : start_instr];
end

reg [VB-1:0] q_venue_d;
reg [2:0] q_word_d;
always @(posedge clk) begin
    if (q_rd_en) begin
        q_venue_d <= q_rd_venue;
        q_word_d <= q_rd_word;
    end
end
// the bus read's venue and word, as late as its rows
wire [VB-1:0] q_venue_s;
wire [2:0] q_word_s;
generate
    if (MEM_REG != 0) begin : edge_reg
        reg [63:0] edge_q;
        reg [VB-1:0] q_venue_dd;
        reg [2:0] q_word_dd;
        always @(posedge clk) begin
            edge_q <= edge_rd;
            q_venue_dd <= q_venue_d;
            q_word_dd <= q_word_d;
        end
        assign edge_v = edge_q;
        assign q_venue_s = q_venue_dd;
        assign q_word_s = q_word_dd;
    end else begin : edge_direct
        assign edge_v = edge_rd;
        assign q_venue_s = q_venue_d;
        assign q_word_s = q_word_d;
    end
endgenerate
wire [CW-1:0] qsel = rowv[q_venue_s][CW-1:0];
always @* begin
    case (q_word_s)
        3'd0: q_rd_data = qsel[319:256];
        3'd1: q_rd_data = qsel[255:192];
        3'd2: q_rd_data = qsel[191:128];
        3'd3: q_rd_data = qsel[127:64];
        3'd4: q_rd_data = qsel[63:0];
        3'd5: q_rd_data = {62'd0, q_stale[q_venue_s], qsel[320]};
        default: q_rd_data = 64'd0;
    endcase
end

// ---------------------------------------------------------------- R+1: comparisons
// entry: [319:256] bid px, [255:192] bid qty, [191:128] ask px, [127:64] ask qty, [63:0] ts
// the update's numbers: a speculative update's arrive now from L2 (with MEM_REG, they were
// taken a cycle ago, in S_MEM)
wire         l2_now = MEM_REG == 0 && spec;
wire [63:0]  n_bid_px  = l2_now ? l2_bid_px  : u_bid_px;
wire [63:0]  n_bid_qty = l2_now ? l2_bid_qty : u_bid_qty;
wire [63:0]  n_ask_px  = l2_now ? l2_ask_px  : u_ask_px;
wire [63:0]  n_ask_qty = l2_now ? l2_ask_qty : u_ask_qty;
wire [63:0]  n_uid     = l2_now ? l2_key     : u_key;

reg  [NV-1:0] cb, ca;           // venue w has a candidate bid / ask (w != v, non-empty)
reg  [NV*NV-1:0] bge, ale;      // [w*NV+x], w < x: bid(w) >= bid(x); ask(w) <= ask(x)
reg  [NV-1:0] bcond, acond;     // bid(w) - ask(v) > edge; bid(v) - ask(w) > edge
reg  [NV-1:0] bq, aq;           // ask qty(v) < bid qty(w); bid qty(v) < ask qty(w)
reg           v_ask_ok, v_bid_ok;
reg  [NV*CW-1:0] cp;            // the rows' quotes, for the selection (entry w at [w*CW +: CW])

// x - y - e > 0 for prices x, y in [0, 2^63) and a signed edge e: x - y - e - 1 = x + ~y + ~e + 1
// is not negative (66 bits hold every value). The three operands are first reduced to two (a
// carry-save step: sum bits and majority carries, one LUT level), so one carry chain remains.
function gt_edge;
    input [63:0] x;
    input [63:0] y;
    input [63:0] e;
    reg [65:0] a, b, c, sum;
    /* verilator lint_off UNUSEDSIGNAL */
    reg [65:0] cy;          // its top bit leaves the 66 bits
    reg [65:0] d;           // only the sign is used
    /* verilator lint_on UNUSEDSIGNAL */
    begin
        a = {2'b00, x};
        b = {2'b11, ~y};
        c = {~e[63], ~e[63], ~e};
        sum = a ^ b ^ c;
        cy = (a & b) | (a & c) | (b & c);
        d = sum + {cy[64:0], 1'b1};     // (the + 1 in the carries' free low bit)
        gt_edge = !d[65];
    end
endfunction

// entry w's bookUpdateId lets the update through: none kept, or the update's is greater (i64);
// only the update's own venue's counts (the compares run beside the venue choice). The compare
// is made of its halves side by side (two 32-bit carry chains and an equality instead of one
// 64-bit chain): the high words signed, the low unsigned.
function uid_above;
    input [63:0] u;
    input [63:0] e;
    begin
        uid_above = $signed(u[63:32]) > $signed(e[63:32]) ||
                    (u[63:32] == e[63:32] && u[31:0] > e[31:0]);
    end
endfunction
// (uid_gt is combinational: computed inside the state's enable so that a Verilated model
// evaluates the compares only in S_ROWS)
reg  [NV-1:0] uid_gt;
integer w, x;
/* verilator lint_off BLKSEQ */
always @(posedge clk) begin
    if (state == S_ROWS) begin
        for (w = 0; w < NV; w = w + 1)
            uid_gt[w] = !rowv[w][EW-1] || uid_above(n_uid, rowv[w][EW-2 -: 64]);
        uid_ok <= !u_has_uid || uid_gt[u_venue];
        for (w = 0; w < NV; w = w + 1) begin
            cp[w*CW +: CW] <= rowv[w][CW-1:0];
            cb[w] <= w[VB-1:0] != u_venue && !stale[w] &&
                     rowv[w][319:256] != 64'd0 && rowv[w][255:192] != 64'd0;
            ca[w] <= w[VB-1:0] != u_venue && !stale[w] &&
                     rowv[w][191:128] != 64'd0 && rowv[w][127:64] != 64'd0;
            bcond[w] <= gt_edge(rowv[w][319:256], n_ask_px, edge_v);
            acond[w] <= gt_edge(n_bid_px, rowv[w][191:128], edge_v);
            bq[w] <= n_ask_qty < rowv[w][255:192];
            aq[w] <= n_bid_qty < rowv[w][127:64];
            for (x = 0; x < NV; x = x + 1) begin
                if (w < x) begin
                    bge[w*NV+x] <= rowv[w][319:256] >= rowv[x][319:256];
                    ale[w*NV+x] <= rowv[w][191:128] <= rowv[x][191:128];
                end else begin
                    bge[w*NV+x] <= 1'b0;
                    ale[w*NV+x] <= 1'b0;
                end
            end
        end
        v_ask_ok <= n_ask_px != 64'd0 && n_ask_qty != 64'd0;
        v_bid_ok <= n_bid_px != 64'd0 && n_bid_qty != 64'd0;
    end
end
/* verilator lint_on BLKSEQ */

// ---------------------------------------------------------------- R+2: selection
reg  [NV-1:0] wb, wa;           // the winners, one-hot (or none)
reg  [VB-1:0] b_venue, a_venue;
reg  [63:0]   b_px, b_qty, b_ts, a_px, a_qty, a_ts;
reg           b_less, a_less;   // the update's quantity is the smaller
reg           ev_buy, ev_sell;
integer i, k;
// (evaluated only in the selection cycle: the simulator skips it otherwise)
always @* begin
    wb = {NV{1'b0}};
    wa = {NV{1'b0}};
    b_venue = {VB{1'b0}}; b_px = 64'd0; b_qty = 64'd0; b_ts = 64'd0; b_less = 1'b0;
    a_venue = {VB{1'b0}}; a_px = 64'd0; a_qty = 64'd0; a_ts = 64'd0; a_less = 1'b0;
    ev_buy = 1'b0;
    ev_sell = 1'b0;
    if (state == S_SEL) begin
        for (i = 0; i < NV; i = i + 1) begin
            wb[i] = cb[i];
            wa[i] = ca[i];
            for (k = 0; k < NV; k = k + 1) begin
                if (k < i) begin
                    wb[i] = wb[i] && (!cb[k] || !bge[k*NV+i]);
                    wa[i] = wa[i] && (!ca[k] || !ale[k*NV+i]);
                end else if (k > i) begin
                    wb[i] = wb[i] && (!cb[k] || bge[i*NV+k]);
                    wa[i] = wa[i] && (!ca[k] || ale[i*NV+k]);
                end
            end
        end
        for (i = 0; i < NV; i = i + 1) begin
            if (wb[i]) begin
                b_venue = b_venue | i[VB-1:0];
                b_px = b_px | cp[i*CW+256 +: 64];
                b_qty = b_qty | cp[i*CW+192 +: 64];
                b_ts = b_ts | cp[i*CW+0 +: 64];
                b_less = b_less | bq[i];
            end
            if (wa[i]) begin
                a_venue = a_venue | i[VB-1:0];
                a_px = a_px | cp[i*CW+128 +: 64];
                a_qty = a_qty | cp[i*CW+64 +: 64];
                a_ts = a_ts | cp[i*CW+0 +: 64];
                a_less = a_less | aq[i];
            end
        end
        ev_buy = v_ask_ok && |(cb & bcond);
        ev_sell = v_bid_ok && |(ca & acond);
    end
end

always @* begin
    ev_valid = apply && (ev_buy || ev_sell);
    ev_instrument = u_instr;
    ev_trigger_venue = u_venue;
    ev_ts = u_ts;
    ev_cyc_frame = u_cyc_frame;
    ev_cyc_first = u_cyc_first;
    ev_cyc_last = u_cyc_last;
    ev_feed_key = u_key;
    // sell on the trigger venue v, buy on A's venue: the second event, or the only one
    ev2_valid = apply && ev_buy && ev_sell;
    ev2_trigger_sell = 1'b1;
    ev2_buy_venue = a_venue;
    ev2_sell_venue = u_venue;
    ev2_buy_px = a_px;
    ev2_buy_qty = a_qty;
    ev2_sell_px = u_bid_px;
    ev2_sell_qty = u_bid_qty;
    ev2_qty = a_less ? u_bid_qty : a_qty;
    ev2_buy_ts = a_ts;
    ev2_sell_ts = u_ts;
    if (ev_buy) begin
        // buy on the trigger venue v, sell on B's venue
        ev_trigger_sell = 1'b0;
        ev_buy_venue = u_venue;
        ev_sell_venue = b_venue;
        ev_buy_px = u_ask_px;
        ev_buy_qty = u_ask_qty;
        ev_sell_px = b_px;
        ev_sell_qty = b_qty;
        ev_qty = b_less ? u_ask_qty : b_qty;
        ev_buy_ts = u_ts;
        ev_sell_ts = b_ts;
    end else begin
        ev_trigger_sell = ev2_trigger_sell;
        ev_buy_venue = ev2_buy_venue;
        ev_sell_venue = ev2_sell_venue;
        ev_buy_px = ev2_buy_px;
        ev_buy_qty = ev2_buy_qty;
        ev_sell_px = ev2_sell_px;
        ev_sell_qty = ev2_sell_qty;
        ev_qty = ev2_qty;
        ev_buy_ts = ev2_buy_ts;
        ev_sell_ts = ev2_sell_ts;
    end
end

assign busy = state != S_IDLE;

always @(posedge clk) begin
    inc_update <= 1'b0;
    inc_out_of_order <= 1'b0;

    case (state)
        S_IDLE: begin
            if (start) begin
                spec <= !accept;
                c_seen <= accept || x_end_valid;
                c_ok <= accept || x_end_ok;
                u_venue <= accept ? s_venue : sp_venue;
                u_instr <= start_instr;
                u_bid_px <= s_bid_px;
                u_bid_qty <= s_bid_qty;
                u_ask_px <= s_ask_px;
                u_ask_qty <= s_ask_qty;
                u_ts <= s_ts;
                u_cyc_frame <= s_cyc_frame;
                u_cyc_first <= s_cyc_first;
                u_cyc_last <= s_cyc_last;
                u_key <= s_key;
                u_has_uid <= accept ? s_has_uid : 1'b1;
                u_tracked <= accept && s_tracked;
                state <= S_L2;
            end
        end
        S_ROWS, S_MEM: begin
            if (!c_seen && x_end_valid) begin
                c_seen <= 1'b1;
                c_ok <= x_end_ok;
            end
            if (state == S_L2 && spec) begin
                u_bid_px <= l2_bid_px;
                u_bid_qty <= l2_bid_qty;
                u_ask_px <= l2_ask_px;
                u_ask_qty <= l2_ask_qty;
                u_ts <= l2_ts;
                u_cyc_frame <= l2_cyc_frame;
                u_cyc_first <= l2_cyc_first;
                u_cyc_last <= l2_cyc_last;
                u_key <= l2_key;
            end
            // a speculative quote whose numbers were rejected is dropped here
            if (state == S_L2 && spec && l2_kind != `TC_K_QUOTE)
                state <= S_IDLE;
            else
                state <= (state == S_MEM) ? S_ROWS : S_SEL;
        end
        S_SEL: begin
            if (!known) begin
                state <= S_SEL;
            end else if (!good) begin
                state <= S_IDLE;
            end else begin
                // the update's own entry is written now (apply), its events leave; or it is
                // out of order and dropped
                inc_update <= uid_ok;
                inc_out_of_order <= !uid_ok;
                state <= S_IDLE;
            end
        end
        default: state <= S_IDLE;
    endcase

    if (clear && !clr_busy) begin
        clr_busy <= 1'b1;
        clr_addr <= {CLR_BITS{1'b0}};
    end else if (clr_busy) begin
        clr_addr <= clr_addr + 1'b1;
        if (clr_addr == {CLR_BITS{1'b1}})
            clr_busy <= 1'b0;
    end

    if (rst) begin
        state <= S_IDLE;
        inc_update <= 1'b0;
        inc_out_of_order <= 1'b0;
        clr_busy <= 1'b1;
        clr_addr <= {CLR_BITS{1'b0}};
    end
end

endmodule

`resetall
