// Ethernet / 802.1Q / IPv4 / UDP receive stage.
//
// Takes frames as 64-bit AXI-Stream beats, checks them as docs/PIPELINE.md section 1 says, selects
// the venue from the filter table, and forwards the UDP payload realigned so that payload byte 8j+l
// sits in lane l of payload beat j. The frame's verdict is final only at its last beat (tuser,
// oversize, short frame), so the payload is forwarded cut-through and closed by an end-of-frame beat
// that carries the verdict; downstream commits or discards the frame's effects on that beat.
//
// Every frame also yields one done pulse with its byte count and verdict, one cycle after tlast (two
// when the final payload beat is held a cycle); the end-of-frame beat goes out with it.

`resetall
`timescale 1ns / 1ps
`default_nettype none

`include "hdl/tickcross_contract.vh"

module tc_frame_rx #(
    parameter N_FILTERS = 16,
    parameter N_VENUES = 8,
    parameter MAX_FRAME_BYTES = 2048
) (
    input  wire                      clk,
    input  wire                      rst,

    input  wire [63:0]               s_axis_tdata,
    input  wire [7:0]                s_axis_tkeep,
    input  wire                      s_axis_tvalid,
    output wire                      s_axis_tready,
    input  wire                      s_axis_tlast,
    input  wire                      s_axis_tuser,
    input  wire [63:0]               s_axis_ts,

    input  wire [63:0]               cycle,
    input  wire                      enable,
    input  wire                      hold,        // lowers tready (payload FIFO nearly full)
    input  wire                      hold_new,    // takes no new frame (tables being cleared)
    input  wire [64*N_FILTERS-1:0]   filter_cfg,
    input  wire [64*N_VENUES-1:0]    venue_cfg,

    // payload stream, one beat per cycle at most, no backpressure (hold covers it)
    output reg                       m_valid,
    output reg  [63:0]               m_data,
    output reg  [7:0]                m_keep,
    output reg                       m_sof,       // first beat of this frame's stream
    output reg                       m_eop,       // carries the last payload byte
    output reg                       m_eof,       // end of frame: m_ok is the verdict
    output reg                       m_ok,
    output reg  [2:0]                m_venue,
    output reg  [1:0]                m_proto,
    output reg  [15:0]               m_len,       // payload bytes (UDP length - 8)
    output reg  [63:0]               m_ts,
    output reg  [63:0]               m_cyc_frame, // cycle of the frame's first beat
    output reg  [63:0]               m_cyc_lo,    // cycle of the wire beat of lanes < m_split
    output reg  [63:0]               m_cyc_hi,    // cycle of the wire beat of lanes >= m_split
    output reg  [3:0]                m_split,
    // the frame's final payload beat, held for the next edge because it completed on the same
    // wire beat as the beat now on m_*: visible a cycle early, for a decoder that can use it
    output wire                      m_la_valid,
    output wire [63:0]               m_la_data,
    output wire [63:0]               m_la_cyc,

    output reg                       done_valid,
    output reg  [2:0]                done_reason,
    output reg  [31:0]               done_bytes,

    output wire                      busy
);

localparam [2:0] R_OK = 3'd0, R_DISABLED = 3'd1, R_BAD = 3'd2, R_NOT_IPV4_UDP = 3'd3,
                 R_CHECKSUM = 3'd4, R_LENGTH = 3'd5, R_NO_VENUE = 3'd6;

assign s_axis_tready = !hold && !(hold_new && !in_frame);
wire accept = s_axis_tvalid && s_axis_tready;

// ---------------------------------------------------------------- per-frame state
reg         in_frame;       // a beat of the current frame has been accepted, tlast not yet
reg  [15:0] k;              // index of the next wire beat of the frame
reg  [31:0] len;            // bytes accepted so far
reg         bad;            // tuser seen, or malformed tkeep
reg         dis;            // frame arrived while disabled
reg  [63:0] hdr [0:11];     // first 12 beats of the frame (bytes past its end are stale and never
                            // consulted: every check tests the length before reading a field)
