//! Cells of exported CSV files, made safe to open in a spreadsheet.

use std::borrow::Cow;

/// The cell as written to an exported CSV file: a value starting with `=`, `+`, `-`, `@`, tab
/// or carriage return gets a leading `'`, so a spreadsheet shows it as text instead of running
/// it as a formula (OWASP "CSV Injection"). Every other value is unchanged.
pub fn safe_cell(value: &str) -> Cow<'_, str> {
    match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => Cow::Owned(format!("'{value}")),
        _ => Cow::Borrowed(value),
    }
}

#[cfg(test)]
mod tests {
    use super::safe_cell;

    #[test]
    fn formula_triggers_are_neutralised_and_the_rest_untouched() {
        for bad in [
            "=HYPERLINK(\"http://x\")",
            "+1",
            "-2+3",
            "@SUM(A1)",
            "\tx",
            "\rx",
        ] {
            assert_eq!(safe_cell(bad), format!("'{bad}"));
        }
        for fine in ["", "Mozilla/5.0", "203.0.113.9", "{\"a\":1}", "a=b"] {
            assert_eq!(safe_cell(fine), fine);
        }
    }
}
