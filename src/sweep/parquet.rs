//! `runs.parquet`: the rows of `runs.csv` as a Parquet file, for pandas, polars and DuckDB
//! (docs/sweeps.md). Written with the `parquet` crate's column writer, a row group at a time as
//! units arrive, so memory stays bounded; columns and order are those of `runs.csv`.
//!
//! Types: `point`, `replication` and whole-number parameters are INT64; `seed` is INT64 holding
//! the unsigned 64-bit seed (logical type UINT64); other numeric parameters and every metric are
//! DOUBLE, a metric that does not exist (CAC of a run that won nobody) null; `strategy` and
//! non-numeric parameters are UTF-8 strings.

use std::io::Write;
use std::sync::Arc;

use parquet::basic::{LogicalType, Repetition, Type as PhysicalType};
use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::errors::ParquetError;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::{PrimitiveTypeBuilder, Type};

use super::design::Distribution;
use super::points::PreparedSweep;
use crate::engine::RunMetrics;
use crate::results::UnitResult;

pub const RUNS_PARQUET_FILE: &str = "runs.parquet";

/// Rows kept before they are written as one row group.
const ROWS_PER_GROUP: usize = 8192;

/// How a varied parameter is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ParameterColumn {
    Integer,
    Number,
    Text,
}

/// Column buffers of the rows not yet written.
#[derive(Default)]
struct Rows {
    point: Vec<i64>,
    integers: Vec<Vec<i64>>,
    numbers: Vec<Vec<f64>>,
    texts: Vec<Vec<ByteArray>>,
    strategy: Vec<ByteArray>,
    replication: Vec<i64>,
    seed: Vec<i64>,
    /// Per metric: the finite values and a definition level per row.
    metrics: Vec<(Vec<f64>, Vec<i16>)>,
}

/// Writes `runs.parquet` a unit at a time.
pub struct RunsParquet<W: Write + Send> {
    writer: SerializedFileWriter<W>,
    kinds: Vec<ParameterColumn>,
    strategy_names: Vec<String>,
    rows: Rows,
}

