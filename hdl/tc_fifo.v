// Small synchronous FIFO with first-word fall-through output (distributed RAM).
//
// `empty` and `count` are registers, kept from the next state, so that logic reading them (the
// input's tready, the bypass of an empty FIFO) starts at a flip-flop rather than at the pointer
// arithmetic; each shows the same value as `wr_ptr - rd_ptr` would in that cycle.

`resetall
`timescale 1ns / 1ps
`default_nettype none

module tc_fifo #(
    parameter WIDTH = 64,
    parameter ADDR_BITS = 4
) (
    input  wire                 clk,
    input  wire                 rst,
    input  wire                 wr_en,
    input  wire [WIDTH-1:0]     wr_data,
    input  wire                 rd_en,      // pops the head; ignored when empty
    output wire [WIDTH-1:0]     rd_data,    // head, valid when !empty
    output reg                  empty,
    output reg  [ADDR_BITS:0]   count
);

reg [WIDTH-1:0] mem [0:(1 << ADDR_BITS) - 1];
reg [ADDR_BITS:0] wr_ptr;
reg [ADDR_BITS:0] rd_ptr;

wire              pop = rd_en && !empty;
// The next count and emptiness are chosen by (wr_en, pop) among values computed from the
// registers alone, so that a late pop (a consumer's decision) is one LUT from them.
wire [ADDR_BITS:0] count_inc = count + 1'b1;
wire [ADDR_BITS:0] count_dec = count - 1'b1;
wire               count_one = count == {{ADDR_BITS{1'b0}}, 1'b1};
wire [ADDR_BITS:0] count_next = (wr_en && !pop) ? count_inc : (pop && !wr_en) ? count_dec : count;

assign rd_data = mem[rd_ptr[ADDR_BITS-1:0]];

always @(posedge clk) begin
    if (wr_en)
        mem[wr_ptr[ADDR_BITS-1:0]] <= wr_data;
    if (rst) begin
        wr_ptr <= {ADDR_BITS+1{1'b0}};
        rd_ptr <= {ADDR_BITS+1{1'b0}};
        count <= {ADDR_BITS+1{1'b0}};
        empty <= 1'b1;
    end else begin
        if (wr_en)
            wr_ptr <= wr_ptr + 1'b1;
        if (pop)
            rd_ptr <= rd_ptr + 1'b1;
        count <= count_next;
        empty <= !wr_en && (empty || (count_one && pop));
    end
end

endmodule

`resetall
