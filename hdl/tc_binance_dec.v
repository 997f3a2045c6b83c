// binance_sbe decoder: one SBE message per datagram (docs/PIPELINE.md section 2).
//
// Consumes the realigned payload beats of binance_sbe frames. Template 10001's fields sit at fixed
// offsets (prices at 26..57); only the symbol moves with blockLength, so it is captured byte by byte
// at offset 9 + blockLength. The four numbers go to the converters (tc_lookup) on the beat that
// completes them, which is never after the message's last byte; the message is emitted as a
// quote-by-name record (name masked: bytes past its length zero) on the cycle after the beat
// carrying its last byte, or with that beat's predecessor when the receive stage shows the final
// beat a cycle early (in_la_*), with its bookUpdateId (beat 2, kept from then on) on r_uid. Every
// frame ends with an END record carrying its message counts.
// Never stalls.
// Timing: the comparisons with the beat index are made a beat ahead and the byte counts the
// length byte is checked against are kept from beat 0, so on the emission cycle the length byte
// only passes a lane select and one compare with a register (no adder) before the record's
// registers; the last byte's cycle stamp is chosen after them (r_cyc_last: one mux level). The
// header's n < 9 + blockLength check reads the sign of a difference registered on beat 0.

`resetall
`timescale 1ns / 1ps
`default_nettype none

`include "hdl/tc_pipeline.vh"