impl<W: Write + Send> RunsParquet<W> {
    pub fn new(
        sweep: &PreparedSweep,
        strategy_names: &[String],
        out: W,
    ) -> Result<Self, ParquetError> {
        let kinds: Vec<ParameterColumn> = (0..sweep.parameters.len())
            .map(|p| parameter_column(sweep, p))
            .collect();
        fn required(name: &str, physical: PhysicalType) -> PrimitiveTypeBuilder<'_> {
            Type::primitive_type_builder(name, physical).with_repetition(Repetition::REQUIRED)
        }
        let mut fields = vec![required("point", PhysicalType::INT64).build()?];
        for (parameter, kind) in sweep.parameters.iter().zip(&kinds) {
            fields.push(match kind {
                ParameterColumn::Integer => {
                    required(&parameter.key, PhysicalType::INT64).build()?
                }
                ParameterColumn::Number => {
                    required(&parameter.key, PhysicalType::DOUBLE).build()?
                }
                ParameterColumn::Text => required(&parameter.key, PhysicalType::BYTE_ARRAY)
                    .with_logical_type(Some(LogicalType::String))
                    .build()?,
            });
        }
        fields.push(
            required("strategy", PhysicalType::BYTE_ARRAY)
                .with_logical_type(Some(LogicalType::String))
                .build()?,
        );
        fields.push(required("replication", PhysicalType::INT64).build()?);
        fields.push(
            required("seed", PhysicalType::INT64)
                .with_logical_type(Some(LogicalType::integer(64, false)))
                .build()?,
        );
        for metric in RunMetrics::NAMES {
            fields.push(
                Type::primitive_type_builder(metric, PhysicalType::DOUBLE)
                    .with_repetition(Repetition::OPTIONAL)
                    .build()?,
            );
        }
        let schema = Type::group_type_builder("runs")
            .with_fields(fields.into_iter().map(Arc::new).collect())
            .build()?;
        let properties = WriterProperties::builder()
            .set_compression(parquet::basic::Compression::SNAPPY)
            // Min/max per column chunk (row group), not per page: a page index would be held in
            // memory until the file closes, growing with the sweep.
            .set_statistics_enabled(parquet::file::properties::EnabledStatistics::Chunk)
            .set_created_by(format!("relsim {}", env!("CARGO_PKG_VERSION")))
            .build();
        let writer = SerializedFileWriter::new(out, Arc::new(schema), Arc::new(properties))?;
        let rows = Rows {
            integers: vec![Vec::new(); kinds.len()],
            numbers: vec![Vec::new(); kinds.len()],
            texts: vec![Vec::new(); kinds.len()],
            metrics: vec![(Vec::new(), Vec::new()); RunMetrics::COUNT],
            ..Rows::default()
        };
        Ok(Self {
            writer,
            kinds,
            strategy_names: strategy_names.to_vec(),
            rows,
        })
    }

    /// Adds every strategy's row of one unit.
    pub fn write(&mut self, sweep: &PreparedSweep, unit: &UnitResult) -> Result<(), ParquetError> {
        let values = sweep.values(unit.point as usize);
        for (s, metrics) in unit.metrics.iter().enumerate() {
            let rows = &mut self.rows;
            rows.point.push(unit.point as i64);
            for (p, (value, kind)) in values.iter().zip(&self.kinds).enumerate() {
                match kind {
                    ParameterColumn::Integer => {
                        rows.integers[p].push(value.as_integer().unwrap_or(0))
                    }
                    ParameterColumn::Number => rows.numbers[p].push(
                        value
                            .as_float()
                            .or_else(|| value.as_integer().map(|i| i as f64))
                            .unwrap_or(f64::NAN),
                    ),
                    ParameterColumn::Text => rows.texts[p].push(ByteArray::from(
                        value
                            .as_str()
                            .map_or_else(|| value.to_string(), str::to_string)
                            .as_str(),
                    )),
                }
            }
            rows.strategy
                .push(ByteArray::from(self.strategy_names[s].as_str()));
            rows.replication.push(unit.replication as i64);
            rows.seed.push(unit.seed as i64);
            for (m, value) in metrics.values().into_iter().enumerate() {
                let (values, levels) = &mut rows.metrics[m];
                if value.is_finite() {
                    values.push(value);
                    levels.push(1);
                } else {
                    levels.push(0);
                }
            }
        }
        if self.rows.point.len() >= ROWS_PER_GROUP {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes the rows held as one row group.
    fn flush(&mut self) -> Result<(), ParquetError> {
        if self.rows.point.is_empty() {
            return Ok(());
        }
        let rows = std::mem::take(&mut self.rows);
        let mut group = self.writer.next_row_group()?;
        let mut column = 0usize;
        let n_parameters = self.kinds.len();
        while let Some(mut writer) = group.next_column()? {
            match column {
                0 => {
                    writer
                        .typed::<Int64Type>()
                        .write_batch(&rows.point, None, None)?;
                }
                c if c <= n_parameters => {
                    let p = c - 1;
                    match self.kinds[p] {
                        ParameterColumn::Integer => {
                            writer.typed::<Int64Type>().write_batch(
                                &rows.integers[p],
                                None,
                                None,
                            )?;
                        }
                        ParameterColumn::Number => {
                            writer.typed::<DoubleType>().write_batch(
                                &rows.numbers[p],
                                None,
                                None,
                            )?;
                        }
                        ParameterColumn::Text => {
                            writer.typed::<ByteArrayType>().write_batch(
                                &rows.texts[p],
                                None,
                                None,
                            )?;
                        }
                    }
                }
                c if c == n_parameters + 1 => {
                    writer
                        .typed::<ByteArrayType>()
                        .write_batch(&rows.strategy, None, None)?;
                }
                c if c == n_parameters + 2 => {
                    writer
                        .typed::<Int64Type>()
                        .write_batch(&rows.replication, None, None)?;
                }
                c if c == n_parameters + 3 => {
                    writer
                        .typed::<Int64Type>()
                        .write_batch(&rows.seed, None, None)?;
                }
                c => {
                    let (values, levels) = &rows.metrics[c - n_parameters - 4];
                    writer
                        .typed::<DoubleType>()
                        .write_batch(values, Some(levels), None)?;
                }
            }
            writer.close()?;
            column += 1;
        }
        group.close()?;
        self.rows = Rows {
            integers: vec![Vec::new(); self.kinds.len()],
            numbers: vec![Vec::new(); self.kinds.len()],
            texts: vec![Vec::new(); self.kinds.len()],
            metrics: vec![(Vec::new(), Vec::new()); RunMetrics::COUNT],
            ..Rows::default()
        };
        Ok(())
    }

    /// Writes the last row group and the footer; returns the output.
    pub fn finish(mut self) -> Result<W, ParquetError> {
        self.flush()?;
        self.writer.into_inner()
    }
}

/// Whole numbers, other numbers, or text: what every value of parameter `p` is.
fn parameter_column(sweep: &PreparedSweep, p: usize) -> ParameterColumn {
    match &sweep.parameters[p].distribution {
        Distribution::Values { values } => {
            if values.iter().all(|v| v.is_integer()) {
                ParameterColumn::Integer
            } else if values.iter().all(|v| v.is_integer() || v.is_float()) {
                ParameterColumn::Number
            } else {
                ParameterColumn::Text
            }
        }
        _ => match sweep.values(0).get(p) {
            Some(toml::Value::Integer(_)) => ParameterColumn::Integer,
            _ => ParameterColumn::Number,
        },
    }
}
