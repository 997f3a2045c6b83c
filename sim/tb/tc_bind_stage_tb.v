// tc_bind_stage at MEM_REG = 0 and at MEM_REG = 1 on the same records (tests/hdl_ram_sdp.rs,
// under Icarus; with TC_ECP5_PRIMITIVES its tables are DP16KD cells, sim/tb/ecp5_dp16kd_model.v).
//
// Random records, dense in the same slots (ids from 4 high parts x 4 slots, 2 venues), a third
// each quotes by id, definitions that resolve and definitions that do not, with random gaps and
// random back-pressure, each instance fed at its own pace. The two must emit the same QUOTEs in
// the same order and the same counter pulses in the same order (MEM_REG = 1 takes a cycle more a
// record, so the cycles differ). Prints "PASS <quotes> <pulses>" or "FAIL ..." and finishes.

`timescale 1ns / 1ps
`default_nettype none

`include "hdl/tc_pipeline.vh"

module tc_bind_stage_tb;
    parameter N = 3000;            // records
    parameter SEED = 1;
    localparam SLOT_BITS = 4;
    localparam INSTR_BITS = 8;
    localparam VB = 3;

    reg clk = 1'b0;
    reg rst = 1'b1;

    reg [2:0]  r_kind [0:N-1];
    reg [VB-1:0] r_venue [0:N-1];
    reg [31:0] r_id [0:N-1];
    reg        r_hit [0:N-1];
    reg [INSTR_BITS-1:0] r_instr [0:N-1];

    // per instance: input pointer, output log (quotes: {venue, instrument, record index};
    // pulses: {unknown, bind, eviction} when any is set)
    localparam QW = VB + INSTR_BITS + 32;
    reg [QW-1:0] qlog0 [0:N-1];
    reg [QW-1:0] qlog1 [0:N-1];
    reg [2:0]    plog0 [0:N-1];
    reg [2:0]    plog1 [0:N-1];
    integer nq0, nq1, np0, np1;

    integer seed, i;

    genvar g;
    generate
        for (g = 0; g < 2; g = g + 1) begin : inst
            integer ptr;
            reg     valid_gap, m_ready;
            wire    s_ready, clearing, busy, m_valid;
            wire [VB-1:0] m_venue;
            wire [INSTR_BITS-1:0] m_instrument;
            wire [63:0] m_v0, m_v1, m_v2, m_v3, m_ts, m_cyc_frame, m_cyc_first, m_cyc_last;
            wire    inc_unknown_symbol, inc_bind, inc_eviction;
            wire [63:0] m_key;
            wire    m_has_uid, m_tracked, m_gap;
            wire    s_valid = ptr < N && valid_gap;
            wire [31:0] k = (ptr < N) ? ptr : 0;
            tc_bind_stage #(.SLOT_BITS(SLOT_BITS), .INSTR_BITS(INSTR_BITS), .VB(VB), .MEM_REG(g)) dut (
                .clk(clk), .rst(rst), .clear(1'b0), .clearing(clearing),
                .s_valid(s_valid), .s_ready(s_ready), .s_kind(r_kind[k]), .s_venue(r_venue[k]),
                .s_id(r_id[k]), .s_key(64'd0), .s_kflag(1'b0), .s_hit(r_hit[k]),
                .s_instrument(r_instr[k]),
                .s_v0({32'd0, k}), .s_v1(64'd1), .s_v2(64'd2), .s_v3(64'd3), .s_ts(64'd4),
                .s_cyc_frame(64'd5), .s_cyc_first(64'd6), .s_cyc_last(64'd7),
                .m_valid(m_valid), .m_ready(m_ready), .m_venue(m_venue),
                .m_instrument(m_instrument), .m_v0(m_v0), .m_v1(m_v1), .m_v2(m_v2), .m_v3(m_v3),
                .m_ts(m_ts), .m_cyc_frame(m_cyc_frame), .m_cyc_first(m_cyc_first),
                .m_cyc_last(m_cyc_last), .m_key(m_key), .m_has_uid(m_has_uid),
                .m_tracked(m_tracked), .m_gap(m_gap),
                .inc_unknown_symbol(inc_unknown_symbol), .inc_bind(inc_bind),
                .inc_eviction(inc_eviction), .busy(busy)
            );
            initial begin
                ptr = 0;
                valid_gap = 1'b0;
                m_ready = 1'b0;
            end
            always @(posedge clk) begin
                if (!rst) begin
                    if (s_valid && s_ready)
                        ptr <= ptr + 1;
                    if (m_valid && m_ready) begin
                        if (g == 0) begin
                            qlog0[nq0] <= {m_venue, m_instrument, m_v0[31:0]};
                            nq0 <= nq0 + 1;
                        end else begin
                            qlog1[nq1] <= {m_venue, m_instrument, m_v0[31:0]};
                            nq1 <= nq1 + 1;
                        end
                    end
                    if (inc_unknown_symbol || inc_bind || inc_eviction) begin
                        if (g == 0) begin
                            plog0[np0] <= {inc_unknown_symbol, inc_bind, inc_eviction};
                            np0 <= np0 + 1;
                        end else begin
                            plog1[np1] <= {inc_unknown_symbol, inc_bind, inc_eviction};
                            np1 <= np1 + 1;
                        end
                    end
                end
                valid_gap <= ({$random(seed)} % 4) != 0;
                m_ready <= ({$random(seed)} % 5) != 0;
            end
        end
    endgenerate

    integer cyc, errors;
    reg [31:0] r;
    initial begin
        seed = SEED;
        nq0 = 0; nq1 = 0; np0 = 0; np1 = 0;
        for (i = 0; i < N; i = i + 1) begin
            r = $random(seed);
            r_kind[i] = (r[1:0] == 0) ? `TC_K_QUOTE : (r[1:0] == 1) ? `TC_K_QID : `TC_K_DEF;
            r_venue[i] = {2'd0, r[2]};
            // 4 high parts x 4 slots: the same slot with other ids, and the same ids again
            r_id[i] = {r[4:3], 26'd0, r[6:5]} | (32'd1 << (SLOT_BITS + 4));
            r_hit[i] = r[7];
            r_instr[i] = r[15:8];
        end
        for (cyc = 0; cyc < 4; cyc = cyc + 1) begin
            #5 clk = 1'b1;
            #5 clk = 1'b0;
        end
        rst = 1'b0;
        for (cyc = 0; cyc < 10 * N + 1000 && (inst[0].ptr < N || inst[1].ptr < N ||
                                               inst[0].busy || inst[1].busy); cyc = cyc + 1) begin
            #5 clk = 1'b1;
            #5 clk = 1'b0;
        end
        for (cyc = 0; cyc < 8; cyc = cyc + 1) begin
            #5 clk = 1'b1;
            #5 clk = 1'b0;
        end
        errors = 0;
        if (inst[0].ptr != N || inst[1].ptr != N) begin
            $display("FAIL: records taken %0d / %0d of %0d", inst[0].ptr, inst[1].ptr, N);
            errors = errors + 1;
        end
        if (nq0 != nq1 || np0 != np1) begin
            $display("FAIL: quotes %0d / %0d, pulses %0d / %0d", nq0, nq1, np0, np1);
            errors = errors + 1;
        end
        for (i = 0; i < nq0 && i < nq1; i = i + 1)
            if (qlog0[i] !== qlog1[i]) begin
                if (errors < 5)
                    $display("FAIL: quote %0d: %h / %h", i, qlog0[i], qlog1[i]);
                errors = errors + 1;
            end
        for (i = 0; i < np0 && i < np1; i = i + 1)
            if (plog0[i] !== plog1[i]) begin
                if (errors < 5)
                    $display("FAIL: pulse %0d: %b / %b", i, plog0[i], plog1[i]);
                errors = errors + 1;
            end
        if (errors == 0)
            $display("PASS %0d %0d", nq0, np0);
        $finish;
    end
endmodule
