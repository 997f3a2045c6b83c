// Random traffic through tc_ram_sdp against a reference model of its documented behaviour
// (tests/hdl_ram_sdp.rs runs it under Icarus, behavioural and, with TC_ECP5_PRIMITIVES and
// sim/tb/ecp5_dp16kd_model.v, as ECP5 DP16KD cells).
//
// Each cycle: a write (probability 1/2), a read (3/4); addresses mostly from a pool of 32
// (16 random, 16 each one bit away from one of those), so that reads hit written words and
// every address bit matters, the rest anywhere. The reference
// follows the documented timing (data 1 + OUT_REG cycles after re, the first register holding
// while re is low); every cycle whose expected data is known (the word was written, and the read
// did not collide with a write of that word) is compared bit for bit, X included.
// Prints "PASS <checked>" or "FAIL ..." and finishes.

`timescale 1ns / 1ps
`default_nettype none

module tc_ram_sdp_tb;
    parameter WIDTH = 64;
    parameter ADDR_BITS = 9;
    parameter OUT_REG = 0;
    parameter CYCLES = 4000;
    parameter SEED = 1;

    localparam DEPTH = 1 << ADDR_BITS;

    reg                  clk = 1'b0;
    reg                  we = 1'b0, re = 1'b0;
    reg  [ADDR_BITS-1:0] waddr = 0, raddr = 0;
    reg  [WIDTH-1:0]     wdata = 0;
    wire [WIDTH-1:0]     rdata;

    tc_ram_sdp #(.WIDTH(WIDTH), .ADDR_BITS(ADDR_BITS), .OUT_REG(OUT_REG)) dut (
        .clk(clk), .we(we), .waddr(waddr), .wdata(wdata), .re(re), .raddr(raddr), .rdata(rdata)
    );

    reg [WIDTH-1:0] ref_mem [0:DEPTH-1];
    reg             ref_known [0:DEPTH-1];
    // the reference's pipeline: value and whether it is known, after each register
    reg [WIDTH-1:0] e1, e2;
    reg             k1, k2;

    reg [ADDR_BITS-1:0] pool [0:31];
    integer seed, i, cyc, checked, errors;

    function [WIDTH-1:0] rand_word;
        input integer dummy;
        integer j;
        begin
            rand_word = 0;
            for (j = 0; j < WIDTH; j = j + 32)
                rand_word = (rand_word << 32) | $random(seed);
        end
    endfunction

    function [ADDR_BITS-1:0] rand_addr;
        input integer dummy;
        reg [31:0] r;
        begin
            r = $random(seed);
            if (r[3:0] < 12)
                rand_addr = pool[r[8:4]];
            else
                rand_addr = {$random(seed)} % DEPTH;
        end
    endfunction

    wire [WIDTH-1:0] expect_v = (OUT_REG != 0) ? e2 : e1;
    wire             expect_k = (OUT_REG != 0) ? k2 : k1;

    initial begin
        seed = SEED;
        checked = 0;
        errors = 0;
        k1 = 1'b0;
        k2 = 1'b0;
        for (i = 0; i < DEPTH; i = i + 1)
            ref_known[i] = 1'b0;
        // pool[16 + j] is pool[j] with bit ADDR_BITS-1-j flipped (mod ADDR_BITS; every bit up to
        // 16 address bits): every address bit must tell words apart
        for (i = 0; i < 16; i = i + 1)
            pool[i] = {$random(seed)} % DEPTH;
        for (i = 16; i < 32; i = i + 1)
            pool[i] = pool[i - 16] ^ (1 << ((ADDR_BITS + 15 - i) % ADDR_BITS));
        for (cyc = 0; cyc < CYCLES; cyc = cyc + 1) begin
            // inputs for this cycle
            we = ({$random(seed)} % 2) == 0;
            re = ({$random(seed)} % 4) != 0;
            waddr = rand_addr(0);
            raddr = rand_addr(0);
            wdata = rand_word(0);
            #1;
            // the output as it stands before the edge
            if (expect_k) begin
                checked = checked + 1;
                if (rdata !== expect_v) begin
                    errors = errors + 1;
                    if (errors <= 5)
                        $display("FAIL cycle %0d: rdata %h, expected %h", cyc, rdata, expect_v);
                end
            end
            // the reference at the edge (read first, then write)
            e2 <= e1;
            k2 <= k1;
            if (re) begin
                e1 <= ref_mem[raddr];
                k1 <= ref_known[raddr] && !(we && waddr == raddr);
            end
            if (we) begin
                ref_mem[waddr] <= wdata;
                ref_known[waddr] <= 1'b1;
            end
            #4 clk = 1'b1;
            #5 clk = 1'b0;
        end
        if (errors == 0)
            $display("PASS %0d", checked);
        else
            $display("FAIL %0d of %0d checks", errors, checked);
        $finish;
    end
endmodule
