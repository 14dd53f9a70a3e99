//! Elementary functions the hot loop needs, written out in Rust.
//!
//! Two reasons not to call the platform's `exp`:
//! - **Reproducibility.** `f64::exp` calls the C library, and libraries differ in the last bit
//!   (glibc, musl, macOS). Results that must be bit for bit the same on every machine cannot rest
//!   on it. The functions here use only `+`, `−`, `×`, `÷` and bit operations, which IEEE 754
//!   defines exactly, so they give the same bits everywhere.
//! - **Speed.** An out-of-line call makes the compiler spill every live floating-point register
//!   around it; inlined, the engine keeps its state in registers (docs/model.md §10).

/// `ln 2` split in two: the high part has its 32 low bits zero, so `k · LN2_HI` is exact for
/// every `|k| < 2²¹`, and the low part carries the rest (Cody & Waite 1980).
const LN2_HI: f64 = f64::from_bits(0x3FE6_2E42_FEE0_0000);
const LN2_LO: f64 = f64::from_bits(0x3DEA_39EF_3579_3C76);

/// Adding then subtracting `1.5 · 2⁵²` rounds a double of magnitude below `2⁵¹` to the nearest
/// integer (ties to even) without a call to `round`.
const ROUND_SHIFT: f64 = 6_755_399_441_055_744.0;

/// Above this `eˣ` overflows; below [`EXP_MIN`] it is subnormal and we return 0.
const EXP_MAX: f64 = 709.0;
const EXP_MIN: f64 = -708.0;

/// Taylor coefficients `1 / n!` for `n = 2 … 13`.
const INVERSE_FACTORIALS: [f64; 12] = [
    1.0 / 2.0,
    1.0 / 6.0,
    1.0 / 24.0,
    1.0 / 120.0,
    1.0 / 720.0,
    1.0 / 5_040.0,
    1.0 / 40_320.0,
    1.0 / 362_880.0,
    1.0 / 3_628_800.0,
    1.0 / 39_916_800.0,
    1.0 / 479_001_600.0,
    1.0 / 6_227_020_800.0,
];

/// `eˣ` to within a few units in the last place, identical on every platform.
///
/// Writes `x = k·ln 2 + r` with `|r| ≤ ln 2 / 2`, sums the Taylor series of `eʳ` to degree 13
/// (the first omitted term is below `2·10⁻¹⁷` of the result) and scales by `2ᵏ` through the
/// exponent bits. Returns `+∞` above 709, 0 below −708 (where `eˣ` is subnormal), and NaN for
/// NaN.
#[inline(always)]
pub const fn exp(x: f64) -> f64 {
    if x > EXP_MAX {
        return f64::INFINITY;
    }
    if x < EXP_MIN {
        return 0.0;
    }
    if x.is_nan() {
        return x;
    }
    let k = (x * std::f64::consts::LOG2_E + ROUND_SHIFT) - ROUND_SHIFT;
    let r = (x - k * LN2_HI) - k * LN2_LO;
    // Estrin's scheme: independent pairs, so the multiplications overlap.
    let c = &INVERSE_FACTORIALS;
    let r2 = r * r;
    let r4 = r2 * r2;
    let r8 = r4 * r4;
    let p01 = 1.0 + r;
    let p23 = c[0] + c[1] * r;
    let p45 = c[2] + c[3] * r;
    let p67 = c[4] + c[5] * r;
    let p89 = c[6] + c[7] * r;
    let p1011 = c[8] + c[9] * r;
    let p1213 = c[10] + c[11] * r;
    let low = (p01 + p23 * r2) + (p45 + p67 * r2) * r4;
    let high = (p89 + p1011 * r2) + p1213 * r4;
    let series = low + high * r8;
    // `k` lies in [−1022, 1023] here, so `2ᵏ` is a normal double.
    let scale = f64::from_bits(((k as i64 + 1023) as u64) << 52);
    series * scale
}