reg  [31:0] csum;           // ones'-complement sum of IPv4 header words so far
reg  [63:0] ts_q;
reg  [63:0] cyc_frame_q;
reg  [63:0] prev_data;
reg  [63:0] prev_cyc;

reg         fwd;            // header checks passed: payload is being forwarded
reg  [15:0] p0;             // payload start offset in the frame
reg  [15:0] plen;           // payload length n
reg  [12:0] pj;             // next payload beat to emit
reg  [2:0]  fwd_venue;
reg  [1:0]  fwd_proto;
reg         sof_pending;    // the next emitted beat is the frame's first

// end-of-frame: snapshot at tlast; the verdict is computed from it the next cycle
reg         e1_valid;
reg         e1_vlan;
reg  [15:0] e1_etype, e1_tot, e1_frag, e1_ulen;
reg  [7:0]  e1_vihl, e1_ipproto;
reg  [31:0] e1_len;
reg  [31:0] e1_csum;
reg         e1_bad, e1_dis, e1_fwd, e1_match;
reg  [2:0]  e1_venue;
reg  [1:0]  e1_proto;
reg  [63:0] e1_ts, e1_cyc_frame;
reg  [15:0] e1_plen;
reg         e1_sof;
// the verdict, when the held payload beat delays it by a cycle
reg         e2_valid;
reg  [2:0]  e2_reason;
reg  [31:0] e2_len;
reg         e2_fwd, e2_sof;
reg  [2:0]  e2_venue;
reg  [1:0]  e2_proto;
reg  [63:0] e2_ts, e2_cyc_frame;
reg  [15:0] e2_plen;

// a payload beat held for a cycle: the final short beat completed by the same wire beat as the one
// before it, or a whole payload of up to 7 bytes ending on the UDP header's last beat (decided at
// that beat's edge); pend_first marks the latter, the frame's first beat
reg         pend_valid;
reg         pend_first;
reg  [63:0] pend_data;
reg  [7:0]  pend_keep;
reg  [63:0] pend_cyc;

