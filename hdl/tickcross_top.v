// tickcross: crossed-market detection from Ethernet frames (DESIGN.md, docs/PIPELINE.md).
//
//   s_axis -> tc_frame_rx -> payload FIFO (bypassed by Binance beats when empty)
//          -> tc_binance_dec (behind a register) / tc_deribit_dec
//          -> tc_lookup (symbols; numbers converted alongside)
//          -> tc_commit -> tc_bind_stage -> tc_quote_detect -> tc_event_ring
// A quote by name whose symbol resolves while nothing older waits skips the commit buffer: the
// quote stage reads its rows at once and applies it when the frame's END proves the frame good.
//
// The host programs the device through the register bus (the BAR): tc_regs. Event records go
// to host memory by DMA (tc_dma_wr: posted writes on m_axis_dma_*). Frames are decoded
// cut-through and committed when their last beat proves them good. s_axis_tready falls only while
// the payload FIFO is nearly full (the Deribit walker holding beats that pack several headers) or
// while tables are being cleared.

`resetall
`timescale 1ns / 1ps
`default_nettype none

`include "hdl/tickcross_contract.vh"
`include "hdl/tc_pipeline.vh"

module tickcross_top #(
    parameter FIFO_BITS = 4,
    // sizes of the build, reported in the BAR (control.n_venues, control.n_instruments,
    // ring.records); the contract's values are the largest the BAR layout allows
    parameter N_VENUES = `TC_N_VENUES,                  // 2..8
    parameter INSTR_BITS = $clog2(`TC_N_INSTRUMENTS),   // 2^INSTR_BITS instruments
    parameter RING_BITS = $clog2(`TC_RING_RECORDS),     // 2^RING_BITS event records
    // Deribit binding slots per venue: docs/PIPELINE.md section 5 (and the software path) use
    // the contract's; another value changes which bindings evict each other
    parameter BIND_BITS = `TC_BIND_BITS,
    parameter COMMIT_BITS = 9,                          // commit buffer records (tc_commit)
    // 1: every block RAM read registered (one more cycle each), for the ECP5 at 156.25 MHz
    parameter MEM_REG = 0,
    // deribit_mcast channel slots per venue: 2^CHAN_BITS (docs/PIPELINE.md section 4a; the
    // software path uses tickcross_swpath::CHAN_BITS)
    parameter CHAN_BITS = 6,
    // 1: two number converters instead of four, each converting two numbers in consecutive
    // cycles (tc_lookup's CONV_SHARE: about 10,600 fewer ECP5 LUT4s). At MEM_REG = 1 it costs
    // the lookup a cycle (its record is registered once more on the way in), at 0 none
    parameter CONV_SHARE = MEM_REG
) (
    input  wire          clk,
    input  wire          rst,

    input  wire [63:0]   s_axis_tdata,
    input  wire [7:0]    s_axis_tkeep,
    input  wire          s_axis_tvalid,
    output wire          s_axis_tready,
    input  wire          s_axis_tlast,
    input  wire          s_axis_tuser,
    input  wire [63:0]   s_axis_ts,        // ingress timestamp, sampled with the first beat

    input  wire          reg_wr_en,
    input  wire [`TC_BAR_ADDR_BITS-1:0] reg_wr_addr,
    input  wire [63:0]   reg_wr_data,
    input  wire          reg_rd_en,
    input  wire [`TC_BAR_ADDR_BITS-1:0] reg_rd_addr,
    output wire [63:0]   reg_rd_data,
    output wire          reg_rd_valid,

    // event records as posted writes into host memory (tc_dma_wr)
    output wire [63:0]   m_axis_dma_addr,
    output wire [511:0]  m_axis_dma_tdata,
    output wire          m_axis_dma_tvalid,
    input  wire          m_axis_dma_tready,
    output wire          m_axis_dma_tlast
);

localparam NC = `TC_N_COUNTERS;
// the converters: latency 3, or 5 for the ECP5's timing; shared ones need a cycle of the
// lookup's record where their inputs are not held back (tc_lookup's IN_REG), which the ECP5
// build's registered read address gives (tc_lookup's ADDR_REG: the same latency, a cycle in the
// middle instead of in front). The ECP5 build also splits the lookup's key compare over two
// cycles (its CMP_REG: a cycle more), so that the speculative start it shows the quote stage
// comes from registers.
localparam CONV_LATENCY = 3 + 2 * MEM_REG;
localparam LK_ADDR_REG = MEM_REG;
localparam LK_CMP_REG = MEM_REG;
localparam LK_IN_REG = (CONV_SHARE != 0 &&
                        CONV_LATENCY == 4 + MEM_REG + LK_ADDR_REG + LK_CMP_REG) ? 1 : 0;
localparam LK_LATENCY = 3 + MEM_REG + LK_ADDR_REG + LK_CMP_REG + LK_IN_REG; // tc_lookup: s_* -> m_*
// venue index width inside the pipeline; the stages before the commit keep the contract's 3 bits
localparam VB = (N_VENUES > 1) ? $clog2(N_VENUES) : 1;

initial begin
    if (CONV_SHARE != 0 && CONV_SHARE != 1) begin
        $error("Error: CONV_SHARE = %0d, must be 0 or 1 (instance %m)", CONV_SHARE);
        $finish;
    end
end

initial begin
    if (N_VENUES < 2 || N_VENUES > `TC_N_VENUES || INSTR_BITS < 1 ||
        (1 << INSTR_BITS) > `TC_N_INSTRUMENTS || RING_BITS < 3 ||
        (1 << RING_BITS) > `TC_RING_RECORDS) begin
        $error("Error: %0d venues x %0d instruments, %0d ring records: at most %0d x %0d, %0d (instance %m)",
               N_VENUES, 1 << INSTR_BITS, 1 << RING_BITS, `TC_N_VENUES, `TC_N_INSTRUMENTS,
               `TC_RING_RECORDS);
        $finish;
    end
end

reg [63:0] cycle;
always @(posedge clk) cycle <= rst ? 64'd0 : cycle + 64'd1;

// ---------------------------------------------------------------- registers
wire          enable;
wire [64*`TC_N_FILTERS-1:0] filter_cfg;
wire [64*N_VENUES-1:0]  venue_cfg;
wire                   cfg_wr;
wire [63:0]   consumer;
wire          sym_wr_en, sym_wr_way, sym_wr_valid, sym_clear, sym_clearing;
wire [`TC_SYM_HASH_BITS-1:0] sym_wr_slot;
wire [2:0]    sym_wr_venue;
wire [7:0]    sym_wr_len, sym_wr_instrument;
wire [255:0]  sym_wr_name;
wire          edge_wr;
wire [INSTR_BITS-1:0] edge_addr, edge_rd_addr;
wire          edge_rd_en, q_rd_en, ring_rd_en;
wire [63:0]   edge_data, edge_rd_data;
wire          clear_req, counters_clear;
wire [63:0]   producer;
wire [63:0]   dma_addr, dma_records, dma_written, room_consumer;
wire          dma_busy;
wire [5:0]    cnt_rd_index;
wire [63:0]   cnt_rd_data;
wire [RING_BITS-1:0] ring_rd_index;
wire [3:0]    ring_rd_word;
wire [63:0]   ring_rd_data;
wire [VB-1:0] q_rd_venue;
wire [2:0]    q_rd_word;
wire [INSTR_BITS-1:0] q_rd_instrument;
wire [63:0]   q_rd_data;

reg           clear_done;
wire          clearing;
wire          idle;

tc_regs #(
    .N_VENUES(N_VENUES), .INSTR_BITS(INSTR_BITS), .RING_BITS(RING_BITS), .VB(VB),
    .MEM_REG(MEM_REG)
) regs (
    .clk(clk), .rst(rst),
    .bus_wr_en(reg_wr_en), .bus_wr_addr(reg_wr_addr), .bus_wr_data(reg_wr_data),
    .bus_rd_en(reg_rd_en), .bus_rd_addr(reg_rd_addr),
    .bus_rd_data(reg_rd_data), .bus_rd_valid(reg_rd_valid),
    .enable(enable), .filter_cfg(filter_cfg), .venue_cfg(venue_cfg), .cfg_wr(cfg_wr),
    .consumer(consumer), .dma_addr(dma_addr), .dma_records(dma_records),
    .sym_wr_en(sym_wr_en), .sym_wr_way(sym_wr_way), .sym_wr_slot(sym_wr_slot),
    .sym_wr_valid(sym_wr_valid), .sym_wr_venue(sym_wr_venue), .sym_wr_len(sym_wr_len),
    .sym_wr_instrument(sym_wr_instrument), .sym_wr_name(sym_wr_name),
    .sym_clear(sym_clear), .sym_clearing(sym_clearing),
    .edge_wr(edge_wr), .edge_addr(edge_addr), .edge_data(edge_data),
    .edge_rd_en(edge_rd_en), .edge_rd_addr(edge_rd_addr), .edge_rd_data(edge_rd_data),
    .clear_req(clear_req), .clear_done(clear_done), .counters_clear(counters_clear),
    .clearing(clearing), .idle(idle), .cycle(cycle), .producer(producer),
    .dma_written(dma_written),
    .cnt_rd_index(cnt_rd_index), .cnt_rd_data(cnt_rd_data),
    .ring_rd_en(ring_rd_en), .ring_rd_index(ring_rd_index), .ring_rd_word(ring_rd_word),
    .ring_rd_data(ring_rd_data),
    .q_rd_en(q_rd_en), .q_rd_venue(q_rd_venue), .q_rd_instrument(q_rd_instrument),
    .q_rd_word(q_rd_word), .q_rd_data(q_rd_data)
);

