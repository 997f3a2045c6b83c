// deribit_mcast decoder: walks the messages of a datagram (docs/PIPELINE.md section 2).
//
// Taken payload beats enter a window of the last 2^WIN_LOG2 beats (circular: payload beat b sits in
// slot b mod 2^WIN_LOG2). The walker, decoupled from the input, handles one structural element per
// cycle once its bytes are in the window: a message header together with the 4 bytes after it (the
// instrumentId; fewer at the end of the datagram), a group header or a var-data length byte, read
// by rotating the window by the cursor's low bits (a mux whose select is a register). Bodies, group
// entries and var-data bytes are skipped by moving the cursor. A group header takes two more cycles
// (one when gb or gn is 0): gb*gn is multiplied in LUTs (no DSP), registered, then added. The
// cursor moves to an element's end without comparing it with the payload length; a cursor past
// the end is seen in the next cycle (a compare of registers) and stops the walk as truncated, before
// anything else can be walked. The walker's events are counted, and a completed Ticker/Instrument
// made pending, in that next cycle too. With WALK_REG = 1 (the ECP5 build) the element at the
// cursor is registered first, so each element takes two cycles: the cycle after a step only
// registers the next element; a message's class and whether the cursor is past n are decided
// with the step and registered.
//
// in_stall depends on registers only (a compare and a gate; with WALK_REG = 1 a register and a
// gate, the compare made a cycle ahead): a data beat waits while taking it would
// push the beat at the cursor out of the window, i.e. only while the walker is 2^WIN_LOG2 beats
// behind (several headers ending in the same 8 bytes, group multiplies); the end-of-frame beat waits
// until, in the previous cycle, no beat entered, the walker had nothing left to do and no record was
// about to fire: it is taken a cycle after the last data beat at the earliest, and the END record is
// registered as it is taken (a frame ending in a Ticker: its record, then the END in the next cycle).
//
// Captures: a message's instrumentId comes with its header element; a Ticker's four doubles (body
// offset 61) and the current var-data field's first 32 bytes are kept as whole beats, taken from the
// input as beats enter (the field's beats already in the window are copied from it); they are
// aligned when the record fires. A pending message fires once the beat with its last byte has
// entered the window and that byte's cycle stamp is taken (from the input as the beat enters, or
// from the window): a Ticker fires (converter feeds valid) in the cycle after the beat carrying its
// last byte is taken, and its record is registered at the end of that cycle (one cycle earlier than
// before: the header is walked long before the body's last byte arrives). An Instrument whose last
// element is walked after its last byte arrived fires two cycles after that element. The next
// message header waits for the pending record to fire (it may be walked in the firing cycle), so one
// set of captures serves. The END record of the frame follows its last message.
//
// Sequences (docs/PIPELINE.md section 4a): the frame header (channelId, sequence) is the first
// payload beat; it is registered as it is taken, its channel's slot (venue, channelId mod
// 2^CHAN_BITS: tag, last sequence + 1) is read and compared in the next cycle and the outcome
// registered, which is before the end-of-frame beat can be taken (two cycles after the first
// beat at the earliest: the end waits a cycle after the last data beat). Records carry the frame's
// (channelId, sequence) and their message index as r_key; a Ticker's r_kflag says its frame was
// its slot's own channel's, a good END's that the frame was a gap (the quote stage marks the
// channel's older quotes stale when it reaches it). A duplicate's END record
// says bad (the commit drops the frame whole); the slot is written in the cycle after the END is
// registered (from registers: the write enables are far from the input), and the next frame's
// header is read a cycle after that at the earliest (its first beat comes after the END's beat).
// With MEM_REG = 1 the slot's read (block RAM) is registered twice (the RAM's latch and its output
// register) before the compare, so the outcome comes two cycles later and the end-of-frame beat
// waits for it (sq_wait): only a frame of at most three payload beats can be held, by a cycle or
// two.

`resetall
`timescale 1ns / 1ps
`default_nettype none

`include "hdl/tc_pipeline.vh"

