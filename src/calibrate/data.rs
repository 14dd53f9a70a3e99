//! Observed retention (docs/calibration.md): a CSV of cohort survival, read and checked row by
//! row, so that a bad value is reported with its file and row.
//!
//! ```text
//! cohort,period,surviving,size
//! 2024,0,1000,
//! 2024,1,912,
//! 2024,3,801,
//! ```
//!
//! - `period` (required): periods since the cohort started, a whole number, increasing within
//!   a cohort (gaps allowed: the customers lost in between count as lost somewhere in the gap).
//! - `surviving` (required): customers still active, as a count (`912`) or a percentage of the
//!   cohort (`91.2%`); one form per cohort.
//! - `cohort` (optional): a name; rows without the column form one cohort, `all`.
//! - `size` (optional): the cohort's size. Counts take it from the period-0 row when there is
//!   one; percentages without a size are taken as shares of a nominal cohort of
//!   [`NOMINAL_SIZE`], which the fit reports.
//!
//! Blank lines and lines starting with `#` are ignored.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The cohort size assumed for percentages given without one.
pub const NOMINAL_SIZE: f64 = 1000.0;

/// One cohort's observed survival.
#[derive(Debug, Clone, PartialEq)]
pub struct Cohort {
    pub name: String,
    /// Customers at period 0.
    pub size: f64,
    /// `(period, surviving)` after period 0, periods increasing, counts not increasing.
    pub observations: Vec<(u32, f64)>,
    /// The size is [`NOMINAL_SIZE`]: percentages were given without one.
    pub nominal_size: bool,
}

impl Cohort {
    /// The last observed period.
    pub fn last_period(&self) -> u32 {
        self.observations.last().map_or(0, |&(t, _)| t)
    }

    /// The cohort with only its observations up to `period` (for a holdout).
    pub fn up_to(&self, period: u32) -> Cohort {
        Cohort {
            observations: self
                .observations
                .iter()
                .copied()
                .filter(|&(t, _)| t <= period)
                .collect(),
            ..self.clone()
        }
    }
}

/// Every cohort of a retention file, in the order they first appear.
#[derive(Debug, Clone, PartialEq)]
pub struct RetentionData {
    pub path: PathBuf,
    pub cohorts: Vec<Cohort>,
}

impl RetentionData {
    /// The last period any cohort observes.
    pub fn last_period(&self) -> u32 {
        self.cohorts
            .iter()
            .map(Cohort::last_period)
            .max()
            .unwrap_or(0)
    }
}

/// Reads and checks a retention file.
pub fn read_retention(path: &Path) -> Result<RetentionData> {
    let text = std::fs::read_to_string(path).map_err(|err| Error::InvalidData {
        path: path.to_path_buf(),
        row: None,
        message: format!("cannot be read: {err}"),
    })?;
    parse_retention(&text, path)
}

/// One value of `surviving` as written.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Surviving {
    Count(f64),
    Percent(f64),
}

/// A row as read, before its cohort is checked as a whole.
#[derive(Debug, Clone)]
struct Row {
    line: usize,
    period: u32,
    surviving: Surviving,
    size: Option<f64>,
}

