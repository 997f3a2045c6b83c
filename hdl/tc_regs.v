// The BAR: register blocks (bindings/contract.toml), the event ring and quote windows, and the
// command mailbox. The ring window is for debugging: the host takes events from host memory
// (tc_dma_wr, block dma).
//
// Bus: 64-bit registers, byte addresses (8-byte aligned). A write takes effect at the second clock
// edge after it (a read issued on the next cycle sees it); a read returns data three cycles after
// it is issued, four with MEM_REG = 1 (the windows' block RAM reads are registered) (rd_valid). The
// read pipeline is the same for every address, so reads return in order. Every block starts with its header:
// {version, type} then the offset of the next block, so software discovers the map by walking it.
//
// Commands: a write to control.cmd starts opcode `opcode` with sequence `seq`; control.cmd_done
// echoes `seq` when it has finished (with the error bit for an unknown opcode). Writes to cmd while
// a command runs are ignored: the host waits for the echo.

`resetall
`timescale 1ns / 1ps
`default_nettype none

`include "hdl/tickcross_contract.vh"

module tc_regs #(
    parameter AW = `TC_BAR_ADDR_BITS,
    parameter N_COUNTERS = `TC_N_COUNTERS,
    // the built sizes, reported in control.n_venues, control.n_instruments and ring.records
    parameter N_VENUES = `TC_N_VENUES,       // 2..`TC_N_VENUES
    parameter INSTR_BITS = 8,                // 2^INSTR_BITS instruments, up to `TC_N_INSTRUMENTS
    parameter RING_BITS = 10,                // 2^RING_BITS ring records, up to `TC_RING_RECORDS
    parameter VB = 3,                        // venue index width, clog2(N_VENUES)
    parameter MEM_REG = 0                    // 1: the windows' reads take a cycle more
) (
    input  wire          clk,
    input  wire          rst,

    input  wire          bus_wr_en,
    input  wire [AW-1:0] bus_wr_addr,
    input  wire [63:0]   bus_wr_data,
    input  wire          bus_rd_en,
    input  wire [AW-1:0] bus_rd_addr,
    output reg  [63:0]   bus_rd_data,
    output reg           bus_rd_valid,

    // configuration
    output reg           enable,
    output reg  [64*`TC_N_FILTERS-1:0] filter_cfg,
    output reg  [64*N_VENUES-1:0]  venue_cfg,
    output reg           cfg_wr,         // filter/venue_cfg written or reset on the last edge
    output reg  [63:0]   consumer,
    output reg  [63:0]   dma_addr,       // dma.addr, dma.records (taken by tc_dma_wr at clear)
    output reg  [63:0]   dma_records,

    // symbol table writes
    output reg           sym_wr_en,
    output reg           sym_wr_way,
    output reg  [`TC_SYM_HASH_BITS-1:0] sym_wr_slot,
    output wire          sym_wr_valid,
    output wire [2:0]    sym_wr_venue,
    output wire [7:0]    sym_wr_len,
    output wire [7:0]    sym_wr_instrument,
    output wire [255:0]  sym_wr_name,
    output reg           sym_clear,
    input  wire          sym_clearing,

    // edges
    output reg           edge_wr,
    output reg  [INSTR_BITS-1:0] edge_addr,
    output reg  [63:0]   edge_data,
    output wire          edge_rd_en,
    output wire [INSTR_BITS-1:0] edge_rd_addr,
    input  wire [63:0]   edge_rd_data,

    // state clearing (performed by the top level once the pipeline is idle)
    output reg           clear_req,
    input  wire          clear_done,
    output reg           counters_clear,

    // status
    input  wire          clearing,
    input  wire          idle,
    input  wire [63:0]   cycle,
    input  wire [63:0]   producer,
    input  wire [63:0]   dma_written,
    output wire [5:0]    cnt_rd_index,
    input  wire [63:0]   cnt_rd_data,

    // windows (data 1 + MEM_REG cycles after the address)
    output wire          ring_rd_en,
    output wire [RING_BITS-1:0] ring_rd_index,
    output wire [3:0]    ring_rd_word,
    input  wire [63:0]   ring_rd_data,
    output wire          q_rd_en,
    output wire [VB-1:0] q_rd_venue,
    output wire [INSTR_BITS-1:0] q_rd_instrument,
    output wire [2:0]    q_rd_word,
    input  wire [63:0]   q_rd_data
);

