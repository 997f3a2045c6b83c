// A simulation model of the ECP5 MULT18X18D multiplier, for tests/hdl_price9_conv.rs only (Yosys
// ships MULT18X18D as a black box, so there is none to borrow).
//
// It models what hdl/tc_mul16_reg.v uses: unsigned operands (SIGNEDA = SIGNEDB = 0, SOURCEA =
// SOURCEB = 0: A and B from their pins), the A and B input registers and the output register
// each off ("NONE") or on CLK0, loaded when the clock enable their REG_*_CE names (CE0..CE3) is
// high; no pipeline register. P = A * B, 36 bits. Anything else (a signed operand, the pipeline
// register, another clock, a reset asserted) stops the simulation with an error, so a wrong
// wiring cannot pass.

`timescale 1ns / 1ps

module MULT18X18D (
    input A0, A1, A2, A3, A4, A5, A6, A7, A8, A9, A10, A11, A12, A13, A14, A15, A16, A17,
    input B0, B1, B2, B3, B4, B5, B6, B7, B8, B9, B10, B11, B12, B13, B14, B15, B16, B17,
    input C0, C1, C2, C3, C4, C5, C6, C7, C8, C9, C10, C11, C12, C13, C14, C15, C16, C17,
    input SIGNEDA, SIGNEDB, SOURCEA, SOURCEB,
    input CLK0, CLK1, CLK2, CLK3,
    input CE0, CE1, CE2, CE3,
    input RST0, RST1, RST2, RST3,
    output P0, P1, P2, P3, P4, P5, P6, P7, P8, P9, P10, P11, P12, P13, P14, P15, P16, P17,
    output P18, P19, P20, P21, P22, P23, P24, P25, P26, P27, P28, P29, P30, P31, P32, P33, P34,
    output P35
);
    parameter REG_INPUTA_CLK = "NONE";
    parameter REG_INPUTA_CE = "CE0";
    parameter REG_INPUTA_RST = "RST0";
    parameter REG_INPUTB_CLK = "NONE";
    parameter REG_INPUTB_CE = "CE0";
    parameter REG_INPUTB_RST = "RST0";
    parameter REG_INPUTC_CLK = "NONE";
    parameter REG_PIPELINE_CLK = "NONE";
    parameter REG_OUTPUT_CLK = "NONE";
    parameter REG_OUTPUT_CE = "CE0";
    parameter REG_OUTPUT_RST = "RST0";
    parameter GSR = "ENABLED";
    parameter RESETMODE = "SYNC";

    wire [17:0] a = {A17, A16, A15, A14, A13, A12, A11, A10, A9, A8, A7, A6, A5, A4, A3, A2, A1,
                     A0};
    wire [17:0] b = {B17, B16, B15, B14, B13, B12, B11, B10, B9, B8, B7, B6, B5, B4, B3, B2, B1,
                     B0};
    wire [3:0]  ce = {CE3, CE2, CE1, CE0};

    function integer ce_index;
        input [8*4-1:0] name;
        begin
            ce_index = (name == "CE0") ? 0 : (name == "CE1") ? 1 : (name == "CE2") ? 2 :
                       (name == "CE3") ? 3 : -1;
        end
    endfunction
    function reg_on;
        input [8*4-1:0] clk_name;
        begin
            reg_on = clk_name == "CLK0";
        end
    endfunction

    localparam A_ON = reg_on(REG_INPUTA_CLK);
    localparam B_ON = reg_on(REG_INPUTB_CLK);
    localparam P_ON = reg_on(REG_OUTPUT_CLK);
    localparam A_CE = ce_index(REG_INPUTA_CE);
    localparam B_CE = ce_index(REG_INPUTB_CE);
    localparam P_CE = ce_index(REG_OUTPUT_CE);

    initial begin
        if ((REG_INPUTA_CLK != "NONE" && !A_ON) || (REG_INPUTB_CLK != "NONE" && !B_ON) ||
            (REG_OUTPUT_CLK != "NONE" && !P_ON) || REG_INPUTC_CLK != "NONE" ||
            REG_PIPELINE_CLK != "NONE" || A_CE < 0 || B_CE < 0 || P_CE < 0) begin
            $display("FAIL MULT18X18D model: registers other than A, B and the output on CLK0 (%m)");
            $finish;
        end
    end

    reg [17:0] ra, rb;
    reg [35:0] rp;
    wire [17:0] ma = A_ON ? ra : a;
    wire [17:0] mb = B_ON ? rb : b;
    wire [35:0] prod = ma * mb;

    always @(posedge CLK0) begin
        if (A_ON && ce[A_CE])
            ra <= a;
        if (B_ON && ce[B_CE])
            rb <= b;
        if (P_ON && ce[P_CE])
            rp <= prod;
    end
    always @* begin
        if (SIGNEDA !== 1'b0 || SIGNEDB !== 1'b0 || SOURCEA !== 1'b0 || SOURCEB !== 1'b0) begin
            $display("FAIL MULT18X18D model: signed or cascaded operands (%m)");
            $finish;
        end
        if (RST0 === 1'b1 || RST1 === 1'b1 || RST2 === 1'b1 || RST3 === 1'b1) begin
            $display("FAIL MULT18X18D model: a reset asserted (%m)");
            $finish;
        end
    end
    wire [35:0] p = P_ON ? rp : prod;
    assign {P35, P34, P33, P32, P31, P30, P29, P28, P27, P26, P25, P24, P23, P22, P21, P20, P19,
            P18, P17, P16, P15, P14, P13, P12, P11, P10, P9, P8, P7, P6, P5, P4, P3, P2, P1,
            P0} = p;
endmodule
