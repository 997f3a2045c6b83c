// A 16 x 16 -> 32-bit unsigned multiply with its operands and its product registered, each with
// its own load enable: a, b load when in_ce (p = a * b of the operands loaded last), p when out_ce.
// Two cycles from a and b to p, the same two registers in both forms:
// - behavioural (Verilator, Icarus, the xcup synthesis);
// - with `TC_ECP5_PRIMITIVES defined (scripts/synth-report's ECP5 flow only), one MULT18X18D with
//   its input registers (CE0) and its output register (CE1), all on CLK0: the multiply then runs
//   from register to register inside the cell. Yosys 0.23 maps a multiply to MULT18X18D with
//   every register off, so the products of tc_price9_conv went through the fabric's routing on
//   both sides of the multiplier (7.40 ns of 6.4 in tc_lookup's ECP5 run).
// tests/hdl_price9_conv.rs checks both forms inside tc_price9_conv under Icarus
// (sim/tb/ecp5_mult18x18d_model.v models the cell).

`resetall
`timescale 1ns / 1ps
`default_nettype none

module tc_mul16_reg (
    input  wire        clk,
    input  wire        in_ce,
    input  wire [15:0] a,
    input  wire [15:0] b,
    input  wire        out_ce,
    output wire [31:0] p
);

`ifdef TC_ECP5_PRIMITIVES
wire [17:0] ax = {2'b00, a};
wire [17:0] bx = {2'b00, b};
/* verilator lint_off UNUSEDSIGNAL */
wire [35:0] px;
/* verilator lint_on UNUSEDSIGNAL */
MULT18X18D #(
    .REG_INPUTA_CLK("CLK0"), .REG_INPUTA_CE("CE0"), .REG_INPUTA_RST("RST0"),
    .REG_INPUTB_CLK("CLK0"), .REG_INPUTB_CE("CE0"), .REG_INPUTB_RST("RST0"),
    .REG_INPUTC_CLK("NONE"), .REG_PIPELINE_CLK("NONE"),
    .REG_OUTPUT_CLK("CLK0"), .REG_OUTPUT_CE("CE1"), .REG_OUTPUT_RST("RST0"),
    .GSR("DISABLED"), .RESETMODE("SYNC")
) mult (
            .A0(ax[0]), .A1(ax[1]), .A2(ax[2]), .A3(ax[3]), .A4(ax[4]), .A5(ax[5]), .A6(ax[6]),
            .A7(ax[7]), .A8(ax[8]), .A9(ax[9]), .A10(ax[10]), .A11(ax[11]), .A12(ax[12]),
            .A13(ax[13]), .A14(ax[14]), .A15(ax[15]), .A16(ax[16]), .A17(ax[17]),
            .B0(bx[0]), .B1(bx[1]), .B2(bx[2]), .B3(bx[3]), .B4(bx[4]), .B5(bx[5]), .B6(bx[6]),
            .B7(bx[7]), .B8(bx[8]), .B9(bx[9]), .B10(bx[10]), .B11(bx[11]), .B12(bx[12]),
            .B13(bx[13]), .B14(bx[14]), .B15(bx[15]), .B16(bx[16]), .B17(bx[17]),
            .C0(1'b0), .C1(1'b0), .C2(1'b0), .C3(1'b0), .C4(1'b0), .C5(1'b0), .C6(1'b0), .C7(1'b0),
            .C8(1'b0), .C9(1'b0), .C10(1'b0), .C11(1'b0), .C12(1'b0), .C13(1'b0), .C14(1'b0),
            .C15(1'b0), .C16(1'b0), .C17(1'b0),
            .SIGNEDA(1'b0), .SIGNEDB(1'b0), .SOURCEA(1'b0), .SOURCEB(1'b0),
            .CLK0(clk), .CLK1(1'b0), .CLK2(1'b0), .CLK3(1'b0),
            .CE0(in_ce), .CE1(out_ce), .CE2(1'b0), .CE3(1'b0),
            .RST0(1'b0), .RST1(1'b0), .RST2(1'b0), .RST3(1'b0),
            .P0(px[0]), .P1(px[1]), .P2(px[2]), .P3(px[3]), .P4(px[4]), .P5(px[5]), .P6(px[6]),
            .P7(px[7]), .P8(px[8]), .P9(px[9]), .P10(px[10]), .P11(px[11]), .P12(px[12]),
            .P13(px[13]), .P14(px[14]), .P15(px[15]), .P16(px[16]), .P17(px[17]), .P18(px[18]),
            .P19(px[19]), .P20(px[20]), .P21(px[21]), .P22(px[22]), .P23(px[23]), .P24(px[24]),
            .P25(px[25]), .P26(px[26]), .P27(px[27]), .P28(px[28]), .P29(px[29]), .P30(px[30]),
            .P31(px[31]), .P32(px[32]), .P33(px[33]), .P34(px[34]), .P35(px[35])
);
assign p = px[31:0];
`else
reg  [15:0] ra, rb;
reg  [31:0] rp;
always @(posedge clk) begin
    if (in_ce) begin
        ra <= a;
        rb <= b;
    end
    if (out_ce)
        rp <= ra * rb;
end
assign p = rp;
`endif

endmodule

`resetall