localparam N_INSTR = 1 << INSTR_BITS;
localparam RING_RECORDS = 1 << RING_BITS;
localparam REC_SHIFT = $clog2(8 * `TC_RECORD_WORDS);       // byte offset bits of a ring record
localparam Q_SHIFT = $clog2(`TC_QUOTE_ENTRY_BYTES);        // ... of a quote entry
// the parts of the windows that hold something in this build; the rest reads as zero
localparam RING_BYTES = RING_RECORDS << REC_SHIFT;
localparam QUOTE_BYTES = (N_VENUES * N_INSTR) << Q_SHIFT;
// ends of the stored ranges, as bus addresses; the reported sizes, as register values
// (selects, not plain copies: a parameter set from outside is a sized 32-bit value)
localparam [AW-1:0] VENUE_END = `TC_REG_VENUES_VENUE + {N_VENUES[AW-4:0], 3'b000};
localparam [AW-1:0] EDGE_END = `TC_REG_EDGES_EDGE + 8 * N_INSTR;
localparam [AW-1:0] RING_END = `TC_WIN_RING_BASE + RING_BYTES;
localparam [AW-1:0] QUOTE_END = `TC_WIN_QUOTES_BASE + QUOTE_BYTES[AW-1:0];
localparam [63:0] N_VENUES_REG = {56'd0, N_VENUES[7:0]};
localparam [63:0] N_INSTR_REG = N_INSTR;
localparam [63:0] RING_RECORDS_REG = RING_RECORDS;

initial begin
    if (N_VENUES < 2 || N_VENUES > `TC_N_VENUES) begin
        $error("Error: N_VENUES = %0d, must be 2..%0d (instance %m)", N_VENUES, `TC_N_VENUES);
        $finish;
    end
    if (INSTR_BITS < 1 || N_INSTR > `TC_N_INSTRUMENTS || N_INSTR > `TC_REG_EDGES_EDGE_COUNT) begin
        $error("Error: INSTR_BITS = %0d, at most %0d instruments (instance %m)", INSTR_BITS,
               `TC_N_INSTRUMENTS);
        $finish;
    end
    if (RING_BITS < 3 || RING_RECORDS > `TC_RING_RECORDS || RING_BYTES > `TC_WIN_RING_BYTES) begin
        $error("Error: RING_BITS = %0d, 8..%0d records (instance %m)", RING_BITS, `TC_RING_RECORDS);
        $finish;
    end
    if (MEM_REG != 0 && MEM_REG != 1) begin
        $error("Error: MEM_REG = %0d, must be 0 or 1 (instance %m)", MEM_REG);
        $finish;
    end
    if (VB != ((N_VENUES > 1) ? $clog2(N_VENUES) : 1) || QUOTE_BYTES > `TC_WIN_QUOTES_BYTES ||
        `TC_QUOTE_ENTRY_BYTES != (1 << Q_SHIFT)) begin
        $error("Error: VB = %0d does not fit N_VENUES or the quote window (instance %m)", VB);
        $finish;
    end
end

// ---------------------------------------------------------------- host-written registers
reg [63:0] stage_name [0:3];
reg [63:0] stage_meta;
reg [63:0] cmd;
reg [63:0] cmd_done;

assign sym_wr_name = {stage_name[3], stage_name[2], stage_name[1], stage_name[0]};
assign sym_wr_len = stage_meta[`TC_REG_SYMBOLS_STAGE_META_LEN_LSB +: 8];
assign sym_wr_venue = stage_meta[`TC_REG_SYMBOLS_STAGE_META_VENUE_LSB +: 3];
assign sym_wr_instrument = stage_meta[`TC_REG_SYMBOLS_STAGE_META_INSTRUMENT_LSB +: 8];
assign sym_wr_valid = stage_meta[`TC_REG_SYMBOLS_STAGE_META_VALID_LSB];

// Writes take two cycles (LUT levels): the cycle of the write decodes its address into one
// strobe per register (each a compare with a constant), registered with the data; the next applies
// it. A read issued on the cycle after a write selects its data a cycle later still, so it sees
// the new value. The edge memory's write port is driven from the first register (as before).
reg                       w_ctrl, w_meta, w_consumer, w_cmd, w_dma_addr, w_dma_records;
reg  [`TC_N_FILTERS-1:0]  w_filter;
reg  [N_VENUES-1:0]       w_venue;
reg  [3:0]                w_name;
reg  [63:0]               w_data;
wire [AW-1:0] wa = bus_wr_addr;
/* verilator lint_off UNUSEDSIGNAL */
wire [AW-1:0] wa_edge = (wa - `TC_REG_EDGES_EDGE) >> 3;
/* verilator lint_on UNUSEDSIGNAL */

// the strobe of the register at byte address a
function hit;
    input [AW-1:0] a;
    begin
        hit = bus_wr_en && wa == a;
    end
endfunction
// ... of register n of the array at byte address base (8 bytes apart)
function hit_n;
    input [AW-1:0] base;
    input integer  n;
    /* verilator lint_off UNUSEDSIGNAL */
    reg   [31:0]   a;
    /* verilator lint_on UNUSEDSIGNAL */
    begin
        a = {{(32-AW){1'b0}}, base} + 8 * n;
        hit_n = bus_wr_en && wa == a[AW-1:0];
    end
endfunction

// The indexed strobes compare only in a cycle that writes: the same logic (each strobe is its
// compare and the write enable), but a Verilated model then skips them in the other cycles.
integer gi;
always @(posedge clk) begin
    w_filter <= {`TC_N_FILTERS{1'b0}};
    w_venue <= {N_VENUES{1'b0}};
    w_name <= 4'd0;
    if (bus_wr_en && !rst) begin
        for (gi = 0; gi < `TC_N_FILTERS; gi = gi + 1)
            if (hit_n(`TC_REG_VENUES_FILTER, gi))
                w_filter[gi] <= 1'b1;
        // venues past the built size are not stored (they read back as zero)
        for (gi = 0; gi < N_VENUES; gi = gi + 1)
            if (hit_n(`TC_REG_VENUES_VENUE, gi))
                w_venue[gi] <= 1'b1;
        for (gi = 0; gi < `TC_REG_SYMBOLS_STAGE_NAME_COUNT; gi = gi + 1)
            if (hit_n(`TC_REG_SYMBOLS_STAGE_NAME, gi))
                w_name[gi] <= 1'b1;
    end
end

always @(posedge clk) begin
    w_ctrl <= hit(`TC_REG_CONTROL_CTRL);
    w_meta <= hit(`TC_REG_SYMBOLS_STAGE_META);
    w_consumer <= hit(`TC_REG_RING_CONSUMER);
    w_dma_addr <= hit(`TC_REG_DMA_ADDR);
    w_dma_records <= hit(`TC_REG_DMA_RECORDS);
    w_cmd <= hit(`TC_REG_CONTROL_CMD);
    w_data <= bus_wr_data;
    // edges past the built size are not stored (they read back as zero)
    edge_wr <= bus_wr_en && wa >= `TC_REG_EDGES_EDGE && wa < EDGE_END;
    if (bus_wr_en) begin
        edge_addr <= wa_edge[INSTR_BITS-1:0];
        edge_data <= bus_wr_data;
    end
    if (rst) begin
        w_ctrl <= 1'b0;
        w_meta <= 1'b0;
        w_consumer <= 1'b0;
        w_dma_addr <= 1'b0;
        w_dma_records <= 1'b0;
        w_cmd <= 1'b0;
        edge_wr <= 1'b0;
    end
end

// ---------------------------------------------------------------- command engine
localparam [1:0] C_IDLE = 2'd0, C_WAIT_SYM = 2'd1, C_WAIT_CLEAR = 2'd2;
reg  [1:0]  cstate;
reg  [15:0] cmd_seq;
reg         cmd_wait;      // one cycle for a started clear to raise its busy flag

wire [7:0]  op = w_data[`TC_REG_CONTROL_CMD_OPCODE_LSB +: 8];
/* verilator lint_off UNUSEDSIGNAL */
wire [31:0] arg = w_data[`TC_REG_CONTROL_CMD_ARG_LSB +: 32];   // {way[16], slot}
/* verilator lint_on UNUSEDSIGNAL */
wire        cmd_wr = w_cmd && cstate == C_IDLE;
integer     k;

// a configuration write (or reset) lands on the next edge; tc_frame_rx samples a cycle later
always @(posedge clk)
    cfg_wr <= rst || |w_filter || |w_venue;

always @(posedge clk) begin
    sym_wr_en <= 1'b0;
    sym_clear <= 1'b0;
    counters_clear <= 1'b0;
    cmd_wait <= 1'b0;

    if (w_ctrl)
        enable <= w_data[`TC_REG_CONTROL_CTRL_ENABLE_LSB];
    for (k = 0; k < `TC_N_FILTERS; k = k + 1)
        if (w_filter[k])
            filter_cfg[64 * k +: 64] <= w_data;
    for (k = 0; k < N_VENUES; k = k + 1)
        if (w_venue[k])
            venue_cfg[64 * k +: 64] <= w_data;
    for (k = 0; k < `TC_REG_SYMBOLS_STAGE_NAME_COUNT; k = k + 1)
        if (w_name[k])
            stage_name[k] <= w_data;
    if (w_meta)
        stage_meta <= w_data;
    if (w_consumer)
        consumer <= w_data;
    if (w_dma_addr)
        dma_addr <= w_data;
    if (w_dma_records)
        dma_records <= w_data;
    if (cmd_wr)
        cmd <= w_data;

    case (cstate)
        C_IDLE: begin
            if (cmd_wr) begin
                cmd_seq <= w_data[`TC_REG_CONTROL_CMD_SEQ_LSB +: 16];
                case (op)
                    `TC_OP_RESET_COUNTERS: begin
                        counters_clear <= 1'b1;
                        cmd_done <= {47'd0, 1'b0, w_data[15:0]};
                    end
                    // (done once the table has taken it: a write waits for a cycle without
                    // a lookup, and the staged name must hold still until then)
                    `TC_OP_WRITE_SYMBOL: begin
                        sym_wr_en <= 1'b1;
                        sym_wr_way <= arg[16];
                        sym_wr_slot <= arg[`TC_SYM_HASH_BITS-1:0];
                        cmd_wait <= 1'b1;
                        cstate <= C_WAIT_SYM;
                    end
                    `TC_OP_CLEAR_SYMBOLS: begin
                        sym_clear <= 1'b1;
                        cmd_wait <= 1'b1;
                        cstate <= C_WAIT_SYM;
                    end
                    `TC_OP_CLEAR_STATE: begin
                        clear_req <= 1'b1;
                        cstate <= C_WAIT_CLEAR;
                    end
                    default: cmd_done <= {47'd0, 1'b1, w_data[15:0]};
                endcase
            end
        end
        C_WAIT_SYM: begin
            if (!cmd_wait && !sym_clearing) begin
                cmd_done <= {48'd0, cmd_seq};
                cstate <= C_IDLE;
            end
        end
        C_WAIT_CLEAR: begin
            if (clear_done) begin
                clear_req <= 1'b0;
                consumer <= 64'd0;
                cmd_done <= {48'd0, cmd_seq};
                cstate <= C_IDLE;
            end
        end
        default: cstate <= C_IDLE;
    endcase

    if (rst) begin
        enable <= 1'b0;
        filter_cfg <= {64*`TC_N_FILTERS{1'b0}};
        venue_cfg <= {64*N_VENUES{1'b0}};
        consumer <= 64'd0;
        dma_addr <= 64'd0;
        dma_records <= 64'd0;
        stage_meta <= 64'd0;
        cmd <= 64'd0;
        cmd_done <= 64'd0;
        cstate <= C_IDLE;
        clear_req <= 1'b0;
        sym_wr_en <= 1'b0;
        sym_clear <= 1'b0;
        counters_clear <= 1'b0;
    end
end

// ---------------------------------------------------------------- reads
// cycle 0: window addresses go to their memories; cycle 1 (2 with MEM_REG): select; then data out
// (counted from the cycle after the read is issued)
// cycle -1: the address is decoded into window strobes, registered with it (the decode's compares
// and the memories' enables and port sharing behind them would otherwise be one path)
wire [AW-1:0] ba = bus_rd_addr;
reg          r0_en, r0_ring, r0_quotes, r0_edges;
reg [AW-1:0] r0_addr;
always @(posedge clk) begin
    r0_en <= bus_rd_en && !rst;
    r0_ring <= bus_rd_en && !rst && ba >= `TC_WIN_RING_BASE && ba < RING_END;
    r0_quotes <= bus_rd_en && !rst && ba >= `TC_WIN_QUOTES_BASE && ba < QUOTE_END;
    r0_edges <= bus_rd_en && !rst && ba >= `TC_REG_EDGES_EDGE && ba < EDGE_END;
    r0_addr <= ba;
end
wire [AW-1:0] ra = r0_addr;
assign ring_rd_en = r0_ring;
assign q_rd_en = r0_quotes;
assign edge_rd_en = r0_edges;
// the windows are aligned to their size: offsets within them are the address's low bits
assign ring_rd_index = ra[REC_SHIFT +: RING_BITS];
assign ring_rd_word = ra[6:3];
assign q_rd_venue = ra[Q_SHIFT + INSTR_BITS +: VB];
assign q_rd_instrument = ra[Q_SHIFT +: INSTR_BITS];
assign q_rd_word = ra[5:3];
/* verilator lint_off UNUSEDSIGNAL */
wire [AW-1:0] ra_edge = (ra - `TC_REG_EDGES_EDGE) >> 3;
/* verilator lint_on UNUSEDSIGNAL */
assign edge_rd_addr = ra_edge[INSTR_BITS-1:0];

reg          r1_en;
reg [AW-1:0] r1_addr;
// the select stage: r1 (MEM_REG = 0) or a register after it, as the windows' data is later
wire          rs_en;
wire [AW-1:0] rs_addr;
// The select stage's decode of the windows (the address ranges and word indices of the register
// arrays): its compares and subtractions are carry chains. RD_* are its fields.
localparam RD_W = 7 + 6 + 4 + 3 + 2;
function [RD_W-1:0] rd_decode;
    input [AW-1:0] a;
    /* verilator lint_off UNUSEDSIGNAL */
    reg [AW-1:0] c, f, v, n;
    /* verilator lint_on UNUSEDSIGNAL */
    begin
        c = (a - `TC_REG_COUNTERS_COUNTER) >> 3;
        f = (a - `TC_REG_VENUES_FILTER) >> 3;
        v = (a - `TC_REG_VENUES_VENUE) >> 3;
        n = (a - `TC_REG_SYMBOLS_STAGE_NAME) >> 3;
        rd_decode = {a >= `TC_REG_COUNTERS_COUNTER && a < `TC_REG_COUNTERS_COUNTER + 8 * N_COUNTERS,
                     a >= `TC_REG_VENUES_FILTER &&
                         a < `TC_REG_VENUES_FILTER + 8 * `TC_REG_VENUES_FILTER_COUNT,
                     a >= `TC_REG_VENUES_VENUE && a < VENUE_END,
                     a >= `TC_REG_SYMBOLS_STAGE_NAME &&
                         a < `TC_REG_SYMBOLS_STAGE_NAME + 8 * `TC_REG_SYMBOLS_STAGE_NAME_COUNT,
                     a >= `TC_REG_EDGES_EDGE && a < EDGE_END,
                     a >= `TC_WIN_RING_BASE && a < RING_END,
                     a >= `TC_WIN_QUOTES_BASE && a < QUOTE_END,
                     c[5:0], f[3:0], v[2:0], n[1:0]};
    end
endfunction
wire [RD_W-1:0] rd_dec;
generate
    if (MEM_REG != 0) begin : rd_delay
        // the decode made from r1's address and registered with it (this stage only delays the
        // address, for the windows' block RAM reads): the select stage then starts from
        // registers, with no carry chain in front of its muxes (the counters' 64-way read mux
        // behind the index's subtraction was the whole 2 x 16 ECP5 build's critical path)
        reg          r2_en;
        reg [AW-1:0] r2_addr;
        reg [RD_W-1:0] r2_dec;
        always @(posedge clk) begin
            r2_en <= rst ? 1'b0 : r1_en;
            r2_addr <= r1_addr;
            r2_dec <= rd_decode(r1_addr);
        end
        assign rs_en = r2_en;
        assign rs_addr = r2_addr;
        assign rd_dec = r2_dec;
    end else begin : rd_direct
        assign rs_en = r1_en;
        assign rs_addr = r1_addr;
        assign rd_dec = rd_decode(r1_addr);
    end
endgenerate
wire          in_cnt    = rd_dec[RD_W-1];
wire          in_filter = rd_dec[RD_W-2];
wire          in_venue  = rd_dec[RD_W-3];
wire          in_stage  = rd_dec[RD_W-4];
wire          in_edge   = rd_dec[RD_W-5];
wire          in_ring   = rd_dec[RD_W-6];
wire          in_quote  = rd_dec[RD_W-7];
wire [3:0]    filter_idx = rd_dec[8:5];
wire [2:0]    venue_idx  = rd_dec[4:2];
wire [1:0]    stage_idx  = rd_dec[1:0];
assign cnt_rd_index = rd_dec[14:9];

function [63:0] hdr0;
    input [31:0] t;
    input [31:0] v;
    begin
        hdr0 = {v, t};
    end
endfunction

reg [63:0] rv;
always @* begin
    rv = 64'd0;
    case (rs_addr)
        `TC_BLK_CONTROL_BASE:          rv = hdr0(`TC_BLK_CONTROL_TYPE, `TC_BLK_CONTROL_VERSION);
        `TC_BLK_CONTROL_BASE + 8:      rv = {{(64-AW){1'b0}}, `TC_BLK_CONTROL_NEXT};
        `TC_REG_CONTROL_N_VENUES:      rv = N_VENUES_REG;
        `TC_REG_CONTROL_N_INSTRUMENTS: rv = N_INSTR_REG;
        `TC_REG_CONTROL_N_FILTERS:     rv = `TC_N_FILTERS;
        `TC_REG_CONTROL_MAX_FRAME_BYTES: rv = `TC_MAX_FRAME_BYTES;
        `TC_REG_CONTROL_CTRL:          rv = {63'd0, enable};
        `TC_REG_CONTROL_STATUS:        rv = ({63'd0, clearing} << `TC_REG_CONTROL_STATUS_CLEARING_LSB) |
                                            ({63'd0, idle} << `TC_REG_CONTROL_STATUS_IDLE_LSB);
        `TC_REG_CONTROL_CMD:           rv = cmd;
        `TC_REG_CONTROL_CMD_DONE:      rv = cmd_done;
        `TC_BLK_CLOCK_BASE:            rv = hdr0(`TC_BLK_CLOCK_TYPE, `TC_BLK_CLOCK_VERSION);
        `TC_BLK_CLOCK_BASE + 8:        rv = {{(64-AW){1'b0}}, `TC_BLK_CLOCK_NEXT};
        `TC_REG_CLOCK_CYCLES:          rv = cycle;
        `TC_REG_CLOCK_NOMINAL_HZ:      rv = `TC_CLOCK_HZ;
        `TC_BLK_COUNTERS_BASE:         rv = hdr0(`TC_BLK_COUNTERS_TYPE, `TC_BLK_COUNTERS_VERSION);
        `TC_BLK_COUNTERS_BASE + 8:     rv = {{(64-AW){1'b0}}, `TC_BLK_COUNTERS_NEXT};
        `TC_REG_COUNTERS_COUNT:        rv = N_COUNTERS;
        `TC_BLK_VENUES_BASE:           rv = hdr0(`TC_BLK_VENUES_TYPE, `TC_BLK_VENUES_VERSION);
        `TC_BLK_VENUES_BASE + 8:       rv = {{(64-AW){1'b0}}, `TC_BLK_VENUES_NEXT};
        `TC_BLK_SYMBOLS_BASE:          rv = hdr0(`TC_BLK_SYMBOLS_TYPE, `TC_BLK_SYMBOLS_VERSION);
        `TC_BLK_SYMBOLS_BASE + 8:      rv = {{(64-AW){1'b0}}, `TC_BLK_SYMBOLS_NEXT};
        `TC_REG_SYMBOLS_WAYS:          rv = `TC_SYM_WAYS;
        `TC_REG_SYMBOLS_SLOTS:         rv = `TC_SYM_SLOTS;
        `TC_REG_SYMBOLS_NAME_BYTES:    rv = `TC_SYM_NAME_BYTES;
        `TC_REG_SYMBOLS_STAGE_META:    rv = stage_meta;
        `TC_BLK_EDGES_BASE:            rv = hdr0(`TC_BLK_EDGES_TYPE, `TC_BLK_EDGES_VERSION);
        `TC_BLK_EDGES_BASE + 8:        rv = {{(64-AW){1'b0}}, `TC_BLK_EDGES_NEXT};
        `TC_BLK_RING_BASE:             rv = hdr0(`TC_BLK_RING_TYPE, `TC_BLK_RING_VERSION);
        `TC_BLK_RING_BASE + 8:         rv = {{(64-AW){1'b0}}, `TC_BLK_RING_NEXT};
        `TC_REG_RING_BASE:             rv = {{(64-AW){1'b0}}, `TC_WIN_RING_BASE};
        `TC_REG_RING_RECORDS:          rv = RING_RECORDS_REG;
        `TC_REG_RING_RECORD_BYTES:     rv = 8 * `TC_RECORD_WORDS;
        `TC_REG_RING_PRODUCER:         rv = producer;
        `TC_REG_RING_CONSUMER:         rv = consumer;
        `TC_BLK_QUOTES_BASE:           rv = hdr0(`TC_BLK_QUOTES_TYPE, `TC_BLK_QUOTES_VERSION);
        `TC_BLK_QUOTES_BASE + 8:       rv = {{(64-AW){1'b0}}, `TC_BLK_QUOTES_NEXT};
        `TC_REG_QUOTES_BASE:           rv = {{(64-AW){1'b0}}, `TC_WIN_QUOTES_BASE};
        `TC_REG_QUOTES_ENTRY_BYTES:    rv = `TC_QUOTE_ENTRY_BYTES;
        `TC_BLK_DMA_BASE:              rv = hdr0(`TC_BLK_DMA_TYPE, `TC_BLK_DMA_VERSION);
        `TC_BLK_DMA_BASE + 8:          rv = {{(64-AW){1'b0}}, `TC_BLK_DMA_NEXT};
        `TC_REG_DMA_ADDR:              rv = dma_addr;
        `TC_REG_DMA_RECORDS:           rv = dma_records;
        `TC_REG_DMA_WRITTEN:           rv = dma_written;
        default: begin
            if (in_cnt)
                rv = cnt_rd_data;
            else if (in_filter)
                rv = filter_cfg[64 * filter_idx +: 64];
            else if (in_venue)
                rv = venue_cfg[64 * venue_idx +: 64];
            else if (in_stage)
                rv = stage_name[stage_idx];
            else if (in_edge)
                rv = edge_rd_data;
            else if (in_ring)
                rv = ring_rd_data;
            else if (in_quote)
                rv = (rs_addr[5:3] < 3'd6) ? q_rd_data : 64'd0;
        end
    endcase
end

always @(posedge clk) begin
    r1_en <= r0_en;
    r1_addr <= {r0_addr[AW-1:3], 3'b000};
    bus_rd_valid <= rs_en;
    bus_rd_data <= rv;
    if (rst) begin
        r1_en <= 1'b0;
        bus_rd_valid <= 1'b0;
    end
end

endmodule

`resetall
