//! Price9: signed 64-bit integers with 9 implied decimals (DESIGN section 3), and the exact
//! conversions into it. No floating-point arithmetic anywhere: f64 inputs are decoded from
//! their bits.

use rust_decimal::Decimal;

/// value x 10^9.
pub type Price9 = i64;

pub const SCALE: i64 = 1_000_000_000;

const POW10: [u64; 20] = {
    let mut t = [1u64; 20];
    let mut i = 1;
    while i < 20 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

/// Binance decimal: mantissa `m` with exponent `e`. Exact or `None` (negative, overflow,
/// remainder).
pub fn from_mantissa(m: i64, e: i8) -> Option<Price9> {
    if m < 0 {
        return None;
    }
    let m = m as u64;
    let e = e as i32;
    if e >= -9 {
        let k = (e + 9) as usize;
        if m == 0 {
            return Some(0);
        }
        if k >= POW10.len() {
            return None;
        }
        let v = (m as u128) * (POW10[k] as u128);
        if v > i64::MAX as u128 {
            None
        } else {
            Some(v as i64)
        }
    } else {
        let j = (-9 - e) as usize;
        if j >= 19 {
            return if m == 0 { Some(0) } else { None };
        }
        let d = POW10[j];
        if !m.is_multiple_of(d) {
            None
        } else {
            Some((m / d) as i64)
        }
    }
}

/// IEEE-754 double (given as its bits): the integer nearest to x * 10^9, ties away from zero,
/// computed exactly. `None` for NaN, infinities, negative values and overflow; -0.0 is 0.
pub fn from_f64_bits(bits: u64) -> Option<Price9> {
    let sign = bits >> 63 != 0;
    let exp = ((bits >> 52) & 0x7ff) as i32;
    let frac = bits & ((1u64 << 52) - 1);
    if exp == 0x7ff {
        return None;
    }
    if exp == 0 && frac == 0 {
        return Some(0);
    }
    if sign {
        return None;
    }
    // x = mant * 2^(e2)
    let (mant, e2) = if exp == 0 {
        (frac, -1074)
    } else {
        (frac | (1u64 << 52), exp - 1075)
    };
    let p = (mant as u128) * (SCALE as u128); // < 2^83
    if e2 >= 0 {
        // p * 2^e2 with p >= 2^82 for normals: always past i64 unless e2 is tiny and mant small;
        // check exactly.
        if e2 >= 64 {
            return None;
        }
        let v = p.checked_shl(e2 as u32)?;
        if v >> e2 != p || v > i64::MAX as u128 {
            return None;
        }
        return Some(v as i64);
    }
    let s = (-e2) as u32;
    if s >= 128 {
        return Some(0);
    }
    let q = p >> s;
    let rem = p - (q << s);
    let half = 1u128 << (s - 1);
    let v = if rem >= half { q + 1 } else { q };
    if v > i64::MAX as u128 {
        None
    } else {
        Some(v as i64)
    }
}

/// Exact decimal value of a Price9.
pub fn to_decimal(p: Price9) -> Decimal {
    Decimal::new(p, 9).normalize()
}

/// The exact decimal string of a Price9, without trailing zeros ("61837.63", "10", "0").
pub fn format(p: Price9) -> String {
    to_decimal(p).to_string()
}

/// Parses a decimal string ("61837.63000000", "-1.5", "1e-3" is not accepted) into Price9,
/// exactly: more than 9 significant decimals, or a value beyond i64, is an error.
pub fn parse(s: &str) -> Result<Price9, String> {
    let t = s.trim();
    let (neg, digits) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (int, frac) = match digits.split_once('.') {
        Some((i, f)) => (i, f),
        None => (digits, ""),
    };
    if int.is_empty() && frac.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(format!("{s:?} is not a decimal number"));
    }
    let frac_trim = frac.trim_end_matches('0');
    if frac_trim.len() > 9 {
        return Err(format!("{s:?} has more than 9 decimals"));
    }
    let mut v: i128 = 0;
    for b in int.bytes() {
        v = v * 10 + (b - b'0') as i128;
        if v > i64::MAX as i128 {
            return Err(format!("{s:?} is too large"));
        }
    }
    v *= SCALE as i128;
    let mut f: i128 = 0;
    for (i, b) in frac_trim.bytes().enumerate() {
        f += (b - b'0') as i128 * POW10[8 - i] as i128;
    }
    v += f;
    if neg {
        v = -v;
    }
    if v > i64::MAX as i128 || v < i64::MIN as i128 {
        return Err(format!("{s:?} is too large"));
    }
    Ok(v as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mantissa_exponent() {
        assert_eq!(from_mantissa(6183763000000, -8), Some(61_837_630_000_000));
        assert_eq!(from_mantissa(1645, 0), Some(1_645_000_000_000));
        assert_eq!(from_mantissa(123, -11), None);
        assert_eq!(from_mantissa(12300, -11), Some(123));
        assert_eq!(from_mantissa(-1, 0), None);
        assert_eq!(from_mantissa(0, 100), Some(0));
        assert_eq!(from_mantissa(1, 10), None);
        assert_eq!(from_mantissa(9, 9), Some(9_000_000_000_000_000_000));
        assert_eq!(from_mantissa(10, 9), None);
        assert_eq!(from_mantissa(i64::MAX, -9), Some(i64::MAX));
        assert_eq!(from_mantissa(1_000_000_000_000_000_000, -27), Some(1));
        assert_eq!(from_mantissa(1_000_000_000_000_000_000, -28), None);
        assert_eq!(from_mantissa(0, -128), Some(0));
    }

    #[test]
    fn doubles() {
        let c = |x: f64| from_f64_bits(x.to_bits());
        assert_eq!(c(25474.74), Some(25_474_740_000_000));
        assert_eq!(c(10.0), Some(10_000_000_000));
        assert_eq!(c(0.0), Some(0));
        assert_eq!(c(-0.0), Some(0));
        assert_eq!(c(-1.0), None);
        assert_eq!(c(f64::NAN), None);
        assert_eq!(c(f64::INFINITY), None);
        assert_eq!(c(1e9), Some(1_000_000_000_000_000_000));
        assert_eq!(c(9.2e9), Some(9_200_000_000_000_000_000));
        assert_eq!(c(1e10), None);
        assert_eq!(c(5e-324), Some(0));
        // 0.5e-9 is below 5e-10 in binary: rounds down; 1.5e-9 is above 1.5e-9 exactly? check
        // against an exact rational computation instead of guessing.
        for x in [0.5e-9, 1.5e-9, 2.5e-9, 0.1, 1.0 / 3.0, 123456.789] {
            let exact = exact_round(x);
            assert_eq!(c(x), Some(exact), "{x}");
        }
    }

    /// Reference: exact rational arithmetic on the decoded double via u128 big shifts.
    fn exact_round(x: f64) -> i64 {
        let bits = x.to_bits();
        let exp = ((bits >> 52) & 0x7ff) as i32;
        let frac = bits & ((1u64 << 52) - 1);
        let (m, e2) = if exp == 0 {
            (frac, -1074)
        } else {
            (frac | 1 << 52, exp - 1075)
        };
        // value*1e9 = m*1e9 / 2^-e2; compare 2*remainder with divisor
        let num = m as u128 * 1_000_000_000u128;
        let s = (-e2) as u32;
        let q = num >> s;
        let r = num & ((1u128 << s) - 1);
        if 2 * r >= (1u128 << s) {
            (q + 1) as i64
        } else {
            q as i64
        }
    }

    #[test]
    fn decimal_strings() {
        assert_eq!(parse("61837.63000000"), Ok(61_837_630_000_000));
        assert_eq!(parse("0.000000001"), Ok(1));
        assert!(parse("0.0000000001").is_err());
        assert_eq!(parse("-2.5"), Ok(-2_500_000_000));
        assert!(parse("abc").is_err());
        assert!(parse("").is_err());
        assert_eq!(format(61_837_630_000_000), "61837.63");
        assert_eq!(format(0), "0");
        assert_eq!(format(10_000_000_000), "10");
        assert_eq!(format(-1), "-0.000000001");
    }
}
