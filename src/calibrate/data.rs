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
//! - `segment` (optional): the name of one of the scenario's segments whose customers the
//!   cohort follows; the fit then compares it with that segment's simulated survival. Rows with
//!   the same cohort and segment form one cohort; an empty segment means the whole market.
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
    /// The scenario segment the cohort follows, by name; `None` for the whole market.
    pub segment: Option<String>,
    /// The line of the cohort's first row (for messages about the cohort as a whole).
    pub line: usize,
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
            observations: through(&self.observations, period),
            ..self.clone()
        }
    }
}

/// The `(period, value)` observations up to and including `period`.
fn through(observations: &[(u32, f64)], period: u32) -> Vec<(u32, f64)> {
    observations
        .iter()
        .copied()
        .filter(|&(t, _)| t <= period)
        .collect()
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

/// The error for row `row` (or the whole file) of the data file at `path`.
fn data_error(path: &Path) -> impl Fn(Option<usize>, String) -> Error + '_ {
    move |row, message| Error::InvalidData {
        path: path.to_path_buf(),
        row,
        message,
    }
}

/// A header's column names, trimmed and in lower case.
fn header_columns(header: &str) -> Vec<String> {
    header
        .split(',')
        .map(|c| c.trim().to_ascii_lowercase())
        .collect()
}

/// A CSV's lines that hold data or a header, with their 1-based line numbers: blank lines and
/// `#` comments are skipped.
fn content_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(idx, line)| (idx + 1, line.trim()))
        .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'))
}

