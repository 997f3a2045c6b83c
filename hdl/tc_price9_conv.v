// Exact conversion of one venue number to Price9 (value x 10^9), docs/PIPELINE.md section 3.
//
// fmt 0, decimal (binance_sbe): mantissa m (i64) with exponent e (i8). Negative rejects.
//   e >= -9: m * 10^k, k = e + 9 in 0..18, rejected above 2^63-1. No multiplier: five
//            conditional multiplications by the constants 10, 100, 10^4, 10^8 and 10^16 (the bits
//            of k), each a few shifted adds (canonical signed digits). A step multiplying v by c
//            overflows exactly when v > floor((2^63-1)/c); that compare runs beside the adds,
//            so every step's product is exact (mod 2^63) or the number is already rejected.
//            10^8 and 10^16 are never both applied; x10^16 needs v <= 922 (10 bits), so its
//            product is two 5-bit table lookups and one add.
//   e <  -9: m must be a multiple of 10^j, j = -9-e. Written as 2^j * 5^j: the low j bits must be
//            zero, and (m >> j) * inverse(5^j) mod 2^64 must not exceed floor((2^64-1) / 5^j);
//            when it does not, that product is the exact quotient (exact division by an odd
//            constant through its modular inverse). j >= 19: only 0 divides. This product is the
//            one true multiply left: three 32x32 pieces (10 DSP48E2 / 10 ECP5 MULT18X18D) from
//            registered operands (stage 1) to registered pieces (stage 2), summed in stage 3.
// fmt 1, IEEE-754 double bits: round(x * 10^9) to nearest, ties away from zero, by integer
//   arithmetic. x = M * 2^(E-1075) with M = 2^52 + fraction, so x * 10^9 = P / 2^s with
//   P = M * 5^9 (< 2^74, shifted adds) and s = 1066 - E. s < 10 always overflows, s = 10 overflows
//   when P >= 2^73 - 2^9 (a compare of the fraction with a constant), s >= 75 (and subnormals)
//   gives 0. Otherwise, with t = s - 10 in 0..64 and R = P >> (9 + t) (R[0] is the bit just below
//   the point), the result is (R + 1) >> 1. NaN, infinities and negatives (other than -0.0) reject.
//
// Timing: LATENCY (3, 4 or 5) register stages, one conversion per cycle; registers load only for
// valid inputs, so a result stays on out_* until the next conversion's arrives:
//   1 in_* -> operands: exponent decode; x10 when k is odd; the divisor's shift (m >> j) and
//     inverse (table); M << (3 - t mod 4); the fraction's compare with s = 10's bound. The
//     only logic on the input ports (3 LUT levels), kept shallow because the decoders' cv_*
//     outputs are combinational.
//   (LATENCY 4 and 5) -> the division's ten 16x16 partial products, registered (the
//     multipliers' output registers: on the ECP5 a multiply and the sum of its pieces do not fit
//     6.4 ns); x100 of the scale-up and its overflow compares; M * 5^9 reduced to two addends by
//     carry-save rows. Every sum from here on is carry-save rows and one carry chain: the ECP5
//     flow builds a sum of three or more as chained carry chains (xcup's does not).
//   2 -> products: x100 (LATENCY 3) and x10^4 of the scale-up with their overflow compares; the
//     x10^16 product's two table entries; M * 5^9 (LATENCY 4 and 5: the last add); the
//     division's pieces (summed from the partial products); zero/negative/range checks.
//     LATENCY 5 also shifts the double's R by 32 * (t div 32) here, and zeroes the values that
//     do not give the result.
//   3 -> out_* (LATENCY 3 and 4): x10^8 or x10^16 and their compares; the division's sum and
//     bound; the double's shift by 4 * (t div 4) and rounding; the result mux.
//     (LATENCY 5) the same sums, registered: x10^8 (always computed), x10^16, the division's
//     sum, the double's rounding.
//   (LATENCY 5) 4 -> out_*: the result mux and the division's bound.
// ECP5 alone (scripts/synth-report --top tc_price9_conv --ecp5-param LATENCY=5): see
// docs/TIMING.md. tc_lookup, whose converters' inputs it holds back DEPTH + 1 - LATENCY cycles,
// takes LATENCY 5 at MEM_REG = 1 at no cost in cycles.
// scripts/synth-report (synth_xilinx -family xcup): at most 5 LUT levels per stage.

`resetall
`timescale 1ns / 1ps
`default_nettype none

module tc_price9_conv #(
    // Cycles from in_* to out_*: 3, or 4 with the multipliers' products registered (ECP5 at
    // 156.25 MHz). Instantiating logic passes the latency it was written for; any other value
    // stops elaboration.
    parameter integer LATENCY = 3
) (
    input  wire         clk,
    input  wire         in_valid,
    input  wire [63:0]  in_value,
    input  wire [7:0]   in_exp,      // decimal exponent (ignored for doubles)
    input  wire         in_fmt,      // 0 decimal, 1 double
    output wire [63:0]  out_value,
    output wire         out_reject
);

`ifndef SYNTHESIS
initial begin
    if (LATENCY < 3 || LATENCY > 5) begin
        $display("tc_price9_conv: LATENCY %0d, but this converter takes 3, 4 or 5 cycles (%m)",
                 LATENCY);
        $finish;
    end
