// deribit_mcast decoder: walks the messages of a datagram (docs/PIPELINE.md section 2).
//
// The walker handles one structural element per cycle: a 12-byte message header, an 8-byte group
// header or a var-data length byte, read from a window of the last three payload beats. Bodies,
// group entries and var-data bytes are skipped by moving the cursor. While another element ends in
// the current beat the walker holds it (stall), so the input slows down only for datagrams that pack
// several headers into 8 bytes.
//
// Fields of the current message (Ticker: instrumentId and the four best bid/ask doubles; Instrument:
// instrumentId and the last var-data field) are captured by absolute offset as beats pass. A Ticker
// or Instrument message is emitted two cycles after the beat carrying its last byte, when every
// captured byte has settled (a Ticker's doubles go to the converters in that cycle, an Instrument's
// name is masked past its length); the END record of the frame follows its last message.

`resetall
`timescale 1ns / 1ps
`default_nettype none

`include "hdl/tc_pipeline.vh"

module tc_deribit_dec (
    input  wire          clk,
    input  wire          rst,

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

    // a Ticker's four doubles, to the converters, in the cycle its record is emitted
    output wire          cv_valid,
    output wire [63:0]   cv_v0,        // bestBidPrice (f64 bits)
    output wire [63:0]   cv_v1,        // bestBidAmount
    output wire [63:0]   cv_v2,        // bestAskPrice
    output wire [63:0]   cv_v3,        // bestAskAmount

    output wire          busy
);

localparam [1:0] P_MSG = 2'd0, P_GRP = 2'd1, P_VAR = 2'd2, P_STOP = 2'd3;

// ---------------------------------------------------------------- frame state
reg  [12:0]  j;               // index of the head beat within the frame's payload
reg  [63:0]  w1, w2;          // the two previous data beats
reg  [63:0]  w1_lo, w1_hi, w2_lo, w2_hi;
reg  [3:0]   w1_split, w2_split;
reg  [15:0]  plen;
reg  [1:0]   phase;
reg  [16:0]  cur;             // cursor: offset of the next element
reg  [15:0]  g_rem, d_rem;
reg  [15:0]  c_msgs, c_trunc, c_unknown, c_skipped;

// frame facts, latched (a pending message may fire while no beat is at the head)
reg  [2:0]   f_venue;
reg  [63:0]  f_ts, f_cyc_frame;

// current message
reg  [15:0]  m_tid, m_sid, m_bl, m_d;
reg  [63:0]  m_cyc_first;
reg  [16:0]  body;            // offset of the current message's body (capture base)
reg  [16:0]  vstart;          // offset of the current var-data field's bytes
reg  [7:0]   vlen;

// captures
// captures keep whole beats: the beats holding instrumentId (2), the four doubles at body offset
// 61 (5) and the current var-data field's first 32 bytes (5); the bytes are aligned on emission
reg  [63:0]  id_buf [0:1];
reg  [63:0]  f_buf [0:4];
reg  [63:0]  n_buf [0:4];

// whole Ticker/Instrument messages waiting for their last byte to settle: two slots, because a
// message with neither groups nor var-data is whole at its header, which can arrive one beat
// after the previous message's last byte, before that one fires. A third needs at least 12 more
// bytes, by when the first has gone.
reg          pend, q_valid;
reg  [2:0]   pend_kind, q_kind;
reg  [16:0]  pend_end, q_end;
reg  [1:0]   pend_age, q_age;     // cycles since the beat with the last byte was at the head
reg  [63:0]  pend_cyc_last, q_cyc_last;
reg  [7:0]   pend_vlen, q_vlen;
reg  [63:0]  pend_cyc_first, q_cyc_first;
// byte alignment of the captures, fixed when the message completes (the next message moves
// body/vstart before this one fires; the captured beats themselves stay put until then)
reg  [2:0]   pend_id_sh, pend_f_sh, pend_n_sh, q_id_sh, q_f_sh, q_n_sh;

