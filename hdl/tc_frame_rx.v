// Ethernet / 802.1Q / IPv4 / UDP receive stage.
//
// Takes frames as 64-bit AXI-Stream beats, checks them as docs/PIPELINE.md section 1 says, selects
// the venue from the filter table, and forwards the UDP payload realigned so that payload byte 8j+l
// sits in lane l of payload beat j. The frame's verdict is final only at its last beat (tuser,
// oversize, short frame), so the payload is forwarded cut-through and closed by an end-of-frame beat
// that carries the verdict; downstream commits or discards the frame's effects on that beat.
//
// Timing (ports): payload beat j goes out on m_* one cycle after the wire beat that completes it;
// every frame yields one done pulse with its byte count and verdict one cycle after tlast (two when
// the final payload beat is held a cycle), and the end-of-frame beat goes out with it.
//
// Timing (inside): every register is loaded from registers or from the current beat through a few
// LUT levels; nothing indexes the frame by a computed offset. Header fields are captured at fixed
// beats (the beat index is a one-hot shift register; the 802.1Q tag only picks between two fixed
// places) and reduced to flags as they arrive: the IPv4 header checksum is summed per beat with a
// registered end-around carry, each filter's address match is registered on beat 4 and its port
// match on the beat that ends the UDP header (beat 5..10; compared a beat early when the port is in
// the beat before). The forwarding decision is the OR of those matches with the flags, read one
// cycle later, when the first payload beat can complete; the realignment shift (2 or 6 bytes) and
// the remaining payload length are registers; the length rules are decided at tlast.

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
    input  wire [64*N_FILTERS-1:0]   filter_cfg,  // sampled a cycle late (registered match terms)
    input  wire [64*N_VENUES-1:0]    venue_cfg,
    input  wire                      cfg_wr,      // either changed on the last edge (or tie high)

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

initial begin
    if (N_FILTERS < 1 || N_FILTERS > 64) begin
        $error("Error: N_FILTERS = %0d, must be 1..64 (instance %m)", N_FILTERS);
        $finish;
    end
    if (N_VENUES < 1 || N_VENUES > 8) begin
        $error("Error: N_VENUES = %0d, must be 1..8 (a filter names its venue in 3 bits) (instance %m)",
               N_VENUES);
        $finish;
    end
    if (MAX_FRAME_BYTES < 64 || MAX_FRAME_BYTES > 65535) begin
        $error("Error: MAX_FRAME_BYTES = %0d, must be 64..65535 (instance %m)", MAX_FRAME_BYTES);
        $finish;
    end
end

localparam [2:0] R_OK = 3'd0, R_DISABLED = 3'd1, R_BAD = 3'd2, R_NOT_IPV4_UDP = 3'd3,
                 R_CHECKSUM = 3'd4, R_LENGTH = 3'd5, R_NO_VENUE = 3'd6;
localparam FB = (N_FILTERS > 1) ? $clog2(N_FILTERS) : 1;
localparam NP = 1 << FB;        // filters padded to a power of two for the priority tree

// ---------------------------------------------------------------- per-frame state
reg         in_frame;       // a beat of the current frame has been accepted, tlast not yet
reg  [11:1] bt;             // one-hot: the next beat of the frame is beat i (0 past beat 11)
reg  [31:0] len;            // bytes accepted so far
reg         bad;            // tuser seen, or malformed tkeep
reg         dis;            // frame arrived while disabled
reg  [63:0] ts_q;
reg  [63:0] cyc_frame_q;
reg  [63:16] prev_data;    // the last beat's lanes 2..7 (lanes 0-1 are never read back)
reg  [63:0] prev_cyc;

assign s_axis_tready = !hold && !(hold_new && !in_frame);
wire        accept = s_axis_tvalid && s_axis_tready;
wire        first_beat = !in_frame;
wire        acc_first = accept && first_beat;
wire        acc_next = accept && in_frame;      // beat 1 or later