/// `ln x` for a positive normal `x`, to within a few units in the last place, identical on
/// every platform; NaN for `x ≤ 0` or NaN, `+∞` for `+∞`.
///
/// Writes `x = m·2ᵏ` with `m ∈ [√½, √2)`, so `ln x = k·ln 2 + 2·atanh(s)` with
/// `s = (m − 1)/(m + 1)`, `|s| < 0.172`, and sums the odd series of `atanh` to `s²³` (the first
/// omitted term is below `10⁻¹⁹` of the result).
pub fn ln(x: f64) -> f64 {
    if x.is_nan() || x <= 0.0 {
        return f64::NAN;
    }
    if x == f64::INFINITY {
        return x;
    }
    let bits = x.to_bits();
    let mut exponent = ((bits >> 52) & 0x7FF) as i64 - 1023;
    let mut mantissa = f64::from_bits((bits & 0x000F_FFFF_FFFF_FFFF) | 0x3FF0_0000_0000_0000);
    if mantissa > std::f64::consts::SQRT_2 {
        mantissa *= 0.5;
        exponent += 1;
    }
    let s = (mantissa - 1.0) / (mantissa + 1.0);
    let s2 = s * s;
    // 1 + s²/3 + s⁴/5 + … + s²²/23, by Horner's rule from the smallest term. The reciprocals
    // are constants (IEEE division is correctly rounded, so they equal the quotients taken
    // at run time, bit for bit), which spares eleven divisions a call.
    const RECIPROCALS_OF_ODD: [f64; 11] = [
        1.0 / 21.0,
        1.0 / 19.0,
        1.0 / 17.0,
        1.0 / 15.0,
        1.0 / 13.0,
        1.0 / 11.0,
        1.0 / 9.0,
        1.0 / 7.0,
        1.0 / 5.0,
        1.0 / 3.0,
        1.0,
    ];
    let mut series = 1.0 / 23.0;
    for reciprocal in RECIPROCALS_OF_ODD {
        series = reciprocal + s2 * series;
    }
    let k = exponent as f64;
    k * LN2_HI + (2.0 * s * series + k * LN2_LO)
}

/// The logistic function `1 / (1 + e^−x)`.
#[inline(always)]
pub const fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + exp(-x))
}

/// Whether a uniform draw `u ∈ [0, 1)` falls below `logistic(z)`: the same answer as
/// `u < logistic(z)`, but most draws are settled without an exponential.
///
/// `logistic(z) < eᶻ`, and a nonzero `u` is at least `2ᵉ` where `e` is its binary exponent, so
/// `z ≤ e·ln 2` proves `u ≥ logistic(z)`. The margin is a factor `1 + eᶻ ≥ 1 + 2⁻¹⁰²²` at the
/// least and far above rounding error, so the shortcut never changes an answer. For a rare
/// event (a defection hazard of a few percent) almost every draw is settled this way.
#[inline(always)]
pub fn below_logistic(u: f64, z: f64) -> bool {
    let biased_exponent = (u.to_bits() >> 52) as i64;
    if biased_exponent != 0 && z <= (biased_exponent - 1023) as f64 * std::f64::consts::LN_2 {
        return false;
    }
    u < logistic(z)
}

/// Nodes of the interpolated logistic: `x = −16, −16 + 1/32, …, 16`.
const LOGISTIC_RANGE: f64 = 16.0;
const LOGISTIC_STEPS_PER_UNIT: usize = 32;
const LOGISTIC_INTERVALS: usize = 2 * LOGISTIC_RANGE as usize * LOGISTIC_STEPS_PER_UNIT;
const _: () = assert!(LOGISTIC_INTERVALS.is_power_of_two());

/// Cubic Hermite coefficients of the logistic on each interval `[xᵢ, xᵢ₊₁]`, in powers of the
/// position `t ∈ [0, 1]` within it, computed at compile time from [`logistic`] and its
/// derivative `σ·(1 − σ)`.
static LOGISTIC_CUBICS: [[f64; 4]; LOGISTIC_INTERVALS] = logistic_cubics();

