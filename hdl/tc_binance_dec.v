// binance_sbe decoder: one SBE message per datagram (docs/PIPELINE.md section 2).
//
// Consumes the realigned payload beats of binance_sbe frames. Template 10001's fields sit at fixed
// offsets (prices at 26..57); only the symbol moves with blockLength, so it is captured byte by byte
// at offset 9 + blockLength. The four numbers go to the converters (tc_lookup) on the beat that
// completes them, which is never after the message's last byte; the message is emitted as a
// quote-by-name record (name masked: bytes past its length zero) on the cycle after the beat
// carrying its last byte, or with that beat's predecessor when the receive stage shows the final
// beat a cycle early (in_la_*). Every frame ends with an END record carrying its message counts.
// Never stalls.

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
    output reg  [63:0]   r_ts,
    output reg  [63:0]   r_cyc_frame,
    output reg  [63:0]   r_cyc_first,
    output reg  [63:0]   r_cyc_last,
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
reg  [15:0]  bl;
reg  [15:0]  plen;
reg  [63:0]  nbuf [0:4];      // the beats holding the symbol (32 bytes span at most 5)
reg  [63:0]  v0, v1, v2;
reg  [47:0]  v3;            // its top bytes come with beat 7
reg  [7:0]   pexp, qexp;
reg  [63:0]  cyc_first;
reg          c_trunc, c_unknown, c_skipped;
reg          cv_done;        // the numbers went to the converters

wire         data_beat = in_valid && !in_eof;
wire [12:0]  jj = in_sof ? 13'd0 : j;
wire [15:0]  n = in_sof ? in_len : plen;

// header fields: this beat when it is beat 0, else the registers
wire [15:0]  bl_now  = (jj == 13'd0) ? in_data[15:0] : bl;
wire [15:0]  tid     = in_data[31:16];
wire [15:0]  sid     = in_data[47:32];

// symbol length byte at 8 + blockLength, symbol bytes from 9 + blockLength: never in beat 0, so
// from beat 1 on they come from registers set on beat 0 (as does the symbol's beat counter nrel)
reg  [16:0]  pl_r;           // pos_len
reg  [16:0]  pn_r;           // pos_name
reg  [16:0]  last_r;         // the message's last byte, once the length byte has passed
reg  [13:0]  nrel_r;         // this beat's index relative to pos_name's beat
wire [16:0]  pos_len_0 = {1'b0, in_data[15:0]} + 17'd8;
wire [16:0]  pos_name_0 = {1'b0, in_data[15:0]} + 17'd9;
wire         later = data_beat && !in_sof;
wire         len_here = later && pl_r[16:3] == {1'b0, j};
wire [7:0]   len_byte = in_data[8*pl_r[2:0] +: 8];
wire [8:0]   len_end = {6'd0, pl_r[2:0]} + {1'b0, len_byte};    // last byte's offset in this beat
wire [7:0]   sym_len_now = len_here ? len_byte : sym_len;
wire         last_here = !decided && later &&
                         (have_len ? last_r[16:3] == {1'b0, j} : (len_here && len_end < 9'd8));
wire         last_in_lo = {1'b0, (have_len ? last_r[2:0] : len_end[2:0])} < in_split;
// ... or in the final beat shown early
wire         last_la = !decided && later && in_la_valid &&
                       (have_len ? last_r[16:3] == {1'b0, j} + 14'd1
                                 : (len_here && len_end >= 9'd8 && len_end < 9'd16));

// outcome decided from the header on beat 0
wire         hdr_here = data_beat && jj == 13'd0;
wire         hdr_trunc = n < 16'd8;
wire         hdr_unknown = !hdr_trunc && (sid != 16'd1 ||
                           (tid != 16'd10001 && tid != 16'd10000 && tid != 16'd10002 && tid != 16'd10003));
wire         hdr_skipped = !hdr_trunc && !hdr_unknown && tid != 16'd10001;
wire         hdr_short = !hdr_trunc && !hdr_unknown && !hdr_skipped &&
                         (bl_now < 16'd50 || {1'b0, n} < pos_name_0);
wire         len_trunc = len_here && !decided && {1'b0, n} < pn_r + {9'd0, len_byte};

// symbol bytes: the beats from pos_name's beat on are kept whole; the record takes the 32 bytes
// from pos_name on (the current beat included), shifted into place once, on emission
wire [13:0]  nrel = nrel_r;
// each word is the head beat when it is that beat of the symbol, else the one kept earlier
// (the early final beat is the next word)
function [63:0] nword;
    input [13:0] rel;          // nrel - k
    input        la;
    input [63:0] cur, early, kept;
    begin
        if (rel == 14'd0)
            nword = cur;
        else if (la && rel == 14'h3fff)
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

always @(posedge clk) begin
    r_valid <= 1'b0;

    if (cv_valid)
        cv_done <= 1'b1;
    if (data_beat) begin
        j <= jj + 13'd1;
        if (later && nrel_r < 14'd5)
            nbuf[nrel_r[2:0]] <= in_data;
        nrel_r <= in_sof ? 14'd1 - pos_name_0[16:3] : nrel_r + 14'd1;
        if (in_sof) begin
            pl_r <= pos_len_0;
            pn_r <= pos_name_0;
        end
        if (len_here) begin
            have_len <= 1'b1;
            sym_len <= len_byte;
            last_r <= pl_r + {9'd0, len_byte};
        end
        case (jj)
            13'd0: begin
                bl <= in_data[15:0];
                plen <= in_len;
                cyc_first <= in_cyc_lo;
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

    if (in_valid && in_sof) begin
        decided <= 1'b0;
        have_len <= 1'b0;
        cv_done <= 1'b0;
        c_trunc <= 1'b0;
        c_unknown <= 1'b0;
        c_skipped <= 1'b0;
        if (!in_eof)
            plen <= in_len;
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
    if (len_trunc && !(hdr_here && (hdr_trunc || hdr_short || hdr_unknown || hdr_skipped))) begin
        decided <= 1'b1;
        c_trunc <= 1'b1;
    end else if ((last_here || last_la) && !(hdr_here && (hdr_trunc || hdr_short || hdr_unknown || hdr_skipped))) begin
        // whole message: emit it
        decided <= 1'b1;
        r_valid <= 1'b1;
        r_kind <= `TC_K_QNAME;
        r_venue <= in_venue;
        // the symbol's last bytes are in this beat
        /* verilator lint_off BLKSEQ */
        nwin = {nword(nrel - 14'd4, in_la_valid, in_data, in_la_data, nbuf[4]),
                nword(nrel - 14'd3, in_la_valid, in_data, in_la_data, nbuf[3]),
                nword(nrel - 14'd2, in_la_valid, in_data, in_la_data, nbuf[2]),
                nword(nrel - 14'd1, in_la_valid, in_data, in_la_data, nbuf[1]),
                nword(nrel, in_la_valid, in_data, in_la_data, nbuf[0])};
        symbol_now = nwin[8*pn_r[2:0] +: 256];
        for (x = 0; x < 32; x = x + 1)
            if (x[7:0] >= sym_len_now)
                symbol_now[8*x +: 8] = 8'd0;
        /* verilator lint_on BLKSEQ */
        r_name <= symbol_now;
        r_name_len <= sym_len_now;
        r_ts <= in_ts;
        r_cyc_frame <= in_cyc_frame;
        r_cyc_first <= cyc_first;
        r_cyc_last <= !last_here ? in_la_cyc : (last_in_lo ? in_cyc_lo : in_cyc_hi);
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
    end
end

endmodule

`resetall