/// Parses retention CSV text; `path` names it in messages.
pub fn parse_retention(text: &str, path: &Path) -> Result<RetentionData> {
    let fail = |row: Option<usize>, message: String| Error::InvalidData {
        path: path.to_path_buf(),
        row,
        message,
    };
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(idx, line)| (idx + 1, line.trim()))
        .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'));
    let (header_line, header) = lines.next().ok_or_else(|| {
        fail(
            None,
            "is empty; it needs a header `period,surviving` (optionally `cohort` and `size`) \
             and one row per observed period"
                .into(),
        )
    })?;
    let columns: Vec<String> = header
        .split(',')
        .map(|c| c.trim().to_ascii_lowercase())
        .collect();
    let position = |name: &str| columns.iter().position(|c| c == name);
    for (idx, column) in columns.iter().enumerate() {
        if !["cohort", "period", "surviving", "size"].contains(&column.as_str()) {
            return Err(fail(
                Some(header_line),
                format!(
                    "unknown column `{column}` (column {}); the columns are period, surviving \
                     and optionally cohort and size",
                    idx + 1
                ),
            ));
        }
    }
    let (Some(period_col), Some(surviving_col)) = (position("period"), position("surviving"))
    else {
        return Err(fail(
            Some(header_line),
            "the header must name the columns `period` and `surviving` (optionally `cohort` and \
             `size`)"
                .into(),
        ));
    };
    let (cohort_col, size_col) = (position("cohort"), position("size"));

    let mut by_cohort: BTreeMap<String, Vec<Row>> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    for (line, content) in lines {
        let fields: Vec<&str> = content.split(',').map(str::trim).collect();
        if fields.len() != columns.len() {
            return Err(fail(
                Some(line),
                format!(
                    "has {} fields where the header has {}",
                    fields.len(),
                    columns.len()
                ),
            ));
        }
        let period = fields[period_col].parse::<u32>().map_err(|_| {
            fail(
                Some(line),
                format!(
                    "period `{}` is not a whole number of periods (0, 1, 2, …)",
                    fields[period_col]
                ),
            )
        })?;
        let surviving =
            parse_surviving(fields[surviving_col]).map_err(|message| fail(Some(line), message))?;
        let size = match size_col.map(|c| fields[c]) {
            None | Some("") => None,
            Some(text) => Some(
                text.parse::<f64>()
                    .ok()
                    .filter(|s| s.is_finite() && *s > 0.0)
                    .ok_or_else(|| {
                        fail(
                            Some(line),
                            format!("size `{text}` is not a positive number of customers"),
                        )
                    })?,
            ),
        };
        let cohort = cohort_col.map_or("all", |c| fields[c]).to_string();
        if !by_cohort.contains_key(&cohort) {
            order.push(cohort.clone());
        }
        by_cohort.entry(cohort).or_default().push(Row {
            line,
            period,
            surviving,
            size,
        });
    }
    if order.is_empty() {
        return Err(fail(
            None,
            "has a header but no rows; give one row per observed period".into(),
        ));
    }
    let cohorts = order
        .into_iter()
        .map(|name| {
            let rows = by_cohort.remove(&name).unwrap_or_default();
            check_cohort(name, &rows).map_err(|(row, message)| fail(row, message))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(RetentionData {
        path: path.to_path_buf(),
        cohorts,
    })
}

fn parse_surviving(text: &str) -> std::result::Result<Surviving, String> {
    let (number, percent) = match text.strip_suffix('%') {
        Some(number) => (number.trim(), true),
        None => (text, false),
    };
    let value = number
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| {
            format!("surviving `{text}` is not a number of customers (912) or a percentage (91.2%)")
        })?;
    if value < 0.0 {
        return Err(format!("surviving `{text}` is negative"));
    }
    if percent {
        if value > 100.0 {
            return Err(format!(
                "surviving `{text}` is over 100 %; a percentage of the cohort is at most 100%"
            ));
        }
        Ok(Surviving::Percent(value))
    } else {
        Ok(Surviving::Count(value))
    }
}

/// Checks one cohort's rows and turns them into counts.
fn check_cohort(
    name: String,
    rows: &[Row],
) -> std::result::Result<Cohort, (Option<usize>, String)> {
    let first = &rows[0];
    let percent = matches!(first.surviving, Surviving::Percent(_));
    for row in rows {
        if matches!(row.surviving, Surviving::Percent(_)) != percent {
            return Err((
                Some(row.line),
                format!(
                    "cohort `{name}` mixes counts and percentages; give every row of a cohort in \
                     the same form"
                ),
            ));
        }
    }
    for pair in rows.windows(2) {
        if pair[1].period <= pair[0].period {
            return Err((
                Some(pair[1].line),
                format!(
                    "period {} of cohort `{name}` comes after period {}; give each period once, \
                     in increasing order",
                    pair[1].period, pair[0].period
                ),
            ));
        }
    }
    let given_size = rows.iter().find_map(|r| r.size);
    let at_zero = rows.iter().find(|r| r.period == 0);
    let (size, nominal_size) = match (percent, at_zero, given_size) {
        (false, Some(row), _) => match row.surviving {
            Surviving::Count(n) if n > 0.0 => (n, false),
            _ => {
                return Err((
                    Some(row.line),
                    format!("cohort `{name}` has no customers at period 0"),
                ))
            }
        },
        (false, None, Some(size)) => (size, false),
        (false, None, None) => {
            return Err((
                Some(first.line),
                format!(
                    "cohort `{name}` gives counts but no size: add a row for period 0 or a size \
                     column"
                ),
            ))
        }
        (true, _, Some(size)) => (size, false),
        (true, _, None) => (NOMINAL_SIZE, true),
    };
    let mut observations = Vec::new();
    let mut previous = (0u32, size, first.line);
    for row in rows.iter().filter(|r| r.period > 0) {
        let count = match row.surviving {
            Surviving::Count(n) => n,
            Surviving::Percent(p) => p / 100.0 * size,
        };
        if count > previous.1 + 1e-9 {
            return Err((
                Some(row.line),
                format!(
                    "cohort `{name}` has {} customers at period {} but {} at period {}: a \
                     cohort's survivors can only decrease",
                    trim(count),
                    row.period,
                    trim(previous.1),
                    previous.0
                ),
            ));
        }
        observations.push((row.period, count));
        previous = (row.period, count, row.line);
    }
    if observations.is_empty() {
        return Err((
            Some(first.line),
            format!("cohort `{name}` has no observation after period 0"),
        ));
    }
    if (previous.1 - size).abs() < 1e-9 {
        return Err((
            Some(previous.2),
            format!(
                "cohort `{name}` never loses a customer (all {} are still there at period {}): \
                 such data cannot tell how fast customers leave",
                trim(size),
                previous.0
            ),
        ));
    }
    Ok(Cohort {
        name,
        size,
        observations,
        nominal_size,
    })
}