const fn logistic_cubics() -> [[f64; 4]; LOGISTIC_INTERVALS] {
    let step = 1.0 / LOGISTIC_STEPS_PER_UNIT as f64;
    let mut cubics = [[0.0; 4]; LOGISTIC_INTERVALS];
    let mut i = 0;
    while i < LOGISTIC_INTERVALS {
        let x0 = -LOGISTIC_RANGE + i as f64 * step;
        let y0 = logistic(x0);
        let y1 = logistic(x0 + step);
        let slope0 = step * y0 * (1.0 - y0);
        let slope1 = step * y1 * (1.0 - y1);
        let rise = y1 - y0;
        cubics[i] = [
            y0,
            slope0,
            3.0 * rise - 2.0 * slope0 - slope1,
            slope0 + slope1 - 2.0 * rise,
        ];
        i += 1;
    }
    cubics
}

/// `base` raised to a whole power, by binary exponentiation: a fixed sequence of products, so
/// the same bits on every platform. (`f64::powi` leaves its precision and method open to the
/// platform and the compiler.) A negative exponent gives the reciprocal of the positive power.
#[inline]
pub fn powi(base: f64, exponent: i32) -> f64 {
    let mut result = 1.0;
    let mut square = base;
    let mut remaining = exponent.unsigned_abs();
    while remaining > 0 {
        if remaining & 1 == 1 {
            result *= square;
        }
        square *= square;
        remaining >>= 1;
    }
    if exponent < 0 {
        1.0 / result
    } else {
        result
    }
}

/// `x.clamp(low, high)` for an `x` that is a number, as two comparisons that compile to one
/// `maxsd` and one `minsd` (`f64::clamp` also carries NaN through, at several instructions and
/// two branches).
#[inline(always)]
pub fn clamp(x: f64, low: f64, high: f64) -> f64 {
    let above = if x < low { low } else { x };
    if above > high {
        high
    } else {
        above
    }
}

