// A simulation model of the ECP5 DP16KD block RAM, for tests/hdl_ram_sdp.rs only (Yosys ships
// DP16KD as a black box, in cells_sim.v as in cells_bb.v, so there is none to borrow).
//
// It models the cell the way Yosys' own brams_map.v drives it (the mapping Yosys and nextpnr use
// for every inferred ECP5 block RAM): a port of width W (1, 2, 4, 9, 18) holds 2^(14 - log2)
// words, its word address in AD13 down (the top bits), its data from DI0/DO0 up; at 18 the write's
// byte enables are AD1..0. DATA_WIDTH 36 (Yosys' PDPW16KD) is 512 words written through port A
// (DIA = bits 17:0, DIB = 35:18, byte enables AD3..0, address AD13..5) and read through port B
// (DOA = bits 17:0, DOB = 35:18, both loaded on port B's clock). REGMODE OUTREG adds the output
// register, loaded when OCE is high (CE gates only the read); NOREG shows the read latch.
// A read of bits written in the same edge reads X (a cross-port collision is undefined).
// An X enable makes what it may touch X (registers before their reset drive them so).
// Only what tc_ram_sdp uses is modelled; anything else (a port B write, RST or CS used, unequal
// widths, two clocks) stops the simulation with an error, so a wrong wiring cannot pass.