fn trim(value: f64) -> String {
    if value.fract() == 0.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<RetentionData> {
        parse_retention(text, Path::new("cohorts.csv"))
    }

    fn message(text: &str) -> String {
        parse(text).unwrap_err().to_string()
    }

    #[test]
    fn counts_percentages_and_cohorts_are_read() {
        let data = parse(
            "# a comment\ncohort,period,surviving,size\nA,0,1000,\nA,1,900,\nA,3,700,\n\
             B,1,90%,200\nB,2,80%,\n",
        )
        .unwrap();
        assert_eq!(data.cohorts.len(), 2);
        let a = &data.cohorts[0];
        assert_eq!((a.name.as_str(), a.size), ("A", 1000.0));
        assert_eq!(a.observations, [(1, 900.0), (3, 700.0)]);
        let b = &data.cohorts[1];
        assert_eq!(b.size, 200.0);
        assert_eq!(b.observations, [(1, 180.0), (2, 160.0)]);
        assert_eq!(data.last_period(), 3);
        let nominal = parse("period,surviving\n1,95%\n2,90%\n").unwrap();
        assert!(nominal.cohorts[0].nominal_size);
        assert_eq!(nominal.cohorts[0].observations[1], (2, 900.0));
        assert_eq!(a.up_to(1).observations, [(1, 900.0)]);
    }

    #[test]
    fn bad_data_is_refused_naming_the_file_and_row() {
        for (text, expected) in [
            ("", "cohorts.csv: is empty"),
            (
                "period,surviving\n",
                "cohorts.csv: has a header but no rows",
            ),
            (
                "period,alive\n0,5\n",
                "cohorts.csv, row 1: unknown column `alive`",
            ),
            (
                "period,surviving\n0,100\n1,90\n2,95\n",
                "cohorts.csv, row 4: cohort `all` has 95",
            ),
            (
                "period,surviving\n1,90%\n2,101%\n",
                "cohorts.csv, row 3: surviving `101%` is over 100",
            ),
            (
                "period,surviving\n0,100\n1,100\n2,100\n",
                "row 4: cohort `all` never loses a customer",
            ),
            (
                "period,surviving\n0,100\n1.5,90\n",
                "row 3: period `1.5` is not a whole number",
            ),
            (
                "period,surviving\n0,100\n2,90\n1,80\n",
                "row 4: period 1 of cohort `all` comes after period 2",
            ),
            (
                "period,surviving\n1,90\n2,80\n",
                "row 2: cohort `all` gives counts but no size",
            ),
            (
                "period,surviving\n0,100\n1,-3\n",
                "row 3: surviving `-3` is negative",
            ),
            (
                "period,surviving\n0,100\n1,ninety\n",
                "row 3: surviving `ninety` is not a number",
            ),
            (
                "period,surviving\n0,100\n1,90%\n",
                "row 3: cohort `all` mixes counts and percentages",
            ),
            (
                "period,surviving\n0,100,3\n",
                "row 2: has 3 fields where the header has 2",
            ),
            (
                "period,surviving\n0,100\n",
                "row 2: cohort `all` has no observation after period 0",
            ),
        ] {
            let found = message(text);
            assert!(found.contains(expected), "{text:?}: {found}");
        }
        let err = parse("period,surviving\n").unwrap_err();
        assert_eq!(err.exit_code(), 2);
    }
}
