// Replays a cycle-by-cycle stimulus into tickcross_top under Icarus Verilog (a second simulator
// beside Verilator) and logs what the register bus returns. Driven by tests/icarus.rs, which runs
// the same stimulus through the Verilated model and compares the two logs.
//
// Plain Verilog-2005 (iverilog -g2005). Everything happens in one initial block clocked by
// explicit delays: no tasks, no waits on anything but time.
//
//   iverilog -g2005 -s tb_icarus_top -o tb.vvp sim/tb/tb_icarus_top.v hdl/*.v   (from the repo root)
//   vvp tb.vvp +stim=stim.hex +cycles=<lines> +out=out.txt
//
// The build's sizes are parameters passed to tickcross_top (iverilog -Ptb_icarus_top.N_VENUES=4
// and so on); they default to the contract's.
//
// Stimulus (+stim): $readmemh file, one 256-bit word (64 hex digits, no separators) per clock
// cycle, line k = the inputs of cycle k, held from the falling edge before rising edge k until
// the next falling edge. `//` comments are allowed. Bit fields, MSB first:
//
//   [255:248] flags: bit 0 rst, 1 s_axis_tvalid, 2 s_axis_tlast, 3 s_axis_tuser,
//                    4 reg_wr_en, 5 reg_rd_en (bits 6, 7 zero)
//   [247:240] s_axis_tkeep
//   [239:176] s_axis_tdata
//   [175:112] s_axis_ts
//   [111:88]  reg_wr_addr (24 bits; the BAR uses the low 20)
//   [87:24]   reg_wr_data
//   [23:0]    reg_rd_addr (24 bits; the BAR uses the low 20)
//
// +cycles: the number of stimulus lines (at most MAX_CYCLES).
//
// Output (+out), one line per record, cycle numbers counting stimulus lines from 0. Outputs are
// sampled just before rising edge k, after cycle k's inputs have settled:
//   T <k> <s_axis_tready>            every cycle (0, 1, or x/z before reset takes effect)
//   R <k> <reg_rd_data, 16 hex>      every cycle with reg_rd_valid high
//   V <k> <reg_rd_valid>             a cycle where reg_rd_valid is neither 0 nor 1
//   END <cycles>                     after the last cycle (absent: the run did not complete)

`resetall
`timescale 1ns / 1ps
`default_nettype none

`include "hdl/tickcross_contract.vh"

module tb_icarus_top;

parameter MAX_CYCLES = 1 << 17;
parameter N_VENUES = `TC_N_VENUES;
parameter INSTR_BITS = $clog2(`TC_N_INSTRUMENTS);
parameter RING_BITS = $clog2(`TC_RING_RECORDS);
parameter MEM_REG = 0;

reg          clk;
reg          rst;
reg  [63:0]  s_axis_tdata;
reg  [7:0]   s_axis_tkeep;
reg          s_axis_tvalid;
wire         s_axis_tready;
reg          s_axis_tlast;
reg          s_axis_tuser;
reg  [63:0]  s_axis_ts;
reg          reg_wr_en;
reg  [19:0]  reg_wr_addr;
reg  [63:0]  reg_wr_data;
reg          reg_rd_en;
reg  [19:0]  reg_rd_addr;
wire [63:0]  reg_rd_data;
wire         reg_rd_valid;

tickcross_top #(
    .N_VENUES(N_VENUES), .INSTR_BITS(INSTR_BITS), .RING_BITS(RING_BITS), .MEM_REG(MEM_REG)
) dut (
    .clk(clk), .rst(rst),
    .s_axis_tdata(s_axis_tdata), .s_axis_tkeep(s_axis_tkeep), .s_axis_tvalid(s_axis_tvalid),
    .s_axis_tready(s_axis_tready), .s_axis_tlast(s_axis_tlast), .s_axis_tuser(s_axis_tuser),
    .s_axis_ts(s_axis_ts),
    .reg_wr_en(reg_wr_en), .reg_wr_addr(reg_wr_addr), .reg_wr_data(reg_wr_data),
    .reg_rd_en(reg_rd_en), .reg_rd_addr(reg_rd_addr),
    .reg_rd_data(reg_rd_data), .reg_rd_valid(reg_rd_valid),
    // (DMA stays off here: dma.records is never written; the ring is read through the BAR)
    .m_axis_dma_addr(), .m_axis_dma_tdata(), .m_axis_dma_tvalid(), .m_axis_dma_tready(1'b1),
    .m_axis_dma_tlast()
);

reg  [255:0] stim [0:MAX_CYCLES-1];
reg  [255:0] w;
reg  [1023:0] stim_path;
reg  [1023:0] out_path;
integer      n_cycles;
integer      cyc;
integer      fd;

initial begin
    clk = 1'b0;
    rst = 1'b1;
    s_axis_tdata = 64'd0;
    s_axis_tkeep = 8'd0;
    s_axis_tvalid = 1'b0;
    s_axis_tlast = 1'b0;
    s_axis_tuser = 1'b0;
    s_axis_ts = 64'd0;
    reg_wr_en = 1'b0;
    reg_wr_addr = 20'd0;
    reg_wr_data = 64'd0;
    reg_rd_en = 1'b0;
    reg_rd_addr = 20'd0;

    if (!$value$plusargs("stim=%s", stim_path)) begin
        $display("tb_icarus_top: missing +stim=<file>");
        $finish;
    end
    if (!$value$plusargs("out=%s", out_path)) begin
        $display("tb_icarus_top: missing +out=<file>");
        $finish;
    end
    if (!$value$plusargs("cycles=%d", n_cycles)) begin
        $display("tb_icarus_top: missing +cycles=<n>");
        $finish;
    end
    if (n_cycles < 1 || n_cycles > MAX_CYCLES) begin
        $display("tb_icarus_top: +cycles=%0d outside 1..%0d", n_cycles, MAX_CYCLES);
        $finish;
    end
    $readmemh(stim_path, stim, 0, n_cycles - 1);
    fd = $fopen(out_path, "w");
    if (fd == 0) begin
        $display("tb_icarus_top: cannot open %0s", out_path);
        $finish;
    end

    for (cyc = 0; cyc < n_cycles; cyc = cyc + 1) begin
        // clk is low: apply this cycle's inputs
        w = stim[cyc];
        rst           = w[248];
        s_axis_tvalid = w[249];
        s_axis_tlast  = w[250];
        s_axis_tuser  = w[251];
        reg_wr_en     = w[252];
        reg_rd_en     = w[253];
        s_axis_tkeep  = w[247:240];
        s_axis_tdata  = w[239:176];
        s_axis_ts     = w[175:112];
        reg_wr_addr   = w[107:88];
        reg_wr_data   = w[87:24];
        reg_rd_addr   = w[19:0];
        #4;
        // settled: sample the outputs as the rising edge will see them
        $fwrite(fd, "T %0d %b\n", cyc, s_axis_tready);
        if (reg_rd_valid === 1'b1)
            $fwrite(fd, "R %0d %h\n", cyc, reg_rd_data);
        else if (reg_rd_valid !== 1'b0)
            $fwrite(fd, "V %0d %b\n", cyc, reg_rd_valid);
        #1 clk = 1'b1;
        #5 clk = 1'b0;
    end
    $fwrite(fd, "END %0d\n", n_cycles);
    $fclose(fd);
    $finish;
end

endmodule

`resetall