// ---------------------------------------------------------------- current beat view
wire        first_beat = !in_frame;
wire [15:0] kk = first_beat ? 16'd0 : k;
wire [3:0]  nbytes = {3'd0, s_axis_tkeep[0]} + {3'd0, s_axis_tkeep[1]} + {3'd0, s_axis_tkeep[2]} +
                     {3'd0, s_axis_tkeep[3]} + {3'd0, s_axis_tkeep[4]} + {3'd0, s_axis_tkeep[5]} +
                     {3'd0, s_axis_tkeep[6]} + {3'd0, s_axis_tkeep[7]};
wire        keep_ok = s_axis_tlast ?
                      (s_axis_tkeep == 8'h00 || s_axis_tkeep == 8'h01 || s_axis_tkeep == 8'h03 ||
                       s_axis_tkeep == 8'h07 ||
                       s_axis_tkeep == 8'h0f || s_axis_tkeep == 8'h1f || s_axis_tkeep == 8'h3f ||
                       s_axis_tkeep == 8'h7f || s_axis_tkeep == 8'hff)
                      : (s_axis_tkeep == 8'hff);
wire [31:0] len_base = first_beat ? 32'd0 : len;
wire [31:0] len_now  = (len_base > 32'h7fffffff) ? len_base : len_base + {28'd0, nbytes};

// a header byte as of this cycle: the current beat's lane, or an earlier beat's byte
function [7:0] hb;
    input [6:0] o;
    begin
        if (accept && kk < 16'd12 && {12'd0, o[6:3]} == kk)
            hb = s_axis_tdata[8*o[2:0] +: 8];
        else
            hb = hdr[o[6:3]][8*o[2:0] +: 8];
    end
endfunction

// Header fields are derived lazily: VLAN and IHL are registered as their bytes pass (beat 1 or 2),
// which fixes where the UDP header ends; the full header checks and the filter match run only on
// that beat (and the verdict's inputs only on the last beat), so a frame costs a handful of byte
// compares per beat.
wire [7:0]  b12 = s_axis_tdata[39:32], b13 = s_axis_tdata[47:40];
wire        vlan_here = accept && kk == 16'd1 && {b12, b13} == 16'h8100;
wire        vlan = (kk == 16'd1) ? vlan_here : vlan_r;
wire [6:0]  l2 = vlan ? 7'd18 : 7'd14;
reg         vlan_r, ihl_known;
reg  [3:0]  ihl_r;
reg  [15:0] uend_beat;                 // beat holding the UDP header's last byte

// where the UDP header ends, once the IHL byte has been seen (beat 1 lane 6, or beat 2 lane 2)
wire        ihl_here = accept && ((kk == 16'd1 && !vlan_here) || (kk == 16'd2 && vlan_r));
wire [3:0]  ihl_new = (kk == 16'd1) ? s_axis_tdata[51:48] : s_axis_tdata[19:16];
wire [6:0]  uend_new = (vlan_here || (kk == 16'd2 && vlan_r) ? 7'd18 : 7'd14) + {1'b0, ihl_new, 2'b00} + 7'd7;

function [6:0] hlen;            // IPv4 header length in bytes, from the IHL byte at offset o
    input [6:0] o;
    /* verilator lint_off UNUSEDSIGNAL */
    reg [7:0] b;
    /* verilator lint_on UNUSEDSIGNAL */
    begin
        b = hb(o);
        hlen = {1'b0, b[3:0], 2'b00};
    end
endfunction

function [15:0] h16;            // big-endian header half-word at offset o
    input [6:0] o;
    begin
        h16 = {hb(o), hb(o + 7'd1)};
    end
endfunction

// checksum contribution of this beat: words at even offsets inside [l2, l2 + hl). Up to l2 + 20
// (the shortest header) the IHL is not needed, which covers every word before beat 4; from beat 4
// on the registered IHL is known.
reg [31:0] csum_beat;
reg [18:0] woff;
integer w;
always @* begin
    csum_beat = 32'd0;
    woff = 19'd0;
    if (accept && kk < 16'd12) begin
        for (w = 0; w < 4; w = w + 1) begin
            woff = {kk, 3'b000} + {16'd0, w[1:0], 1'b0};
            if (woff >= {12'd0, l2} &&
                (woff < {12'd0, l2} + 19'd20 || (ihl_known && woff < {12'd0, l2} + {13'd0, ihl_r, 2'b00})))
                csum_beat = csum_beat + {16'd0, s_axis_tdata[16*w +: 8], s_axis_tdata[16*w+8 +: 8]};
        end
    end
end
wire [31:0] csum_now = (first_beat ? 32'd0 : csum) + csum_beat;

function csum_good;
    input [31:0] s;
    reg [16:0] f1;
    reg [15:0] f2;
    begin
        f1 = {1'b0, s[15:0]} + {1'b0, s[31:16]};
        f2 = f1[15:0] + {15'd0, f1[16]};
        csum_good = (f2 == 16'hffff);
    end
endfunction

// venue filters: the lowest matching enabled filter wins; {match, protocol, venue}
function [5:0] venue_match;
    input [31:0] ip;
    input [15:0] port;
    integer f;
    /* verilator lint_off UNUSEDSIGNAL */
    reg [63:0] fc;              // filter word: only its documented fields are used
    reg [63:0] vc;              // venue word
    /* verilator lint_on UNUSEDSIGNAL */
    reg [31:0] mask;
    reg [5:0]  pfx;
    begin
        venue_match = 6'd0;
        for (f = N_FILTERS - 1; f >= 0; f = f - 1) begin
            fc = filter_cfg[64*f +: 64];
            vc = venue_cfg[64*fc[58:56] +: 64];
            pfx = (fc[53:48] > 6'd32) ? 6'd32 : fc[53:48];
            mask = (pfx == 6'd0) ? 32'd0 : ~((32'd1 << (6'd32 - pfx)) - 32'd1);
            if (fc[63] && vc[63] && vc[1:0] != `TC_PROTO_NONE &&
                ((ip ^ fc[31:0]) & mask) == 32'd0 && port == fc[47:32])
                venue_match = {1'b1, vc[1:0], fc[58:56]};
        end
    end
endfunction

// header checks decidable once the UDP header is in (rules 5, 7, 9, 10, 11a, 12, 13), made on the
// beat holding its last byte, at that beat's clock edge (the functions above read module state, so
// they are called from the clocked block only, where every simulator samples the same values).
// Result: {pass, protocol[1:0], venue[2:0], payload length[15:0], payload offset[15:0]}.
wire        dis_now = first_beat ? !enable : dis;
wire        uend_here = accept && !dis_now && ihl_known && !fwd && uend_beat == kk &&
                        len_now > {16'd0, uend_beat[12:0], uend_low};
reg  [2:0]  uend_low;           // uend mod 8

function [37:0] decide;
    input dummy;
    reg [6:0]  uo;
    reg [15:0] tot_u, ulen_u;
    /* verilator lint_off UNUSEDSIGNAL */
    reg [15:0] frag_u;          // flags and fragment offset (DF unused)
    reg        unused;
    /* verilator lint_on UNUSEDSIGNAL */
    reg [5:0]  vm;
    reg        pass;
    begin
        unused = dummy;
        uo = l2 + {1'b0, ihl_r, 2'b00};
        ulen_u = h16(uo + 7'd4);
        tot_u = h16(l2 + 7'd2);
        frag_u = h16(l2 + 7'd6);
        vm = venue_match({h16(l2 + 7'd16), h16(l2 + 7'd18)}, h16(uo + 7'd2));
        pass = h16(vlan ? 7'd16 : 7'd12) == 16'h0800 && hb(l2) == {4'd4, ihl_r} && ihl_r >= 4'd5 &&
               hb(l2 + 7'd9) == 8'd17 && !frag_u[13] && frag_u[12:0] == 13'd0 &&
               csum_good(csum) && tot_u >= {9'd0, ihl_r, 2'b00} + 16'd8 &&
               ulen_u == tot_u - {10'd0, ihl_r, 2'b00} && tot_u <= MAX_FRAME_BYTES && vm[5];
        decide = {pass, vm[4:3], vm[2:0], ulen_u - 16'd8, {9'd0, uo} + 16'd8};
    end
endfunction

// ---------------------------------------------------------------- payload realignment
// Payload beat j covers frame bytes p0+8j .. p0+8j+7 (fewer at the end). It is complete at the wire
// beat holding byte p0 + min(8j+7, n-1). One wire beat completes at most one beat, except that the
// final, short beat can complete on the same wire beat as the one before it; that one waits a cycle
// in pend_*.
wire [2:0]  sft       = p0[2:0];
wire [15:0] jbyte     = {pj, 3'b000};
wire        have_beat = fwd && jbyte < plen;
wire [15:0] j_last    = (plen - jbyte > 16'd8) ? jbyte + 16'd7 : plen - 16'd1;
wire [15:0] kc        = (p0 + j_last) >> 3;
wire        emit_j    = accept && have_beat && kc == kk;
// bytes of beat j: lanes < 8-sft from the wire beat holding p0+8j, the rest from the next one
wire        j_from_cur_only = ((p0 + jbyte) >> 3) == kk;
wire [63:0] j_data    = j_from_cur_only ? (s_axis_tdata >> (8 * sft))
                                        : ((prev_data >> (8 * sft)) | (s_axis_tdata << (64 - 8 * sft)));
wire [15:0] j_rem     = plen - jbyte;
wire [7:0]  j_keep    = (j_rem >= 16'd8) ? 8'hff : ((8'h01 << j_rem[2:0]) - 8'h01);
// the final beat j+1, when it also completes on this wire beat
wire [15:0] j2byte    = jbyte + 16'd8;
wire        have_j2   = emit_j && j2byte < plen && ((p0 + plen - 16'd1) >> 3) == kk;
wire [15:0] j2_rem    = plen - j2byte;
wire [7:0]  j2_keep   = (j2_rem >= 16'd8) ? 8'hff : ((8'h01 << j2_rem[2:0]) - 8'h01);
wire [63:0] j2_data   = s_axis_tdata >> (8 * sft);

// ---------------------------------------------------------------- end-of-frame verdict
wire        e_vlan  = e1_vlan;
wire [6:0]  e_l2    = e1_vlan ? 7'd18 : 7'd14;
wire [15:0] e_etype = e1_etype;
wire [7:0]  e_vihl  = e1_vihl;
wire [6:0]  e_hl    = {1'b0, e1_vihl[3:0], 2'b00};
wire [15:0] e_tot   = e1_tot;
/* verilator lint_off UNUSEDSIGNAL */
wire [15:0] e_frag  = e1_frag;
/* verilator lint_on UNUSEDSIGNAL */
wire [7:0]  e_proto = e1_ipproto;
wire [15:0] e_ulen  = e1_ulen;

reg [2:0] e_reason;
always @* begin
    if (e1_dis)                                                  e_reason = R_DISABLED;
    else if (e1_bad)                                             e_reason = R_BAD;
    else if (e1_len > MAX_FRAME_BYTES)                           e_reason = R_LENGTH;
    else if (e1_len < 32'd14)                                    e_reason = R_LENGTH;
    else if (e_vlan && e1_len < 32'd18)                          e_reason = R_LENGTH;
    else if (e_etype != 16'h0800)                                e_reason = R_NOT_IPV4_UDP;
    else if (e1_len < {25'd0, e_l2} + 32'd20)                    e_reason = R_LENGTH;
    else if (e_vihl[7:4] != 4'd4 || e_vihl[3:0] < 4'd5)          e_reason = R_NOT_IPV4_UDP;
    else if (e1_len < {25'd0, e_l2} + {25'd0, e_hl})             e_reason = R_LENGTH;
    else if (e_proto != 8'd17 || e_frag[13] || e_frag[12:0] != 13'd0) e_reason = R_NOT_IPV4_UDP;
    else if (!csum_good(e1_csum))                                e_reason = R_CHECKSUM;
    else if (e_tot < {9'd0, e_hl} + 16'd8 ||
             {25'd0, e_l2} + {16'd0, e_tot} > e1_len)            e_reason = R_LENGTH;
    else if (e_ulen != e_tot - {9'd0, e_hl})                     e_reason = R_LENGTH;
    else if (!e1_match)                                          e_reason = R_NO_VENUE;
    else                                                         e_reason = R_OK;
end

assign m_la_valid = pend_valid && !pend_first;
assign m_la_data = pend_data;
assign m_la_cyc = pend_cyc;

assign busy = in_frame || e1_valid || e2_valid || pend_valid || m_valid || done_valid;

// ---------------------------------------------------------------- sequential
reg [37:0] dec;                 // header decision on the UDP header's last beat (else 0)
reg        tiny;                // that beat also holds the whole payload
reg        v_e1, v_e2;          // the verdict goes out from the snapshot / from the queue
/* verilator lint_off UNUSEDSIGNAL */
reg [5:0]  lm;                  // filter match for the verdict of a frame not forwarded
/* verilator lint_on UNUSEDSIGNAL */
always @(posedge clk) begin
    m_valid <= 1'b0;
    m_sof <= 1'b0;
    m_eop <= 1'b0;
    m_eof <= 1'b0;
    m_ok <= 1'b0;
    done_valid <= 1'b0;
    e1_valid <= 1'b0;

    // the held payload beat
    if (pend_valid) begin
        pend_valid <= 1'b0;
        m_valid <= 1'b1;
        m_data <= pend_data;
        m_keep <= pend_keep;
        m_eop <= 1'b1;
        m_sof <= pend_first;
        m_cyc_lo <= pend_cyc;
        m_cyc_hi <= pend_cyc;
        m_split <= 4'd8;
        if (pend_first) begin
            m_venue <= fwd_venue;
            m_proto <= fwd_proto;
            m_len <= plen;
            m_ts <= ts_q;
            m_cyc_frame <= cyc_frame_q;
        end
    end

    if (accept) begin
        if (first_beat) begin
            ts_q <= s_axis_ts;
            cyc_frame_q <= cycle;
            dis <= !enable;
            fwd <= 1'b0;
            pj <= 13'd0;
            sof_pending <= 1'b1;
        end
        in_frame <= !s_axis_tlast;
        k <= (kk == 16'hffff) ? kk : kk + 16'd1;
        len <= len_now;
        bad <= (first_beat ? 1'b0 : bad) | s_axis_tuser | !keep_ok;
        if (kk < 16'd12) begin
            hdr[kk[3:0]] <= s_axis_tdata;
            csum <= csum_now;
        end
        prev_data <= s_axis_tdata;
        prev_cyc <= cycle;

        if (first_beat) begin
            ihl_known <= 1'b0;
            vlan_r <= 1'b0;
        end
        if (kk == 16'd1)
            vlan_r <= vlan_here;
        if (ihl_here) begin
            ihl_known <= 1'b1;
            ihl_r <= ihl_new;
            uend_beat <= {12'd0, uend_new[6:3]};
            uend_low <= uend_new[2:0];
        end
        /* verilator lint_off BLKSEQ */
        dec = uend_here ? decide(1'b0) : 38'd0;
        // a forwarded payload that ends inside this very beat goes out next cycle, whole
        tiny = dec[37] && dec[31:16] != 16'd0 && dec[15:0] + dec[31:16] <= {kk[12:0], 3'b000} + 16'd8;
        /* verilator lint_on BLKSEQ */
        if (uend_here) begin
            if (dec[37]) begin
                fwd <= 1'b1;
                fwd_proto <= dec[36:35];
                fwd_venue <= dec[34:32];
                plen <= dec[31:16];
                p0 <= dec[15:0];
                if (tiny) begin
                    pend_valid <= 1'b1;
                    pend_first <= 1'b1;
                    pend_data <= s_axis_tdata >> (8 * dec[2:0]);
                    pend_keep <= (8'h01 << dec[18:16]) - 8'h01;
                    pend_cyc <= cycle;
                    pj <= 13'd1;
                    sof_pending <= 1'b0;
                end
            end
        end

        if (emit_j) begin
            m_valid <= 1'b1;
            m_data <= j_data;
            m_keep <= j_keep;
            m_eop <= (j_rem <= 16'd8);
            m_sof <= first_beat ? 1'b1 : sof_pending;
            sof_pending <= 1'b0;
            m_venue <= fwd_venue;
            m_proto <= fwd_proto;
            m_len <= plen;
            m_ts <= first_beat ? s_axis_ts : ts_q;
            m_cyc_frame <= first_beat ? cycle : cyc_frame_q;
            m_cyc_lo <= j_from_cur_only ? cycle : prev_cyc;
            m_cyc_hi <= cycle;
            m_split <= j_from_cur_only ? 4'd8 : 4'd8 - {1'b0, sft};
            pj <= have_j2 ? pj + 13'd2 : pj + 13'd1;
            if (have_j2) begin
                pend_valid <= 1'b1;
                pend_first <= 1'b0;
                pend_data <= j2_data;
                pend_keep <= j2_keep;
                pend_cyc <= cycle;
            end
        end

        if (s_axis_tlast) begin
            e1_valid <= 1'b1;
            e1_vlan <= vlan;
            e1_etype <= h16(vlan ? 7'd16 : 7'd12);
            e1_vihl <= hb(l2);
            e1_tot <= h16(l2 + 7'd2);
            e1_frag <= h16(l2 + 7'd6);
            e1_ipproto <= hb(l2 + 7'd9);
            e1_ulen <= h16(l2 + hlen(l2) + 7'd4);
            e1_len <= len_now;
            e1_csum <= csum_now;
            e1_bad <= (first_beat ? 1'b0 : bad) | s_axis_tuser | !keep_ok;
            e1_dis <= dis_now;
            // a frame not forwarded has its filters matched here, for the verdict's no-venue rule
            /* verilator lint_off BLKSEQ */
            lm = venue_match({h16(l2 + 7'd16), h16(l2 + 7'd18)}, h16(l2 + hlen(l2) + 7'd2));
            /* verilator lint_on BLKSEQ */
            e1_fwd <= fwd || (uend_here && dec[37]);
            e1_match <= fwd || (uend_here && dec[37]) || lm[5];
            e1_venue <= fwd ? fwd_venue : (uend_here ? dec[34:32] : lm[2:0]);
            e1_proto <= fwd ? fwd_proto : (uend_here ? dec[36:35] : lm[4:3]);
            e1_ts <= first_beat ? s_axis_ts : ts_q;
            e1_cyc_frame <= first_beat ? cycle : cyc_frame_q;
            e1_plen <= fwd ? plen : dec[31:16];
            // a frame that ends without any emitted payload beat opens its stream on the eof beat
            e1_sof <= (first_beat ? 1'b1 : sof_pending) && !emit_j && !tiny;
        end
    end

    // verdict: the done pulse and the end-of-frame beat go out at the edge after the snapshot,
    // unless the held payload beat takes that edge (never two beats on one edge); then one edge
    // later, from e2 (a one-entry queue; frames of one beat can follow each other)
    /* verilator lint_off BLKSEQ */
    v_e2 = e2_valid && !pend_valid;
    v_e1 = e1_valid && !e2_valid && !pend_valid;
    /* verilator lint_on BLKSEQ */
    if (e1_valid && !v_e1) begin
        e2_valid <= 1'b1;
        e2_reason <= e_reason;
        e2_len <= e1_len;
        e2_fwd <= e1_fwd;
        e2_sof <= e1_sof;
        e2_venue <= e1_venue;
        e2_proto <= e1_proto;
        e2_ts <= e1_ts;
        e2_cyc_frame <= e1_cyc_frame;
        e2_plen <= e1_plen;
    end else if (v_e2) begin
        e2_valid <= 1'b0;
    end

    if (v_e1 || v_e2) begin
        done_valid <= 1'b1;
        done_reason <= v_e2 ? e2_reason : e_reason;
        done_bytes <= v_e2 ? e2_len : e1_len;
        if (v_e2 ? e2_fwd : e1_fwd) begin
            m_valid <= 1'b1;
            m_data <= 64'd0;
            m_keep <= 8'd0;
            m_eof <= 1'b1;
            m_ok <= (v_e2 ? e2_reason : e_reason) == R_OK;
            m_sof <= v_e2 ? e2_sof : e1_sof;
            m_venue <= v_e2 ? e2_venue : e1_venue;
            m_proto <= v_e2 ? e2_proto : e1_proto;
            m_len <= v_e2 ? e2_plen : e1_plen;
            m_ts <= v_e2 ? e2_ts : e1_ts;
            m_cyc_frame <= v_e2 ? e2_cyc_frame : e1_cyc_frame;
            m_cyc_lo <= cycle;
            m_cyc_hi <= cycle;
            m_split <= 4'd8;
        end
    end

    if (rst) begin
        in_frame <= 1'b0;
        k <= 16'd0;
        len <= 32'd0;
        bad <= 1'b0;
        dis <= 1'b0;
        fwd <= 1'b0;
        pj <= 13'd0;
        sof_pending <= 1'b1;
        pend_valid <= 1'b0;
        pend_first <= 1'b0;
        e1_valid <= 1'b0;
        e2_valid <= 1'b0;
        m_valid <= 1'b0;
        done_valid <= 1'b0;
    end
end

endmodule

`resetall
