//! Suppliers and distributors, one function per equation of docs/model.md §5 and §6.

/// Delivery probability of a supplier (§5): `normal` in normal times; during a shortage
/// `r_short + (normal − r_short)·κ_s`, so committed suppliers keep serving their partners.
#[inline]
pub fn delivery_probability(normal: f64, shortage: f64, commitment: f64, in_shortage: bool) -> f64 {
    if in_shortage {
        shortage + (normal - shortage) * commitment
    } else {
        normal
    }
}

/// A distributor's effort (§6): `0.5 + 0.5·κ_k`.
#[inline]
pub fn distributor_effort(commitment: f64) -> f64 {
    0.5 + 0.5 * commitment
}

/// Channel quality for a distributor's customers (§6): `0.9 + 0.1·effort`.
#[inline]
pub fn channel_quality(effort: f64) -> f64 {
    0.9 + 0.1 * effort
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn committed_suppliers_deliver_more_in_shortage() {
        assert_eq!(delivery_probability(0.98, 0.5, 0.0, false), 0.98);
        assert_eq!(delivery_probability(0.98, 0.5, 0.0, true), 0.5);
        assert!((delivery_probability(0.98, 0.5, 1.0, true) - 0.98).abs() < 1e-12);
        assert!((delivery_probability(0.98, 0.5, 0.5, true) - 0.74).abs() < 1e-12);
    }

    #[test]
    fn effort_and_quality_range() {
        assert_eq!(distributor_effort(0.0), 0.5);
        assert_eq!(distributor_effort(1.0), 1.0);
        assert!((channel_quality(0.5) - 0.95).abs() < 1e-12);
        assert_eq!(channel_quality(1.0), 1.0);
    }
}