// ---------------------------------------------------------------- state clearing
// clear_state: stop taking new frames, let the pipeline drain, sweep the tables, resume.
localparam [1:0] CL_IDLE = 2'd0, CL_DRAIN = 2'd1, CL_SWEEP = 2'd2, CL_WAIT = 2'd3;
reg  [1:0] cl_state;
reg        cl_pulse;
wire       q_clearing, b_clearing;
wire       tables_clearing = q_clearing || b_clearing || sym_clearing;
assign clearing = tables_clearing || cl_state != CL_IDLE;

always @(posedge clk) begin
    cl_pulse <= 1'b0;
    clear_done <= 1'b0;
    case (cl_state)
        CL_IDLE:  if (clear_req && !clear_done) cl_state <= CL_DRAIN;
        CL_DRAIN: if (idle) begin
                      cl_pulse <= 1'b1;
                      cl_state <= CL_SWEEP;
                  end
        CL_SWEEP: cl_state <= CL_WAIT;              // the sweeps raise their busy flags
        CL_WAIT:  if (!q_clearing && !b_clearing) begin
                      clear_done <= 1'b1;
                      cl_state <= CL_IDLE;
                  end
        default:  cl_state <= CL_IDLE;
    endcase
    if (rst) begin
        cl_state <= CL_IDLE;
        cl_pulse <= 1'b0;
        clear_done <= 1'b0;
    end