wire         data_beat = in_valid && !in_eof;
wire [12:0]  jj = in_sof ? 13'd0 : j;
wire [15:0]  n = in_sof ? in_len : plen;
wire [16:0]  n17 = {1'b0, n};
wire [16:0]  beat_end = {1'b0, jj, 3'b000} + 17'd8;      // one past the head beat's last byte

// state as seen this cycle (a new frame starts from scratch; the walker never holds a frame's
// first beat, which holds only the 8-byte frame header, so in_sof marks exactly one cycle)
wire [1:0]   phase_s = in_sof ? P_MSG : phase;
wire [16:0]  cur_s   = in_sof ? 17'd8 : cur;
wire [15:0]  g_s     = in_sof ? 16'd0 : g_rem;
wire [15:0]  d_s     = in_sof ? 16'd0 : d_rem;

// ---------------------------------------------------------------- element at the cursor
wire [16:0]  h_s = (phase_s == P_MSG) ? 17'd12 : (phase_s == P_GRP) ? 17'd8 : 17'd1;
wire         avail = data_beat && phase_s != P_STOP && !(phase_s == P_MSG && cur_s >= n17) &&
                     cur_s + h_s <= beat_end && cur_s + h_s <= n17;
wire [191:0] win = {in_data, w1, w2};                        // bytes 8(jj-2) .. 8jj+7
/* verilator lint_off UNUSEDSIGNAL */
wire [16:0]  roff = cur_s + 17'd16 - {1'b0, jj, 3'b000};     // the element's offset in win (< 24)
wire [95:0]  el = win[8*roff[4:0] +: 96];                    // version (el[63:48]) is ignored
/* verilator lint_on UNUSEDSIGNAL */

wire [15:0]  e_bl  = el[15:0];
wire [15:0]  e_tid = el[31:16];
wire [15:0]  e_sid = el[47:32];
wire [15:0]  e_g   = el[79:64];
wire [15:0]  e_d   = el[95:80];
wire [15:0]  e_gb  = el[15:0];
wire [15:0]  e_gn  = el[31:16];
wire [7:0]   e_len = el[7:0];

// the byte at window offset roff: which beat, and its cycle stamp
function [63:0] stamp;
    input [4:0]  o;
    input [63:0] lo0, hi0, lo1, hi1, lo2, hi2;
    input [3:0]  sp0, sp1, sp2;
    begin
        if (o < 5'd8)        stamp = ({1'b0, o[2:0]} < sp2) ? lo2 : hi2;
        else if (o < 5'd16)  stamp = ({1'b0, o[2:0]} < sp1) ? lo1 : hi1;
        else                 stamp = ({1'b0, o[2:0]} < sp0) ? lo0 : hi0;
    end
endfunction

// next state after processing the element (or unchanged)
reg  [1:0]   nx_phase;
reg  [16:0]  nx_cur;
reg  [15:0]  nx_g, nx_d;
reg          msg_hdr;         // a message header is processed
reg          done_msg;        // the current message's structure is complete (at nx_cur)
reg          stop_trunc;      // the walk stops: truncated
reg  [32:0]  ext;
reg  [15:0]  tid_now, sid_now, bl_now, dn_now;
always @* begin
    nx_phase = phase_s;
    nx_cur = cur_s;
    nx_g = g_s;
    nx_d = d_s;
    msg_hdr = 1'b0;
    done_msg = 1'b0;
    stop_trunc = 1'b0;
    ext = 33'd0;
    tid_now = m_tid;
    sid_now = m_sid;
    bl_now = m_bl;
    dn_now = m_d;
    if (avail) begin
        case (phase_s)
            P_MSG: begin
                msg_hdr = 1'b1;
                tid_now = e_tid;
                sid_now = e_sid;
                bl_now = e_bl;
                dn_now = e_d;
                ext = {16'd0, cur_s} + 33'd12 + {17'd0, e_bl};
                if (ext > {16'd0, n17}) begin
                    stop_trunc = 1'b1;
                    nx_phase = P_STOP;
                end else begin
                    nx_cur = ext[16:0];
                    if (e_g != 16'd0) begin
                        nx_phase = P_GRP;
                        nx_g = e_g;
                        nx_d = e_d;
                    end else if (e_d != 16'd0) begin
                        nx_phase = P_VAR;
                        nx_d = e_d;
                    end else begin
                        done_msg = 1'b1;
                        nx_phase = P_MSG;
                    end
                end
            end
            P_GRP: begin
                ext = {16'd0, cur_s} + 33'd8 + {1'b0, e_gb} * {1'b0, e_gn};
                if (ext > {16'd0, n17}) begin
                    stop_trunc = 1'b1;
                    nx_phase = P_STOP;
                end else begin
                    nx_cur = ext[16:0];
                    nx_g = g_s - 16'd1;
                    if (g_s == 16'd1) begin
                        if (d_s != 16'd0) begin
                            nx_phase = P_VAR;
                        end else begin
                            done_msg = 1'b1;
                            nx_phase = P_MSG;
                        end
                    end
                end
            end
            P_VAR: begin
                ext = {16'd0, cur_s} + 33'd1 + {25'd0, e_len};
                if (ext > {16'd0, n17}) begin
                    stop_trunc = 1'b1;
                    nx_phase = P_STOP;
                end else begin
                    nx_cur = ext[16:0];
                    nx_d = d_s - 16'd1;
                    if (d_s == 16'd1) begin
                        done_msg = 1'b1;
                        nx_phase = P_MSG;
                    end
                end
            end
            default: ;
        endcase
    end
end

// classification of a message whose structure is complete
wire         is_tick = sid_now == 16'd1 && tid_now == 16'd1003;
wire         is_inst = sid_now == 16'd1 && tid_now == 16'd1000;
wire         cls_unknown = sid_now != 16'd1 || tid_now < 16'd1000 || tid_now > 16'd1010;
wire         cls_trunc = (is_tick && bl_now < 16'd133) || (is_inst && (bl_now < 16'd4 || dn_now == 16'd0));
wire         cls_skipped = !cls_unknown && !is_tick && !is_inst;
wire         cls_record = (is_tick || is_inst) && !cls_trunc;

// does the next element also end inside this beat? then hold the beat
wire [16:0]  nh = (nx_phase == P_MSG) ? 17'd12 : (nx_phase == P_GRP) ? 17'd8 : 17'd1;
wire         next_here = data_beat && nx_phase != P_STOP && !(nx_phase == P_MSG && nx_cur >= n17) &&
                         nx_cur + nh <= beat_end && nx_cur + nh <= n17;

// the pending message fires when its last byte has been at the head for two cycles
wire         fire = pend && pend_age == 2'd2;
// the end of the frame waits for a pending message whose bytes all arrived
wire         eof_wait = in_valid && in_eof && ((pend && pend_age != 2'd0) || (q_valid && q_age != 2'd0));
assign in_stall = in_valid && ((!in_eof && next_here) || eof_wait);

assign busy = pend || q_valid;

// captures: absolute offsets over the window {w1, head}, with the registered bases (done in the
// clocked block below, byte by byte)
// index of the head beat (cur) and of the previous beat (prv) in each capture buffer; out of
// range (>= the buffer size) when the beat holds none of the captured bytes
/* verilator lint_off UNUSEDSIGNAL */
wire [16:0]  f_base = body + 17'd61;          // beat index only
/* verilator lint_on UNUSEDSIGNAL */
wire [13:0]  id_cur = {1'b0, jj} - body[16:3];
wire [13:0]  id_prv = id_cur - 14'd1;
wire [13:0]  f_cur = {1'b0, jj} - f_base[16:3];
wire [13:0]  f_prv = f_cur - 14'd1;
wire [13:0]  n_cur = {1'b0, jj} - vstart[16:3];
wire [13:0]  n_prv = n_cur - 14'd1;
wire [127:0] id_win = {id_buf[1], id_buf[0]};
wire [319:0] f_win = {f_buf[4], f_buf[3], f_buf[2], f_buf[1], f_buf[0]};
wire [319:0] n_win = {n_buf[4], n_buf[3], n_buf[2], n_buf[1], n_buf[0]};
wire [255:0] f_bytes = f_win[8*pend_f_sh +: 256];
// the name with bytes at and beyond its length zeroed (the symbol table's key), built in the
// clocked block when the record fires
reg  [255:0] n_masked;
integer      x;

assign cv_valid = fire && pend_kind == `TC_K_QID;
assign cv_v0 = f_bytes[63:0];
assign cv_v1 = f_bytes[127:64];
assign cv_v2 = f_bytes[191:128];
assign cv_v3 = f_bytes[255:192];
// body and var-data offsets of the message completing this cycle (only their lanes are kept)
wire [16:0]  body_now = msg_hdr ? cur_s + 17'd12 : body;
/* verilator lint_off UNUSEDSIGNAL */
wire [16:0]  f_base_now = body_now + 17'd61;
wire [16:0]  vstart_now = (avail && phase_s == P_VAR) ? cur_s + 17'd1 : vstart;
/* verilator lint_on UNUSEDSIGNAL */

// the last byte of a pending message (or of one completing now) is in the head beat
wire [16:0]  pend_last = pend_end - 17'd1;
wire [16:0]  new_last = nx_cur - 17'd1;
wire         new_pend = done_msg && cls_record;
wire         new_seen = data_beat && new_last[16:3] <= {1'b0, jj};
wire         old_seen = data_beat && pend_last[16:3] <= {1'b0, jj};
wire [16:0]  q_last = q_end - 17'd1;
wire         q_seen = data_beat && q_last[16:3] <= {1'b0, jj};
wire [63:0]  lo_lane_q = ({1'b0, q_last[2:0]} < in_split) ? in_cyc_lo : in_cyc_hi;
wire [63:0]  lo_lane_new = ({1'b0, new_last[2:0]} < in_split) ? in_cyc_lo : in_cyc_hi;
wire [63:0]  lo_lane_old = ({1'b0, pend_last[2:0]} < in_split) ? in_cyc_lo : in_cyc_hi;
wire [63:0]  first_stamp = stamp(roff[4:0], in_cyc_lo, in_cyc_hi, w1_lo, w1_hi, w2_lo, w2_hi,
                                 in_split, w1_split, w2_split);

always @(posedge clk) begin
    r_valid <= 1'b0;

    if (in_valid && !in_stall && data_beat) begin
        // the head beat is consumed: slide the window
        j <= jj + 13'd1;
        w2 <= w1;
        w2_lo <= w1_lo;
        w2_hi <= w1_hi;
        w2_split <= w1_split;
        w1 <= in_data;
        w1_lo <= in_cyc_lo;
        w1_hi <= in_cyc_hi;
        w1_split <= in_split;
    end
    if (data_beat) begin
        f_venue <= in_venue;
        f_ts <= in_ts;
        f_cyc_frame <= in_cyc_frame;
        if (id_cur < 14'd2)
            id_buf[id_cur[0]] <= in_data;
        if (id_prv < 14'd2)
            id_buf[id_prv[0]] <= w1;
        if (f_cur < 14'd5)
            f_buf[f_cur[2:0]] <= in_data;
        if (f_prv < 14'd5)
            f_buf[f_prv[2:0]] <= w1;
        if (n_cur < 14'd5)
            n_buf[n_cur[2:0]] <= in_data;
        if (n_prv < 14'd5)
            n_buf[n_prv[2:0]] <= w1;
        plen <= n;
        phase <= nx_phase;
        cur <= nx_cur;
        g_rem <= nx_g;
        d_rem <= nx_d;
        if (in_sof) begin
            c_msgs <= 16'd0;
            c_trunc <= 16'd0;
            c_unknown <= 16'd0;
            c_skipped <= 16'd0;
        end
    end

    // counters of this cycle's element (a new frame's counts start at 0)
    if (data_beat) begin
        if (msg_hdr)
            c_msgs <= (in_sof ? 16'd0 : c_msgs) + 16'd1;
        if (stop_trunc || (done_msg && cls_trunc))
            c_trunc <= (in_sof ? 16'd0 : c_trunc) + 16'd1;
        if (done_msg && !cls_trunc && cls_unknown)
            c_unknown <= (in_sof ? 16'd0 : c_unknown) + 16'd1;
        if (done_msg && !cls_trunc && cls_skipped)
            c_skipped <= (in_sof ? 16'd0 : c_skipped) + 16'd1;
        if (msg_hdr) begin
            m_tid <= e_tid;
            m_sid <= e_sid;
            m_bl <= e_bl;
            m_d <= e_d;
            m_cyc_first <= first_stamp;
            body <= cur_s + 17'd12;
        end
        if (avail && phase_s == P_VAR) begin
            vstart <= cur_s + 17'd1;
            vlen <= e_len;
        end
    end

    // pending messages: age the slots, fire the front one, take a completed one in
    if (pend) begin
        if (pend_age != 2'd0 && pend_age != 2'd2)
            pend_age <= pend_age + 2'd1;
        else if (pend_age == 2'd0 && old_seen) begin
            pend_age <= 2'd1;
            pend_cyc_last <= lo_lane_old;
        end
    end
    if (q_valid) begin
        if (q_age != 2'd0 && q_age != 2'd2)
            q_age <= q_age + 2'd1;
        else if (q_age == 2'd0 && q_seen) begin
            q_age <= 2'd1;
            q_cyc_last <= lo_lane_q;
        end
    end
    if (fire) begin
        pend <= 1'b0;
        r_valid <= 1'b1;
        r_kind <= (pend_kind == `TC_K_QID) ? `TC_K_QID : `TC_K_DEF;
        r_venue <= f_venue;
        r_id <= id_win[8*pend_id_sh +: 32];
        /* verilator lint_off BLKSEQ */
        n_masked = n_win[8*pend_n_sh +: 256];
        for (x = 0; x < 32; x = x + 1)
            if (x[7:0] >= pend_vlen)
                n_masked[8*x +: 8] = 8'd0;
        /* verilator lint_on BLKSEQ */
        r_name <= n_masked;
        r_name_len <= pend_vlen;
        r_ts <= f_ts;
        r_cyc_frame <= f_cyc_frame;
        r_cyc_first <= pend_cyc_first;
        r_cyc_last <= pend_cyc_last;
        r_ok <= 1'b0;
        if (q_valid) begin
            // the second slot moves up, with the ageing it gets this cycle
            q_valid <= 1'b0;
            pend <= 1'b1;
            pend_kind <= q_kind;
            pend_end <= q_end;
            pend_vlen <= q_vlen;
            pend_cyc_first <= q_cyc_first;
            pend_id_sh <= q_id_sh;
            pend_f_sh <= q_f_sh;
            pend_n_sh <= q_n_sh;
            if (q_age != 2'd0 && q_age != 2'd2) begin
                pend_age <= q_age + 2'd1;
                pend_cyc_last <= q_cyc_last;
            end else if (q_age == 2'd0 && q_seen) begin
                pend_age <= 2'd1;
                pend_cyc_last <= lo_lane_q;
            end else begin
                pend_age <= q_age;
                pend_cyc_last <= q_cyc_last;
            end
        end
    end
    if (new_pend && data_beat) begin
        if (!pend || (fire && !q_valid)) begin
            pend <= 1'b1;
            pend_kind <= is_tick ? `TC_K_QID : `TC_K_DEF;
            pend_end <= nx_cur;
            pend_vlen <= (phase_s == P_VAR) ? e_len : vlen;
            pend_cyc_first <= msg_hdr ? first_stamp : m_cyc_first;
            pend_age <= new_seen ? 2'd1 : 2'd0;
            pend_cyc_last <= lo_lane_new;
            pend_id_sh <= body_now[2:0];
            pend_f_sh <= f_base_now[2:0];
            pend_n_sh <= vstart_now[2:0];
        end else begin
            q_valid <= 1'b1;
            q_kind <= is_tick ? `TC_K_QID : `TC_K_DEF;
            q_end <= nx_cur;
            q_vlen <= (phase_s == P_VAR) ? e_len : vlen;
            q_cyc_first <= msg_hdr ? first_stamp : m_cyc_first;
            q_age <= new_seen ? 2'd1 : 2'd0;
            q_cyc_last <= lo_lane_new;
            q_id_sh <= body_now[2:0];
            q_f_sh <= f_base_now[2:0];
            q_n_sh <= vstart_now[2:0];
        end
    end

    // end of frame
    if (in_valid && in_eof && !eof_wait) begin
        pend <= 1'b0;
        q_valid <= 1'b0;
        r_valid <= 1'b1;
        r_kind <= `TC_K_END;
        r_venue <= in_venue;
        r_ok <= in_ok;
        r_cnt <= {`TC_C_BITS{1'b0}};
        if (in_sof || n < 16'd8) begin
            // no room for the frame header: one truncated message
            r_cnt[`TC_C_MSGS +: 16] <= 16'd1;
            r_cnt[`TC_C_TRUNC +: 16] <= 16'd1;
        end else if (phase == P_MSG && cur < n17) begin
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
    end

    if (rst) begin
        r_valid <= 1'b0;
        j <= 13'd0;
        phase <= P_MSG;
        cur <= 17'd8;
        pend <= 1'b0;
        pend_age <= 2'd0;
        q_valid <= 1'b0;
        q_age <= 2'd0;
    end
end

endmodule

`resetall