module tc_deribit_dec #(
    // the window holds 2^WIN_LOG2 beats: a 16-byte element spans 3, and one more lets the input run
    // while the walker finishes the element in the newest beat; at most 8, so that a Ticker's
    // doubles (73 bytes past its header) always enter after the walker has read the header
    parameter WIN_LOG2 = 2,
    // channel slots per venue: 2^CHAN_BITS (tickcross_swpath::CHAN_BITS), 1..8
    parameter CHAN_BITS = 6,
    // 1: the channel table's block RAM read registered twice (the outcome two cycles later)
    parameter MEM_REG = 0,
    // 1: the element at the cursor is registered before the walker takes it, so the cursor's
    // loop (element -> its end -> cursor) is one carry chain and a mux: a cycle after each step,
    // two cycles an element (the ECP5's timing)
    parameter WALK_REG = MEM_REG
) (
    input  wire          clk,
    input  wire          rst,
    input  wire          clear,        // clear_state: every channel starts again

    input  wire          in_valid,     // the head beat belongs to a deribit_mcast frame
    output wire          in_stall,     // hold the head beat this cycle
    input  wire [63:0]   in_data,
    input  wire          in_sof,
    input  wire          in_eof,
    input  wire          in_ok,
    input  wire [2:0]    in_venue,
    input  wire [15:0]   in_len,
    input  wire [63:0]   in_ts,
    input  wire [63:0]   in_cyc_frame,
    input  wire [63:0]   in_cyc_lo,
    input  wire [63:0]   in_cyc_hi,
    input  wire [3:0]    in_split,

    output reg           r_valid,
    output reg  [2:0]    r_kind,
    output reg  [2:0]    r_venue,
    output reg  [31:0]   r_id,
    output reg  [255:0]  r_name,
    output reg  [7:0]    r_name_len,
    output reg  [63:0]   r_ts,
    output reg  [63:0]   r_cyc_frame,
    output reg  [63:0]   r_cyc_first,
    output reg  [63:0]   r_cyc_last,
    output reg           r_ok,
    output reg  [`TC_C_BITS-1:0] r_cnt,
    // the record's feed key: {channelId, sequence, message index} of its frame and message (a
    // Ticker's; an END's index is 0), and a flag: a Ticker's frame was checked by its channel's
    // own slot (not untracked), an END's frame was a gap (the quote stage's gap marker)
    output reg  [63:0]   r_key,
    output reg           r_kflag,

    // a good frame's sequence outcome, with its END record
    output reg           sq_dup,       // dropped whole (its END says bad)
    output reg           sq_gap,
    output reg           sq_untracked,
    output reg  [2:0]    sq_venue,

    // a Ticker's four doubles, to the converters, in the cycle its record fires (r_valid follows)
    output wire          cv_valid,
    output wire [63:0]   cv_v0,        // bestBidPrice (f64 bits)
    output wire [63:0]   cv_v1,        // bestBidAmount
    output wire [63:0]   cv_v2,        // bestAskPrice
    output wire [63:0]   cv_v3,        // bestAskAmount

    output wire          busy
);

localparam WB = 1 << WIN_LOG2;        // window beats
localparam WY = 8 * WB;               // window bytes
localparam WS = WIN_LOG2 + 3;         // bits of a byte index in the window
localparam CB = 5;                    // beats kept per capture (32 bytes at any alignment)

`ifndef SYNTHESIS
initial begin
    if (WIN_LOG2 < 2 || WIN_LOG2 > 3) begin
        $display("tc_deribit_dec: WIN_LOG2 = %0d, must be 2 or 3", WIN_LOG2);
        $finish;
    end
    if (CHAN_BITS < 1 || CHAN_BITS > 8) begin
        $display("tc_deribit_dec: CHAN_BITS = %0d, must be 1..8", CHAN_BITS);
        $finish;
    end
    if (MEM_REG != 0 && MEM_REG != 1) begin
        $display("tc_deribit_dec: MEM_REG = %0d, must be 0 or 1", MEM_REG);
        $finish;
    end
    if (WALK_REG != 0 && WALK_REG != 1) begin
        $display("tc_deribit_dec: WALK_REG = %0d, must be 0 or 1", WALK_REG);
        $finish;
    end
end
`endif

// ---------------------------------------------------------------- channel sequences
localparam NCH = 8 << CHAN_BITS;      // (venue, slot)
reg  [NCH-1:0]       ch_valid;
reg  [15:0]          ch_tag  [0:NCH-1];
reg  [32:0]          ch_next [0:NCH-1];   // last sequence + 1 (33 bits: no wrap)
reg                  sq_has;          // this frame has a header (n >= 8) ...
reg                  sq_pend;         // ... read in this cycle
reg  [CHAN_BITS+2:0] sq_addr;
reg  [15:0]          sq_ch;
reg  [31:0]          sq_seq;
reg                  sq_is_dup, sq_is_gap, sq_is_untr;
reg  [32:0]          sq_next_new;
reg                  sq_wr;           // write the slot (the frame at sq_addr was applied)
reg                  sq_wait;         // the outcome is not registered yet (MEM_REG = 1)
// the slot as the outcome is decided from it, and the cycle that happens in (sq_dec)
wire                 sq_dec;
wire                 sl_valid;
wire [15:0]          sl_tag;
wire [32:0]          sl_next;
generate
    if (MEM_REG != 0) begin : sq_rd_reg
        // sq_addr holds still until the outcome is decided: the next header waits for this
        // frame's end, which waits for the outcome
        // (the valid flag read in two steps too: the slot's flag in each venue's flags, then the
        // venue's; one 8 << CHAN_BITS-way mux was ten mux levels)
        reg        p2, p3, v2;
        reg [7:0]  v1;
        reg [15:0] t1, t2;
        reg [32:0] n1, n2;
        genvar     gv;
        for (gv = 0; gv < 8; gv = gv + 1) begin : g_v1
            localparam [2:0] VEN = gv;
            always @(posedge clk)
                v1[gv] <= ch_valid[{VEN, sq_addr[CHAN_BITS-1:0]}];
        end
        always @(posedge clk) begin
            p2 <= sq_pend && !rst;
            p3 <= p2 && !rst;
            t1 <= ch_tag[sq_addr];
            n1 <= ch_next[sq_addr];
            v2 <= v1[sq_addr[CHAN_BITS +: 3]];
            t2 <= t1;
            n2 <= n1;
        end
        assign sq_dec = p3;
        assign sl_valid = v2;
        assign sl_tag = t2;
        assign sl_next = n2;
    end else begin : sq_rd_direct
        assign sq_dec = sq_pend;
        assign sl_valid = ch_valid[sq_addr];
        assign sl_tag = ch_tag[sq_addr];
        assign sl_next = ch_next[sq_addr];
    end
endgenerate
// the slots' valid flags, each set by its own address decode (a write at a variable bit index
// would become a shifter), cleared all at once. The decode sits inside sq_wr so that a Verilated
// model tests it only in a cycle that writes a slot (the same logic: bit gc's enable is sq_wr &&
// sq_addr == gc, or the clear).
integer gc;
always @(posedge clk) begin
    if (sq_wr)
        for (gc = 0; gc < NCH; gc = gc + 1)
            if (sq_addr == gc[CHAN_BITS+2:0])
                ch_valid[gc] <= 1'b1;
    if (rst || clear)
        ch_valid <= {NCH{1'b0}};
end

localparam [2:0] P_MSG = 3'd0, P_GRP = 3'd1, P_VAR = 3'd2, P_STOP = 3'd3, P_GMUL = 3'd4,
                 P_GADD = 3'd5;

// ---------------------------------------------------------------- frame and input state
reg  [13:0]          jn;              // payload beats taken in this frame (the next one's index)
reg  signed [15:0]   jn_mw;           // jn - WB
reg  signed [15:0]   jn_m1;           // jn - 1
reg  signed [17:0]   top_m16, top_m8; // 8*jn - 16, 8*jn - 8: bytes in, less an element's size
reg  signed [17:0]   rem_in;          // n - 8*jn: bytes still to come
reg                  all_in;          // rem_in <= 0
reg  [15:0]          plen;
reg  signed [17:0]   n_m12, n_m8, n_m1;
reg  [64*WB-1:0]     wbuf;
reg  [64*WB-1:0]     wlo, whi;
reg  [4*WB-1:0]      wsplit;
reg  [WY-1:0]        wnz;             // window byte is not zero
reg  [2:0]           f_venue;
reg  [63:0]          f_ts, f_cyc_frame;

// ---------------------------------------------------------------- walker state
reg  [2:0]   phase;
reg  [16:0]  cur;                     // cursor: offset of the next element
reg  [16:0]  lst;                     // cur - 1, kept beside it: the last byte walked
reg  [15:0]  g_rem, d_rem;
reg  [15:0]  c_msgs, c_trunc, c_unknown, c_skipped;
reg  [15:0]  gbr, gnr;                // a group being multiplied
reg  [12:0]  gb3r;                    // 3 * gb[10:0]
reg  [21:0]  prod;                    // gb * gn when both fit 11 bits
reg          prod_big;                // gb or gn >= 2048 (both non-zero): past any frame

// current message (kept until the next message header, which waits for its record to fire)
reg  [31:0]  m_id;
reg  [15:0]  m_idx;           // the message's index in its frame (headers walked before it)
reg  [63:0]  m_cyc_first;
/* verilator lint_off UNUSEDSIGNAL */
reg  [15:0]  m_tid, m_sid, m_bl;      // (WALK_REG = 1 classifies the header as it is walked)
reg          m_dnz;
/* verilator lint_on UNUSEDSIGNAL */
reg  [2:0]   f_sh;
reg  [WIN_LOG2-1:0] n_rb;             // payload beat of the var-data field's first byte, mod WB
reg  [2:0]   n_sh;
reg  [7:0]   m_vlen;
reg  [31:0]  n_mask;                  // name bytes below the field's length
reg  [63:0]  f_buf [0:CB-1];
reg  [63:0]  n_buf [0:CB-1];

// the completed Ticker/Instrument message waiting for its last byte's stamp
reg          pend, pend_st;
reg  [16:0]  pend_last;              // the pending message's last byte (its end - 1)
reg  [63:0]  pend_cyc_last;

wire         take = in_valid && !in_stall;
wire         lag_full;                // the window is full (the beat at the cursor would leave)
reg          live_q;                  // phase != P_STOP, kept in its own register
// a data beat waits only on a live walker's full window (a function of registers alone)
wire         data_wait = live_q && lag_full;
wire         dtake = in_valid && !in_eof && !data_wait;
wire         etake = take && in_eof;

// ---------------------------------------------------------------- element at the cursor
wire signed [17:0] cur_s = $signed({1'b0, cur});
wire [WS-1:0] wsel = cur[WS-1:0];
/* verilator lint_off UNUSEDSIGNAL */
wire [127:0] el_w;                   // the element at the cursor, from the window
wire [11:0]  el_nz_w;
/* verilator lint_on UNUSEDSIGNAL */
genvar gi;
// two steps, each a mux on register bits: the three beats from the cursor's (4:1 on the beat
// bits), then the 16 bytes from the cursor's lane (8:1)
/* verilator lint_off UNUSEDSIGNAL */
wire [191:0] el3;                // the cursor's beat and the next two (its last byte is past any
                                 // element: lane 7 + 15 bytes)
/* verilator lint_on UNUSEDSIGNAL */
wire [23:0]  nz3;
/* verilator lint_off UNUSEDSIGNAL */
wire [128*WB-1:0] w2 = {wbuf, wbuf};
wire [16*WB-1:0]  z2 = {wnz, wnz};
/* verilator lint_on UNUSEDSIGNAL */
generate
    for (gi = 0; gi < 3; gi = gi + 1) begin : g_b3
        // the window rotated by gi beats (wiring), then indexed by the cursor's beat bits
        wire [64*WB-1:0] wr = w2[64*gi +: 64*WB];
        wire [8*WB-1:0]  zr = z2[8*gi +: 8*WB];
        assign el3[64*gi +: 64] = wr[64*wsel[WS-1:3] +: 64];
        assign nz3[8*gi +: 8] = zr[8*wsel[WS-1:3] +: 8];
    end
    for (gi = 0; gi < 16; gi = gi + 1) begin : g_el
        // bytes gi .. gi + 7 of the three beats (wiring; a 64-bit select, where a shift of all
        // 192 bits cost a Verilated model six words a byte every cycle), one picked by the lane
        wire [63:0] sh = el3[8*gi +: 64];
        assign el_w[8*gi +: 8] = sh[8*wsel[2:0] +: 8];
    end
    for (gi = 0; gi < 12; gi = gi + 1) begin : g_elnz
        wire [23:0] sh = nz3 >> gi;
        assign el_nz_w[gi] = sh[{2'b00, wsel[2:0]}];
    end
endgenerate
// the element the walker takes, and whether it is whole in the window: as the window shows it
// (WALK_REG = 0), or as it showed it in the last cycle, registered, if the cursor has not moved
// since (a step, a frame's start or a reset moves it). The bytes of a whole element stay in the
// window until the cursor passes them, so the registered copy is still the element.
/* verilator lint_off UNUSEDSIGNAL */
wire [127:0] el;
wire [11:0]  el_nz;
wire         cur_moves;               // the cursor moves at the end of this cycle (WALK_REG)
/* verilator lint_on UNUSEDSIGNAL */
wire         a_msg, a_grp, a_var;
// the room after the cursor as the step sees it (WALK_REG = 1: registered with the element; the
// cursor has not moved since, or the element is not taken)
wire signed [17:0] s_room12, s_room8, s_room1;

// non-zero u16 fields of the element, from per-byte flags kept with the window (shallower than
// a 16-bit compare after the element mux)
wire         gb_nz = el_nz[0] || el_nz[1];
wire         gn_nz = el_nz[2] || el_nz[3];
wire         g_nz = el_nz[8] || el_nz[9];
wire         d_nz = el_nz[10] || el_nz[11];

/* verilator lint_off UNUSEDSIGNAL */
wire [15:0]  e_bl  = el[15:0];        // version (el[63:48]) is ignored
wire [15:0]  e_tid = el[31:16];
wire [15:0]  e_sid = el[47:32];
wire [15:0]  e_g   = el[79:64];
wire [15:0]  e_d   = el[95:80];
wire [31:0]  e_id  = el[127:96];
wire [15:0]  e_gb  = el[15:0];
wire [15:0]  e_gn  = el[31:16];
wire [7:0]   e_len = el[7:0];
/* verilator lint_on UNUSEDSIGNAL */

// bytes left after the cursor and the element's header (>= 0 when the element is available)
/* verilator lint_off UNUSEDSIGNAL */
wire signed [17:0] room12 = n_m12 - cur_s;
wire signed [17:0] room8  = n_m8 - cur_s;
wire signed [17:0] room1  = n_m1 - cur_s;
/* verilator lint_on UNUSEDSIGNAL */

// is the element at the cursor whole in the window (and in the datagram)? Each compare is the
// sign of a subtraction (x <= y: y - x >= 0)
/* verilator lint_off UNUSEDSIGNAL */
wire signed [17:0] in16 = top_m16 - cur_s;
wire signed [17:0] in8  = top_m8 - cur_s;
wire signed [15:0] in1  = jn_m1 - $signed({2'b00, cur[16:3]});
wire signed [15:0] lag_d = jn_mw - $signed({2'b00, cur[16:3]});
/* verilator lint_on UNUSEDSIGNAL */
wire         a_msg_w = !room12[17] && (!in16[17] || all_in);
wire         a_grp_w = !room8[17] && !in8[17];
wire         a_var_w = !room1[17] && !in1[15];
// (the frame's end waits while the element at the cursor is whole, also while it settles)
wire         work = (phase == P_MSG && a_msg_w) || (phase == P_GRP && a_grp_w) ||
                    (phase == P_VAR && a_var_w) || phase == P_GMUL || phase == P_GADD;

generate
    if (WALK_REG != 0) begin : g_walk_reg
        reg [127:0] el_q;
        reg [11:0]  nz_q;
        reg         am_q, ag_q, av_q, moved_q;
        reg signed [17:0] r12_q, r8_q, r1_q;
        always @(posedge clk) begin
            r12_q <= room12;
            r8_q <= room8;
            r1_q <= room1;
            el_q <= el_w;
            nz_q <= el_nz_w;
            am_q <= a_msg_w;
            ag_q <= a_grp_w;
            av_q <= a_var_w;
            moved_q <= cur_moves;
        end
        assign el = el_q;
        assign el_nz = nz_q;
        assign s_room12 = r12_q;
        assign s_room8 = r8_q;
        assign s_room1 = r1_q;
        assign a_msg = am_q && !moved_q;
        assign a_grp = ag_q && !moved_q;
        assign a_var = av_q && !moved_q;
    end else begin : g_walk_direct
        assign el = el_w;
        assign el_nz = el_nz_w;
        assign s_room12 = room12;
        assign s_room8 = room8;
        assign s_room1 = room1;
        assign a_msg = a_msg_w;
        assign a_grp = a_grp_w;
        assign a_var = a_var_w;
    end
endgenerate

wire         fire = pend && pend_st;
// a message header waits for the pending record (its captures are reused), also while it is
// being made pending
// (with WALK_REG the cycle after a step never walks, so that cycle's ev_done needs no check)
wire         go_msg = phase == P_MSG && a_msg && (WALK_REG != 0 || !(ev_done && m_rec)) &&
                      (!pend || fire);

// candidate cursors, in parallel. Whether the element fits (its end <= n) is not decided here:
// the cursor moves to its end regardless (at most 2^17 - 1: a group of 2^16 bytes or more
// saturates), and in the next cycle a cursor past n stops the walk as truncated (`over`), before
// anything else can be walked (every element needs the cursor <= n - 1)
wire [16:0]  ext_m  = cur + 17'd12 + {1'b0, e_bl};
wire         ga_sat = prod_big || prod[21:16] != 6'd0;
wire [16:0]  ext_ga = ga_sat ? 17'h1ffff : cur + 17'd8 + {1'b0, prod[15:0]};
wire [16:0]  ext_v  = cur + 17'd1 + {9'd0, e_len};
// and each less one, in parallel (the last byte's stamp then reads from a register)
wire [16:0]  lst_m  = cur + 17'd11 + {1'b0, e_bl};
wire [16:0]  lst_ga = ga_sat ? 17'h1fffe : cur + 17'd7 + {1'b0, prod[15:0]};
wire [16:0]  lst_v  = cur + {9'd0, e_len};
/* verilator lint_off UNUSEDSIGNAL */
wire signed [17:0] room0 = $signed({2'b00, plen}) - cur_s;
/* verilator lint_on UNUSEDSIGNAL */
wire         over;
// whether each candidate end is past n (the cursor's next `over`, WALK_REG)
/* verilator lint_off UNUSEDSIGNAL */
wire signed [17:0] past_m = s_room12 - $signed({2'b00, e_bl});
wire signed [17:0] past_v = s_room1 - $signed({10'd0, e_len});
wire signed [17:0] past_g = s_room8 - $signed({2'b00, prod[15:0]});
/* verilator lint_on UNUSEDSIGNAL */

// gb * gn: six 2-bit digits of gn select 0, gb, 2gb or 3gb; a balanced tree sums them
wire [12:0]  pp [0:5];
generate
    for (gi = 0; gi < 6; gi = gi + 1) begin : g_pp
        wire [1:0] dg = (gi == 5) ? {1'b0, gnr[10]} : gnr[2*gi +: 2];
        assign pp[gi] = dg == 2'd0 ? 13'd0 :
                        dg == 2'd1 ? {2'd0, gbr[10:0]} :
                        dg == 2'd2 ? {1'b0, gbr[10:0], 1'b0} : gb3r;
    end
endgenerate
wire [21:0]  s01 = {9'd0, pp[0]} + {7'd0, pp[1], 2'd0};
wire [21:0]  s23 = {5'd0, pp[2], 4'd0} + {3'd0, pp[3], 6'd0};
wire [21:0]  s45 = {1'b0, pp[4], 8'd0} + {pp[5][11:0], 10'd0};
wire [21:0]  prod_nx = (s01 + s23) + s45;

// next state after this cycle's element (or unchanged); `step`: the cursor moves to an element's
// end, `done_msg`: the message ends there (both taken back in the next cycle if it is past n)
reg  [2:0]   nx_phase;
reg  [16:0]  nx_cur, nx_lst;
/* verilator lint_off UNUSEDSIGNAL */
reg          nx_over;                 // nx_cur past n (WALK_REG)
/* verilator lint_on UNUSEDSIGNAL */
reg  [15:0]  nx_g, nx_d;
reg          msg_hdr, var_hdr, grp_hdr, done_msg, step;
always @* begin
    nx_phase = phase;
    nx_cur = cur;
    nx_lst = lst;
    nx_over = over;
    nx_g = g_rem;
    nx_d = d_rem;
    msg_hdr = 1'b0;
    var_hdr = 1'b0;
    grp_hdr = 1'b0;
    done_msg = 1'b0;
    step = 1'b0;
    case (phase)
        P_MSG: if (go_msg) begin
            msg_hdr = 1'b1;
            step = 1'b1;
            nx_cur = ext_m;
            nx_lst = lst_m;
            nx_over = past_m[17];
            nx_g = e_g;
            nx_d = e_d;
            done_msg = !g_nz && !d_nz;
            nx_phase = g_nz ? P_GRP : d_nz ? P_VAR : P_MSG;
        end
        // a group header: gb and gn are taken, multiplied (unless one is 0), then added
        P_GRP: if (a_grp) begin
            grp_hdr = 1'b1;
            nx_phase = (gb_nz && gn_nz) ? P_GMUL : P_GADD;
        end
        P_GMUL: nx_phase = P_GADD;
        P_GADD: begin
            step = 1'b1;
            nx_cur = ext_ga;
            nx_lst = lst_ga;
            nx_over = ga_sat || past_g[17];
            nx_g = g_rem - 16'd1;
            done_msg = g_rem == 16'd1 && d_rem == 16'd0;
            nx_phase = g_rem != 16'd1 ? P_GRP : d_rem != 16'd0 ? P_VAR : P_MSG;
        end
        P_VAR: if (a_var) begin
            var_hdr = 1'b1;
            step = 1'b1;
            nx_cur = ext_v;
            nx_lst = lst_v;
            nx_over = past_v[17];
            nx_d = d_rem - 16'd1;
            done_msg = d_rem == 16'd1;
            nx_phase = d_rem == 16'd1 ? P_MSG : P_VAR;
        end
        default: ;
    endcase
end

assign cur_moves = step || (dtake && in_sof) || rst;

// the cursor past n: from the cursor (WALK_REG = 0), or decided with the step, beside the
// cursor's own candidates, and registered (WALK_REG = 1: the step's events then hang on a
// register)
generate
    if (WALK_REG != 0) begin : g_over_reg
        reg over_q;
        always @(posedge clk) begin
            over_q <= nx_over;
            if (dtake && in_sof)
                over_q <= in_len < 16'd8;           // the cursor at 8
            if (rst)
                over_q <= 1'b1;                     // n = 0
        end
        assign over = over_q;
    end else begin : g_over_direct
        assign over = room0[17];
    end
endgenerate

// classification of the current message, from its header's fields (registered with it)
// {tick, inst, unk, trunc, skip, rec} of a header's fields
function [5:0] classify;
    input [15:0] sid, tid, bl;
    input        dnz;
    reg          tick, inst, unk, trunc;
    begin
        tick = sid == 16'd1 && tid == 16'd1003;
        inst = sid == 16'd1 && tid == 16'd1000;
        unk = sid != 16'd1 || tid < 16'd1000 || tid > 16'd1010;
        trunc = (tick && bl < 16'd133) || (inst && (bl < 16'd4 || !dnz));
        classify = {tick, inst, unk, trunc, !unk && !tick && !inst, (tick || inst) && !trunc};
    end
endfunction
// from the registered header (WALK_REG = 0), or classified as the header is walked, from the
// registered element, and registered (WALK_REG = 1: the record's pending flags then hang on
// registers)
wire [5:0]   m_class;
generate
    if (WALK_REG != 0) begin : g_class_reg
        reg [5:0] class_q;
        always @(posedge clk)
            if (msg_hdr)
                class_q <= classify(e_sid, e_tid, e_bl, d_nz);
        assign m_class = class_q;
    end else begin : g_class_direct
        // (the length's compares registered with the header: a compare after m_bl made the
        // header's enables 7 LUT levels deep)
        reg  bl_lt133, bl_lt4;
        always @(posedge clk)
            if (msg_hdr) begin
                bl_lt133 <= e_bl < 16'd133;
                bl_lt4 <= e_bl < 16'd4;
            end
        wire tick = m_sid == 16'd1 && m_tid == 16'd1003;
        wire inst = m_sid == 16'd1 && m_tid == 16'd1000;
        wire unk = m_sid != 16'd1 || m_tid < 16'd1000 || m_tid > 16'd1010;
        wire trunc = (tick && bl_lt133) || (inst && (bl_lt4 || !m_dnz));
        assign m_class = {tick, inst, unk, trunc, !unk && !tick && !inst, (tick || inst) && !trunc};
    end
endgenerate
wire         m_tick = m_class[5];
/* verilator lint_off UNUSEDSIGNAL */
wire         m_inst = m_class[4];
/* verilator lint_on UNUSEDSIGNAL */
wire         m_unk = m_class[3];
wire         m_trunc = m_class[2];
wire         m_skip = m_class[1];
wire         m_rec = m_class[0];

// this cycle's events, counted (and a completed record made pending) in the next cycle, from
// the message's classification registered with its header; a step past n is a truncation
reg          ev_hdr, ev_step, ev_done;
wire         ev_trunc = ev_step && over;
wire         ev_whole = ev_done && !over;

// the input stalls: a data beat while the beat at the cursor would leave the window, the end of
// the frame while the walker has work or a record is about to fire
// (WALK_REG = 1: from a register, so that the window's write enables do not wait for the
// compare. The lag never passes 0 (a beat waits at 0), and a step that moves the cursor to a later
// beat leaves it below 0 whatever beat enters; any other cycle keeps the cursor's beat, so the
// lag is the present one plus the beat taken: exact, from the present cursor and a small compare)
generate
    if (WALK_REG != 0) begin : g_lag_reg
        // the cursor moves to a later beat: a message header or a group moves it 12 or 8 bytes
        // at least, a var-data field when its length reaches the beat's end
        wire [8:0] v_lane_end = {6'd0, cur[2:0]} + {1'b0, e_len};
        wire       next_beat = msg_hdr || phase == P_GADD || (var_hdr && v_lane_end >= 9'd7);
        reg        lag_full_q;
        always @(posedge clk) begin
            lag_full_q <= !next_beat && (!lag_d[15] || (lag_d == -16'sd1 && dtake));
            if ((dtake && in_sof) || rst)
                lag_full_q <= 1'b0;
        end
        assign lag_full = lag_full_q;
`ifndef SYNTHESIS
        // the register is the compare, a cycle ahead ($fatal: Verilator's second $finish exits 0)
        always @(posedge clk)
            if (!rst && phase != P_STOP && lag_full_q != !lag_d[15])
                $fatal(1, "tc_deribit_dec: the registered window fullness %b, the window's lag %0d (%m)",
                       lag_full_q, lag_d);
`endif
    end else begin : g_lag_direct
        assign lag_full = !lag_d[15];
    end
endgenerate
`ifndef SYNTHESIS
always @(posedge clk)
    if (!rst && live_q != (phase != P_STOP))
        $fatal(1, "tc_deribit_dec: live_q %b in phase %0d (%m)", live_q, phase);
`endif
wire         pend_in = pend_last[16:3] < jn;           // its last byte is in the window
// the frame's end goes when, in the previous cycle, the walker had nothing to do, no beat entered,
// no event was left to count and no record was about to fire: nothing can change since (a cycle
// after the last data beat at the earliest)
reg          idle_r;
wire         idle_nx = !work && !dtake && !ev_done &&
                       !(pend && !fire && (pend_st || pend_in));
// (sq_wait matters only with MEM_REG = 1: at 0 the outcome is always there in time)
wire         sq_hold = MEM_REG != 0 && sq_wait;
assign in_stall = in_valid && (in_eof ? (!idle_r || sq_hold) : data_wait);

assign busy = pend || work || ev_done || sq_wr;

// cycle stamps: of the cursor's byte (a message's first) and of the pending message's last byte
wire [WIN_LOG2-1:0] cslot = cur[WS-1:3];
wire [63:0]  stamp_cur = ({1'b0, cur[2:0]} < wsplit[4*cslot +: 4]) ? wlo[64*cslot +: 64] :
                                                                     whi[64*cslot +: 64];
wire [63:0]  stamp_in = ({1'b0, pend_last[2:0]} < in_split) ? in_cyc_lo : in_cyc_hi;
// the last byte of a message completed in the previous cycle (the cursor has just passed it): its
// beat is still in the window if it has entered (it can leave at the end of this cycle)
// (from lst, the cursor less one kept in its own register: no subtraction, and the fan-out of
// the cursor's bits into the element mux stays off this path)
wire [16:0]  cur_last = lst;
wire [2:0]   cur_last_lane = lst[2:0];
wire [WIN_LOG2-1:0] lslot = lst[WS-1:3];
wire         cur_last_in = lst[16:3] < jn;
wire         cur_last_at_jn = lst[16:3] == jn;
wire [63:0]  stamp_last = ({1'b0, cur_last_lane} < wsplit[4*lslot +: 4]) ? wlo[64*lslot +: 64] :
                                                                           whi[64*lslot +: 64];
wire [63:0]  stamp_last_in = ({1'b0, cur_last_lane} < in_split) ? in_cyc_lo : in_cyc_hi;

// captures: the var-data field starts at cur + 1 when its length byte is walked
/* verilator lint_off UNUSEDSIGNAL */
wire [16:0]  vstart = cur + 17'd1;                      // (the high bits: a simulation check)
/* verilator lint_on UNUSEDSIGNAL */
// jn less the var-data field's first payload beat, and less the doubles' first (the entering
// beat's capture slot), kept in registers: the captures' enables then decode registers (they
// were a carry chain ahead of 640 enables). They are exact from the header that sets them on,
// which is all the captures need: a field's beats already in the window are copied again after
// it, later beats are taken as they enter. Only small values matter (0 to CB - 1 + WB), so they
// are small counters that stop at their largest value, set from the low bits of jn and the cursor:
// a header is walked from the window, so its beat is 1 to WB beats behind jn.
localparam DB = WIN_LOG2 + 1;
wire [DB-1:0] cur_lag = jn[DB-1:0] - cur[3 +: DB];      // jn - the cursor's beat, 1..WB
wire         cur_c7 = &cur[2:0];                        // the cursor at a beat's last byte
reg  [4:0]   n_in_k;                                    // 0 ..31
reg  signed [5:0] f_in_k;                               // -10 .. 31
wire [4:0]   n_hdr_now = {{(5-DB){1'b0}}, cur_lag} - {4'd0, cur_c7};
wire signed [5:0] f_hdr_now = $signed({{(6-DB){1'b0}}, cur_lag}) - 6'sd9 - $signed({5'd0, cur_c7});
// n_in_k as var_hdr sets it, f_in_k as msg_hdr sets it: from this cycle's jn and cursor, or
// (WALK_REG = 1) from the last cycle's with the beat it took, registered as the element is (the
// cursor has not moved since, or no header is walked)
wire [4:0]   n_in_k_hdr;
wire signed [5:0] f_in_k_hdr;
generate
    if (WALK_REG != 0) begin : g_hdr_reg
        reg [4:0]        nh_q;
        reg signed [5:0] fh_q;
        always @(posedge clk) begin
            nh_q <= n_hdr_now + {4'd0, dtake};
            fh_q <= f_hdr_now + $signed({5'd0, dtake});
        end
        assign n_in_k_hdr = nh_q;
        assign f_in_k_hdr = fh_q;
    end else begin : g_hdr_direct
        assign n_in_k_hdr = n_hdr_now;
        assign f_in_k_hdr = f_hdr_now;
    end
endgenerate
/* verilator lint_off UNUSEDSIGNAL */
wire [16:0]  f_start = cur + 17'd73;                    // the doubles: body (cur + 12) + 61
/* verilator lint_on UNUSEDSIGNAL */
`ifndef SYNTHESIS
// (the small counters against the subtractions they stand for)
wire [13:0]  n_in_k_full = jn - vstart[16:3];
wire [13:0]  f_in_k_full = jn - f_start[16:3];
always @(posedge clk)
    if (!rst && ((var_hdr && n_in_k_full != {9'd0, n_in_k_hdr}) ||
                 (msg_hdr && f_in_k_full != {{8{f_in_k_hdr[5]}}, f_in_k_hdr})))
        $fatal(1, "tc_deribit_dec: capture counters %0d, %0d for %0d, %0d (%m)", n_in_k_hdr,
               f_in_k_hdr, n_in_k_full, f_in_k_full);
`endif
wire [63:0]  n_wrow [0:CB-1];                    // window beat n_rb + k
wire [63:0]  f_row [0:CB-1];
wire [63:0]  n_row [0:CB-1];
generate
    for (gi = 0; gi < CB; gi = gi + 1) begin : g_cap
        assign f_row[gi] = f_buf[gi];
        assign n_row[gi] = n_buf[gi];
        localparam integer OFF = gi % WB;
        wire [WIN_LOG2-1:0] slot = n_rb + OFF[WIN_LOG2-1:0];
        assign n_wrow[gi] = wbuf[64*slot +: 64];
    end
endgenerate
wire [64*CB-1:0] f_win = {f_row[4], f_row[3], f_row[2], f_row[1], f_row[0]};
wire [64*CB-1:0] n_win = {n_row[4], n_row[3], n_row[2], n_row[1], n_row[0]};
wire [255:0] f_bytes = f_win[8*f_sh +: 256];
// the name's bytes and their mask, computed inside fire (the same logic; a Verilated model would
// otherwise shift the whole window every cycle)
reg  [255:0] n_bytes, n_masked;

assign cv_valid = fire && m_tick;
assign cv_v0 = f_bytes[63:0];
assign cv_v1 = f_bytes[127:64];
assign cv_v2 = f_bytes[191:128];
assign cv_v3 = f_bytes[255:192];

// the walker at rest, as after a frame's end or a reset: nothing pending, the cursor at beat 0
// and the compares kept beside it at their values for that cursor
task walker_stop;
    begin
        pend <= 1'b0;
        phase <= P_STOP;
        live_q <= 1'b0;
        jn <= 14'd0;
        jn_mw <= -WB;
        jn_m1 <= -16'sd1;
        top_m16 <= -18'sd16;
        top_m8 <= -18'sd8;
        all_in <= 1'b0;
    end
endtask

// the window: a data beat taken goes into slot jn mod WB. Each slot decodes its own enable (a
// write at a variable part-select becomes a shifter and a mask per register: most of this
// module's LUTs and its slowest path on the ECP5)
genvar gw;
generate
    for (gw = 0; gw < WB; gw = gw + 1) begin : g_win
        wire [WIN_LOG2-1:0] slot = gw;
        always @(posedge clk) begin
            if (dtake && jn[WIN_LOG2-1:0] == slot) begin   // (registers and the input only)
                wbuf[64*gw +: 64] <= in_data;
                wlo[64*gw +: 64] <= in_cyc_lo;
                whi[64*gw +: 64] <= in_cyc_hi;
                wsplit[4*gw +: 4] <= in_split;
                wnz[8*gw +: 8] <= {in_data[63:56] != 8'd0, in_data[55:48] != 8'd0,
                                   in_data[47:40] != 8'd0, in_data[39:32] != 8'd0,
                                   in_data[31:24] != 8'd0, in_data[23:16] != 8'd0,
                                   in_data[15:8] != 8'd0, in_data[7:0] != 8'd0};
            end
        end
    end
endgenerate

integer k;
/* verilator lint_off BLKSEQ */
always @(posedge clk) begin
    r_valid <= 1'b0;

    // ------------------------------------------------------------ input
    // (the window slots are written in the generate loop below)
    if (dtake) begin
        jn <= jn + 14'd1;
        jn_mw <= jn_mw + 16'sd1;
        jn_m1 <= jn_m1 + 16'sd1;
        top_m16 <= top_m16 + 18'sd8;
        top_m8 <= top_m8 + 18'sd8;
        rem_in <= rem_in - 18'sd8;
        all_in <= rem_in <= 18'sd8;
        for (k = 0; k < CB; k = k + 1)
            if (f_in_k == $signed(k[5:0]))
                f_buf[k] <= in_data;
    end
    if (var_hdr)
        n_in_k <= n_in_k_hdr + {4'd0, dtake};
    else if (dtake && n_in_k != 5'd31)
        n_in_k <= n_in_k + 5'd1;
    if (msg_hdr)
        f_in_k <= f_in_k_hdr + $signed({5'd0, dtake});
    else if (dtake && f_in_k != 6'sd31)
        f_in_k <= f_in_k + 6'sd1;
    // the var-data field's beats: those in the window (again each cycle: the field may have been
    // reached in the last one), and the one entering
    for (k = 0; k < CB; k = k + 1) begin
        if (dtake && n_in_k == k[4:0])
            n_buf[k] <= in_data;
        else if ({27'd0, n_in_k} > k && {27'd0, n_in_k} <= k + WB)
            n_buf[k] <= n_wrow[k];
    end

    // ------------------------------------------------------------ walker
    phase <= nx_phase;
    cur <= nx_cur;
    lst <= nx_lst;
    g_rem <= nx_g;
    d_rem <= nx_d;
    ev_hdr <= msg_hdr;
    ev_step <= step;
    ev_done <= done_msg;
    idle_r <= idle_nx;
    if (ev_hdr)
        c_msgs <= c_msgs + 16'd1;
    if (ev_trunc) begin
        phase <= P_STOP;
        live_q <= 1'b0;
    end
    if (ev_trunc || (ev_whole && m_trunc))
        c_trunc <= c_trunc + 16'd1;
    if (ev_whole && !m_trunc && m_unk)
        c_unknown <= c_unknown + 16'd1;
    if (ev_whole && !m_trunc && m_skip)
        c_skipped <= c_skipped + 16'd1;
    if (msg_hdr) begin
        m_id <= e_id;
        // (the previous header, walked last cycle at the latest, is counted this cycle)
        m_idx <= c_msgs + {15'd0, ev_hdr};
        m_cyc_first <= stamp_cur;
        m_tid <= e_tid;
        m_sid <= e_sid;
        m_bl <= e_bl;
        m_dnz <= d_nz;
        f_sh <= f_start[2:0];
        m_vlen <= 8'd0;
        n_mask <= 32'd0;
    end
    if (grp_hdr) begin
        gbr <= e_gb;
        gnr <= e_gn;
        gb3r <= {2'd0, e_gb[10:0]} + {1'b0, e_gb[10:0], 1'b0};
        prod <= 22'd0;
        prod_big <= 1'b0;
    end
    if (phase == P_GMUL) begin
        prod <= prod_nx;
        prod_big <= gbr[15:11] != 5'd0 || gnr[15:11] != 5'd0;
    end
    if (var_hdr) begin
        n_rb <= vstart[WIN_LOG2+2:3];
        n_sh <= vstart[2:0];
        m_vlen <= e_len;
        for (k = 0; k < 32; k = k + 1)
            n_mask[k] <= k < e_len;
    end

    // ------------------------------------------------------------ the pending record
    // a pending record's last byte not yet in: its stamp as its beat enters
    if (pend && !pend_st && dtake && pend_last[16:3] == jn) begin
        pend_st <= 1'b1;
        pend_cyc_last <= stamp_in;
    end
    if (fire) begin
        pend <= 1'b0;
        r_valid <= 1'b1;
        r_kind <= m_tick ? `TC_K_QID : `TC_K_DEF;
        r_venue <= f_venue;
        r_id <= m_id;
        // the sequence outcome is long known: a Ticker ends 153 bytes or more into the payload
        r_key <= {sq_ch, sq_seq, m_idx};
        r_kflag <= !sq_is_untr;
        n_bytes = n_win[8*n_sh +: 256];
        for (k = 0; k < 32; k = k + 1)
            n_masked[8*k +: 8] = n_bytes[8*k +: 8] & {8{n_mask[k]}};
        r_name <= n_masked;
        r_name_len <= m_vlen;
        r_ts <= f_ts;
        r_cyc_frame <= f_cyc_frame;
        r_cyc_first <= m_cyc_first;
        r_cyc_last <= pend_cyc_last;
        r_ok <= 1'b0;
    end
    if (ev_whole && m_rec) begin
        // the cursor has just moved past the completed message
        pend <= 1'b1;
        pend_last <= cur_last;
        pend_st <= cur_last_in || (dtake && cur_last_at_jn);
        pend_cyc_last <= cur_last_in ? stamp_last : stamp_last_in;
    end

    // ------------------------------------------------------------ start and end of a frame
    if (dtake && in_sof) begin
        jn <= 14'd1;
        jn_mw <= 16'sd1 - WB;
        jn_m1 <= 16'sd0;
        top_m16 <= -18'sd8;
        top_m8 <= 18'sd0;
        rem_in <= $signed({2'b00, in_len}) - 18'sd8;
        all_in <= in_len <= 16'd8;
        plen <= in_len;
        n_m12 <= $signed({2'b00, in_len}) - 18'sd12;
        n_m8 <= $signed({2'b00, in_len}) - 18'sd8;
        n_m1 <= $signed({2'b00, in_len}) - 18'sd1;
        f_venue <= in_venue;
        f_ts <= in_ts;
        f_cyc_frame <= in_cyc_frame;
        phase <= P_MSG;
        live_q <= 1'b1;
        cur <= 17'd8;
        lst <= 17'd7;
        g_rem <= 16'd0;
        d_rem <= 16'd0;
        c_msgs <= 16'd0;
        c_trunc <= 16'd0;
        c_unknown <= 16'd0;
        c_skipped <= 16'd0;
    end
    // sequences: the header as its beat is taken, the slot's verdict a cycle later
    sq_dup <= 1'b0;
    sq_gap <= 1'b0;
    sq_untracked <= 1'b0;
    sq_pend <= 1'b0;
    sq_wr <= 1'b0;
    if (sq_wr) begin
        ch_tag[sq_addr] <= sq_ch;
        ch_next[sq_addr] <= sq_next_new;
    end
    if (dtake && in_sof) begin
        sq_has <= in_len >= 16'd8;
        sq_pend <= 1'b1;
        sq_wait <= MEM_REG != 0;
        sq_addr <= {in_venue, in_data[16 +: CHAN_BITS]};
        sq_ch <= in_data[31:16];
        sq_seq <= in_data[63:32];
    end
    if (sq_dec) begin
        sq_wait <= 1'b0;
        sq_is_untr <= sl_valid && sl_tag != sq_ch;
        sq_is_dup <= sl_valid && sl_tag == sq_ch && {1'b0, sq_seq} < sl_next;
        sq_is_gap <= sl_valid && sl_tag == sq_ch && {1'b0, sq_seq} > sl_next;
        sq_next_new <= {1'b0, sq_seq} + 33'd1;
    end
    if (etake) begin
        sq_has <= 1'b0;
        if (in_ok && sq_has && !in_sof) begin
            sq_dup <= sq_is_dup;
            sq_gap <= sq_is_gap;
            sq_untracked <= sq_is_untr;
            sq_venue <= in_venue;
            sq_wr <= !sq_is_dup && !sq_is_untr;
        end
    end

    if (etake) begin
        r_valid <= 1'b1;
        r_kind <= `TC_K_END;
        r_venue <= in_venue;
        r_key <= {sq_ch, sq_seq, 16'd0};
        r_kflag <= in_ok && sq_has && !in_sof && sq_is_gap;
        // a duplicate is dropped whole, as a bad frame is
        r_ok <= in_ok && !(sq_has && !in_sof && sq_is_dup);
        r_cnt <= {`TC_C_BITS{1'b0}};
        if (in_sof || plen < 16'd8) begin
            // no room for the frame header: one truncated message
            r_cnt[`TC_C_MSGS +: 16] <= 16'd1;
            r_cnt[`TC_C_TRUNC +: 16] <= 16'd1;
        end else if (phase == P_MSG && cur < {1'b0, plen}) begin
            // a message header that does not fit
            r_cnt[`TC_C_MSGS +: 16] <= c_msgs + 16'd1;
            r_cnt[`TC_C_TRUNC +: 16] <= c_trunc + 16'd1;
            r_cnt[`TC_C_UNKNOWN +: 16] <= c_unknown;
            r_cnt[`TC_C_SKIPPED +: 16] <= c_skipped;
        end else begin
            // a group or var-data header that does not fit
            r_cnt[`TC_C_MSGS +: 16] <= c_msgs;
            r_cnt[`TC_C_TRUNC +: 16] <= c_trunc + {15'd0, (phase == P_GRP || phase == P_VAR)};
            r_cnt[`TC_C_UNKNOWN +: 16] <= c_unknown;
            r_cnt[`TC_C_SKIPPED +: 16] <= c_skipped;
        end
        // the frame is over: nothing to walk until the next one starts
        walker_stop;
    end

    if (rst) begin
        r_valid <= 1'b0;
        ev_hdr <= 1'b0;
        ev_step <= 1'b0;
        ev_done <= 1'b0;
        idle_r <= 1'b0;
        sq_has <= 1'b0;
        sq_pend <= 1'b0;
        sq_wait <= 1'b0;
        sq_wr <= 1'b0;
        sq_dup <= 1'b0;
        sq_gap <= 1'b0;
        sq_untracked <= 1'b0;
        walker_stop;
        cur <= 17'd8;
        lst <= 17'd7;
        n_m12 <= -18'sd12;
        n_m8 <= -18'sd8;
        n_m1 <= -18'sd1;
        plen <= 16'd0;
    end
end
/* verilator lint_on BLKSEQ */

endmodule

`resetall
