// Exact conversion of one venue number to Price9 (value x 10^9), docs/PIPELINE.md section 3.
//
// fmt 0, decimal (binance_sbe): mantissa m (i64) with exponent e (i8). Negative rejects.
//   e >= -9: m * 10^(e+9), rejected above 2^63-1 (one 64x64 multiply).
//   e <  -9: m must be a multiple of 10^j, j = -9-e. Written as 2^j * 5^j: the low j bits must be
//            zero, and (m >> j) * inverse(5^j) mod 2^64 must not exceed floor((2^64-1) / 5^j);
//            when it does not, that product is the exact quotient (exact division by an odd
//            constant through its modular inverse). j >= 19: only 0 divides.
// fmt 1, IEEE-754 double bits: round(x * 10^9) to nearest, ties away from zero, by integer
//   arithmetic: mantissa * 10^9 (83 bits, kept as P * 2^32 + L) shifted right by 1075 - exponent,
//   plus the bit shifted out just below the point. NaN, infinities, negatives (other than -0.0) and
//   overflow reject.
//
// Every product is built from 32x32 pieces, so no intermediate is wider than 64 bits (the same
// multipliers in synthesis; far cheaper in simulation). Three pipeline stages: operand selection,
// multiply, check/round. Latency 3, one per cycle; registers load only for valid inputs.

