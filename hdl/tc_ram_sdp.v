// Simple dual-port block RAM: one write port, one read port, one clock.
//
// Timing: rdata is the word at raddr 1 + OUT_REG cycles after a cycle with re high. The first
// register (the RAM's read latch) loads only when re is high and holds otherwise; the second
// (OUT_REG = 1: the RAM's own output register) loads every cycle.
// Read during write (re and we in one cycle, raddr == waddr): the behavioural form returns the
// old word; the ECP5 primitive's result is undefined there (a DP16KD cross-port collision). Use
// this module only where such a read is never used; NO_RW_CHECK = 1 also tells Yosys so
// (`no_rw_check`, no collision logic after the RAM in the behavioural form).
//
// Two forms, the same behaviour otherwise:
// - behavioural (default: Verilator, Icarus, the xcup synthesis), inferred as block RAM, the
//   OUT_REG register an ordinary register after it;
// - with `TC_ECP5_PRIMITIVES defined (scripts/synth-report's ECP5 flow only), a grid of ECP5
//   DP16KD cells wired as Yosys' own brams_map.v wires them (address in the top bits, data from
//   bit 0; 512 x 36 through ports A (write) and B (read) together, as Yosys' PDPW16KD), with
//   REGMODE OUTREG at OUT_REG = 1, so the register sits inside the RAM: Yosys 0.23 maps every
//   inferred DP16KD with REGMODE NOREG, which costs 4.26 ns + the route per read. One cell is
//   512 x 36, 1K x 18, 2K x 9, 4K x 4, 8K x 2 or 16K x 1 by ADDR_BITS, tiled across the width;
//   deeper than 16K the cells are stacked in depth and their outputs chosen by the registered
//   top address bits (a mux after the RAM). Memories of fewer than 128 words (PRIM_MIN_ABITS)
//   stay behavioural there, left to Yosys (LUT RAM, or a DP16KD without its output register).

`resetall
`timescale 1ns / 1ps
`default_nettype none

module tc_ram_sdp #(
    parameter WIDTH = 64,          // bits per word, >= 1
    parameter ADDR_BITS = 9,       // 2^ADDR_BITS words, 1..20
    parameter OUT_REG = 0,         // 1: a second register (the RAM's output register)
    parameter NO_RW_CHECK = 0      // 1: a read of the word being written is never used
) (
    input  wire                 clk,
    input  wire                 we,
    input  wire [ADDR_BITS-1:0] waddr,
    input  wire [WIDTH-1:0]     wdata,
    input  wire                 re,
    input  wire [ADDR_BITS-1:0] raddr,
    output wire [WIDTH-1:0]     rdata
);

initial begin
    if (WIDTH < 1) begin
        $error("Error: WIDTH = %0d, must be >= 1 (instance %m)", WIDTH);
        $finish;
    end
    if (ADDR_BITS < 1 || ADDR_BITS > 20) begin
        $error("Error: ADDR_BITS = %0d, must be 1..20 (instance %m)", ADDR_BITS);
        $finish;
    end
    if (OUT_REG != 0 && OUT_REG != 1) begin
        $error("Error: OUT_REG = %0d, must be 0 or 1 (instance %m)", OUT_REG);
        $finish;
    end
    if (NO_RW_CHECK != 0 && NO_RW_CHECK != 1) begin
        $error("Error: NO_RW_CHECK = %0d, must be 0 or 1 (instance %m)", NO_RW_CHECK);
        $finish;
    end
end

`ifdef TC_ECP5_PRIMITIVES
localparam PRIM_MIN_ABITS = 7;
localparam PRIM = ADDR_BITS >= PRIM_MIN_ABITS;
`else
localparam PRIM = 0;
`endif

wire [WIDTH-1:0] q;            // after the read latch

