//! Money over time (docs/model.md §1, §9).

use super::math::{exp, ln};

/// The per-period discount rate equivalent to an annual rate over `periods_per_year` periods:
/// `(1 + annual)^(1/periods_per_year) − 1`, through the portable [`exp`] and [`ln`] so that it
/// has the same bits on every platform.
pub fn per_period_discount_rate(annual_rate: f64, periods_per_year: f64) -> f64 {
    exp(ln(1.0 + annual_rate) / periods_per_year) - 1.0
}

/// The discount factor of period `t`: `1 / (1 + d)^t`.
#[inline]
pub fn discount_factor(rate: f64, period: u32) -> f64 {
    crate::model::math::powi(1.0 + rate, -(period as i32))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monthly_rate_of_ten_percent_a_year() {
        let d = per_period_discount_rate(0.10, 12.0);
        assert!((d - 0.007_974_140_4).abs() < 1e-9);
        assert!((discount_factor(d, 12) - 1.0 / 1.1).abs() < 1e-12);
        assert_eq!(discount_factor(d, 0), 1.0);
    }
}