`resetall
`timescale 1ns / 1ps
`default_nettype none

module tc_price9_conv (
    input  wire         clk,
    input  wire         in_valid,
    input  wire [63:0]  in_value,
    input  wire [7:0]   in_exp,      // decimal exponent (ignored for doubles)
    input  wire         in_fmt,      // 0 decimal, 1 double
    output reg  [63:0]  out_value,
    output reg          out_reject
);

function [63:0] pow10;
    input [4:0] k;
    begin
        case (k)
            5'd0: pow10 = 64'd1;
            5'd1: pow10 = 64'd10;
            5'd2: pow10 = 64'd100;
            5'd3: pow10 = 64'd1000;
            5'd4: pow10 = 64'd10000;
            5'd5: pow10 = 64'd100000;
            5'd6: pow10 = 64'd1000000;
            5'd7: pow10 = 64'd10000000;
            5'd8: pow10 = 64'd100000000;
            5'd9: pow10 = 64'd1000000000;
            5'd10: pow10 = 64'd10000000000;
            5'd11: pow10 = 64'd100000000000;
            5'd12: pow10 = 64'd1000000000000;
            5'd13: pow10 = 64'd10000000000000;
            5'd14: pow10 = 64'd100000000000000;
            5'd15: pow10 = 64'd1000000000000000;
            5'd16: pow10 = 64'd10000000000000000;
            5'd17: pow10 = 64'd100000000000000000;
            5'd18: pow10 = 64'd1000000000000000000;
            default: pow10 = 64'd0;
        endcase
    end
endfunction

// inverse of 5^j modulo 2^64, and floor((2^64 - 1) / 5^j)
reg [63:0] inv5_t, lim5_t;
reg [4:0]  tj;
always @* begin
    inv5_t = 64'd0;
    lim5_t = 64'd0;
    case (tj)
        5'd1: begin inv5_t = 64'hcccccccccccccccd; lim5_t = 64'h3333333333333333; end
        5'd2: begin inv5_t = 64'h8f5c28f5c28f5c29; lim5_t = 64'h0a3d70a3d70a3d70; end
        5'd3: begin inv5_t = 64'h1cac083126e978d5; lim5_t = 64'h020c49ba5e353f7c; end
        5'd4: begin inv5_t = 64'hd288ce703afb7e91; lim5_t = 64'h0068db8bac710cb2; end
        5'd5: begin inv5_t = 64'h5d4e8fb00bcbe61d; lim5_t = 64'h0014f8b588e368f0; end
        5'd6: begin inv5_t = 64'h790fb65668c26139; lim5_t = 64'h000431bde82d7b63; end
        5'd7: begin inv5_t = 64'he5032477ae8d46a5; lim5_t = 64'h0000d6bf94d5e57a; end
        5'd8: begin inv5_t = 64'hc767074b22e90e21; lim5_t = 64'h00002af31dc46118; end
        5'd9: begin inv5_t = 64'h8e47ce423a2e9c6d; lim5_t = 64'h0000089705f4136b; end
        5'd10: begin inv5_t = 64'h4fa7f60d3ed61f49; lim5_t = 64'h000001b7cdfd9d7b; end
        5'd11: begin inv5_t = 64'h0fee64690c913975; lim5_t = 64'h00000057f5ff85e5; end
        5'd12: begin inv5_t = 64'h3662e0e1cf503eb1; lim5_t = 64'h000000119799812d; end
        5'd13: begin inv5_t = 64'ha47a2cf9f6433fbd; lim5_t = 64'h0000000384b84d09; end
        5'd14: begin inv5_t = 64'h54186f653140a659; lim5_t = 64'h00000000b424dc35; end
        5'd15: begin inv5_t = 64'h7738164770402145; lim5_t = 64'h0000000024075f3d; end
        5'd16: begin inv5_t = 64'he4a4d1417cd9a041; lim5_t = 64'h000000000734aca5; end
        5'd17: begin inv5_t = 64'hc75429d9e5c5200d; lim5_t = 64'h000000000170ef54; end
        5'd18: begin inv5_t = 64'hc1773b91fac10669; lim5_t = 64'h000000000049c977; end
        default: ;
    endcase
end

// ---------------------------------------------------------------- stage 1: operands
wire signed [8:0] e9 = {in_exp[7], in_exp};
wire        d_neg   = in_value[63];
wire        d_zero  = in_value == 64'd0;
wire        d_mul   = e9 >= -9'sd9;
wire [8:0]  d_k     = e9 + 9'sd9;                    // scale up by 10^k
wire [8:0]  d_j     = -9'sd9 - e9;                   // scale down by 10^j
wire        d_big   = d_mul ? (d_k > 9'd18) : (d_j > 9'd18);
wire [4:0]  d_sel   = d_mul ? d_k[4:0] : d_j[4:0];
// low j bits must be zero when dividing
wire [63:0] d_lowmask = (64'd1 << d_j[4:0]) - 64'd1;

always @* tj = d_sel;

wire        f_sign  = in_value[63];
wire [10:0] f_exp   = in_value[62:52];
wire [51:0] f_frac  = in_value[51:0];
wire        f_nan   = f_exp == 11'h7ff;
wire        f_zero  = f_exp == 11'd0 && f_frac == 52'd0;
wire [52:0] f_mant  = (f_exp == 11'd0) ? {1'b0, f_frac} : {1'b1, f_frac};
// right shift = 1075 - exp (1074 for subnormals); exp >= 1075 would need a left shift, which
// overflows for every non-zero normal (mantissa * 10^9 >= 2^81)
wire [11:0] f_rsh   = (f_exp == 11'd0) ? 12'd1074 : 12'd1075 - {1'b0, f_exp};
wire        f_lsh   = f_exp >= 11'd1075;

reg         s1_fmt, s1_reject, s1_zero, s1_mul, s1_lsh;
reg  [63:0] s1_a, s1_b, s1_lim;
reg  [52:0] s1_mant;
reg  [11:0] s1_rsh;

reg         s1_valid, s2_valid;

always @(posedge clk) begin
    s1_valid <= in_valid;
    if (in_valid) begin
    s1_fmt <= in_fmt;
    if (!in_fmt) begin
        s1_zero <= d_zero;
        s1_mul <= d_mul;
        s1_reject <= d_neg || (!d_zero && d_big) ||
                     (!d_mul && !d_big && (in_value & d_lowmask) != 64'd0);
        s1_a <= d_mul ? in_value : (in_value >> d_j[4:0]);
        s1_b <= d_mul ? pow10(d_k[4:0]) : inv5_t;
        s1_lim <= lim5_t;
    end else begin
        s1_zero <= f_zero;
        s1_mul <= 1'b0;
        s1_reject <= !f_zero && (f_nan || f_sign);
        s1_a <= 64'd0;
        s1_b <= 64'd0;
        s1_lim <= 64'd0;
    end
    s1_mant <= f_mant;
    s1_rsh <= f_rsh;
    s1_lsh <= f_lsh;
    end
end

// ---------------------------------------------------------------- stage 2: multiply
// decimal scale-up: a * b with a < 2^63, b < 2^60, from four 32x32 products; the result fits
// below 2^63 exactly when the top product is zero and the middle sum stays below 2^31
wire [31:0] a_hi = s1_a[63:32], a_lo = s1_a[31:0];
wire [31:0] b_hi = s1_b[63:32], b_lo = s1_b[31:0];
// double: mantissa * 10^9 = P * 2^32 + L with P < 2^52
wire [31:0] m_lo = s1_mant[31:0];
wire [20:0] m_hi = s1_mant[52:32];

reg         s2_fmt, s2_reject, s2_zero, s2_mul, s2_lsh;
reg  [31:0] s2_ll;
reg  [63:0] s2_mid, s2_hh, s2_low64;
reg  [63:0] s2_lim;
reg  [63:0] s2_p;             // P
reg  [31:0] s2_l;             // L
reg  [11:0] s2_rsh;

wire [63:0] ll = {32'd0, a_lo} * {32'd0, b_lo};
wire [63:0] lh = {32'd0, a_lo} * {32'd0, b_hi};
wire [63:0] hl = {32'd0, a_hi} * {32'd0, b_lo};
wire [63:0] hh = {32'd0, a_hi} * {32'd0, b_hi};
wire [63:0] pm_lo = {32'd0, m_lo} * 64'd1000000000;
wire [63:0] pm_hi = {43'd0, m_hi} * 64'd1000000000;

always @(posedge clk) begin
    s2_valid <= s1_valid;
    if (s1_valid) begin
        s2_fmt <= s1_fmt;
        s2_reject <= s1_reject;
        s2_zero <= s1_zero;
        s2_mul <= s1_mul;
        s2_lsh <= s1_lsh;
        s2_ll <= ll[31:0];
        s2_mid <= lh + hl + {32'd0, ll[63:32]};
        s2_hh <= hh;
        s2_low64 <= s1_a * s1_b;
        s2_lim <= s1_lim;
        s2_p <= pm_hi + {32'd0, pm_lo[63:32]};
        s2_l <= pm_lo[31:0];
        s2_rsh <= s1_rsh;
    end
end

// ---------------------------------------------------------------- stage 3: check and round
// q = (P * 2^32 + L) >> rsh and the bit below it; rsh < 32 shifts P left (overflow checked)
wire [5:0]  up = 6'd32 - {1'b0, s2_rsh[4:0]};             // 1..32 when rsh < 32
wire        f_small = s2_rsh < 12'd32;
wire [63:0] f_up_lost = (up == 6'd32) ? {32'd0, s2_p[63:32]} : (s2_p >> (7'd64 - {1'b0, up}));
wire [63:0] f_q_small = (s2_p << up) | ({32'd0, s2_l} >> s2_rsh[4:0]);
wire        f_h_small = (s2_rsh == 12'd0) ? 1'b0 : s2_l[s2_rsh[4:0] - 5'd1];
wire [11:0] down = s2_rsh - 12'd32;                        // rsh >= 32
wire [63:0] f_q_big = (down >= 12'd64) ? 64'd0 : (s2_p >> down[5:0]);
wire        f_h_big = (down == 12'd0) ? s2_l[31] : ((down > 12'd64) ? 1'b0 : s2_p[down[5:0] - 6'd1]);
wire [63:0] f_q = f_small ? f_q_small : f_q_big;
wire        f_half = f_small ? f_h_small : f_h_big;
wire        f_over = (f_small && f_up_lost != 64'd0) || f_q[63] || (f_q == 64'h7fffffffffffffff && f_half);

always @(posedge clk) begin
    if (s2_valid) begin
        if (s2_zero) begin
            out_value <= 64'd0;
            out_reject <= s2_reject;
        end else if (!s2_fmt) begin
            if (s2_mul) begin
                out_value <= {s2_mid[31:0], s2_ll};
                out_reject <= s2_reject || s2_hh != 64'd0 || s2_mid[63:31] != 33'd0;
            end else begin
                out_value <= s2_low64;
                out_reject <= s2_reject || s2_low64 > s2_lim;
            end
        end else begin
            out_value <= f_q + {63'd0, f_half};
            out_reject <= s2_reject || s2_lsh || f_over;
        end
    end
end

endmodule

`resetall