generate
    if (!PRIM) begin : behav
        // the same memory twice, with and without the attribute: an attribute cannot take a
        // parameter's value in Verilog-2005
        if (NO_RW_CHECK != 0) begin : nrc
            (* no_rw_check *)
            reg [WIDTH-1:0] mem [0:(1 << ADDR_BITS) - 1];
            reg [WIDTH-1:0] q_r;
            always @(posedge clk) begin
                if (we)
                    mem[waddr] <= wdata;
                if (re)
                    q_r <= mem[raddr];
            end
            assign q = q_r;
        end else begin : rwc
            reg [WIDTH-1:0] mem [0:(1 << ADDR_BITS) - 1];
            reg [WIDTH-1:0] q_r;
            always @(posedge clk) begin
                if (we)
                    mem[waddr] <= wdata;
                if (re)
                    q_r <= mem[raddr];
            end
            assign q = q_r;
        end
        if (OUT_REG != 0) begin : oreg
            reg [WIDTH-1:0] q2;
            always @(posedge clk)
                q2 <= q;
            assign rdata = q2;
        end else begin : nreg
            assign rdata = q;
        end
    end
`ifdef TC_ECP5_PRIMITIVES
    else begin : ecp5
        // one cell's shape at this depth (a cell holds 2^CAB words of CW bits)
        localparam CAB = (ADDR_BITS <= 9) ? 9 : (ADDR_BITS >= 14) ? 14 : ADDR_BITS;
        localparam CW = (CAB == 9) ? 36 : (CAB == 10) ? 18 : (CAB == 11) ? 9 :
                        (CAB == 12) ? 4 : (CAB == 13) ? 2 : 1;
        localparam NCOL = (WIDTH + CW - 1) / CW;
        localparam DB = ADDR_BITS - CAB;           // address bits above a cell (> 0: stacked)
        localparam NROW = (DB > 0) ? (1 << DB) : 1;
        localparam PW = NCOL * CW;
        localparam REGMODE = (OUT_REG != 0) ? "OUTREG" : "NOREG";

        /* verilator lint_off UNUSEDSIGNAL */
        wire [PW-1:0] wd = wdata;
        wire [NROW*PW-1:0] rows;                   // each row's read data, padded
        /* verilator lint_on UNUSEDSIGNAL */
        // the cells' address pins: the word address in the top CAB bits, as brams_map.v
        // (zero-extended when the memory is shallower than a cell; widths below by assignment)
        localparam LAB = (ADDR_BITS < CAB) ? ADDR_BITS : CAB;
        wire [CAB-1:0] wa_c = waddr[LAB-1:0];
        wire [CAB-1:0] ra_c = raddr[LAB-1:0];
        wire [CAB+13:0] wa_x = {wa_c, 14'd0};
        wire [CAB+13:0] ra_x = {ra_c, 14'd0};
        wire [13:0] wa = wa_x[CAB+13 -: 14];
        wire [13:0] ra = ra_x[CAB+13 -: 14];

        genvar gr, gc;
        for (gr = 0; gr < NROW; gr = gr + 1) begin : row
            wire row_we;
            if (DB > 0) begin : dec
                assign row_we = we && waddr[ADDR_BITS-1:CAB] == gr;
            end else begin : one
                assign row_we = we;
            end
            for (gc = 0; gc < NCOL; gc = gc + 1) begin : col
                wire [35:0] di;
                wire [35:0] do_;
                if (CW == 36) begin : w36
                    // 512 x 36: write on A (data A = bits 17:0, B = 35:18; byte enables on
                    // ADA3..0), read on B (DOA = bits 17:0, DOB = 35:18, both registered on
                    // port B's clock with REGMODE OUTREG on both sides)
                    assign di = wd[gc*CW +: 36];
                    DP16KD #(
                        .DATA_WIDTH_A(36), .DATA_WIDTH_B(36),
                        .REGMODE_A(REGMODE), .REGMODE_B(REGMODE),
                        .RESETMODE("SYNC"), .ASYNC_RESET_RELEASE("SYNC"),
                        .CSDECODE_A("0b000"), .CSDECODE_B("0b000"),
                        .WRITEMODE_A("NORMAL"), .WRITEMODE_B("NORMAL"),
                        .GSR("AUTO")
                    ) ram (
                        .CLKA(clk), .CEA(row_we), .OCEA(1'b0), .WEA(1'b1), .RSTA(1'b0),
                        .CSA2(1'b0), .CSA1(1'b0), .CSA0(1'b0),
                        .ADA13(wa[13]), .ADA12(wa[12]), .ADA11(wa[11]), .ADA10(wa[10]),
                        .ADA9(wa[9]), .ADA8(wa[8]), .ADA7(wa[7]), .ADA6(wa[6]), .ADA5(wa[5]),
                        .ADA4(1'b0), .ADA3(1'b1), .ADA2(1'b1), .ADA1(1'b1), .ADA0(1'b1),
                        .DIA17(di[17]), .DIA16(di[16]), .DIA15(di[15]), .DIA14(di[14]),
                        .DIA13(di[13]), .DIA12(di[12]), .DIA11(di[11]), .DIA10(di[10]),
                        .DIA9(di[9]), .DIA8(di[8]), .DIA7(di[7]), .DIA6(di[6]), .DIA5(di[5]),
                        .DIA4(di[4]), .DIA3(di[3]), .DIA2(di[2]), .DIA1(di[1]), .DIA0(di[0]),
                        .DIB17(di[35]), .DIB16(di[34]), .DIB15(di[33]), .DIB14(di[32]),
                        .DIB13(di[31]), .DIB12(di[30]), .DIB11(di[29]), .DIB10(di[28]),
                        .DIB9(di[27]), .DIB8(di[26]), .DIB7(di[25]), .DIB6(di[24]),
                        .DIB5(di[23]), .DIB4(di[22]), .DIB3(di[21]), .DIB2(di[20]),
                        .DIB1(di[19]), .DIB0(di[18]),
                        .DOA17(do_[17]), .DOA16(do_[16]), .DOA15(do_[15]), .DOA14(do_[14]),
                        .DOA13(do_[13]), .DOA12(do_[12]), .DOA11(do_[11]), .DOA10(do_[10]),
                        .DOA9(do_[9]), .DOA8(do_[8]), .DOA7(do_[7]), .DOA6(do_[6]),
                        .DOA5(do_[5]), .DOA4(do_[4]), .DOA3(do_[3]), .DOA2(do_[2]),
                        .DOA1(do_[1]), .DOA0(do_[0]),
                        .CLKB(clk), .CEB(re), .OCEB(1'b1), .WEB(1'b0), .RSTB(1'b0),
                        .CSB2(1'b0), .CSB1(1'b0), .CSB0(1'b0),
                        .ADB13(ra[13]), .ADB12(ra[12]), .ADB11(ra[11]), .ADB10(ra[10]),
                        .ADB9(ra[9]), .ADB8(ra[8]), .ADB7(ra[7]), .ADB6(ra[6]), .ADB5(ra[5]),
                        .ADB4(1'b0), .ADB3(1'b0), .ADB2(1'b0), .ADB1(1'b0), .ADB0(1'b0),
                        .DOB17(do_[35]), .DOB16(do_[34]), .DOB15(do_[33]), .DOB14(do_[32]),
                        .DOB13(do_[31]), .DOB12(do_[30]), .DOB11(do_[29]), .DOB10(do_[28]),
                        .DOB9(do_[27]), .DOB8(do_[26]), .DOB7(do_[25]), .DOB6(do_[24]),
                        .DOB5(do_[23]), .DOB4(do_[22]), .DOB3(do_[21]), .DOB2(do_[20]),
                        .DOB1(do_[19]), .DOB0(do_[18])
                    );
                end else begin : wn
                    // 1K x 18 down to 16K x 1: write on A (byte enables on ADA1..0 at 18),
                    // read on B; data in and out from bit 0
                    wire [17:0] dia = wd[gc*CW +: CW];
                    wire [13:0] wa_p = (CW == 18) ? {wa[13:2], 2'b11} : wa;
                    /* verilator lint_off UNUSEDSIGNAL */
                    wire [17:0] dob;
                    /* verilator lint_on UNUSEDSIGNAL */
                    assign di = {18'd0, dia};
                    assign do_ = {18'd0, dob};
                    DP16KD #(
                        .DATA_WIDTH_A(CW), .DATA_WIDTH_B(CW),
                        .REGMODE_A("NOREG"), .REGMODE_B(REGMODE),
                        .RESETMODE("SYNC"), .ASYNC_RESET_RELEASE("SYNC"),
                        .CSDECODE_A("0b000"), .CSDECODE_B("0b000"),
                        .WRITEMODE_A("NORMAL"), .WRITEMODE_B("NORMAL"),
                        .GSR("AUTO")
                    ) ram (
                        .CLKA(clk), .CEA(row_we), .OCEA(1'b0), .WEA(row_we), .RSTA(1'b0),
                        .CSA2(1'b0), .CSA1(1'b0), .CSA0(1'b0),
                        .ADA13(wa_p[13]), .ADA12(wa_p[12]), .ADA11(wa_p[11]), .ADA10(wa_p[10]),
                        .ADA9(wa_p[9]), .ADA8(wa_p[8]), .ADA7(wa_p[7]), .ADA6(wa_p[6]),
                        .ADA5(wa_p[5]), .ADA4(wa_p[4]), .ADA3(wa_p[3]), .ADA2(wa_p[2]),
                        .ADA1(wa_p[1]), .ADA0(wa_p[0]),
                        .DIA17(dia[17]), .DIA16(dia[16]), .DIA15(dia[15]), .DIA14(dia[14]),
                        .DIA13(dia[13]), .DIA12(dia[12]), .DIA11(dia[11]), .DIA10(dia[10]),
                        .DIA9(dia[9]), .DIA8(dia[8]), .DIA7(dia[7]), .DIA6(dia[6]),
                        .DIA5(dia[5]), .DIA4(dia[4]), .DIA3(dia[3]), .DIA2(dia[2]),
                        .DIA1(dia[1]), .DIA0(dia[0]),
                        .DOA17(), .DOA16(), .DOA15(), .DOA14(), .DOA13(), .DOA12(), .DOA11(),
                        .DOA10(), .DOA9(), .DOA8(), .DOA7(), .DOA6(), .DOA5(), .DOA4(),
                        .DOA3(), .DOA2(), .DOA1(), .DOA0(),
                        .CLKB(clk), .CEB(re), .OCEB(1'b1), .WEB(1'b0), .RSTB(1'b0),
                        .CSB2(1'b0), .CSB1(1'b0), .CSB0(1'b0),
                        .ADB13(ra[13]), .ADB12(ra[12]), .ADB11(ra[11]), .ADB10(ra[10]),
                        .ADB9(ra[9]), .ADB8(ra[8]), .ADB7(ra[7]), .ADB6(ra[6]),
                        .ADB5(ra[5]), .ADB4(ra[4]), .ADB3(ra[3]), .ADB2(ra[2]),
                        .ADB1(ra[1]), .ADB0(ra[0]),
                        .DIB17(1'b0), .DIB16(1'b0), .DIB15(1'b0), .DIB14(1'b0), .DIB13(1'b0),
                        .DIB12(1'b0), .DIB11(1'b0), .DIB10(1'b0), .DIB9(1'b0), .DIB8(1'b0),
                        .DIB7(1'b0), .DIB6(1'b0), .DIB5(1'b0), .DIB4(1'b0), .DIB3(1'b0),
                        .DIB2(1'b0), .DIB1(1'b0), .DIB0(1'b0),
                        .DOB17(dob[17]), .DOB16(dob[16]), .DOB15(dob[15]), .DOB14(dob[14]),
                        .DOB13(dob[13]), .DOB12(dob[12]), .DOB11(dob[11]), .DOB10(dob[10]),
                        .DOB9(dob[9]), .DOB8(dob[8]), .DOB7(dob[7]), .DOB6(dob[6]),
                        .DOB5(dob[5]), .DOB4(dob[4]), .DOB3(dob[3]), .DOB2(dob[2]),
                        .DOB1(dob[1]), .DOB0(dob[0])
                    );
                end
                assign rows[gr*PW + gc*CW +: CW] = do_[CW-1:0];
            end
        end

        if (DB > 0) begin : stack
            // the row read: its top address bits, kept with the read latch (re) and, at
            // OUT_REG = 1, once more beside the output register
            reg [DB-1:0] sel;
            always @(posedge clk)
                if (re)
                    sel <= raddr[ADDR_BITS-1:CAB];
            wire [DB-1:0] sel_o;
            if (OUT_REG != 0) begin : sreg
                reg [DB-1:0] sel2;
                always @(posedge clk)
                    sel2 <= sel;
                assign sel_o = sel2;
            end else begin : snreg
                assign sel_o = sel;
            end
            assign rdata = rows[sel_o*PW +: WIDTH];
        end else begin : flat
            assign rdata = rows[WIDTH-1:0];
        end
        assign q = {WIDTH{1'b0}};   // (the latch is inside the cells)
    end
`endif
endgenerate

endmodule

`resetall
