// Small synchronous FIFO with first-word fall-through output (distributed RAM).

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
    output wire                 empty,
    output wire [ADDR_BITS:0]   count
);

reg [WIDTH-1:0] mem [0:(1 << ADDR_BITS) - 1];
reg [ADDR_BITS:0] wr_ptr;
reg [ADDR_BITS:0] rd_ptr;

assign empty = wr_ptr == rd_ptr;
assign count = wr_ptr - rd_ptr;
assign rd_data = mem[rd_ptr[ADDR_BITS-1:0]];

always @(posedge clk) begin
    if (wr_en)
        mem[wr_ptr[ADDR_BITS-1:0]] <= wr_data;
    if (rst) begin
        wr_ptr <= {ADDR_BITS+1{1'b0}};
        rd_ptr <= {ADDR_BITS+1{1'b0}};
    end else begin
        if (wr_en)
            wr_ptr <= wr_ptr + 1'b1;
        if (rd_en && !empty)
            rd_ptr <= rd_ptr + 1'b1;
    end
end

endmodule

`resetall
