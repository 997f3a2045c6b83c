// A fixed delay line: out is in as it was DEPTH cycles ago. Carries a field beside a stage of
// fixed latency that does not carry it (tickcross_top: a Binance bookUpdateId's high half beside
// tc_lookup, whose records all take exactly its DEPTH cycles and carry a 32-bit id).
// Latency: DEPTH cycles; no reset (the stage it runs beside qualifies its data with its own valid).

`resetall
`timescale 1ns / 1ps
`default_nettype none

module tc_delay #(
    parameter WIDTH = 32,      // 1..
    parameter DEPTH = 3        // 1..
) (
    input  wire             clk,
    input  wire [WIDTH-1:0] in,
    output wire [WIDTH-1:0] out
);

initial begin
    if (WIDTH < 1 || DEPTH < 1) begin
        $error("Error: WIDTH = %0d, DEPTH = %0d, both must be at least 1 (instance %m)", WIDTH, DEPTH);
        $finish;
    end
end

reg [WIDTH-1:0] d [1:DEPTH];

always @(posedge clk)
    d[1] <= in;

genvar g;
generate
    for (g = 2; g <= DEPTH; g = g + 1) begin : stage
        always @(posedge clk)
            d[g] <= d[g-1];
    end
endgenerate

assign out = d[DEPTH];

endmodule

`resetall
