//! The few CSV helpers the exporters share: numbers in shortest round-trip form, empty for
//! non-finite values, and quoting for names.

use std::borrow::Cow;
use std::fmt;

/// A number as CSV: shortest representation that reads back exactly; empty when not finite.
/// Formatted straight into the writer, with no string in between (runs.csv holds millions).
pub fn number(value: f64) -> Number {
    Number(value)
}

/// See [`number`].
#[derive(Debug, Clone, Copy)]
pub struct Number(f64);

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let magnitude = self.0.abs();
        if !self.0.is_finite() {
            Ok(())
        } else if magnitude == 0.0 || (1e-5..1e16).contains(&magnitude) {
            write!(f, "{}", self.0)
        } else {
            // Plain notation would spell out hundreds of zeros; both forms read back exactly.
            write!(f, "{:e}", self.0)
        }
    }
}

/// A text field, quoted when it holds a comma, quote or line break.
pub fn text(value: &str) -> Cow<'_, str> {
    if value.contains([',', '"', '\n', '\r']) {
        Cow::Owned(format!("\"{}\"", value.replace('"', "\"\"")))
    } else {
        Cow::Borrowed(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_text() {
        assert_eq!(number(0.1).to_string(), "0.1");
        assert_eq!(number(-2.5e-300).to_string(), "-2.5e-300");
        assert_eq!(number(1.5e300).to_string(), "1.5e300");
        assert_eq!(number(123456.75).to_string(), "123456.75");
        for value in [
            1e-5,
            9.99e15,
            1e16,
            0.1 + 0.2,
            -7.0e-7,
            f64::MAX,
            f64::MIN_POSITIVE,
        ] {
            assert_eq!(number(value).to_string().parse::<f64>().unwrap(), value);
        }
        assert_eq!(number(f64::NAN).to_string(), "");
        assert_eq!(number(f64::INFINITY).to_string(), "");
        assert_eq!(text("plain"), "plain");
        assert_eq!(text("a,\"b\""), "\"a,\"\"b\"\"\"");
    }
}