end

// ---------------------------------------------------------------- frame receive
localparam PW = 64 + 8 + 4 + 3 + 2 + 16 + 4*64 + 4;

wire        fr_valid, fr_sof, fr_eop, fr_eof, fr_ok;
wire [63:0] fr_data, fr_ts, fr_cyc_frame, fr_cyc_lo, fr_cyc_hi;
wire [7:0]  fr_keep;
wire [2:0]  fr_venue;
wire [1:0]  fr_proto;
wire [15:0] fr_len;
wire [3:0]  fr_split;
wire        fr_la_valid;
wire [63:0] fr_la_data, fr_la_cyc;
wire        done_valid;
wire [2:0]  done_reason;
wire [31:0] done_bytes;
wire        fr_busy;

wire [FIFO_BITS:0] fifo_count;
wire        fifo_empty;
// room for the beats still in flight inside tc_frame_rx when tready falls
wire        fifo_hold = fifo_count >= (1 << FIFO_BITS) - 5;
wire        new_frame_hold = tables_clearing || cl_state != CL_IDLE;

tc_frame_rx #(
    .N_FILTERS(`TC_N_FILTERS), .N_VENUES(N_VENUES), .MAX_FRAME_BYTES(`TC_MAX_FRAME_BYTES)
) frame_rx (
    .clk(clk), .rst(rst),
    .s_axis_tdata(s_axis_tdata), .s_axis_tkeep(s_axis_tkeep), .s_axis_tvalid(s_axis_tvalid),
    .s_axis_tready(s_axis_tready), .s_axis_tlast(s_axis_tlast), .s_axis_tuser(s_axis_tuser),
    .s_axis_ts(s_axis_ts),
    .cycle(cycle), .enable(enable), .hold(fifo_hold), .hold_new(new_frame_hold),
    .filter_cfg(filter_cfg), .venue_cfg(venue_cfg), .cfg_wr(cfg_wr),
    .m_valid(fr_valid), .m_data(fr_data), .m_keep(fr_keep), .m_sof(fr_sof), .m_eop(fr_eop),
    .m_eof(fr_eof), .m_ok(fr_ok), .m_venue(fr_venue), .m_proto(fr_proto), .m_len(fr_len),
    .m_ts(fr_ts), .m_cyc_frame(fr_cyc_frame), .m_cyc_lo(fr_cyc_lo), .m_cyc_hi(fr_cyc_hi),
    .m_split(fr_split),
    .m_la_valid(fr_la_valid), .m_la_data(fr_la_data), .m_la_cyc(fr_la_cyc),
    .done_valid(done_valid), .done_reason(done_reason), .done_bytes(done_bytes),
    .busy(fr_busy)
);