end
`endif

localparam [62:0] MAXV = 63'h7fffffffffffffff;
// a step multiplying v by c overflows exactly when v exceeds these
localparam [62:0] LIM_1  = MAXV / 63'd10;
localparam [62:0] LIM_2  = MAXV / 63'd100;
localparam [62:0] LIM_4  = MAXV / 63'd10000;
localparam [62:0] LIM_8  = MAXV / 63'd100000000;
localparam [62:0] LIM_16 = MAXV / 63'd10000000000000000;
localparam [42:0] P5_16  = 43'd152587890625;                 // 5^16; 10^16 = 5^16 * 2^16
// s = 10 overflows when M * 5^9 >= 2^73 - 2^9, i.e. when M >= OVF_M (M = 2^52 + fraction)
localparam [73:0] OVF_M  = ((74'd1 << 73) - 74'd512 + 74'd1953125 - 74'd1) / 74'd1953125;
localparam [51:0] OVF_F  = OVF_M[51:0];                      // OVF_M - 2^52
// t = 64 rounds to 1 when M * 5^9 >= 2^73, i.e. when M >= ONE_M
localparam [73:0] ONE_M  = ((74'd1 << 73) + 74'd1953125 - 74'd1) / 74'd1953125;
localparam [51:0] ONE_F  = ONE_M[51:0];                      // ONE_M - 2^52

// j = -9 - e = ~e - 8 (mod 32), bit by bit so that it folds into the shifter's first LUTs
function [4:0] div_j;
    /* verilator lint_off UNUSEDSIGNAL */
    input [7:0] e;
    /* verilator lint_on UNUSEDSIGNAL */
    begin
        div_j = {~(e[4] ^ e[3]), e[3], ~e[2:0]};
    end
endfunction

// inverse of 5^j modulo 2^64, and floor((2^64 - 1) / 5^j)
function [63:0] inv5;
    input [4:0] j;
    begin
        case (j)
            5'd1: inv5 = 64'hcccccccccccccccd;
            5'd2: inv5 = 64'h8f5c28f5c28f5c29;
            5'd3: inv5 = 64'h1cac083126e978d5;
            5'd4: inv5 = 64'hd288ce703afb7e91;
            5'd5: inv5 = 64'h5d4e8fb00bcbe61d;
            5'd6: inv5 = 64'h790fb65668c26139;
            5'd7: inv5 = 64'he5032477ae8d46a5;
            5'd8: inv5 = 64'hc767074b22e90e21;
            5'd9: inv5 = 64'h8e47ce423a2e9c6d;
            5'd10: inv5 = 64'h4fa7f60d3ed61f49;
            5'd11: inv5 = 64'h0fee64690c913975;
            5'd12: inv5 = 64'h3662e0e1cf503eb1;
            5'd13: inv5 = 64'ha47a2cf9f6433fbd;
            5'd14: inv5 = 64'h54186f653140a659;
            5'd15: inv5 = 64'h7738164770402145;
            5'd16: inv5 = 64'he4a4d1417cd9a041;
            5'd17: inv5 = 64'hc75429d9e5c5200d;
            5'd18: inv5 = 64'hc1773b91fac10669;
            default: inv5 = 64'd0;
        endcase
    end
endfunction

function [63:0] lim5;
    input [4:0] j;
    begin
        case (j)
            5'd1: lim5 = 64'h3333333333333333;
            5'd2: lim5 = 64'h0a3d70a3d70a3d70;
            5'd3: lim5 = 64'h020c49ba5e353f7c;
            5'd4: lim5 = 64'h0068db8bac710cb2;
            5'd5: lim5 = 64'h0014f8b588e368f0;
            5'd6: lim5 = 64'h000431bde82d7b63;
            5'd7: lim5 = 64'h0000d6bf94d5e57a;
            5'd8: lim5 = 64'h00002af31dc46118;
            5'd9: lim5 = 64'h0000089705f4136b;
            5'd10: lim5 = 64'h000001b7cdfd9d7b;
            5'd11: lim5 = 64'h00000057f5ff85e5;
            5'd12: lim5 = 64'h000000119799812d;
            5'd13: lim5 = 64'h0000000384b84d09;
            5'd14: lim5 = 64'h00000000b424dc35;
            5'd15: lim5 = 64'h0000000024075f3d;
            5'd16: lim5 = 64'h000000000734aca5;
            5'd17: lim5 = 64'h000000000170ef54;
            5'd18: lim5 = 64'h000000000049c977;
            default: lim5 = 64'd0;
        endcase
    end
endfunction

// A carry-save row: three addends to their bitwise sum (a ^ b ^ c) and carry vector, the carries
// moved up a bit and `cin` in bit 0 (where a negated addend's + 1 goes). Up to 77 bits wide;
// narrower sums pass zero-extended operands and keep the low bits (carries only move up).
function [76:0] csa_carry;
    /* verilator lint_off UNUSEDSIGNAL */
    input [76:0] a, b, c;                    // bit 76 carries out of the result
    /* verilator lint_on UNUSEDSIGNAL */
    input        cin;
    begin
        csa_carry = {(a[75:0] & b[75:0]) | (a[75:0] & c[75:0]) | (b[75:0] & c[75:0]), cin};
    end
endfunction

// x * 5^16 for a 5-bit x, as a table: each product bit is one 5-input function
wire [42:0] mul5p16 [0:31];
genvar gr;
generate
    for (gr = 0; gr < 32; gr = gr + 1) begin : g_mul5p16
        assign mul5p16[gr] = gr * P5_16;
    end
endgenerate
// the same for w = 100 * x, x in 0..15: the table entries of w[4:0] and of w[9:5]
wire [42:0] mul5p16x100lo [0:15];
wire [42:0] mul5p16x100hi [0:15];
generate
    for (gr = 0; gr < 16; gr = gr + 1) begin : g_mul5p16x100
        assign mul5p16x100lo[gr] = ((gr * 100) % 32) * P5_16;
        assign mul5p16x100hi[gr] = (((gr * 100) / 32) % 32) * P5_16;
    end
endgenerate

// ---------------------------------------------------------------- stage 1: operands
// Stage 1's logic (d_*) is computed inside its registers' enable (as stages 2 and 3 are: the
// model built by Verilator evaluates it only for a conversion).
reg         d_up, d_big, d_k0;
reg  [4:0]  d_k, d_j;
/* verilator lint_off UNUSEDSIGNAL */
reg  [62:0] d_n;
/* verilator lint_on UNUSEDSIGNAL */
reg  [62:0] d_u1;
reg  [1:0]  d_fsh;
reg  [55:0] d_fm;
reg  [9:0]  d_t10;

reg         r1_valid, r1_fmt, r1_up, r1_big;
reg  [63:0] r1_v;
reg  [4:0]  r1_k, r1_j;
reg  [61:0] r1_n;             // m >> j (j >= 1 when it is used, so 62 bits)
reg  [63:0] r1_b;             // inverse(5^j)
reg  [62:0] r1_u1;            // the first scale-up step
reg  [55:0] r1_fm;            // the double's M, shifted
// what stage 2's x10^16 table entries are looked up from (with k1): u1's low 10 bits, computed
// apart from d_u1 into a register of their own, so that synthesis keeps the tables' logic apart
// from u2's adds
reg  [9:0]  r1_t10;
// double: the fraction at or above s = 10's overflow bound (a constant compare, beside d_u1's add)
reg         r1_fge;
reg         r1_f1ge;          // (LATENCY 5) the fraction at or above t = 64's rounding bound
/* verilator lint_off UNUSEDSIGNAL */
reg  [3:0]  r1_tq;            // (LATENCY 5) t div 4, t = 1056 - E mod 64
reg  [5:0]  d_t;
/* verilator lint_on UNUSEDSIGNAL */

/* verilator lint_off BLKSEQ */
always @(posedge clk) begin
    r1_valid <= in_valid;
    if (in_valid) begin
        d_up = $signed(in_exp) >= -8'sd9;                       // e >= -9: scale up by 10^k
        d_big = d_up ? ($signed(in_exp) > 8'sd9) : ($signed(in_exp) < -8'sd27);  // k or j > 18
        d_k = in_exp[4:0] + 5'd9;                               // k = e + 9 (mod 32)
        d_j = div_j(in_exp);
        d_n = in_value[62:0] >> d_j;
        // the first scale-up step, x10 when k is odd (k0 = ~e0)
        d_k0 = ~in_exp[0];
        d_u1 = (d_k0 ? in_value[62:0] << 3 : in_value[62:0]) +
               (d_k0 ? in_value[62:0] << 1 : 63'd0);
        // double: M << (3 - t mod 4) = M << ((E + 3) mod 4), so that stage 3 shifts by
        // multiples of 4
        d_fsh = in_value[53:52] + 2'd3;
        d_fm = {3'd0, 1'b1, in_value[51:0]} << d_fsh;
        d_t10 = d_k0 ? {in_value[6:0], 3'd0} + {in_value[8:0], 1'd0} : in_value[9:0];

        r1_fmt <= in_fmt;
        r1_up <= d_up;
        r1_big <= d_big;
        r1_v <= in_value;
        r1_k <= d_k;
        r1_j <= d_j;
        r1_n <= d_n[61:0];
        r1_b <= inv5(d_j);
        r1_u1 <= d_u1;
        r1_fm <= d_fm;
        r1_fge <= in_value[51:0] >= OVF_F;
        r1_f1ge <= in_value[51:0] >= ONE_F;
        d_t = 6'd32 - in_value[57:52];
        r1_tq <= d_t[5:2];
        r1_t10 <= d_t10;
    end
end
/* verilator lint_on BLKSEQ */

// the division's multiply, (m >> j) * inverse(5^j) mod 2^64, in 16x16 pieces: n = r1_n, b = r1_b
// ll = n[31:0] * b[31:0]: n0b0, n0b1, n1b0, n1b1; lh = n[31:0] * b[63:32] mod 2^32: n0b2, and
// the low halves of n0b3, n1b2; hl = n[63:32] * b[31:0] mod 2^32: n2b0, and of n2b1, n3b0
// Piece i is n's 16-bit piece PIECES[4*i +: 2] times b's PIECES[4*i+2 +: 2]: in order n0b0, n0b1,
// n1b0, n1b1, n0b2, n0b3, n1b2, n2b0, n2b1, n3b0 (both forms below build them from this map).
localparam NP = 10;
localparam [39:0] PIECES = 40'h36_29c8_5140;
wire [63:0] r1_nx = {2'd0, r1_n};
// Piece i of n * b. The behavioural forms compute the pieces inside the registers' enable that
// takes them (stage 2, or the products' register at LATENCY 4 and 5): the same multipliers, but
// a Verilated model evaluates them only for a conversion.
function [31:0] piece;
    input [63:0] n;
    input [63:0] b;
    input integer i;
    begin
        piece = n[16*PIECES[4*i +: 2] +: 16] * b[16*PIECES[4*i+2 +: 2] +: 16];
    end
endfunction

// what stage 2 reads: stage 1's registers, or (LATENCY 4) one cycle later with the products
wire        s1_valid, s1_fmt, s1_up, s1_big, s1_fge, s1_f1ge;
wire [9:0]  s1_t10;
wire [63:0] s1_v;
wire [4:0]  s1_k, s1_j;
wire [62:0] s1_u1;
wire [55:0] s1_fm;
wire [31:0] pp [0:NP-1];
// LATENCY 4 only: x100 (u2) and its overflow flag, and M' * 5^9 in carry-save form (two vectors)
wire [62:0] s1_u2;
wire        s1_fq;
wire        s1_ovf12;
wire [76:0] s1_fs, s1_fc;
generate
    if (LATENCY >= 4) begin : g_preg
        reg         p_valid, p_fmt, p_up, p_big, p_fge, p_f1ge, p_fq;
        reg  [62:0] p_u2;
        reg         p_ovf12;
        reg  [76:0] p_fs, p_fc;
        // carry-save temporaries, at the full 77 bits for csa_carry (u* use 63)
        /* verilator lint_off UNUSEDSIGNAL */
        reg  [76:0] ua, ub, uc, us, uy;
        /* verilator lint_on UNUSEDSIGNAL */
        reg  [76:0] fm, s1a, c1a, s1b, c1b, s1c, c1c, s2a, c2a, s2b, c2b, s3, c3, s4, c4, rnd;
        reg  [9:0]  p_t10;
        reg  [63:0] p_v;
        reg  [4:0]  p_k, p_j;
        reg  [62:0] p_u1;
        reg  [55:0] p_fm;
        reg  [31:0] p_pp [0:NP-1];
        integer     i;
        /* verilator lint_off BLKSEQ */
        always @(posedge clk) begin
            p_valid <= r1_valid;
            if (r1_valid) begin
                // x100 = 2^7 - 2^5 + 2^2 when k1, here a stage early: one carry-save row and one
                // carry chain (synth_ecp5 builds a three-operand add as two chained chains)
                ua = {14'd0, r1_k[1] ? r1_u1 << 7 : r1_u1};
                ub = {14'd0, r1_k[1] ? ~(r1_u1 << 5) : 63'd0};
                uc = {14'd0, r1_k[1] ? r1_u1 << 2 : 63'd0};
                us = ua ^ ub ^ uc;
                uy = csa_carry(ua, ub, uc, r1_k[1]);
                p_u2 <= us[62:0] + uy[62:0];
                p_ovf12 <= (r1_k[0] && r1_v[62:0] > LIM_1) || (r1_k[1] && r1_u1 > LIM_2);
                // M' * 5^9 = M' * (1 + 2^2 + 2^12 + 2^21 - 2^5 - 2^7 - 2^9 - 2^14 - 2^17): nine
                // addends (the five negated as ~x + 1) reduced to two by four carry-save rows;
                // stage 2 adds those with one carry chain
                fm = {21'd0, r1_fm};
                s1a = fm ^ ~(fm << 5) ^ (fm << 2);
                c1a = csa_carry(fm, ~(fm << 5), fm << 2, 1'b1);
                s1b = (fm << 12) ^ ~(fm << 7) ^ ~(fm << 9);
                c1b = csa_carry(fm << 12, ~(fm << 7), ~(fm << 9), 1'b1);
                s1c = (fm << 21) ^ ~(fm << 14) ^ ~(fm << 17);
                c1c = csa_carry(fm << 21, ~(fm << 14), ~(fm << 17), 1'b1);
                s2a = s1a ^ c1a ^ s1b;
                c2a = csa_carry(s1a, c1a, s1b, 1'b1);
                s2b = c1b ^ s1c ^ c1c;
                c2b = csa_carry(c1b, s1c, c1c, 1'b1);
                s3 = s2a ^ c2a ^ s2b;
                c3 = csa_carry(s2a, c2a, s2b, 1'b0);
                if (LATENCY == 5) begin
                    // and the rounding's + 1 on R: 2^(12 + 4 * (t div 4)) (t = 32 - E mod 64),
                    // a fifth row, so that stage 3 shifts and needs no add
                    rnd = 77'd1 << (7'd12 + {1'b0, r1_tq, 2'b00});
                    s4 = s3 ^ c3 ^ c2b;
                    c4 = csa_carry(s3, c3, c2b, 1'b0);
                    p_fs <= s4 ^ c4 ^ rnd;
                    p_fc <= csa_carry(s4, c4, rnd, 1'b0);
                end else begin
                    p_fs <= s3 ^ c3 ^ c2b;
                    p_fc <= csa_carry(s3, c3, c2b, 1'b0);
                end

                p_fmt <= r1_fmt;
                p_up <= r1_up;
                p_big <= r1_big;
                p_fge <= r1_fge;
                p_f1ge <= r1_f1ge;
                // a double whose result is R's (not 0, not the t = 64 case): stage 2 zeroes R
                // otherwise, by this register (from 11-bit compares, too slow after f_p's add)
                p_fq <= r1_fmt && r1_v[62:52] != 11'd0 && r1_v[62:52] >= 11'd993;
                p_t10 <= r1_t10;
                p_v <= r1_v;
                p_k <= r1_k;
                p_j <= r1_j;
                p_u1 <= r1_u1;
                p_fm <= r1_fm;
                for (i = 0; i < NP; i = i + 1)
                    p_pp[i] <= piece(r1_nx, r1_b, i);
            end
        end
        /* verilator lint_on BLKSEQ */
        assign s1_fq = p_fq;
        assign s1_u2 = p_u2;
        assign s1_ovf12 = p_ovf12;
        assign s1_fs = p_fs;
        assign s1_fc = p_fc;
        assign {s1_valid, s1_fmt, s1_up, s1_big, s1_fge, s1_f1ge, s1_t10, s1_v, s1_k, s1_j, s1_u1,
                s1_fm} =
               {p_valid, p_fmt, p_up, p_big, p_fge, p_f1ge, p_t10, p_v, p_k, p_j, p_u1, p_fm};
`ifdef TC_ECP5_PRIMITIVES
        // The ECP5 form: each piece a MULT18X18D whose own registers hold the operands (what
        // r1_n and r1_b hold) and the product (what p_pp holds), tc_mul16_reg, so that the
        // multiply runs from register to register inside the cell; r1_n, r1_b and p_pp are left
        // without loads. The pieces are those of piece() (PIECES).
        wire [4:0]  e_j = div_j(in_exp);
        /* verilator lint_off UNUSEDSIGNAL */
        wire [62:0] e_n = in_value[62:0] >> e_j;        // (j >= 1 when it is used: 62 bits)
        /* verilator lint_on UNUSEDSIGNAL */
        wire [63:0] e_nx = {2'd0, e_n[61:0]};
        wire [63:0] e_b = inv5(e_j);
        for (gr = 0; gr < NP; gr = gr + 1) begin : g_pp
            tc_mul16_reg mul (
                .clk(clk), .in_ce(in_valid),
                .a(e_nx[16*PIECES[4*gr +: 2] +: 16]), .b(e_b[16*PIECES[4*gr+2 +: 2] +: 16]),
                .out_ce(r1_valid), .p(pp[gr])
            );
        end
`else
        for (gr = 0; gr < NP; gr = gr + 1) begin : g_pp
            assign pp[gr] = p_pp[gr];
        end
`endif
    end else begin : g_pdirect
        assign s1_fq = 1'b0;
        assign s1_u2 = 63'd0;
        assign s1_ovf12 = 1'b0;
        assign s1_fs = 77'd0;
        assign s1_fc = 77'd0;
        assign {s1_valid, s1_fmt, s1_up, s1_big, s1_fge, s1_f1ge, s1_t10, s1_v, s1_k, s1_j, s1_u1,
                s1_fm} =
               {r1_valid, r1_fmt, r1_up, r1_big, r1_fge, r1_f1ge, r1_t10, r1_v, r1_k, r1_j, r1_u1,
                r1_fm};
        // (stage 2 computes the pieces itself from r1_n and r1_b)
        for (gr = 0; gr < NP; gr = gr + 1) begin : g_pp
            assign pp[gr] = 32'd0;
        end
    end
endgenerate

// ---------------------------------------------------------------- stage 2: products
// Adds are written as trees of two-input adds. Where a tree's inner sums meet, they enter the
// add as {sum, 1'b0} (the sum taken from bit 1): Yosys' alumacc merges an add whose whole output
// is another add's operand into one multi-operand add, built as a carry-save tree that is one LUT
// level deeper than the two-input tree.
//
// decimal scale-up, x10^(k mod 8); u_i < 2^63 whenever no step so far overflowed
wire [62:0] u0 = s1_v[62:0];
wire        k0 = s1_k[0], k1 = s1_k[1], k2 = s1_k[2];
wire [62:0] u1 = s1_u1;                                   // x10 = 2^3 + 2^1, in stage 1
reg  [62:0] u2;
reg  [62:0] u3a;
reg  [62:0] u3b;
/* verilator lint_off UNUSEDSIGNAL */
reg  [63:0] u3;
/* verilator lint_on UNUSEDSIGNAL */
reg         u_ovf12;
reg         u_ovf4;
reg         m_neg;
reg         m_zero;
reg         m_lowbits;
wire [10:0] f_exp  = s1_v[62:52];
wire [51:0] f_frac = s1_v[51:0];
reg  [76:0] f_m;
reg  [76:0] f_pa;
reg  [76:0] f_pb;
reg  [76:0] f_pc;
reg  [76:0] f_pd;
/* verilator lint_off UNUSEDSIGNAL */
reg  [77:0] f_pab;
reg  [77:0] f_pcd;
reg  [77:0] f_pabcd;
reg  [76:0] f_p;
reg  [5:0]  f_t;
/* verilator lint_on UNUSEDSIGNAL */
reg         f_sub;
reg         f_zero;
reg         f_sign;
reg         f_over;
reg         f_small;
wire [17:0] m_lowmask;
genvar gi;
generate
    for (gi = 0; gi < 18; gi = gi + 1) begin : g_lowmask
        assign m_lowmask[gi] = s1_j > gi;
    end
endgenerate

reg         s2_valid, s2_rej, s2_up, s2_div, s2_one, s2_ovf12, s2_ovf4;
reg         s2_ovf16;          // (LATENCY 5) x10^16 overflows
reg         s2_up1, s2_up16, s2_qf;   // the result mux's selects
reg         s2_k3, s2_k4;
reg         s2_k3m;            // (LATENCY 5) x10^8 applies to the result
reg  [62:0] s2_u;
reg  [42:0] s2_w16lo, s2_w16hi;   // the x10^16 product's two table entries
reg  [63:0] s2_ll, s2_lim;
reg  [31:0] s2_lh, s2_hl;
reg  [64:0] s2_r;
reg  [3:0]  s2_tc;            // t div 4 (t <= 63 when it is used)

// carry-save temporaries (LATENCY 4), at the full 77 bits for csa_carry
/* verilator lint_off UNUSEDSIGNAL */
reg  [76:0] ca, cb, cc, cd, ce, cf, cg, ch, cs, cy;
/* verilator lint_on UNUSEDSIGNAL */
reg  [42:0] w16lo_d;
reg  [42:0] w16hi_d;
reg  [63:0] d_ll;
reg  [31:0] d_lh;
reg  [31:0] d_hl;
/* verilator lint_off UNUSEDSIGNAL */
reg  [32*NP-1:0] q_pp;        // (LATENCY 3) the pieces, as stage 2 computes them (mod 2^16 for 5, 6, 8, 9)
/* verilator lint_on UNUSEDSIGNAL */
integer     i2;
// Stage 2's logic is computed inside its registers' enable: the same hardware, but the model
// built by Verilator evaluates it only for a conversion, not on every cycle.
/* verilator lint_off BLKSEQ */
always @(posedge clk) begin
    s2_valid <= s1_valid;
    if (s1_valid) begin
        if (LATENCY >= 4) begin
            // x100 came from the stage before; x10^4 = 2^13 + 2^11 - 2^8 + 2^4 as two
            // carry-save rows and one carry chain
            u2 = s1_u2;
            ca = {14'd0, k2 ? u2 << 13 : u2};
            cb = {14'd0, k2 ? u2 << 11 : 63'd0};
            cc = {14'd0, k2 ? ~(u2 << 8) : 63'd0};
            cd = {14'd0, k2 ? u2 << 4 : 63'd0};
            cs = ca ^ cb ^ cc;
            cy = csa_carry(ca, cb, cc, k2);
            cf = cs ^ cy ^ cd;
            cg = csa_carry(cs, cy, cd, 1'b0);
            u3 = {cf[62:0], 1'b0} + {cg[62:0], 1'b0};
            u_ovf12 = s1_ovf12;
        end else begin
            // x100 = 2^7 - 2^5 + 2^2: one three-input add (a carry-save row, then a carry chain)
            u2 = (k1 ? u1 << 7 : u1) - (k1 ? u1 << 5 : 63'd0) + (k1 ? u1 << 2 : 63'd0);
            // x10^4 = 2^13 + 2^11 - 2^8 + 2^4
            u3a = (k2 ? u2 << 13 : u2) + (k2 ? u2 << 11 : 63'd0);
            u3b = (k2 ? u2 << 4 : 63'd0) - (k2 ? u2 << 8 : 63'd0);
            u3 = {u3a, 1'b0} + {u3b, 1'b0};
            u_ovf12 = (k0 && u0 > LIM_1) || (k1 && u1 > LIM_2);
        end
        u_ovf4 = k2 && u2 > LIM_4;

        // decimal checks
        m_neg = s1_v[63];
        m_zero = s1_v == 64'd0;
        // scaling down: the low j bits (j <= 18) must be zero
        m_lowbits = (s1_v[17:0] & m_lowmask) != 18'd0;

        // double: P' = M' * 5^9 with M' = M << (3 - t mod 4) (P' = P * 2^(3 - t mod 4) < 2^77),
        // 5^9 = 2^21 - 2^17 - 2^14 + 2^12 - 2^9 - 2^7 - 2^5 + 2^2 + 2^0
        if (LATENCY >= 4) begin
            f_p = s1_fs + s1_fc;                    // the stage before reduced it to two addends
        end else begin
            f_m = {21'd0, s1_fm};
            f_pa = f_m - (f_m << 5);
            f_pb = (f_m << 2) - (f_m << 7);
            f_pc = (f_m << 12) - (f_m << 9);
            f_pd = (f_m << 21) - (f_m << 14);
            f_pab = {f_pa, 1'b0} + {f_pb, 1'b0};
            f_pcd = {f_pc, 1'b0} + {f_pd, 1'b0};
            f_pabcd = {f_pab[77:1], 1'b0} + {f_pcd[77:1], 1'b0};
            f_p = f_pabcd[77:1] - (f_m << 17);
        end
        // t = 1056 - E (= s - 10), t div 4 from t mod 64 (1056 = 32 mod 64)
        f_t = 6'd32 - f_exp[5:0];
        // R = P >> (9 + t) = P' >> (12 + 4 * (t div 4)): stage 3 shifts s2_r = P'[76:12]
        f_sub = f_exp == 11'd0;                     // zero or subnormal: 0
        f_zero = f_sub && f_frac == 52'd0;
        f_sign = s1_v[63];
        f_over = f_exp > 11'd1056 || (f_exp == 11'd1056 && s1_fge);  // incl. NaN, inf
        f_small = f_exp < 11'd993;                   // t >= 64: the result is 0 or 1

        // x10^16 applies only for k = 16..18, where stage 3's w = u2 = (k1 ? 100 * u1 : u1)
        // and must be <= 922 (10 bits), else it overflows and is rejected. With k1 set,
        // w <= 922 means u1 <= 9, so w's 10 bits come from u1[3:0] and the table entries are
        // looked up here, a stage early. Any other w is rejected by stage 3's w > LIM_16,
        // whatever these entries hold. Written as constant tables (not u1 * 100) so that
        // synthesis builds them from u1 alone and does not share them with u2's adds.
        w16lo_d = k1 ? mul5p16x100lo[s1_t10[3:0]] : mul5p16[s1_t10[4:0]];
        w16hi_d = k1 ? mul5p16x100hi[s1_t10[3:0]] : mul5p16[s1_t10[9:5]];

        // the division's pieces from the partial products
        if (LATENCY >= 4) begin
            // each sum as carry-save rows and one carry chain; lh + hl together (stage 3 adds
            // two high halves instead of three)
            ca = {13'd0, pp[3], pp[0]};
            cb = {29'd0, pp[1], 16'd0};
            cc = {29'd0, pp[2], 16'd0};
            cy = csa_carry(ca, cb, cc, 1'b0);
            d_ll = (ca[63:0] ^ cb[63:0] ^ cc[63:0]) + cy[63:0];
            ca = {45'd0, pp[4]};
            cb = {45'd0, pp[7]};
            cc = {45'd0, pp[5][15:0], 16'd0};
            cs = ca ^ cb ^ cc;
            cy = csa_carry(ca, cb, cc, 1'b0);
            ca = {45'd0, pp[6][15:0], 16'd0};
            cb = {45'd0, pp[8][15:0], 16'd0};
            cc = {45'd0, pp[9][15:0], 16'd0};
            cd = ca ^ cb ^ cc;
            ce = csa_carry(ca, cb, cc, 1'b0);
            cf = cs ^ cy ^ cd;
            cg = csa_carry(cs, cy, cd, 1'b0);
            ch = csa_carry(cf, cg, ce, 1'b0);
            d_lh = (cf[31:0] ^ cg[31:0] ^ ce[31:0]) + ch[31:0];
            d_hl = 32'd0;
        end else begin
            for (i2 = 0; i2 < NP; i2 = i2 + 1)
                q_pp[32*i2 +: 32] = piece(r1_nx, r1_b, i2);
            d_ll = {q_pp[32*3 +: 32], q_pp[32*0 +: 32]} + {16'd0, q_pp[32*1 +: 32], 16'd0}
                 + {16'd0, q_pp[32*2 +: 32], 16'd0};
            d_lh = q_pp[32*4 +: 32] + {q_pp[32*5 +: 16] + q_pp[32*6 +: 16], 16'd0};
            d_hl = q_pp[32*7 +: 32] + {q_pp[32*8 +: 16] + q_pp[32*9 +: 16], 16'd0};
        end

        s2_up <= !s1_fmt && s1_up;
        s2_div <= !s1_fmt && !s1_up;
        s2_up1 <= !s1_fmt && s1_up && !s1_k[4];
        s2_up16 <= !s1_fmt && s1_up && s1_k[4];
        s2_qf <= !s1_fmt ? !s1_up : (!f_sub && !f_small);
        if (LATENCY == 5)   // f_p carries the rounding's + 1: the fraction's compare instead
            s2_one <= s1_fmt && f_exp == 11'd992 && s1_f1ge;
        else
            s2_one <= s1_fmt && f_exp == 11'd992 && f_p[76];  // t = 64: round(P / 2^74)
        if (!s1_fmt)
            s2_rej <= m_neg || (!m_zero && s1_big) || (!s1_up && !s1_big && m_lowbits);
        else
            s2_rej <= (!f_zero && f_sign) || (!f_sub && f_over);
        s2_k3 <= s1_k[3];
        s2_k4 <= s1_k[4];
        s2_ovf12 <= u_ovf12;
        s2_ovf4 <= u_ovf4;
        // x10^16 applies to w = u1 * (k1 ? 100 : 1) (k2 = k3 = 0), which must be <= 922: decided
        // from u1 here (stage 3 then compares w with one bound only)
        s2_ovf16 <= s1_k[4] && (k1 ? u1 > 63'd9 : u1 > LIM_16);
        s2_u <= u3[63:1];
        s2_k3m <= !s1_fmt && s1_up && !s1_k[4] && s1_k[3];
        if (LATENCY == 5) begin
            // zero unless x10^16 gives the result: stage 4 needs no select for it
            s2_w16lo <= (!s1_fmt && s1_up && s1_k[4]) ? w16lo_d : 43'd0;
            s2_w16hi <= (!s1_fmt && s1_up && s1_k[4]) ? w16hi_d : 43'd0;
        end else begin
            s2_w16lo <= w16lo_d;
            s2_w16hi <= w16hi_d;
        end
        s2_ll <= d_ll;
        s2_lh <= d_lh;
        s2_hl <= d_hl;
        s2_lim <= lim5(s1_j);
        if (LATENCY == 5)
            // the shift's top bit here (by 32), and zero unless a double's result comes from it
            // (then (0 + 1) >> 1 is 0): stage 4 needs no select for it
            s2_r <= s1_fq ? f_p[76:12] >> {f_t[5], 5'b00000} : 65'd0;
        else
            s2_r <= f_p[76:12];
        s2_tc <= f_t[5:2];
    end
end
/* verilator lint_on BLKSEQ */

// ---------------------------------------------------------------- stage 3: result
// decimal scale-up, x10^8 or x10^16 (k3 and k4 are never both set for k <= 18)
// x10^8 = 2^8 * (2^19 - 2^17 - 2^11 - 2^9 - 2^5 + 1), paired so that no two of these adds
// take bits the same distance apart (abc would share one's XOR, inverted, with the other's: a
// LUT level more)
wire [62:0] w = s2_u;
reg  [62:0] w8a;
reg  [62:0] w8b;
/* verilator lint_off UNUSEDSIGNAL */
reg  [62:0] w8c;
reg  [63:0] w8ab;
reg  [47:0] w16;
/* verilator lint_on UNUSEDSIGNAL */
reg  [62:0] w_up;
reg         w_ovf;
reg  [31:0] q_hi;
reg  [63:0] q;
reg  [64:0] f_rr;
/* verilator lint_off UNUSEDSIGNAL */
reg  [64:0] f_rnd;
/* verilator lint_on UNUSEDSIGNAL */
reg  [63:0] r_qf;
// the result (LATENCY 3 and 4), or (LATENCY 5) the sums stage 4 takes it from
/* verilator lint_off UNUSEDSIGNAL */
reg  [63:0] r3_value;
reg         r3_reject;
reg         s3_rej, s3_div, s3_k3m;
reg  [54:0] s3_ws, s3_wc;
reg  [63:0] s3_x, s3_q, s3_lim;
/* verilator lint_on UNUSEDSIGNAL */

// Stage 3's logic, like stage 2's, is computed inside its registers' enable.
/* verilator lint_off BLKSEQ */
always @(posedge clk) begin
    if (s2_valid) begin
        if (LATENCY == 5) begin
            // w * 10^8, always (stage 4 adds and picks it): w * 5^8 * 2^8 with 5^8 = 2^19 -
            // 2^17 - 2^11 - 2^9 - 2^5 + 1 (the four negated as ~x + 1), six addends of 55 bits
            // without a select, three carry-save rows here, the carry chain in stage 4
            ca = {22'd0, w[35:0], 19'd0};
            cb = {22'd0, w[54:0]};
            cc = {22'd0, ~{w[37:0], 17'd0}};
            cd = {22'd0, ~{w[43:0], 11'd0}};
            ce = {22'd0, ~{w[45:0], 9'd0}};
            cf = {22'd0, ~{w[49:0], 5'd0}};
            cs = ca ^ cb ^ cc;
            cy = csa_carry(ca, cb, cc, 1'b1);
            cg = cd ^ ce ^ cf;
            ch = csa_carry(cd, ce, cf, 1'b1);
            ca = cs ^ cy ^ cg;
            cb = csa_carry(cs, cy, cg, 1'b1);
            cc = ca ^ cb ^ ch;
            cd = csa_carry(ca, cb, ch, 1'b1);
            w_up = w;
        end else begin
            w8a = (w << 19) - (w << 11);
            w8b = w - (w << 17);
            w8c = (w << 9) + (w << 5);
            w8ab = {w8a, 1'b0} + {w8b, 1'b0};
            w_up = (s2_k3 ? {w8ab[55:1], 8'd0} : w) - (s2_k3 ? {w8c[54:0], 8'd0} : 63'd0);
        end
        // x10^16 = (w[4:0] * 5^16 + w[9:5] * 5^16 * 2^5) * 2^16, exact for w <= 922 (the
        // entries come from stage 2)
        w16 = {5'd0, s2_w16lo} + {s2_w16hi, 5'd0};
        if (LATENCY == 5)
            w_ovf = s2_ovf12 || s2_ovf4 || s2_ovf16 || (s2_k3 && w > LIM_8);
        else
            w_ovf = s2_ovf12 || s2_ovf4 || (s2_k3 && w > LIM_8) || (s2_k4 && w > LIM_16);

        // division: the pieces' sum mod 2^64, and its bound
        if (LATENCY >= 4)
            q_hi = s2_ll[63:32] + s2_lh;            // s2_lh holds lh + hl
        else
            q_hi = s2_ll[63:32] + s2_lh + s2_hl;
        q = {q_hi, s2_ll[31:0]};

        // double: R = P[73:9] >> t, then (R + 1) >> 1
        if (LATENCY == 5)
            f_rr = s2_r >> {s2_tc[2:0], 2'b00};   // the rest of the shift was in stage 2
        else
            f_rr = s2_r >> {s2_tc, 2'b00};
        f_rnd = f_rr + 65'd1;

        // the result: the scale-up's x10^16 product enters the final mux directly (through
        // w_up's add it would be a LUT level deeper); the division and the double share one input
        r_qf = s2_div ? q : f_rnd[64:1];

        if (LATENCY == 5) begin
            // x10^8's two addends; every other candidate result, zero but the one that
            // applies, in one word (R + 1 came with M * 5^9, so the double's is f_rr's top)
            s3_ws <= cc[54:0];
            s3_wc <= cd[54:0];
            s3_k3m <= s2_k3m;
            s3_x <= ((s2_up1 && !s2_k3m) ? {1'b0, w} : 64'd0) | {1'b0, w16[46:0], 16'd0} |
                    (s2_div ? q : f_rr[64:1]) | {63'd0, s2_one};
            s3_rej <= s2_rej || (s2_up && w_ovf);
            s3_div <= s2_div;
            s3_q <= q;
            s3_lim <= s2_lim;
        end else begin
            r3_value <= ({64{s2_up1}} & {1'b0, w_up}) |
                        ({64{s2_up16}} & {1'b0, w16[46:0], 16'd0}) |
                        ({64{s2_qf}} & r_qf) | {63'd0, s2_one};
            r3_reject <= s2_rej || (s2_up && w_ovf) || (s2_div && q > s2_lim);
        end
    end
end
/* verilator lint_on BLKSEQ */

// ---------------------------------------------------------------- stage 4 (LATENCY 5): result
// the result mux and the division's bound, a stage after the sums they take
generate
    if (LATENCY == 5) begin : g_s4
        reg         s3_valid;
        reg  [63:0] r4_value;
        reg         r4_reject;
        reg  [54:0] w8;                     // w * 5^8 mod 2^55
        /* verilator lint_off BLKSEQ */
        always @(posedge clk) begin
            s3_valid <= s2_valid;
            if (s3_valid) begin
                w8 = s3_ws + s3_wc;
                r4_value <= (s3_k3m ? {1'b0, w8, 8'd0} : 64'd0) | s3_x;
                r4_reject <= s3_rej || (s3_div && s3_q > s3_lim);
            end
        end
        /* verilator lint_on BLKSEQ */
        assign out_value = r4_value;
        assign out_reject = r4_reject;
    end else begin : g_s3out
        assign out_value = r3_value;
        assign out_reject = r3_reject;
    end
endgenerate

endmodule

`resetall
