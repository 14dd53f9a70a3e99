//! The few CSV helpers the exporters share: numbers in shortest round-trip form, empty for
//! non-finite values, and quoting for names.

/// A number as CSV: shortest representation that reads back exactly; empty when not finite.
pub fn number(value: f64) -> String {
    if value.is_finite() {
        format!("{value}")
    } else {
        String::new()
    }
}

/// A text field, quoted when it holds a comma, quote or line break.
pub fn text(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_text() {
        assert_eq!(number(0.1), "0.1");
        assert_eq!(number(f64::NAN), "");
        assert_eq!(text("plain"), "plain");
        assert_eq!(text("a,\"b\""), "\"a,\"\"b\"\"\"");
    }
}