`timescale 1ns / 1ps

module DP16KD (
    input DIA17, DIA16, DIA15, DIA14, DIA13, DIA12, DIA11, DIA10, DIA9, DIA8, DIA7, DIA6, DIA5,
    input DIA4, DIA3, DIA2, DIA1, DIA0,
    input ADA13, ADA12, ADA11, ADA10, ADA9, ADA8, ADA7, ADA6, ADA5, ADA4, ADA3, ADA2, ADA1, ADA0,
    input CEA, OCEA, CLKA, WEA, RSTA,
    input CSA2, CSA1, CSA0,
    output DOA17, DOA16, DOA15, DOA14, DOA13, DOA12, DOA11, DOA10, DOA9, DOA8, DOA7, DOA6, DOA5,
    output DOA4, DOA3, DOA2, DOA1, DOA0,
    input DIB17, DIB16, DIB15, DIB14, DIB13, DIB12, DIB11, DIB10, DIB9, DIB8, DIB7, DIB6, DIB5,
    input DIB4, DIB3, DIB2, DIB1, DIB0,
    input ADB13, ADB12, ADB11, ADB10, ADB9, ADB8, ADB7, ADB6, ADB5, ADB4, ADB3, ADB2, ADB1, ADB0,
    input CEB, OCEB, CLKB, WEB, RSTB,
    input CSB2, CSB1, CSB0,
    output DOB17, DOB16, DOB15, DOB14, DOB13, DOB12, DOB11, DOB10, DOB9, DOB8, DOB7, DOB6, DOB5,
    output DOB4, DOB3, DOB2, DOB1, DOB0
);
    parameter DATA_WIDTH_A = 18;
    parameter DATA_WIDTH_B = 18;
    parameter REGMODE_A = "NOREG";
    parameter REGMODE_B = "NOREG";
    parameter RESETMODE = "SYNC";
    parameter ASYNC_RESET_RELEASE = "SYNC";
    parameter CSDECODE_A = "0b000";
    parameter CSDECODE_B = "0b000";
    parameter WRITEMODE_A = "NORMAL";
    parameter WRITEMODE_B = "NORMAL";
    parameter GSR = "ENABLED";

    localparam W = DATA_WIDTH_B;
    localparam AB = (W == 1) ? 14 : (W == 2) ? 13 : (W == 4) ? 12 : (W == 9) ? 11 :
                    (W == 18) ? 10 : 9;
    localparam NWORDS = 1 << AB;

    wire [17:0] dia = {DIA17, DIA16, DIA15, DIA14, DIA13, DIA12, DIA11, DIA10, DIA9, DIA8, DIA7,
                       DIA6, DIA5, DIA4, DIA3, DIA2, DIA1, DIA0};
    wire [17:0] dib = {DIB17, DIB16, DIB15, DIB14, DIB13, DIB12, DIB11, DIB10, DIB9, DIB8, DIB7,
                       DIB6, DIB5, DIB4, DIB3, DIB2, DIB1, DIB0};
    wire [13:0] ada = {ADA13, ADA12, ADA11, ADA10, ADA9, ADA8, ADA7, ADA6, ADA5, ADA4, ADA3, ADA2,
                       ADA1, ADA0};
    wire [13:0] adb = {ADB13, ADB12, ADB11, ADB10, ADB9, ADB8, ADB7, ADB6, ADB5, ADB4, ADB3, ADB2,
                       ADB1, ADB0};

    reg [35:0] mem [0:NWORDS-1];
    reg [35:0] latch_b;        // the read latch (port B)
    reg [35:0] out_b;          // the output register
    integer i;

    initial begin
        if (DATA_WIDTH_A != DATA_WIDTH_B || (W != 1 && W != 2 && W != 4 && W != 9 && W != 18 &&
                                             W != 36)) begin
            $display("DP16KD model: unsupported widths %0d/%0d (%m)", DATA_WIDTH_A, DATA_WIDTH_B);
            $finish;
        end
        if (W == 36 && REGMODE_A != REGMODE_B) begin
            $display("DP16KD model: at 36 bits both REGMODEs must agree (%m)");
            $finish;
        end
        for (i = 0; i < NWORDS; i = i + 1)
            mem[i] = 36'bx;
        latch_b = 36'bx;
        out_b = 36'bx;
    end

    // the word a port addresses, and the write's bit mask
    wire [AB-1:0] wadr = ada[13 -: AB];
    wire [AB-1:0] radr = adb[13 -: AB];
    reg  [35:0] wmask, wdat;
    always @* begin
        wdat = (W == 36) ? {dib, dia} : {18'd0, dia};
        if (W == 36)
            wmask = {{9{ada[3]}}, {9{ada[2]}}, {9{ada[1]}}, {9{ada[0]}}};
        else if (W == 18)
            wmask = {18'd0, {9{ada[1]}}, {9{ada[0]}}};
        else
            wmask = (36'd1 << W) - 36'd1;
    end

    always @(posedge CLKA) begin
        if (CLKB !== CLKA || RSTA !== 1'b0 || RSTB !== 1'b0 || {CSA2, CSA1, CSA0} !== 3'b000 ||
            {CSB2, CSB1, CSB0} !== 3'b000 || (CEB === 1'b1 && WEB !== 1'b0)) begin
            $display("DP16KD model: unsupported use (one clock, no RST/CS, port B reads only) (%m)");
            $finish;
        end
        // an unknown enable (registers before their reset) makes what it may touch unknown
        if (CEB !== 1'b0 && CEB !== 1'b1)
            latch_b <= 36'bx;
        if ((CEA !== 1'b0 && CEA !== 1'b1 || WEA !== 1'b0 && WEA !== 1'b1) && CEA !== 1'b0 &&
            WEA !== 1'b0) begin
            if (^wadr === 1'bx)
                for (i = 0; i < NWORDS; i = i + 1)
                    mem[i] <= 36'bx;
            else
                mem[wadr] <= 36'bx;
        end
        if (CEA === 1'b1 && WEA === 1'b1 && ^wadr === 1'bx) begin
            $display("DP16KD model: write address is X (%m)");
            $finish;
        end
        // read first (port B), the colliding bits undefined
        if (CEB === 1'b1) begin
            latch_b <= mem[radr];
            if (CEA === 1'b1 && WEA === 1'b1 && radr == wadr)
                latch_b <= (mem[radr] & ~wmask) | (36'bx & wmask);
        end
        if (REGMODE_B == "OUTREG" && OCEB)
            out_b <= latch_b;
        if (CEA === 1'b1 && WEA === 1'b1)
            mem[wadr] <= (mem[wadr] & ~wmask) | (wdat & wmask);
    end

    wire [35:0] rd = (REGMODE_B == "OUTREG") ? out_b : latch_b;
    // pins above the width read X: a wiring that takes them shows it
    reg  [35:0] rd_w;
    integer k;
    always @* begin
        rd_w = rd;
        for (k = 0; k < 36; k = k + 1)
            if (k >= W)
                rd_w[k] = 1'bx;
    end
    assign {DOB17, DOB16, DOB15, DOB14, DOB13, DOB12, DOB11, DOB10, DOB9, DOB8, DOB7, DOB6, DOB5,
            DOB4, DOB3, DOB2, DOB1, DOB0} = (W == 36) ? rd_w[35:18] : rd_w[17:0];
    assign {DOA17, DOA16, DOA15, DOA14, DOA13, DOA12, DOA11, DOA10, DOA9, DOA8, DOA7, DOA6, DOA5,
            DOA4, DOA3, DOA2, DOA1, DOA0} = (W == 36) ? rd_w[17:0] : 18'bx;
endmodule
