// 64-bit event counters. Every counter adds its own increment input each cycle, so sources never
// contend; reset_counters zeroes them all.

`resetall
`timescale 1ns / 1ps
`default_nettype none

module tc_counters #(
    parameter N = 32
) (
    input  wire            clk,
    input  wire            rst,
    input  wire            clear,
    input  wire [32*N-1:0] inc,        // 32-bit increment per counter
    output wire [64*N-1:0] value
);

reg [63:0] cnt [0:N-1];

genvar g;
generate
    for (g = 0; g < N; g = g + 1) begin : counter
        always @(posedge clk) begin
            if (rst || clear)
                cnt[g] <= 64'd0;
            else
                cnt[g] <= cnt[g] + {32'd0, inc[32*g +: 32]};
        end
        assign value[64*g +: 64] = cnt[g];
    end
endgenerate

endmodule

`resetall