wire [PW-1:0] head;
wire          pop;
// a Binance beat meeting an empty FIFO goes straight to its decoder (it never waits); everything
// else, and everything behind a waiting beat, goes through the FIFO
wire          bypass = fifo_empty && fr_valid && fr_proto == `TC_PROTO_BINANCE_SBE;

tc_fifo #(.WIDTH(PW), .ADDR_BITS(FIFO_BITS)) payload_fifo (
    .clk(clk), .rst(rst),
    .wr_en(fr_valid && !bypass),
    .wr_data({fr_data, fr_keep, fr_sof, fr_eop, fr_eof, fr_ok, fr_venue, fr_proto, fr_len,
              fr_ts, fr_cyc_frame, fr_cyc_lo, fr_cyc_hi, fr_split}),
    .rd_en(pop), .rd_data(head), .empty(fifo_empty), .count(fifo_count)
);

wire [63:0] h_data, h_ts, h_cyc_frame, h_cyc_lo, h_cyc_hi;
wire [7:0]  h_keep;
wire        h_sof, h_eop, h_eof, h_ok;
wire [2:0]  h_venue;
wire [1:0]  h_proto;
wire [15:0] h_len;
wire [3:0]  h_split;
assign {h_data, h_keep, h_sof, h_eop, h_eof, h_ok, h_venue, h_proto, h_len,
        h_ts, h_cyc_frame, h_cyc_lo, h_cyc_hi, h_split} = head;
// the decoders know the payload length, so they need neither tkeep nor the end-of-payload flag;
// both stay in the FIFO for waveform debugging
wire        unused_head = &{1'b0, h_keep, h_eop};

// ---------------------------------------------------------------- decoders
wire        der_head = !fifo_empty && h_proto == `TC_PROTO_DERIBIT_MCAST;
wire        der_stall;
assign pop = !fifo_empty && !(der_head && der_stall);
// a Binance beat is always taken (only a Deribit head can be held), so this does not wait on the
// Deribit walker's decision; with the FIFO empty it comes from frame_rx directly
wire        bin_in = bypass || (!fifo_empty && h_proto == `TC_PROTO_BINANCE_SBE);
wire        bin_la = bypass && fr_la_valid;

// The Binance decoder's inputs, registered: the FIFO's head (distributed RAM) and the bypass
// choice would otherwise sit in front of the decoder's own paths (LUT levels). Costs a cycle of
// latency on Binance messages; the beat after a registered one is still shown early (bx_la_*).
reg         bx_valid, bx_sof, bx_eof, bx_ok, bx_la_valid;
reg  [63:0] bx_data, bx_ts, bx_cyc_frame, bx_cyc_lo, bx_cyc_hi, bx_la_data, bx_la_cyc;
reg  [2:0]  bx_venue;
reg  [15:0] bx_len;
reg  [3:0]  bx_split;
always @(posedge clk) begin
    bx_valid <= bin_in && !rst;
    bx_la_valid <= bin_la && !rst;
    if (bin_in) begin
        bx_data <= bypass ? fr_data : h_data;
        bx_sof <= bypass ? fr_sof : h_sof;
        bx_eof <= bypass ? fr_eof : h_eof;
        bx_ok <= bypass ? fr_ok : h_ok;
        bx_venue <= bypass ? fr_venue : h_venue;
        bx_len <= bypass ? fr_len : h_len;
        bx_ts <= bypass ? fr_ts : h_ts;
        bx_cyc_frame <= bypass ? fr_cyc_frame : h_cyc_frame;
        bx_cyc_lo <= bypass ? fr_cyc_lo : h_cyc_lo;
        bx_cyc_hi <= bypass ? fr_cyc_hi : h_cyc_hi;
        bx_split <= bypass ? fr_split : h_split;
    end
    if (bin_la) begin
        bx_la_data <= fr_la_data;
        bx_la_cyc <= fr_la_cyc;
    end
end

wire        b_valid, d_valid;
wire [2:0]  b_kind, d_kind, b_venue, d_venue;
wire [31:0] d_id;
wire [255:0] b_name, d_name;
wire [7:0]  b_name_len, d_name_len;
wire [63:0] b_uid;
wire [63:0] b_ts, d_ts, b_cyc_frame, d_cyc_frame, b_cyc_first, d_cyc_first, b_cyc_last, d_cyc_last;
wire        b_ok, d_ok;
wire [`TC_C_BITS-1:0] b_cnt, d_cnt;
wire        b_busy, d_busy;
wire        sq_dup, sq_gap, sq_untracked;
wire [63:0] d_key;
wire        d_kflag;
wire [2:0]  sq_venue;
wire        b_cv, d_cv;
wire [63:0] b_cv0, b_cv1, b_cv2, b_cv3, d_cv0, d_cv1, d_cv2, d_cv3;
wire [7:0]  b_pexp, b_qexp;

tc_binance_dec binance_dec (
    .clk(clk), .rst(rst),
    .in_valid(bx_valid), .in_data(bx_data), .in_sof(bx_sof), .in_eof(bx_eof), .in_ok(bx_ok),
    .in_venue(bx_venue), .in_len(bx_len), .in_ts(bx_ts), .in_cyc_frame(bx_cyc_frame),
    .in_cyc_lo(bx_cyc_lo), .in_cyc_hi(bx_cyc_hi), .in_split(bx_split),
    .in_la_valid(bx_la_valid), .in_la_data(bx_la_data), .in_la_cyc(bx_la_cyc),
    .r_valid(b_valid), .r_kind(b_kind), .r_venue(b_venue), .r_name(b_name),
    .r_name_len(b_name_len), .r_uid(b_uid), .r_ts(b_ts), .r_cyc_frame(b_cyc_frame),
    .r_cyc_first(b_cyc_first), .r_cyc_last(b_cyc_last), .r_ok(b_ok), .r_cnt(b_cnt),
    .cv_valid(b_cv), .cv_v0(b_cv0), .cv_v1(b_cv1), .cv_v2(b_cv2), .cv_v3(b_cv3),
    .cv_pexp(b_pexp), .cv_qexp(b_qexp),
    .busy(b_busy)
);

