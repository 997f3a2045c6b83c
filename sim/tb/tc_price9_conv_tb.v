// tc_price9_conv under Icarus (tests/hdl_price9_conv.rs): the inputs of the file INPUTS, one line
// each ({fmt, exp, value} as 73 hex bits: fmt in bit 72, exp in 71:64), fed one a cycle, every
// third cycle idle (so that registers holding between conversions count); each result, LATENCY
// cycles after its input, printed as "R <value hex> <reject>". Built as the default flows see
// the converter, and with TC_ECP5_PRIMITIVES (and sim/tb/ecp5_mult18x18d_model.v) as the ECP5
// flow builds it, MULT18X18D cells holding the division's operands and products.

`timescale 1ns / 1ps
`default_nettype none

module tc_price9_conv_tb;
    parameter LATENCY = 5;
    parameter N = 1;                    // input lines
    parameter INPUTS = "inputs.hex";

    reg         clk = 1'b0;
    reg         in_valid = 1'b0;
    reg  [63:0] in_value = 64'd0;
    reg  [7:0]  in_exp = 8'd0;
    reg         in_fmt = 1'b0;
    wire [63:0] out_value;
    wire        out_reject;

    reg  [72:0] inputs [0:N-1];
    reg  [LATENCY-1:0] fed;             // fed[k]: an input went in k + 1 edges ago
    integer     t, next, printed;

    tc_price9_conv #(.LATENCY(LATENCY)) dut (
        .clk(clk), .in_valid(in_valid), .in_value(in_value), .in_exp(in_exp), .in_fmt(in_fmt),
        .out_value(out_value), .out_reject(out_reject)
    );

    always #5 clk = !clk;

    initial begin
        $readmemh(INPUTS, inputs);
        fed = 0;
        next = 0;
        printed = 0;
        for (t = 0; printed < N; t = t + 1) begin
            // inputs change after the edge (#1), results are sampled before the next one
            @(posedge clk);
            #1;
            if (fed[LATENCY-1]) begin
                $display("R %016h %0d", out_value, out_reject);
                printed = printed + 1;
            end
            in_valid = next < N && t % 3 != 2;
            if (in_valid) begin
                {in_fmt, in_exp, in_value} = inputs[next];
                next = next + 1;
            end else begin
                // an idle cycle's inputs are not looked at
                in_value = 64'hdead_beef_dead_beef;
                in_exp = 8'h5a;
            end
            fed = {fed[LATENCY-2:0], in_valid};
        end
        $display("DONE %0d", printed);
        $finish;
    end
endmodule