module tc_binance_dec (
    input  wire          clk,
    input  wire          rst,

    input  wire          in_valid,     // a beat of a binance_sbe frame is consumed this cycle
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
    input  wire          in_la_valid,  // the frame's final payload beat (beat j+1), a cycle early
    input  wire [63:0]   in_la_data,
    input  wire [63:0]   in_la_cyc,

    output reg           r_valid,
    output reg  [2:0]    r_kind,
    output reg  [2:0]    r_venue,
    output reg  [255:0]  r_name,
    output reg  [7:0]    r_name_len,
    output reg  [63:0]   r_uid,        // bookUpdateId (i64 at datagram offset 16), with a quote
    output reg  [63:0]   r_ts,
    output reg  [63:0]   r_cyc_frame,
    output reg  [63:0]   r_cyc_first,
    output wire [63:0]   r_cyc_last,
    output reg           r_ok,
    output reg  [`TC_C_BITS-1:0] r_cnt,

    // the message's numbers, to the converters, once per frame
    output wire          cv_valid,
    output wire [63:0]   cv_v0,        // bidPrice mantissa
    output wire [63:0]   cv_v1,        // bidQty
    output wire [63:0]   cv_v2,        // askPrice
    output wire [63:0]   cv_v3,        // askQty
    output wire [7:0]    cv_pexp,
    output wire [7:0]    cv_qexp,

    output wire          busy
);

reg  [12:0]  j;              // index of the next data beat
reg          decided;        // the message's outcome is known
reg          have_len;       // symbol length byte seen
reg  [7:0]   sym_len;
reg  [63:0]  nbuf [0:4];      // the beats holding the symbol (32 bytes span at most 5)
reg  [63:0]  v0, v1, v2;
reg  [47:0]  v3;            // its top bytes come with beat 7
reg  [7:0]   pexp, qexp;
reg  [63:0]  uid;            // bookUpdateId, the whole of beat 2
reg  [63:0]  cyc_first;
reg          c_trunc, c_unknown, c_skipped;
reg          cv_done;        // the numbers went to the converters

wire         data_beat = in_valid && !in_eof;
wire [12:0]  jj = in_sof ? 13'd0 : j;

// header fields, decided on beat 0 (the frame's first beat: a beat without in_sof is never
// beat 0, as every frame starts with in_sof), so from the beat itself
wire [15:0]  n       = in_len;
wire [15:0]  bl_now  = in_data[15:0];
wire [15:0]  tid     = in_data[31:16];
wire [15:0]  sid     = in_data[47:32];

// symbol length byte at 8 + blockLength, symbol bytes from 9 + blockLength: never in beat 0, so
// from beat 1 on they come from registers set on beat 0 (as does the symbol's beat counter nrel)
reg  [16:0]  pl_r;           // pos_len
reg  [2:0]   pn_r;           // pos_name's offset in its beat
reg  [16:0]  last_r;         // the message's last byte, once the length byte has passed
reg  [13:0]  nrel_r;         // this beat's index relative to pos_name's beat
// Comparisons with the beat index are made a beat ahead (j + 1, j + 2 kept beside j), and the
// byte counts the length byte is checked against are kept from beat 0, so that the length byte
// only goes through a compare with a register on its way to the emission (LUT levels).
reg  [13:0]  jp1_r, jp2_r;   // j + 1, j + 2
reg          len_at_r;       // pos_len's beat is beat j
reg          last_at_r;      // the last byte's beat is beat j (once the length byte has passed)
reg          last_at1_r;     // ... is beat j + 1
reg  [16:0]  room_r;         // datagram bytes from pos_name on (when the header passed: >= 0)
// room_r capped at 255 (a length byte cannot exceed it), a cycle after room_r: the length byte
// comes at beat 7 or later for any message that passed the header (blockLength >= 50)
reg  [7:0]   room8_r;
reg  [31:0]  keep_r;         // name bytes kept (below the length), once the length byte has passed
wire [16:0]  pos_len_0 = {1'b0, in_data[15:0]} + 17'd8;
wire [16:0]  pos_name_0 = {1'b0, in_data[15:0]} + 17'd9;
wire         later = data_beat && !in_sof;
wire         len_here = later && len_at_r;
wire [7:0]   len_byte = in_data[8*pl_r[2:0] +: 8];
wire [2:0]   len_end = pl_r[2:0] + len_byte[2:0];    // the last byte's offset in its beat
wire [16:0]  last_new = pl_r + {9'd0, len_byte};
wire [7:0]   sym_len_now = len_here ? len_byte : sym_len;
// len_end < 8: the symbol ends in this beat; 8 <= len_end < 16: in the next
// The flags that depend on the length byte are computed for each byte lane from that lane's
// byte (against constants, or room8_r) and then one lane's flags are picked by pl_r[2:0]: the
// compares run beside the lane choice instead of after it (LUT levels). For lane l the symbol's
// last byte is at offset l + len, so it ends in this beat when len < 8 - l, in the next when
// 8 - l <= len < 16 - l, in the one after when 16 - l <= len < 24 - l.
wire [7:0]   lane_fits, lane_next, lane_next2, lane_trunc;
genvar       gl;
generate
    for (gl = 0; gl < 8; gl = gl + 1) begin : g_lane
        wire [7:0] b = in_data[8*gl +: 8];
        assign lane_fits[gl] = b < 8'd8 - gl;
        assign lane_next[gl] = b >= 8'd8 - gl && b < 8'd16 - gl;
        assign lane_next2[gl] = b >= 8'd16 - gl && b < 8'd24 - gl;
        // n < pos_name + length (room_r = n - pos_name: a header that passed has n >= pos_name)
        assign lane_trunc[gl] = b > room8_r;
    end
endgenerate
wire         len_fits = lane_fits[pl_r[2:0]];
wire         len_next = lane_next[pl_r[2:0]];
wire         len_next2 = lane_next2[pl_r[2:0]];
wire         last_here = !decided && later && (have_len ? last_at_r : (len_here && len_fits));
wire         last_in_lo = {1'b0, (have_len ? last_r[2:0] : len_end[2:0])} < in_split;
// ... or in the final beat shown early
wire         last_la = !decided && later && in_la_valid &&
                       (have_len ? last_at1_r : (len_here && len_next));

// outcome decided from the header on beat 0
wire         hdr_here = data_beat && in_sof;
wire         hdr_trunc = n < 16'd8;
wire         hdr_unknown = !hdr_trunc && (sid != 16'd1 ||
                           (tid != 16'd10001 && tid != 16'd10000 && tid != 16'd10002 && tid != 16'd10003));
wire         hdr_skipped = !hdr_trunc && !hdr_unknown && tid != 16'd10001;
wire         hdr_short = !hdr_trunc && !hdr_unknown && !hdr_skipped && bl_now < 16'd50;
// the other short header, n < pos_name, is the sign of room_r (n - pos_name, registered on
// beat 0: with n >= 8 it fits 17 bits); it is decided on the cycle after beat 0 (LUT levels),
// which nothing can tell apart: with blockLength >= 50 the length byte comes at beat 7 or later,
// and an END record on that cycle counts the undecided message as truncated all the same
reg          short_chk_r;    // beat 0 passed every other header check: look at room_r's sign
wire         hdr_short_late = short_chk_r && room_r[16];
wire         len_trunc = len_here && !decided && lane_trunc[pl_r[2:0]];

// symbol bytes: the beats from pos_name's beat on are kept whole; the record takes the 32 bytes
// from pos_name on (the current beat included), shifted into place once, on emission
wire [13:0]  nrel = nrel_r;
// each word is the head beat when it is that beat of the symbol, else the one kept earlier
// (the early final beat is the next word)
function [63:0] nword;
    input        is_cur;       // nrel == k
    input        is_early;     // nrel == k - 1, with the early beat shown
    input [63:0] cur, early, kept;
    begin
        if (is_cur)
            nword = cur;
        else if (is_early)
            nword = early;
        else
            nword = kept;
    end
endfunction
// the record's name: the 32 bytes from pos_name on, bytes at and beyond the length zeroed (the
// symbol table's key); built in the clocked block, on emission only
reg  [319:0] nwin;
reg  [255:0] symbol_now;
integer      x;

// the numbers: complete at beat 7 (askQty's top bytes), or at beat 6 when beat 7 is shown early
wire         cv_at7 = data_beat && jj == 13'd7;
wire         cv_at6 = data_beat && jj == 13'd6 && in_la_valid;
assign cv_valid = (cv_at7 || cv_at6) && !cv_done;
assign cv_v0 = v0;
assign cv_v1 = v1;
assign cv_v2 = cv_at6 ? {in_data[15:0], v2[47:0]} : v2;
assign cv_v3 = cv_at6 ? {in_la_data[15:0], in_data[63:16]} : {in_data[15:0], v3[47:0]};
assign cv_pexp = pexp;
assign cv_qexp = qexp;



assign busy = 1'b0;

reg  [63:0]  cl_lo, cl_hi, cl_la;
reg          cl_sel_la, cl_sel_lo;
assign r_cyc_last = cl_sel_la ? cl_la : (cl_sel_lo ? cl_lo : cl_hi);

always @(posedge clk) begin
    r_valid <= 1'b0;

    if (cv_valid)
        cv_done <= 1'b1;
    if (data_beat) begin
        j <= jj + 13'd1;
        if (later && nrel_r < 14'd5)
            nbuf[nrel_r[2:0]] <= in_data;
        nrel_r <= in_sof ? 14'd1 - pos_name_0[16:3] : nrel_r + 14'd1;
        jp1_r <= {1'b0, jj} + 14'd2;
        jp2_r <= {1'b0, jj} + 14'd3;
        if (in_sof) begin
            pl_r <= pos_len_0;
            pn_r <= pos_name_0[2:0];
            room_r <= {1'b0, in_len} - pos_name_0;
            len_at_r <= pos_len_0[16:3] == 14'd1;
        end else begin
            len_at_r <= pl_r[16:3] == jp1_r;
        end
        if (len_here) begin
            have_len <= 1'b1;
            sym_len <= len_byte;
            last_r <= last_new;
            // pos_len's beat is beat j, so last_new's beat is j + 1 or j + 2 exactly when
            // the last byte's offset from this beat's start is 8..15 or 16..23
            last_at_r <= len_next;
            last_at1_r <= len_next2;
            for (x = 0; x < 32; x = x + 1)
                keep_r[x] <= len_byte > x[7:0];
        end else begin
            last_at_r <= last_r[16:3] == jp1_r;
            last_at1_r <= last_r[16:3] == jp2_r;
        end
        case (jj)
            13'd0: begin
                cyc_first <= in_cyc_lo;
            end
            13'd2: begin
                uid <= in_data;
            end
            13'd3: begin
                pexp <= in_data[7:0];
                qexp <= in_data[15:8];
                v0[47:0] <= in_data[63:16];
            end
            13'd4: begin
                v0[63:48] <= in_data[15:0];
                v1[47:0] <= in_data[63:16];
            end
            13'd5: begin
                v1[63:48] <= in_data[15:0];
                v2[47:0] <= in_data[63:16];
            end
            13'd6: begin
                v2[63:48] <= in_data[15:0];
                v3[47:0] <= in_data[63:16];
            end
            default: ;
        endcase
    end

    room8_r <= room_r[16:8] != 9'd0 ? 8'd255 : room_r[7:0];
    short_chk_r <= hdr_here && !hdr_trunc && !hdr_unknown && !hdr_skipped && !hdr_short;
    if (hdr_short_late) begin
        decided <= 1'b1;
        c_trunc <= 1'b1;
    end

    if (in_valid && in_sof) begin
        decided <= 1'b0;
        have_len <= 1'b0;
        cv_done <= 1'b0;
        c_trunc <= 1'b0;
        c_unknown <= 1'b0;
        c_skipped <= 1'b0;
    end

    if (hdr_here) begin
        if (hdr_trunc || hdr_short) begin
            decided <= 1'b1;
            c_trunc <= 1'b1;
        end else if (hdr_unknown) begin
            decided <= 1'b1;
            c_unknown <= 1'b1;
        end else if (hdr_skipped) begin
            decided <= 1'b1;
            c_skipped <= 1'b1;
        end
    end

    // the symbol length makes the message run past the datagram
    if (len_trunc) begin
        decided <= 1'b1;
        c_trunc <= 1'b1;
    end else if (last_here || last_la) begin
        // whole message: emit it
        decided <= 1'b1;
        r_valid <= 1'b1;
        r_kind <= `TC_K_QNAME;
        r_venue <= in_venue;
        // the symbol's last bytes are in this beat
        /* verilator lint_off BLKSEQ */
        for (x = 0; x < 5; x = x + 1)
            nwin[64*x +: 64] = nword(nrel == x[13:0], in_la_valid && nrel == x[13:0] - 14'd1,
                                     in_data, in_la_data, nbuf[x]);
        symbol_now = nwin[8*pn_r +: 256];
        for (x = 0; x < 32; x = x + 1)
            if (len_here ? len_byte <= x[7:0] : !keep_r[x])
                symbol_now[8*x +: 8] = 8'd0;
        /* verilator lint_on BLKSEQ */
        r_name <= symbol_now;
        r_name_len <= sym_len_now;
        r_uid <= uid;
        r_ts <= in_ts;
        r_cyc_frame <= in_cyc_frame;
        r_cyc_first <= cyc_first;
        // the stamps are kept and chosen after the register (the choice comes late)
        cl_lo <= in_cyc_lo;
        cl_hi <= in_cyc_hi;
        cl_la <= in_la_cyc;
        cl_sel_la <= !last_here;
        cl_sel_lo <= last_in_lo;
        r_ok <= 1'b0;
    end

    if (in_valid && in_eof) begin
        // a message still undecided at the end of the frame was cut short
        r_valid <= 1'b1;
        r_kind <= `TC_K_END;
        r_venue <= in_venue;
        r_ok <= in_ok;
        r_cnt <= {`TC_C_BITS{1'b0}};
        r_cnt[`TC_C_MSGS +: 16] <= 16'd1;
        r_cnt[`TC_C_TRUNC +: 16] <= {15'd0, (in_sof ? 1'b1 : (c_trunc || !decided))};
        r_cnt[`TC_C_UNKNOWN +: 16] <= {15'd0, (!in_sof && c_unknown)};
        r_cnt[`TC_C_SKIPPED +: 16] <= {15'd0, (!in_sof && c_skipped)};
    end

    if (rst) begin
        r_valid <= 1'b0;
        j <= 13'd0;
        decided <= 1'b0;
        have_len <= 1'b0;
        cv_done <= 1'b0;
        short_chk_r <= 1'b0;
    end
end

endmodule

`resetall