tc_deribit_dec #(.CHAN_BITS(CHAN_BITS), .MEM_REG(MEM_REG)) deribit_dec (
    .clk(clk), .rst(rst), .clear(cl_pulse),
    .in_valid(der_head), .in_stall(der_stall), .in_data(h_data), .in_sof(h_sof),
    .in_eof(h_eof), .in_ok(h_ok), .in_venue(h_venue), .in_len(h_len), .in_ts(h_ts),
    .in_cyc_frame(h_cyc_frame), .in_cyc_lo(h_cyc_lo), .in_cyc_hi(h_cyc_hi), .in_split(h_split),
    .r_valid(d_valid), .r_kind(d_kind), .r_venue(d_venue), .r_id(d_id), .r_name(d_name),
    .r_name_len(d_name_len), .r_ts(d_ts), .r_cyc_frame(d_cyc_frame), .r_cyc_first(d_cyc_first),
    .r_cyc_last(d_cyc_last), .r_ok(d_ok), .r_cnt(d_cnt), .r_key(d_key), .r_kflag(d_kflag),
    .sq_dup(sq_dup), .sq_gap(sq_gap), .sq_untracked(sq_untracked), .sq_venue(sq_venue),
    .cv_valid(d_cv), .cv_v0(d_cv0), .cv_v1(d_cv1), .cv_v2(d_cv2), .cv_v3(d_cv3),
    .busy(d_busy)
);

// the decoders work on different frames, so at most one emits (or converts) in a cycle
wire        x_valid = b_valid || d_valid;
wire [2:0]  x_kind = b_valid ? b_kind : d_kind;
wire [2:0]  x_venue = b_valid ? b_venue : d_venue;
// the record's feed key (a Binance quote's bookUpdateId; a Deribit record's channel, sequence and
// index, with its flag) goes beside the lookup (which carries a 32-bit id) in a delay line of
// its latency
wire [31:0] x_id = b_valid ? b_uid[31:0] : d_id;
wire [64:0] x_key = b_valid ? {1'b0, b_uid} : {d_kflag, d_key};
wire [255:0] x_name = b_valid ? b_name : d_name;
wire [7:0]  x_name_len = b_valid ? b_name_len : d_name_len;
wire [63:0] x_ts = b_valid ? b_ts : d_ts;
wire [63:0] x_cyc_frame = b_valid ? b_cyc_frame : d_cyc_frame;
wire [63:0] x_cyc_first = b_valid ? b_cyc_first : d_cyc_first;
wire [63:0] x_cyc_last = b_valid ? b_cyc_last : d_cyc_last;
wire        x_ok = b_valid ? b_ok : d_ok;
wire [`TC_C_BITS-1:0] x_cnt = b_valid ? b_cnt : d_cnt;

// ---------------------------------------------------------------- symbols and numbers
wire        sp_valid;
wire [2:0]  sp_venue;
wire [7:0]  sp_instrument;
wire        y_valid, y_hit, y_ok;
wire [2:0]  y_kind, y_venue;
wire [31:0] y_id;
wire [7:0]  y_instrument;
wire [63:0] y_v0, y_v1, y_v2, y_v3, y_ts, y_cyc_frame, y_cyc_first, y_cyc_last;
wire [`TC_C_BITS-1:0] y_cnt;
wire        y_busy;
wire        e_end, e_end_ok;
wire [64:0] y_key;

tc_delay #(.WIDTH(65), .DEPTH(LK_LATENCY)) lookup_key (
    .clk(clk), .in(x_key), .out(y_key)
);

tc_lookup #(.MEM_REG(MEM_REG), .CONV_LATENCY(CONV_LATENCY), .CONV_SHARE(CONV_SHARE),
            .IN_REG(LK_IN_REG), .ADDR_REG(LK_ADDR_REG), .CMP_REG(LK_CMP_REG)) lookup (
    .clk(clk), .rst(rst),
    .wr_en(sym_wr_en), .wr_way(sym_wr_way), .wr_slot(sym_wr_slot), .wr_valid(sym_wr_valid),
    .wr_venue(sym_wr_venue), .wr_len(sym_wr_len), .wr_instrument(sym_wr_instrument),
    .wr_name(sym_wr_name), .clear(sym_clear), .clearing(sym_clearing),
    .s_valid(x_valid), .s_kind(x_kind), .s_venue(x_venue), .s_id(x_id), .s_name(x_name),
    .s_name_len(x_name_len), .s_ts(x_ts), .s_cyc_frame(x_cyc_frame), .s_cyc_first(x_cyc_first),
    .s_cyc_last(x_cyc_last), .s_ok(x_ok), .s_cnt(x_cnt),
    .cv_valid(b_cv || d_cv), .cv_fmt(d_cv),
    .cv_v0(d_cv ? d_cv0 : b_cv0), .cv_v1(d_cv ? d_cv1 : b_cv1),
    .cv_v2(d_cv ? d_cv2 : b_cv2), .cv_v3(d_cv ? d_cv3 : b_cv3),
    .cv_pexp(b_pexp), .cv_qexp(b_qexp),
    .sp_valid(sp_valid), .sp_venue(sp_venue), .sp_instrument(sp_instrument),
    .e_valid(e_end), .e_ok(e_end_ok),
    .m_valid(y_valid), .m_kind(y_kind), .m_venue(y_venue), .m_id(y_id), .m_hit(y_hit),
    .m_instrument(y_instrument), .m_v0(y_v0), .m_v1(y_v1), .m_v2(y_v2), .m_v3(y_v3),
    .m_ts(y_ts), .m_cyc_frame(y_cyc_frame), .m_cyc_first(y_cyc_first), .m_cyc_last(y_cyc_last),
    .m_ok(y_ok), .m_cnt(y_cnt), .busy(y_busy)
);

