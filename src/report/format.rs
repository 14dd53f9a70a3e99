//! Number formatting for people: `1.23M`, `45.6k`, `95.1%`.

/// A number with three significant digits and a k/M/B suffix (`-1.2M`, `45.6k`, `980`).
pub fn human(value: f64) -> String {
    if !value.is_finite() {
        return "n/a".to_string();
    }
    let magnitude = value.abs();
    let (scaled, suffix) = if magnitude >= 1e9 {
        (value / 1e9, "B")
    } else if magnitude >= 1e6 {
        (value / 1e6, "M")
    } else if magnitude >= 1e3 {
        (value / 1e3, "k")
    } else {
        (value, "")
    };
    let digits = match scaled.abs() {
        m if m >= 100.0 => 0,
        // Whole numbers below a thousand need no decimals (axis ticks: 0, 50, 250).
        _ if suffix.is_empty() && scaled.fract() == 0.0 => 0,
        m if m >= 10.0 => 1,
        _ => 2,
    };
    format!("{scaled:.digits$}{suffix}")
}

/// Like [`human`] with an explicit sign, for differences.
pub fn signed(value: f64) -> String {
    if value.is_finite() && value >= 0.0 {
        format!("+{}", human(value))
    } else {
        human(value)
    }
}

/// A share as a percentage with one decimal (`0.951` → `95.1%`).
pub fn percent(share: f64) -> String {
    if share.is_finite() {
        format!("{:.1}%", share * 100.0)
    } else {
        "n/a".to_string()
    }
}

/// A number in `[0, 1]` with three decimals.
pub fn unit(value: f64) -> String {
    if value.is_finite() {
        format!("{value:.3}")
    } else {
        "n/a".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_numbers() {
        assert_eq!(human(1_234_567.0), "1.23M");
        assert_eq!(human(-45_600.0), "-45.6k");
        assert_eq!(human(980.0), "980");
        assert_eq!(human(0.0), "0");
        assert_eq!(human(50.0), "50");
        assert_eq!(human(12.5), "12.5");
        assert_eq!(human(3.25159), "3.25");
        assert_eq!(human(2.5e9), "2.50B");
        assert_eq!(human(f64::NAN), "n/a");
        assert_eq!(signed(1200.0), "+1.20k");
        assert_eq!(percent(0.9512), "95.1%");
    }
}