/// The logistic function by piecewise cubic Hermite interpolation on a grid of step 1/32, with
/// [`logistic`] itself outside `[−16, 16]`. The absolute error is below `4·10⁻¹⁰` (tested):
/// far inside the `6·10⁻⁸` resolution of the `f32` in which customers' commitment is stored,
/// at a fraction of the cost of an exponential and a division.
#[inline(always)]
pub fn logistic_interpolated(x: f64) -> f64 {
    let position = (x + LOGISTIC_RANGE) * LOGISTIC_STEPS_PER_UNIT as f64;
    // The comparison is false for NaN, which therefore takes the exact path.
    if position >= 0.0 && position < LOGISTIC_INTERVALS as f64 {
        // `⌊position⌋` by rounding `position − ½` through the shift, whose low mantissa bits
        // then hold the integer (a tie may round to the lower interval's end, `t = 1`, which
        // its cubic also matches); cheaper than a saturating float-to-integer cast. The mask
        // keeps the indexing free of a bounds check and never changes an index in range.
        let shifted = position - 0.5 + ROUND_SHIFT;
        let interval = shifted.to_bits() as usize & (LOGISTIC_INTERVALS - 1);
        let t = position - (shifted - ROUND_SHIFT);
        let [c0, c1, c2, c3] = LOGISTIC_CUBICS[interval];
        c0 + t * (c1 + t * (c2 + t * c3))
    } else {
        logistic(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_powers_are_exact_where_the_answer_is_exact() {
        assert_eq!(powi(2.0, 10), 1024.0);
        assert_eq!(powi(0.5, 3), 0.125);
        assert_eq!(powi(2.0, -2), 0.25);
        assert_eq!(powi(7.0, 0), 1.0);
        assert_eq!(powi(-3.0, 3), -27.0);
        assert_eq!(powi(0.0, 0), 1.0);
        // Close to the C library's pow elsewhere, on a grid of bases and exponents.
        for exponent in -40..=40 {
            for base in [0.95, 0.98, 1.003_274, 1.1, 3.7] {
                let exact = f64::powf(base, exponent as f64);
                assert!(
                    ulps_apart(powi(base, exponent), exact) <= 64.0,
                    "{base}^{exponent}"
                );
            }
        }
    }

    /// Relative distance between two doubles, in units of `f64::EPSILON`.
    fn ulps_apart(a: f64, b: f64) -> f64 {
        ((a - b) / b).abs() / f64::EPSILON
    }

    /// The largest `error(x)` over `steps + 1` evenly spaced points of `[from, to]`.
    fn worst_on_grid(from: f64, to: f64, steps: u32, error: impl Fn(f64) -> f64) -> f64 {
        (0..=steps)
            .map(|i| error(from + (to - from) * f64::from(i) / f64::from(steps)))
            .fold(0.0, f64::max)
    }

    #[test]
    fn exp_agrees_with_the_c_library_to_a_few_ulps() {
        let error = |x: f64| ulps_apart(exp(x), x.exp());
        let worst = worst_on_grid(-700.0, 700.0, 200_000, error)
            .max(worst_on_grid(-2.0, 2.0, 200_000, error));
        assert!(worst < 4.0, "worst error {worst} ulp");
    }

    #[test]
    fn exp_is_exact_where_the_answer_is_known() {
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(f64::NEG_INFINITY), 0.0);
        assert_eq!(exp(f64::INFINITY), f64::INFINITY);
        assert_eq!(exp(710.0), f64::INFINITY);
        assert_eq!(exp(-800.0), 0.0);
        assert!(exp(f64::NAN).is_nan());
        assert!(ulps_apart(exp(1.0), std::f64::consts::E) < 2.0);
        assert!(ulps_apart(exp(std::f64::consts::LN_2), 2.0) < 2.0);
    }

    #[test]
    fn ln_agrees_with_the_c_library_to_a_few_ulps() {
        let mut worst = 0.0f64;
        for i in 1..=200_000 {
            for x in [i as f64 * 1e-5, 1.0 + i as f64 * 1e-6, i as f64 * 1e3] {
                let exact = x.ln();
                if exact != 0.0 {
                    worst = worst.max(ulps_apart(ln(x), exact));
                }
            }
        }
        assert!(worst < 4.0, "worst error {worst} ulp");
        assert_eq!(ln(1.0), 0.0);
        assert!(ulps_apart(ln(2.0), std::f64::consts::LN_2) < 2.0);
        assert!(ulps_apart(ln(1e300), 1e300f64.ln()) < 2.0);
        assert!(ln(0.0).is_nan() && ln(-1.0).is_nan() && ln(f64::NAN).is_nan());
        assert_eq!(ln(f64::INFINITY), f64::INFINITY);
    }

    #[test]
    fn logistic_is_symmetric_and_saturates() {
        assert_eq!(logistic(0.0), 0.5);
        for x in [0.1, 1.0, 3.25, 10.0] {
            assert!((logistic(x) + logistic(-x) - 1.0).abs() < 1e-15);
        }
        assert_eq!(logistic(800.0), 1.0);
        assert_eq!(logistic(-800.0), 0.0);
    }

    #[test]
    fn interpolated_logistic_is_within_its_stated_error() {
        let worst = worst_on_grid(-20.0, 20.0, 1_000_000, |x| {
            (logistic_interpolated(x) - logistic(x)).abs()
        });
        assert!(worst < 4e-10, "worst error {worst}");
        assert!(logistic_interpolated(f64::NAN).is_nan());
        assert_eq!(logistic_interpolated(-1e300), 0.0);
        assert_eq!(logistic_interpolated(1e300), 1.0);
    }

    #[test]
    fn below_logistic_answers_as_the_direct_comparison() {
        // Every exponent a 32-bit uniform can have, around each boundary `e·ln 2`.
        for bits in (0..32)
            .map(|shift| 1u64 << shift)
            .chain([0, 3, 12_345, u32::MAX as u64])
        {
            for offset in [-1, 0, 1] {
                let u = (bits as i64 + offset).max(0) as f64 / 4_294_967_296.0;
                for i in -400..=400 {
                    let z = i as f64 * 0.05;
                    assert_eq!(below_logistic(u, z), u < logistic(z), "u = {u}, z = {z}");
                }
            }
        }
    }
}