// bytes in the beat: a constant table indexed by tkeep, so synthesis sees one 8-input function per
// bit instead of an adder tree
function [4*256-1:0] popcount_table;
    input [7:0] unused;         // a constant function needs an argument
    integer t, u;
    reg [7:0] v;
    reg [3:0] c;
    begin
        popcount_table = {4*256{1'b0}};
        for (t = 0; t < 256; t = t + 1) begin
            v = t[7:0] ^ unused;
            c = 4'd0;
            for (u = 0; u < 8; u = u + 1)
                c = c + {3'd0, v[u]};
            popcount_table[4*t +: 4] = c;
        end
    end
endfunction
localparam [4*256-1:0] POPCOUNT = popcount_table(8'd0);
wire [3:0]  nbytes = POPCOUNT[4*s_axis_tkeep +: 4];
wire        keep_ok = s_axis_tlast ?
                      (s_axis_tkeep == 8'h00 || s_axis_tkeep == 8'h01 || s_axis_tkeep == 8'h03 ||
                       s_axis_tkeep == 8'h07 ||
                       s_axis_tkeep == 8'h0f || s_axis_tkeep == 8'h1f || s_axis_tkeep == 8'h3f ||
                       s_axis_tkeep == 8'h7f || s_axis_tkeep == 8'hff)
                      : (s_axis_tkeep == 8'hff);
wire [31:0] len_base = first_beat ? 32'd0 : len;
wire [31:0] len_now  = len_base[31] ? len_base : len_base + {28'd0, nbytes};
wire        bad_now  = (first_beat ? 1'b0 : bad) | s_axis_tuser | !keep_ok;
wire        dis_now  = first_beat ? !enable : dis;

// byte b of the current beat, and a big-endian half-word at lanes l, l+1
wire [7:0]  b0 = s_axis_tdata[7:0],   b1 = s_axis_tdata[15:8],  b2 = s_axis_tdata[23:16],
            b3 = s_axis_tdata[31:24], b4 = s_axis_tdata[39:32], b5 = s_axis_tdata[47:40],
            b6 = s_axis_tdata[55:48], b7 = s_axis_tdata[63:56];

// ---------------------------------------------------------------- header fields, as they pass
// beat 1: bytes 8..15 (type at 12; without a tag the IPv4 header starts at 14)
// beat 2: bytes 16..23 (with a tag: type at 16, IPv4 header from 18)
// beat 3: bytes 24..31; beat 4: bytes 32..39 (the destination address ends at 33 or 37)
wire        vlan_here = {b4, b5} == 16'h8100;
reg         vlan_r;         // the frame has an 802.1Q tag (from beat 1 on)
reg         etype_ok;       // type 0x0800 (from beat 1, or 2 with a tag)
reg  [3:0]  ihl_r;          // IHL (from beat 1, or 2 with a tag)
reg         ver_ok;         // version 4, IHL >= 5
reg  [15:0] tot_r;          // IPv4 total length (beat 2)
reg         pf_ok;          // protocol 17, not a fragment (beat 2, or 3 with a tag)
reg  [15:0] ip_hi;          // destination bytes 30, 31 (beat 3; used without a tag)

function frag_proto_ok;         // flags/fragment offset half-word (DF and bit 15 unused), protocol
    input [5:0] fh;
    input [7:0] fl, proto;
    begin
        frag_proto_ok = !fh[5] && {fh[4:0], fl} == 13'd0 && proto == 8'd17;
    end
endfunction

always @(posedge clk) begin
    if (acc_next && bt[1]) begin
        vlan_r <= vlan_here;
        etype_ok <= {b4, b5} == 16'h0800;
        ihl_r <= b6[3:0];
        ver_ok <= b6[7:4] == 4'd4 && b6[3:0] >= 4'd5;
    end
    if (acc_next && bt[2]) begin
        if (vlan_r) begin
            etype_ok <= {b0, b1} == 16'h0800;
            ihl_r <= b2[3:0];
            ver_ok <= b2[7:4] == 4'd4 && b2[3:0] >= 4'd5;
            tot_r <= {b4, b5};
        end else begin
            tot_r <= {b0, b1};
            pf_ok <= frag_proto_ok(b4[5:0], b5, b7);
        end
    end
    if (acc_next && bt[3]) begin
        if (vlan_r)
            pf_ok <= frag_proto_ok(b0[5:0], b1, b3);
        ip_hi <= {b6, b7};
    end
end

// derived from the fields above, a cycle after them (each is first read two or more beats later)
wire [6:0]  l2 = vlan_r ? 7'd18 : 7'd14;
wire [6:0]  hl = {1'b0, ihl_r, 2'b00};
reg  [6:0]  hend_r;         // l2 + 4*IHL: the UDP header's offset
reg  [6:0]  hend_m1_r;      // ... minus 1
reg  [6:0]  p0_r;           // payload offset, hend + 8
reg         uo6_r;          // hend mod 8 is 6 (else 2): payload lanes start at 6 (else 2)
reg  [10:5] ub_oh_r;        // one-hot: the beat holding the UDP header's last byte
reg         tot_ok;         // total length >= 4*IHL + 8 and <= MAX_FRAME_BYTES
reg  [15:0] udp_exp_r;      // total length - 4*IHL: the UDP length it must equal
reg  [16:0] thr_tot_r;      // l2 + total length: the frame must be at least this long
reg  [16:0] thr_tot_m1_r;   // ... minus 1

// What the header's length implies, as constant tables indexed by {tag, IHL}: a 5-input function
// per bit, where adders and compares would put carry chains in series. Per entry (45 bits):
// [6:0] hend = l2 + 4*IHL; [12:7] one-hot, beats 5..10: the beat of byte hend + 7 (the UDP
// header's last; hend mod 8 is 2 or 6); [44:13] bit 4(i-4)+w: word w of beat i (4..11) is a
// header word, 8i + 2w < hend.
localparam HT_W = 45;
function [HT_W*32-1:0] header_table;
    input [6:0] unused;         // a constant function needs an argument
    integer t, i, w;
    reg [6:0] he;
    begin
        header_table = {HT_W*32{1'b0}};
        for (t = 0; t < 32; t = t + 1) begin
            he = ((t >= 16) ? 7'd18 : 7'd14) + {t[3:0], 2'b00} + unused;
            header_table[HT_W*t +: 7] = he;
            for (i = 5; i <= 10; i = i + 1)
                if ({1'b0, he[6:3]} + 5'd1 == i[4:0])
                    header_table[HT_W*t + 7 + i - 5] = 1'b1;
            for (i = 4; i <= 11; i = i + 1)
                for (w = 0; w < 4; w = w + 1)
                    if (8 * i + 2 * w < he)
                        header_table[HT_W*t + 13 + 4 * (i - 4) + w] = 1'b1;
        end
    end
endfunction
localparam [HT_W*32-1:0] HEADER = header_table(7'd0);
wire [HT_W-1:0] hdr_t = HEADER[HT_W*{vlan_r, ihl_r} +: HT_W];
wire [6:0]  hend_c = hdr_t[6:0];

always @(posedge clk) begin
    hend_r <= hend_c;
    hend_m1_r <= hend_c - 7'd1;
    p0_r <= hend_c + 7'd8;
    uo6_r <= vlan_r == ihl_r[0];
    ub_oh_r <= hdr_t[12:7];    // read on beat 4 at the earliest, two edges after a tagged IHL
    tot_ok <= tot_r >= {9'd0, hl} + 16'd8 && tot_r <= MAX_FRAME_BYTES;
    udp_exp_r <= tot_r - {9'd0, hl};
    thr_tot_r <= {10'd0, l2} + {1'b0, tot_r};
    thr_tot_m1_r <= {10'd0, l2 - 7'd1} + {1'b0, tot_r};
end

// ---------------------------------------------------------------- IPv4 header checksum
// The words at offsets [l2, l2 + 4*IHL) are summed per beat into acc with the carries kept apart
// (cy), so acc + cy == 0xFFFF is the ones'-complement check (the sum of the header words is not 0
// whenever the check matters: its first word holds version 4). Bytes 14-15 are summed on beat 1
// before the tag is known; with a tag their complement is added on beat 2, in the slot of the
// type word, which is not a header word then.
reg  [15:0] acc;
reg  [2:0]  cy;
reg  [3:0]  cmask_r;        // header words of the next beat
reg         cneg_r;         // the next beat is beat 2 of a tagged frame
wire [15:0] cw0 = {b0, b1}, cw1 = {b2, b3}, cw2 = {b4, b5}, cw3 = {b6, b7};
wire [15:0] pw3 = {prev_data[55:48], prev_data[63:56]};
wire        csum_ok = &acc[15:3] && acc[2:0] == ~cy;

// The next checksum state, and the header words of beat i >= 4 (i - 1 is the beat now being
// accepted: offset 8i + 2w < l2 + 4*IHL), computed inside accept: the same logic, but a
// Verilated model evaluates it only for a beat.
reg  [15:0] co0, co1, co2, co3;
reg  [16:0] cs01, cs23, csa;
reg  [18:0] csum_next;
reg  [3:0]  cmask_next;
integer     ci, cwd;
/* verilator lint_off BLKSEQ */
always @(posedge clk) begin
    if (accept) begin
        co0 = cneg_r ? ~pw3 : (cmask_r[0] ? cw0 : 16'd0);
        co1 = cmask_r[1] ? cw1 : 16'd0;
        co2 = cmask_r[2] ? cw2 : 16'd0;
        co3 = cmask_r[3] ? cw3 : 16'd0;
        cs01 = {1'b0, co0} + {1'b0, co1};
        cs23 = {1'b0, co2} + {1'b0, co3};
        csa  = {1'b0, acc} + {14'd0, cy};
        csum_next = ({2'd0, cs01} + {2'd0, cs23}) + {2'd0, csa};
        cmask_next = 4'd0;
        for (ci = 4; ci <= 11; ci = ci + 1)
            for (cwd = 0; cwd < 4; cwd = cwd + 1)
                if (bt[ci - 1] && hdr_t[13 + 4 * (ci - 4) + cwd])
                    cmask_next[cwd] = 1'b1;
        if (bt[1] || bt[2])
            cmask_next = 4'b1111;   // beats 2 and 3: every word below l2 + 20 (and at or past l2)

        cneg_r <= acc_next && bt[1] && vlan_here;
        cmask_r <= first_beat ? 4'b1000 : cmask_next;
        if (first_beat) begin
            acc <= 16'd0;
            cy <= 3'd0;
        end else begin
            acc <= csum_next[15:0];
            cy <= csum_next[18:16];
        end
    end
end
/* verilator lint_on BLKSEQ */

// ---------------------------------------------------------------- venue filters
// Per filter, registered from the configuration: its address mask and whether it can match at all
// (filter and venue enabled, a protocol), with {protocol, venue}. Filter words name venues in 3
// bits; one past N_VENUES matches nothing.
/* verilator lint_off UNUSEDSIGNAL */
wire [64*8-1:0] venue_pad;          // enable bit and protocol of each venue are used
/* verilator lint_on UNUSEDSIGNAL */
generate
    if (N_VENUES < 8) begin : g_vpad
        assign venue_pad = {{(64 * (8 - N_VENUES)){1'b0}}, venue_cfg};
    end else begin : g_vfull
        assign venue_pad = venue_cfg;
    end
endgenerate

reg  [N_FILTERS-1:0]    f_en_r;
reg  [N_FILTERS-1:0]    f_pv_r [0:4];   // {protocol, venue} of each filter, one bit plane per bit
reg  [N_FILTERS-1:0]    ipm_r;      // destination address matches (beat 4)
reg  [N_FILTERS-1:0]    cand_r;     // ... and the destination port (UDP header's last beat)
reg  [N_FILTERS-1:0]    pm_prev;    // lanes 4-5 of the last beat hold the port

reg         uend_hit_r;     // the next beat holds the UDP header's last byte
wire        cap = acc_next && uend_hit_r;

// the destination address: bytes 30..33, or 34..37 with a tag (beat 4)
wire [31:0] dst_ip = vlan_r ? {b2, b3, b4, b5} : {ip_hi, b0, b1};
// UDP destination port and length: in the UDP header's last beat (lanes 0-3) when the header
// starts at lane 6, else in the beat before (lanes 4-7)
wire [15:0] ulen_now  = uo6_r ? {b2, b3} : {prev_data[55:48], prev_data[63:56]};

// The payload's shape from the UDP length u, for a payload starting at lane 6 (s6) or 2:
// {tiny: 0 < n <= 8 - sft (n = u - 8), more beats to go, n <= 8, 8 < n <= 16 - sft, n >= 8}.
// With the header at lane 2 the length sits in lanes 6-7 of the beat before the UDP header's last,
// so that variant (and the port compares) is taken on every beat and read back registered; with
// the header at lane 6 it is in lanes 0-3 of the last beat itself.
function [4:0] ulen_shape;
    input [15:0] u;
    input        s6;
    reg          tiny;
    begin
        // small ranges as bit logic (a compare would be a carry chain): u < 32 and its low 5 bits
        tiny = u[15:5] == 11'd0 && u[4:0] >= 5'd9 && u[4:0] <= (s6 ? 5'd10 : 5'd14);
        ulen_shape = {tiny, !tiny && u != 16'd8, u[15:5] == 11'd0 && u[4:0] <= 5'd16,
                      u[15:5] == 11'd0 && u[4:0] > 5'd16 && u[4:0] <= (s6 ? 5'd18 : 5'd22),
                      u[15:4] != 12'd0};
    end
endfunction
reg  [4:0]  us_prev;
reg         uok_prev;
always @(posedge clk)
    if (accept) begin
        us_prev <= ulen_shape({b6, b7}, 1'b0);
        uok_prev <= {b6, b7} == udp_exp_r;
    end
wire [4:0]  us_now = uo6_r ? ulen_shape({b2, b3}, 1'b1) : us_prev;
wire        uok_now = uo6_r ? {b2, b3} == udp_exp_r : uok_prev;

// Per venue: usable (enabled, a protocol) and its protocol
wire [7:0]  v_ok;
wire [15:0] v_proto;
genvar gv;
generate
    for (gv = 0; gv < 8; gv = gv + 1) begin : g_venue
        assign v_ok[gv] = venue_pad[64*gv + 63] && venue_pad[64*gv +: 2] != `TC_PROTO_NONE;
        assign v_proto[2*gv +: 2] = venue_pad[64*gv +: 2];
    end
endgenerate

// the address mask of a prefix length (above 32 acts as 32)
function [31:0] prefix_mask;
    input [5:0] plen;
    begin
        prefix_mask = plen[5] ? 32'hFFFF_FFFF : ~(32'hFFFF_FFFF >> plen[4:0]);
    end
endfunction

genvar gf;
generate
    for (gf = 0; gf < N_FILTERS; gf = gf + 1) begin : g_filter
        /* verilator lint_off UNUSEDSIGNAL */
        wire [63:0] fc = filter_cfg[64*gf +: 64];      // only its documented fields are used
        /* verilator lint_on UNUSEDSIGNAL */
        wire [2:0]  fv = fc[58:56];
        reg  [31:0] f_mask_r;
        always @(posedge clk) begin
            // the same as loading every cycle: the configuration changes only where cfg_wr
            // says so (the model skips the work on the other cycles)
            if (cfg_wr) begin
                f_mask_r <= prefix_mask(fc[53:48]);
                f_en_r[gf] <= fc[63] && v_ok[fv];
                {f_pv_r[4][gf], f_pv_r[3][gf]} <= v_proto[2*fv +: 2];
                {f_pv_r[2][gf], f_pv_r[1][gf], f_pv_r[0][gf]} <= fv;
            end
            if (acc_next && bt[4])
                ipm_r[gf] <= f_en_r[gf] && ((dst_ip ^ fc[31:0]) & f_mask_r) == 32'd0;
            if (accept)
                pm_prev[gf] <= {b4, b5} == fc[47:32];
            if (cap)
                cand_r[gf] <= ipm_r[gf] && (uo6_r ? {b0, b1} == fc[47:32] : pm_prev[gf]);
        end
    end
endgenerate

// the lowest-numbered matching filter: a tree of first-valid picks, per bit plane of
// {protocol, venue}, computed where m_venue and m_proto load (only for a beat going out: the
// model does the picks only then; the hardware is the same); vm_any: some filter matches
function pick;
    input [N_FILTERS-1:0] c;
    input [N_FILTERS-1:0] d;
    reg [NP-1:0] v, x;
    integer l, i;
    begin
        v = {NP{1'b0}};
        x = {NP{1'b0}};
        v[N_FILTERS-1:0] = c;
        x[N_FILTERS-1:0] = d;
        for (l = NP / 2; l >= 1; l = l / 2)
            for (i = 0; i < l; i = i + 1) begin
                x[i] = v[2*i] ? x[2*i] : x[2*i+1];
                v[i] = v[2*i] | v[2*i+1];
            end
        pick = x[0];
    end
endfunction

wire        vm_any = |cand_r;

// ---------------------------------------------------------------- the forwarding decision
// On the beat holding the UDP header's last byte (cap) the port matches, the UDP length check and
// the payload's length are registered; the decision (pass) is read the next cycle, which is when
// the first payload beat can complete (the payload starts in this beat, at lane 2 or 6).
reg         ok_r;           // header checks for forwarding, without the filters
reg         kok_r;          // the frame reaches the UDP header's last byte
reg         dec_r;          // cap on the last edge
reg         fwd_r;          // the frame's payload is forwarded (decided)
reg  [15:0] plen_r;         // payload length n

// a payload ending inside this very beat goes out next cycle, whole: 0 < n <= 8 - shift
wire        tiny_now = us_now[4];
wire        pass = ok_r && kok_r && vm_any;
wire        fwd_live = fwd_r || (dec_r && pass);

reg         uend_hit_next;
integer     hi;
always @* begin
    uend_hit_next = 1'b0;
    for (hi = 5; hi <= 10; hi = hi + 1)
        if (bt[hi - 1] && ub_oh_r[hi])
            uend_hit_next = 1'b1;
end

always @(posedge clk) begin
    if (accept)
        uend_hit_r <= !first_beat && uend_hit_next;
    if (cap) begin
        ok_r <= !dis && etype_ok && ver_ok && pf_ok && csum_ok && tot_ok && uok_now;
        // len is below 128 here (beat 10 at most)
        kok_r <= {1'b0, len[6:0]} + {4'd0, nbytes} >= {1'b0, p0_r};
        plen_r <= ulen_now - 16'd8;
    end
    dec_r <= cap;
    if (acc_first)
        fwd_r <= 1'b0;
    else if (dec_r)
        fwd_r <= pass;
    if (rst) begin
        dec_r <= 1'b0;
        fwd_r <= 1'b0;
    end
end

// ---------------------------------------------------------------- payload realignment
// Payload beat j covers frame bytes p0+8j .. p0+8j+7; p0 mod 8 (sft) is 2 or 6, so a full beat is
// lanes sft..7 of the wire beat before and 0..sft-1 of the current one, complete at the current
// one. rem8 counts the bytes not yet emitted, plus 8 (so it starts as the UDP length); the flags
// for the next beat come from it directly.
// The final beat, when short enough to lie in the wire beat that completes the beat before it, is
// held a cycle in pend_* (as is a whole payload of up to 8 - sft bytes, decided a cycle late:
// it goes only if the frame passes).
reg  [15:0] rem8;
reg         st_have;        // a payload beat is still to go
reg         st_eop;         // it is the final one: rem <= 8
reg         st_pnext;       // the final beat completes with this one: 8 < rem <= 16 - sft
reg  [7:0]  st_keep;
reg         sof_pending;    // the next emitted beat is the frame's first

reg         pend_valid;
reg         pend_first;     // the held beat is the whole payload (sent only if pass)
reg  [63:0] pend_data;
reg  [7:0]  pend_keep;
reg  [63:0] pend_cyc;

wire        emit = acc_next && fwd_live && st_have;
wire [63:0] shifted_cur = uo6_r ? (s_axis_tdata >> 48) : (s_axis_tdata >> 16);
wire [63:0] emit_data = uo6_r ? {s_axis_tdata[47:0], prev_data[63:48]}
                              : {s_axis_tdata[15:0], prev_data[63:16]};
wire [15:0] thr_have = uo6_r ? 16'd18 : 16'd22;   // 16 - sft, plus 8
wire [15:0] thr_pend = uo6_r ? 16'd26 : 16'd30;   // 24 - sft, plus 8

function [7:0] low_mask;
    input [2:0] k;
    begin
        low_mask = (8'h01 << k) - 8'h01;
    end
endfunction

always @(posedge clk) begin
    if (cap) begin
        rem8 <= ulen_now;
        st_have <= us_now[3];
        st_eop <= us_now[2];
        st_pnext <= us_now[1];
        st_keep <= us_now[0] ? 8'hff : low_mask(ulen_now[2:0]);
    end else if (emit) begin
        rem8 <= rem8 - 16'd8;
        st_have <= rem8 > thr_have;
        st_eop <= rem8 <= 16'd24;
        st_pnext <= rem8 > 16'd24 && rem8 <= thr_pend;
        st_keep <= (rem8 >= 16'd24) ? 8'hff : low_mask(rem8[2:0]);
    end

    if (acc_first)
        sof_pending <= 1'b1;
    else if (emit || (cap && tiny_now))
        sof_pending <= 1'b0;

    if (pend_valid)
        pend_valid <= 1'b0;
    if (cap && tiny_now) begin
        pend_valid <= 1'b1;
        pend_first <= 1'b1;
        pend_data <= shifted_cur;
        pend_keep <= low_mask(ulen_now[2:0]);
        pend_cyc <= cycle;
    end
    if (emit && st_pnext) begin
        pend_valid <= 1'b1;
        pend_first <= 1'b0;
        pend_data <= shifted_cur;
        pend_keep <= low_mask(rem8[2:0]);
        pend_cyc <= cycle;
    end
    if (rst) begin
        pend_valid <= 1'b0;
        pend_first <= 1'b0;
        sof_pending <= 1'b1;
    end
end

assign m_la_valid = pend_valid && !pend_first;
assign m_la_data = pend_data;
assign m_la_cyc = pend_cyc;

// ---------------------------------------------------------------- end-of-frame verdict
// snapshot at tlast; the verdict is read from it and the registered flags the next cycle (every
// flag a rule reads is in by then whenever the rules before it pass)
reg         e1_valid;
reg         e1_vlan;
reg  [31:0] e1_len;
// the length rules, decided at tlast (len_now > MAX, < 14, < 18, < l2 + 20, < l2 + 4*IHL,
// < l2 + total length)
reg         e1_gtmax, e1_lt14, e1_lt18, e1_lt_ip, e1_lt_hend, e1_lt_tot;
reg         e1_bad, e1_dis, e1_sof;
reg  [63:0] e1_ts, e1_cyc_frame;
// the verdict, when the held payload beat delays it by a cycle
reg         e2_valid;
reg  [2:0]  e2_reason;
reg         e2_ok;
reg  [31:0] e2_len;
reg         e2_fwd, e2_sof;
reg  [63:0] e2_ts, e2_cyc_frame;

// len_now < t, for a frame that is not bad: its earlier beats were full (len_base = 8k) and its
// last beat keeps lanes 0..nb-1. A full last beat: 8k + 8 < t is k < (t - 1) / 8 (tm1 = t - 1);
// else 8k + nb < 8q + r is k < q, or k = q and lane r-1 is empty. (A bad frame's verdict is rule
// 1's whatever these say.)
function len_lt;
    input [31:3] lb;
    input [7:0]  keep;
    input [31:0] t;
    /* verilator lint_off UNUSEDSIGNAL */
    input [31:0] tm1;           // only its multiple-of-8 part
    /* verilator lint_on UNUSEDSIGNAL */
    reg   [2:0]  r;
    begin
        r = t[2:0] - 3'd1;
        if (keep[7])
            len_lt = lb < tm1[31:3];
        else
            len_lt = lb < t[31:3] || (lb == t[31:3] && t[2:0] != 3'd0 && !keep[r]);
    end
endfunction
// the same for t < 2^17 (hz: len_base < 2^17) and t < 128 (hz: len_base < 128), so that the
// compares are as wide as the thresholds
function len_lt17;
    input        hz;
    input [16:3] lb;
    input [7:0]  keep;
    input [16:0] t;
    /* verilator lint_off UNUSEDSIGNAL */
    input [16:0] tm1;
    /* verilator lint_on UNUSEDSIGNAL */
    reg   [2:0]  r;
    begin
        r = t[2:0] - 3'd1;
        if (keep[7])
            len_lt17 = hz && lb < tm1[16:3];
        else
            len_lt17 = hz && (lb < t[16:3] || (lb == t[16:3] && t[2:0] != 3'd0 && !keep[r]));
    end
endfunction
function len_lt7;
    input        hz;
    input [6:3]  lb;
    input [7:0]  keep;
    input [6:0]  t;
    /* verilator lint_off UNUSEDSIGNAL */
    input [6:0]  tm1;
    /* verilator lint_on UNUSEDSIGNAL */
    reg   [2:0]  r;
    begin
        r = t[2:0] - 3'd1;
        if (keep[7])
            len_lt7 = hz && lb < tm1[6:3];
        else
            len_lt7 = hz && (lb < t[6:3] || (lb == t[6:3] && t[2:0] != 3'd0 && !keep[r]));
    end
endfunction
wire        len_hz7 = len_base[31:7] == 25'd0;
wire        len_hz17 = len_base[31:17] == 15'd0;

reg [2:0] e_reason;
always @* begin
    if (e1_dis)                                                  e_reason = R_DISABLED;
    else if (e1_bad)                                             e_reason = R_BAD;
    else if (e1_gtmax || e1_lt14 || (e1_vlan && e1_lt18))        e_reason = R_LENGTH;
    else if (!etype_ok)                                          e_reason = R_NOT_IPV4_UDP;
    else if (e1_lt_ip)                                           e_reason = R_LENGTH;
    else if (!ver_ok)                                            e_reason = R_NOT_IPV4_UDP;
    else if (e1_lt_hend)                                         e_reason = R_LENGTH;
    else if (!pf_ok)                                             e_reason = R_NOT_IPV4_UDP;
    else if (!csum_ok)                                           e_reason = R_CHECKSUM;
    else if (!tot_ok || e1_lt_tot || !ok_r)                      e_reason = R_LENGTH; // 11, 12
    else if (!vm_any)                                            e_reason = R_NO_VENUE;
    else                                                         e_reason = R_OK;
end

// the held payload beat takes the edge first (never two beats on one edge); a whole payload held
// for its decision goes only if the frame passed
wire        pend_go = pend_valid && (!pend_first || pass);
wire        v_e2 = e2_valid && !pend_valid;
wire        v_e1 = e1_valid && !e2_valid && !pend_go;
wire        eof_go = (v_e1 && fwd_live) || (v_e2 && e2_fwd);
wire        eof_sel = e1_valid || e2_valid;   // unless pend_valid: the beat on m_* is an eof beat
wire        m_go = pend_go || eof_go || emit;    // a beat goes out on m_* next cycle

assign busy = in_frame || e1_valid || e2_valid || pend_valid || m_valid || done_valid;

// ---------------------------------------------------------------- sequential
always @(posedge clk) begin
    e1_valid <= 1'b0;

    if (accept) begin
        if (first_beat) begin
            ts_q <= s_axis_ts;
            cyc_frame_q <= cycle;
            dis <= !enable;
            bt <= 11'd1;
        end else begin
            bt <= {bt[10:1], 1'b0};
        end
        in_frame <= !s_axis_tlast;
        len <= len_now;
        bad <= bad_now;
        prev_data <= s_axis_tdata[63:16];
        prev_cyc <= cycle;

        if (s_axis_tlast) begin
            e1_valid <= 1'b1;
            e1_vlan <= (acc_next && bt[1]) ? vlan_here : vlan_r;
            e1_len <= len_now;
            e1_gtmax <= !len_lt(len_base[31:3], s_axis_tkeep, MAX_FRAME_BYTES + 1,
                                MAX_FRAME_BYTES);
            e1_lt14 <= len_lt7(len_hz7, len_base[6:3], s_axis_tkeep, 7'd14, 7'd13);
            e1_lt18 <= len_lt7(len_hz7, len_base[6:3], s_axis_tkeep, 7'd18, 7'd17);
            // the tag matters only past beat 1 (a frame ending on beat 1 is below 34 either way)
            e1_lt_ip <= len_lt7(len_hz7, len_base[6:3], s_axis_tkeep, vlan_r ? 7'd38 : 7'd34,
                                vlan_r ? 7'd37 : 7'd33);
            e1_lt_hend <= len_lt7(len_hz7, len_base[6:3], s_axis_tkeep, hend_r, hend_m1_r);
            e1_lt_tot <= len_lt17(len_hz17, len_base[16:3], s_axis_tkeep, thr_tot_r, thr_tot_m1_r);
            e1_bad <= bad_now;
            e1_dis <= dis_now;
            e1_ts <= first_beat ? s_axis_ts : ts_q;
            e1_cyc_frame <= first_beat ? cycle : cyc_frame_q;
            // a frame that ends without any emitted payload beat opens its stream on the eof beat
            e1_sof <= (first_beat || sof_pending) && !emit && !(cap && tiny_now);
        end
    end

    if (e1_valid && !v_e1) begin
        e2_valid <= 1'b1;
        e2_reason <= e_reason;
        e2_ok <= e_reason == R_OK;
        e2_len <= e1_len;
        e2_fwd <= fwd_live;
        e2_sof <= e1_sof;
        e2_ts <= e1_ts;
        e2_cyc_frame <= e1_cyc_frame;
    end else if (v_e2) begin
        e2_valid <= 1'b0;
    end

    done_valid <= v_e1 || v_e2;
    done_reason <= e2_valid ? e2_reason : e_reason;
    done_bytes <= e2_valid ? e2_len : e1_len;

    // the payload stream: a held beat, an end-of-frame beat or a realigned beat (exclusive)
    m_valid <= m_go;
    m_sof <= (pend_go && pend_first) || (eof_go && (e2_valid ? e2_sof : e1_sof)) ||
             (emit && sof_pending);
    m_eop <= pend_go || (emit && st_eop);
    m_eof <= eof_go;
    m_ok <= eof_go && (e2_valid ? e2_ok : e_reason == R_OK);
    // the beat's fields load in every cycle, with no enable: they are read only with m_valid,
    // and an enable would be m_go, the handshake's LUTs (tready, accept, emit) in front of the
    // clock enables of all 320 of these flip-flops (the ECP5's critical path at 2 x 16: 13.4 ns
    // of its 14.5 were that net's routing). The venue and protocol (5 flip-flops) still load only
    // with a beat: the model then makes the filter picks only for a beat.
    if (m_go) begin
        m_venue <= {pick(cand_r, f_pv_r[2]), pick(cand_r, f_pv_r[1]), pick(cand_r, f_pv_r[0])};
        m_proto <= {pick(cand_r, f_pv_r[4]), pick(cand_r, f_pv_r[3])};
    end
    m_data <= pend_valid ? pend_data : (eof_sel ? 64'd0 : emit_data);
    m_keep <= pend_valid ? pend_keep : (eof_sel ? 8'd0 : st_keep);
    m_len <= plen_r;
    m_ts <= (!pend_valid && eof_sel) ? (e2_valid ? e2_ts : e1_ts) : ts_q;
    m_cyc_frame <= (!pend_valid && eof_sel) ? (e2_valid ? e2_cyc_frame : e1_cyc_frame)
                                            : cyc_frame_q;
    m_cyc_lo <= pend_valid ? pend_cyc : (eof_sel ? cycle : prev_cyc);
    m_cyc_hi <= pend_valid ? pend_cyc : cycle;
    m_split <= (pend_valid || eof_sel) ? 4'd8 : (uo6_r ? 4'd2 : 4'd6);

    if (rst) begin
        in_frame <= 1'b0;
        bt <= 11'd0;
        len <= 32'd0;
        bad <= 1'b0;
        dis <= 1'b0;
        e1_valid <= 1'b0;
        e2_valid <= 1'b0;
        m_valid <= 1'b0;
        m_sof <= 1'b0;
        m_eop <= 1'b0;
        m_eof <= 1'b0;
        m_ok <= 1'b0;
        done_valid <= 1'b0;
    end
end

endmodule

`resetall