/// Parses retention CSV text; `path` names it in messages.
pub fn parse_retention(text: &str, path: &Path) -> Result<RetentionData> {
    let fail = data_error(path);
    let mut lines = content_lines(text);
    let (header_line, header) = lines.next().ok_or_else(|| {
        fail(
            None,
            "is empty; it needs a header `period,surviving` (optionally `cohort` and `size`) \
             and one row per observed period"
                .into(),
        )
    })?;
    let columns = header_columns(header);
    let position = |name: &str| columns.iter().position(|c| c == name);
    for (idx, column) in columns.iter().enumerate() {
        if !["cohort", "segment", "period", "surviving", "size"].contains(&column.as_str()) {
            return Err(fail(
                Some(header_line),
                format!(
                    "unknown column `{column}` (column {}); the columns are period, surviving \
                     and optionally cohort, segment and size",
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
    let (cohort_col, segment_col, size_col) =
        (position("cohort"), position("segment"), position("size"));

    let mut by_cohort: BTreeMap<(String, Option<String>), Vec<Row>> = BTreeMap::new();
    let mut order: Vec<(String, Option<String>)> = Vec::new();
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
        let segment = segment_col
            .map(|c| fields[c])
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        let name = match (cohort_col.map(|c| fields[c]), &segment) {
            (Some(cohort), Some(segment)) => format!("{cohort} / {segment}"),
            (Some(cohort), None) => cohort.to_string(),
            (None, Some(segment)) => segment.clone(),
            (None, None) => "all".to_string(),
        };
        let cohort = (name, segment);
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
        .map(|key| {
            let rows = by_cohort.remove(&key).unwrap_or_default();
            let (name, segment) = key;
            check_cohort(name, segment, &rows).map_err(|(row, message)| fail(row, message))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(RetentionData {
        path: path.to_path_buf(),
        cohorts,
    })
}

/// What a per-period series observes: new customers, or revenue per active customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeriesKind {
    /// `period,acquired`: customers won in each period (advertising and word of mouth).
    Acquired,
    /// `period,revenue_per_customer`: revenue per customer active at the period's end.
    RevenuePerCustomer,
}

impl SeriesKind {
    /// The value column's name.
    pub fn column(self) -> &'static str {
        match self {
            SeriesKind::Acquired => "acquired",
            SeriesKind::RevenuePerCustomer => "revenue_per_customer",
        }
    }

    fn what(self) -> &'static str {
        match self {
            SeriesKind::Acquired => "a number of customers won (0 or more)",
            SeriesKind::RevenuePerCustomer => "a revenue per customer (0 or more)",
        }
    }
}

/// A per-period series the firm observed (`--acquisition`, `--revenue`): `(period, value)`,
/// periods from 1, increasing.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesData {
    pub path: PathBuf,
    pub kind: SeriesKind,
    pub observations: Vec<(u32, f64)>,
}

impl SeriesData {
    /// The series with only its observations up to `period` (for a holdout).
    pub fn up_to(&self, period: u32) -> SeriesData {
        SeriesData {
            observations: through(&self.observations, period),
            ..self.clone()
        }
    }

    pub fn last_period(&self) -> u32 {
        self.observations.last().map_or(0, |&(t, _)| t)
    }
}

/// Reads and checks a series file of `kind`.
pub fn read_series(path: &Path, kind: SeriesKind) -> Result<SeriesData> {
    let text = std::fs::read_to_string(path).map_err(|err| Error::InvalidData {
        path: path.to_path_buf(),
        row: None,
        message: format!("cannot be read: {err}"),
    })?;
    parse_series(&text, path, kind)
}

/// Parses a series CSV: a header `period,<kind's column>` (in either order) and one row per
/// observed period, periods from 1 and increasing; `path` names it in messages.
pub fn parse_series(text: &str, path: &Path, kind: SeriesKind) -> Result<SeriesData> {
    let fail = data_error(path);
    let column = kind.column();
    let mut lines = content_lines(text);
    let (header_line, header) = lines.next().ok_or_else(|| {
        fail(
            None,
            format!("is empty; it needs a header `period,{column}` and one row per period"),
        )
    })?;
    let columns = header_columns(header);
    let position = |name: &str| columns.iter().position(|c| c == name);
    let (Some(period_col), Some(value_col), 2) =
        (position("period"), position(column), columns.len())
    else {
        return Err(fail(
            Some(header_line),
            format!("the header must be `period,{column}`, not `{header}`"),
        ));
    };
    let mut observations: Vec<(u32, f64)> = Vec::new();
    for (line, content) in lines {
        let fields: Vec<&str> = content.split(',').map(str::trim).collect();
        if fields.len() != 2 {
            return Err(fail(
                Some(line),
                format!("has {} fields where the header has 2", fields.len()),
            ));
        }
        let period = fields[period_col]
            .parse::<u32>()
            .ok()
            .filter(|&p| p >= 1)
            .ok_or_else(|| {
                fail(
                    Some(line),
                    format!(
                        "period `{}` is not a period of the simulation (1, 2, 3, …)",
                        fields[period_col]
                    ),
                )
            })?;
        let value = fields[value_col]
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v >= 0.0)
            .ok_or_else(|| {
                fail(
                    Some(line),
                    format!("{column} `{}` is not {}", fields[value_col], kind.what()),
                )
            })?;
        if let Some(&(previous, _)) = observations.last() {
            if period <= previous {
                return Err(fail(
                    Some(line),
                    format!(
                        "period {period} comes after period {previous}; give each period once, \
                         in increasing order"
                    ),
                ));
            }
        }
        observations.push((period, value));
    }
    if observations.is_empty() {
        return Err(fail(
            None,
            "has a header but no rows; give one row per observed period".into(),
        ));
    }
    Ok(SeriesData {
        path: path.to_path_buf(),
        kind,
        observations,
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
    segment: Option<String>,
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
        segment,
        line: first.line,
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
    fn a_segment_column_makes_a_cohort_of_each_cohort_and_segment() {
        let data = parse(
            "segment,cohort,period,surviving\nregulars,2024,0,300\nregulars,2024,1,280\n\
             occasional,2024,0,700\noccasional,2024,1,560\n,2024,0,50\n,2024,1,40\n\
             regulars,2025,0,100\nregulars,2025,1,95\n",
        )
        .unwrap();
        let names: Vec<(&str, Option<&str>, usize)> = data
            .cohorts
            .iter()
            .map(|c| (c.name.as_str(), c.segment.as_deref(), c.line))
            .collect();
        assert_eq!(
            names,
            [
                ("2024 / regulars", Some("regulars"), 2),
                ("2024 / occasional", Some("occasional"), 4),
                ("2024", None, 6),
                ("2025 / regulars", Some("regulars"), 8),
            ]
        );
        let by_segment = parse("segment,period,surviving\nA,0,10\nA,1,9\nB,0,10\nB,1,8\n").unwrap();
        assert_eq!(by_segment.cohorts[1].name, "B");
        assert_eq!(by_segment.cohorts[1].observations, [(1, 8.0)]);
    }

    #[test]
    fn series_are_read_and_bad_ones_refused_naming_the_row() {
        let path = Path::new("acquired.csv");
        let series = parse_series(
            "acquired,period\n12,1\n# gap\n9,3\n",
            path,
            SeriesKind::Acquired,
        )
        .unwrap();
        assert_eq!(series.observations, [(1, 12.0), (3, 9.0)]);
        assert_eq!(series.up_to(2).observations, [(1, 12.0)]);
        for (text, expected) in [
            ("", "acquired.csv: is empty"),
            (
                "period,surviving\n1,3\n",
                "row 1: the header must be `period,acquired`",
            ),
            ("period,acquired\n", "has a header but no rows"),
            (
                "period,acquired\n0,3\n",
                "row 2: period `0` is not a period",
            ),
            (
                "period,acquired\n1,-3\n",
                "row 2: acquired `-3` is not a number",
            ),
            (
                "period,acquired\n2,3\n1,4\n",
                "row 3: period 1 comes after period 2",
            ),
        ] {
            let message = parse_series(text, path, SeriesKind::Acquired)
                .unwrap_err()
                .to_string();
            assert!(message.contains(expected), "{text:?}: {message}");
        }
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