// ---------------------------------------------------------------- commit
// from here on venues and instruments have the build's widths (the host programs no symbol,
// filter or binding past them, so the dropped high bits are zero)
wire [VB-1:0] y_venue_b = y_venue[VB-1:0];
wire [VB-1:0] sp_venue_b = sp_venue[VB-1:0];
wire [INSTR_BITS-1:0] y_instrument_b = y_instrument[INSTR_BITS-1:0];
wire [INSTR_BITS-1:0] sp_instrument_b = sp_instrument[INSTR_BITS-1:0];
wire        unused_narrowed = &{1'b0, y_venue, sp_venue, y_instrument, sp_instrument};

wire        cnt_valid;
wire [VB-1:0] cnt_venue;
wire [`TC_C_BITS-1:0] cnt;
wire        k_valid, k_ready, k_hit;
wire [2:0]  k_kind;
wire [VB-1:0] k_venue;
wire [31:0] k_id;
wire [63:0] k_key;
wire        k_kflag;
wire [INSTR_BITS-1:0] k_instrument;
wire [63:0] k_v0, k_v1, k_v2, k_v3, k_ts, k_cyc_frame, k_cyc_first, k_cyc_last;
wire        k_busy, k_empty;
wire        sp_claim;

tc_commit #(.ADDR_BITS(COMMIT_BITS), .INSTR_BITS(INSTR_BITS), .VB(VB)) commit (
    .clk(clk), .rst(rst),
    .s_valid(y_valid), .s_kind(y_kind), .s_venue(y_venue_b), .s_id(y_id), .s_key(y_key[63:0]),
    .s_kflag(y_key[64]), .s_hit(y_hit),
    .s_instrument(y_instrument_b), .s_v0(y_v0), .s_v1(y_v1), .s_v2(y_v2), .s_v3(y_v3),
    .s_ts(y_ts), .s_cyc_frame(y_cyc_frame), .s_cyc_first(y_cyc_first), .s_cyc_last(y_cyc_last),
    .s_ok(y_ok), .s_cnt(y_cnt), .s_skip(sp_claim),
    .cnt_valid(cnt_valid), .cnt_venue(cnt_venue), .cnt(cnt),
    .m_valid(k_valid), .m_ready(k_ready), .m_kind(k_kind), .m_venue(k_venue), .m_id(k_id),
    .m_key(k_key), .m_kflag(k_kflag),
    .m_hit(k_hit), .m_instrument(k_instrument), .m_v0(k_v0), .m_v1(k_v1), .m_v2(k_v2),
    .m_v3(k_v3), .m_ts(k_ts), .m_cyc_frame(k_cyc_frame), .m_cyc_first(k_cyc_first),
    .m_cyc_last(k_cyc_last), .empty(k_empty), .busy(k_busy)
);

// ---------------------------------------------------------------- bindings
wire        q_valid, q_ready;
wire [VB-1:0] q_venue;
wire [INSTR_BITS-1:0] q_instrument;
wire [63:0] q_v0, q_v1, q_v2, q_v3, q_ts, q_cyc_frame, q_cyc_first, q_cyc_last;
wire [63:0] q_key;
wire        q_has_uid, q_tracked, q_gap;
wire        inc_unksym, inc_bind, inc_evict;
wire        bd_busy;

tc_bind_stage #(.SLOT_BITS(BIND_BITS), .INSTR_BITS(INSTR_BITS), .VB(VB), .MEM_REG(MEM_REG)) bindings (
    .clk(clk), .rst(rst), .clear(cl_pulse), .clearing(b_clearing),
    .s_valid(k_valid), .s_ready(k_ready), .s_kind(k_kind), .s_venue(k_venue), .s_id(k_id),
    .s_key(k_key), .s_kflag(k_kflag),
    .s_hit(k_hit), .s_instrument(k_instrument), .s_v0(k_v0), .s_v1(k_v1), .s_v2(k_v2),
    .s_v3(k_v3), .s_ts(k_ts), .s_cyc_frame(k_cyc_frame), .s_cyc_first(k_cyc_first),
    .s_cyc_last(k_cyc_last),
    .m_valid(q_valid), .m_ready(q_ready), .m_venue(q_venue), .m_instrument(q_instrument),
    .m_key(q_key), .m_has_uid(q_has_uid), .m_tracked(q_tracked), .m_gap(q_gap),
    .m_v0(q_v0), .m_v1(q_v1), .m_v2(q_v2), .m_v3(q_v3), .m_ts(q_ts),
    .m_cyc_frame(q_cyc_frame), .m_cyc_first(q_cyc_first), .m_cyc_last(q_cyc_last),
    .inc_unknown_symbol(inc_unksym), .inc_bind(inc_bind), .inc_eviction(inc_evict),
    .busy(bd_busy)
);

// ---------------------------------------------------------------- quotes and detection
wire        ev_valid, ev_trigger_sell;
wire [INSTR_BITS-1:0] ev_instrument;
wire [VB-1:0] ev_buy_venue, ev_sell_venue, ev_trigger_venue;
wire [63:0] ev_buy_px, ev_buy_qty, ev_sell_px, ev_sell_qty, ev_qty, ev_ts, ev_buy_ts, ev_sell_ts;
wire [63:0] ev_cyc_frame, ev_cyc_first, ev_cyc_last, ev_feed_key;
wire        ev2_valid, ev2_trigger_sell;
wire [VB-1:0] ev2_buy_venue, ev2_sell_venue;
wire [63:0] ev2_buy_px, ev2_buy_qty, ev2_sell_px, ev2_sell_qty, ev2_qty, ev2_buy_ts, ev2_sell_ts;
wire        inc_update, inc_ooo, qd_busy;
wire        sp_take;
// the first END record behind a speculative quote is its frame's (one message per Binance frame);
// the lookup shows it on e_* as far behind sp_* as it was behind the quote

tc_quote_detect #(.N_VENUES(N_VENUES), .INSTR_BITS(INSTR_BITS), .CHAN_BITS(CHAN_BITS),
                  .MEM_REG(MEM_REG)) quotes (
    .clk(clk), .rst(rst), .clear(cl_pulse), .clearing(q_clearing),
    .s_valid(q_valid), .s_ready(q_ready), .s_venue(q_venue), .s_instrument(q_instrument),
    .s_bid_px(q_v0), .s_bid_qty(q_v1), .s_ask_px(q_v2), .s_ask_qty(q_v3), .s_ts(q_ts),
    .s_cyc_frame(q_cyc_frame), .s_cyc_first(q_cyc_first), .s_cyc_last(q_cyc_last),
    .s_key(q_key), .s_has_uid(q_has_uid), .s_tracked(q_tracked), .s_gap(q_gap),
    .sp_valid(sp_valid), .sp_allow(k_empty && !bd_busy), .sp_take(sp_take), .sp_claim(sp_claim),
    .sp_venue(sp_venue_b), .sp_instrument(sp_instrument_b),
    .l2_kind(y_kind), .l2_bid_px(y_v0), .l2_bid_qty(y_v1), .l2_ask_px(y_v2), .l2_ask_qty(y_v3),
    .l2_ts(y_ts), .l2_cyc_frame(y_cyc_frame), .l2_cyc_first(y_cyc_first),
    .l2_cyc_last(y_cyc_last), .l2_key(y_key[63:0]), .x_end_valid(e_end), .x_end_ok(e_end_ok),
    .edge_wr(edge_wr), .edge_addr(edge_addr), .edge_data(edge_data),
    .q_rd_en(q_rd_en), .q_rd_venue(q_rd_venue), .q_rd_instrument(q_rd_instrument),
    .q_rd_word(q_rd_word), .q_rd_data(q_rd_data),
    .e_rd_en(edge_rd_en), .e_rd_addr(edge_rd_addr), .e_rd_data(edge_rd_data),
    .ev_valid(ev_valid), .ev_instrument(ev_instrument), .ev_buy_venue(ev_buy_venue),
    .ev_sell_venue(ev_sell_venue), .ev_trigger_venue(ev_trigger_venue),
    .ev_trigger_sell(ev_trigger_sell), .ev_buy_px(ev_buy_px), .ev_buy_qty(ev_buy_qty),
    .ev_sell_px(ev_sell_px), .ev_sell_qty(ev_sell_qty), .ev_qty(ev_qty), .ev_ts(ev_ts),
    .ev_buy_ts(ev_buy_ts), .ev_sell_ts(ev_sell_ts), .ev_cyc_frame(ev_cyc_frame),
    .ev_cyc_first(ev_cyc_first), .ev_cyc_last(ev_cyc_last), .ev_feed_key(ev_feed_key),
    .ev2_valid(ev2_valid), .ev2_buy_venue(ev2_buy_venue), .ev2_sell_venue(ev2_sell_venue),
    .ev2_trigger_sell(ev2_trigger_sell), .ev2_buy_px(ev2_buy_px), .ev2_buy_qty(ev2_buy_qty),
    .ev2_sell_px(ev2_sell_px), .ev2_sell_qty(ev2_sell_qty), .ev2_qty(ev2_qty),
    .ev2_buy_ts(ev2_buy_ts), .ev2_sell_ts(ev2_sell_ts),
    .inc_update(inc_update), .inc_out_of_order(inc_ooo), .busy(qd_busy)
);
// sp_take is for waveforms: the speculative start is visible there
wire        unused_sp = &{1'b0, sp_take};

// ---------------------------------------------------------------- event ring
wire [1:0] inc_event, inc_overflow;

wire          rr_en;
wire [511:0]  ring_rd_half;
wire [RING_BITS-1:0] rr_index;
wire [3:0]    rr_word;

tc_event_ring #(.ADDR_BITS(RING_BITS), .INSTR_BITS(INSTR_BITS), .VB(VB), .MEM_REG(MEM_REG)) ring (
    .clk(clk), .rst(rst), .clear(cl_pulse), .cycle(cycle), .consumer(room_consumer),
    .ev_valid(ev_valid), .ev_instrument(ev_instrument), .ev_buy_venue(ev_buy_venue),
    .ev_sell_venue(ev_sell_venue), .ev_trigger_venue(ev_trigger_venue),
    .ev_trigger_sell(ev_trigger_sell), .ev_buy_px(ev_buy_px), .ev_buy_qty(ev_buy_qty),
    .ev_sell_px(ev_sell_px), .ev_sell_qty(ev_sell_qty), .ev_qty(ev_qty), .ev_ts(ev_ts),
    .ev_buy_ts(ev_buy_ts), .ev_sell_ts(ev_sell_ts), .ev_cyc_frame(ev_cyc_frame),
    .ev_cyc_first(ev_cyc_first), .ev_cyc_last(ev_cyc_last), .ev_feed_key(ev_feed_key),
    .ev2_valid(ev2_valid), .ev2_buy_venue(ev2_buy_venue), .ev2_sell_venue(ev2_sell_venue),
    .ev2_trigger_sell(ev2_trigger_sell), .ev2_buy_px(ev2_buy_px), .ev2_buy_qty(ev2_buy_qty),
    .ev2_sell_px(ev2_sell_px), .ev2_sell_qty(ev2_sell_qty), .ev2_qty(ev2_qty),
    .ev2_buy_ts(ev2_buy_ts), .ev2_sell_ts(ev2_sell_ts),
    .producer(producer), .inc_event(inc_event), .inc_overflow(inc_overflow),
    .rd_en(rr_en), .rd_index(rr_index), .rd_word(rr_word), .rd_data(ring_rd_data),
    .rd_half(ring_rd_half)
);

// ---------------------------------------------------------------- DMA into host memory
// (the ring's read port is the engine's, except in cycles the BAR reads the ring window)
tc_dma_wr #(.ADDR_BITS(RING_BITS), .MEM_REG(MEM_REG)) dma (
    .clk(clk), .rst(rst), .clear(cl_pulse),
    .cfg_addr(dma_addr), .cfg_records(dma_records), .consumer(consumer),
    .room_consumer(room_consumer), .producer(producer), .written(dma_written), .busy(dma_busy),
    .bar_rd_en(ring_rd_en), .bar_rd_index(ring_rd_index), .bar_rd_word(ring_rd_word),
    .ring_rd_en(rr_en), .ring_rd_index(rr_index), .ring_rd_word(rr_word),
    .ring_rd_half(ring_rd_half),
    .m_axis_dma_addr(m_axis_dma_addr), .m_axis_dma_tdata(m_axis_dma_tdata),
    .m_axis_dma_tvalid(m_axis_dma_tvalid), .m_axis_dma_tready(m_axis_dma_tready),
    .m_axis_dma_tlast(m_axis_dma_tlast)
);

// records between stages count too: a stage's busy covers only what it holds
assign idle = !fr_busy && fifo_empty && !bx_valid && !b_busy && !d_busy && !x_valid &&
              !y_busy && !k_busy && !bd_busy && !qd_busy && !dma_busy;

// ---------------------------------------------------------------- counters
// a cycle the wire's beat waited, counted a cycle later: the handshake's LUTs (tvalid, tready)
// then feed a register beside frame_rx instead of the counter's 64-bit clock enable
reg         wire_stall;
always @(posedge clk)
    wire_stall <= s_axis_tvalid && !s_axis_tready && !rst;

tc_counters #(.N(NC), .VB(VB)) counters (
    .clk(clk), .rst(rst), .clear(counters_clear),
    .done_valid(done_valid), .done_reason(done_reason), .done_bytes(done_bytes),
    .cnt_valid(cnt_valid), .cnt_venue(cnt_venue), .cnt(cnt),
    .inc_unknown_symbol(inc_unksym), .inc_bind(inc_bind), .inc_eviction(inc_evict),
    .inc_update(inc_update), .inc_event(inc_event), .inc_overflow(inc_overflow),
    .inc_stall(wire_stall), .inc_out_of_order(inc_ooo),
    .inc_duplicate(sq_dup), .inc_untracked(sq_untracked), .inc_gap(sq_gap), .gap_venue(sq_venue),
    .rd_index(cnt_rd_index), .rd_data(cnt_rd_data)
);

endmodule

`resetall
