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

/// A CSV file (RFC 4180, `\r\n` line ends) of `header` then `rows`, every cell passed through
/// [`safe_cell`]: the tables of the admin console's Overview, as downloaded.
pub fn to_csv<R: AsRef<[String]>>(header: &[&str], rows: &[R]) -> String {
    let mut out = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    let written = out
        .write_record(header.iter().map(|h| safe_cell(h).into_owned()))
        .and_then(|()| {
            rows.iter().try_for_each(|r| {
                out.write_record(r.as_ref().iter().map(|c| safe_cell(c).into_owned()))
            })
        });
    debug_assert!(written.is_ok(), "writing to memory does not fail");
    String::from_utf8(out.into_inner().unwrap_or_default()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::{safe_cell, to_csv};

    #[test]
    fn tables_become_quoted_csv_with_safe_cells() {
        let rows = vec![
            vec!["Ann, Lee".to_string(), "3".to_string()],
            vec!["=HYPERLINK(\"x\")".to_string(), "0".to_string()],
        ];
        assert_eq!(
            to_csv(&["inviter", "accepted"], &rows),
            "inviter,accepted\r\n\"Ann, Lee\",3\r\n\"'=HYPERLINK(\"\"x\"\")\",0\r\n"
        );
    }

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
