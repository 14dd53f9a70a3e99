//! The chart of `relsim calibrate` (docs/calibration.md): observed survival of each cohort
//! against the fitted simulation, with the band where a cohort of the data's size would fall,
//! and the projection past the data.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{drawing_png, drawing_svg, strategy_colour, titled, DrawResult, Drawing, FONT};
use crate::error::Result;

/// One cohort as observed: its name, size and `(period, share surviving)`.
#[derive(Debug, Clone, PartialEq)]
pub struct ObservedCohort {
    pub name: String,
    pub size: f64,
    pub shares: Vec<(u32, f64)>,
}

/// What to draw.
#[derive(Debug, Clone, PartialEq)]
pub struct CalibrationChart {
    pub cohorts: Vec<ObservedCohort>,
    /// Fitted `S(t)`, `t = 0..=horizon`, and the variance of each value as an estimate.
    pub survival: Vec<f64>,
    pub survival_variance: Vec<f64>,
    /// The last period fitted; later observations were held out.
    pub fitted_through: u32,
    /// The cohort size the band is drawn for.
    pub band_size: f64,
}

const FITTED: RGBColor = RGBColor(0, 114, 178);
const GRID: RGBColor = RGBColor(220, 220, 220);

impl CalibrationChart {
    /// How to read it.
    pub fn caption(&self) -> String {
        format!(
            "Dots: each cohort's observed share still active (filled where fitted, hollow where \
             held out). Line: the simulated share of the starting customers still active at the \
             fitted values; the shaded band is where 95 % of cohorts of {} customers would \
             fall (binomial spread plus the simulation's own uncertainty). Right of the dashed \
             line the curve is a projection.",
            self.band_size.round()
        )
    }

    pub fn render_svg(&self) -> Result<String> {
        drawing_svg(self)
    }

    pub fn render_png(&self) -> Result<Vec<u8>> {
        drawing_png(self)
    }
}

impl Drawing for CalibrationChart {
    fn chart_name(&self) -> String {
        "calibration".into()
    }

    fn draw_on<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let (width, _) = root.dim_in_pixel();
        let body = titled(root, "Observed and simulated survival")?;
        let horizon = (self.survival.len().saturating_sub(1)) as f64;
        let band = |t: usize, sign: f64| {
            let s = self.survival[t];
            let spread = (s * (1.0 - s) / self.band_size + self.survival_variance[t]).sqrt();
            100.0 * (s + sign * 1.959_963_984_540_054 * spread).clamp(0.0, 1.0)
        };
        let lowest = (0..self.survival.len())
            .map(|t| band(t, -1.0))
            .chain(
                self.cohorts
                    .iter()
                    .flat_map(|c| c.shares.iter().map(|&(_, s)| 100.0 * s)),
            )
            .fold(100.0f64, f64::min);
        let y_low = ((lowest - 5.0) / 10.0).floor().max(0.0) * 10.0;
        let mut chart = ChartBuilder::on(&body)
            .margin_right(30)
            .x_label_area_size(70)
            .y_label_area_size(110)
            .build_cartesian_2d(0.0..horizon.max(1.0), y_low..100.0)?;
        chart
            .configure_mesh()
            .x_desc("periods since the start")
            .y_desc("share still active (%)")
            .axis_desc_style((FONT, 26))
            .label_style((FONT, 22))
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_label_formatter(&|v| format!("{v:.0}"))
            .bold_line_style(GRID)
            .light_line_style(RGBColor(245, 245, 245))
            .draw()?;
        let upper: Vec<(f64, f64)> = (0..self.survival.len())
            .map(|t| (t as f64, band(t, 1.0)))
            .collect();
        let lower: Vec<(f64, f64)> = (0..self.survival.len())
            .rev()
            .map(|t| (t as f64, band(t, -1.0)))
            .collect();
        chart.draw_series(std::iter::once(Polygon::new(
            upper.into_iter().chain(lower).collect::<Vec<_>>(),
            FITTED.mix(0.15).filled(),
        )))?;
        chart.draw_series(LineSeries::new(
            self.survival
                .iter()
                .enumerate()
                .map(|(t, s)| (t as f64, 100.0 * s)),
            FITTED.stroke_width(4),
        ))?;
        let cut = self.fitted_through as f64;
        if cut < horizon {
            chart.draw_series(DashedLineSeries::new(
                vec![(cut, y_low), (cut, 100.0)],
                10,
                8,
                BLACK.stroke_width(2),
            ))?;
            chart.draw_series(std::iter::once(Text::new(
                "  projected →",
                (cut, y_low + 0.06 * (100.0 - y_low)),
                (FONT, 24).into_font().color(&BLACK),
            )))?;
        }
        for (idx, cohort) in self.cohorts.iter().enumerate() {
            // Cohort colours from the second on: the first is the fitted line's blue.
            let colour = strategy_colour(if idx == 0 { 0 } else { idx + 1 });
            chart.draw_series(cohort.shares.iter().map(|&(t, s)| {
                let style = if t <= self.fitted_through {
                    colour.filled()
                } else {
                    colour.stroke_width(3)
                };
                Circle::new((t as f64, 100.0 * s), 8, style)
            }))?;
        }
        // The key: the fitted line and each cohort.
        let mut y = 24;
        let x = width as i32 - 520;
        let key = |label: String, colour: RGBColor, line: bool, y: i32| -> DrawResult {
            if line {
                root.draw(&PathElement::new(
                    vec![(x, y), (x + 40, y)],
                    colour.stroke_width(4),
                ))?;
            } else {
                root.draw(&Circle::new((x + 20, y), 8, colour.filled()))?;
            }
            root.draw(&Text::new(
                label,
                (x + 52, y),
                (FONT, 22)
                    .into_font()
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Left, VPos::Center)),
            ))?;
            Ok(())
        };
        y += 90;
        key("simulated (fitted)".into(), FITTED, true, y)?;
        for (idx, cohort) in self.cohorts.iter().enumerate() {
            y += 32;
            let colour = strategy_colour(if idx == 0 { 0 } else { idx + 1 });
            // A long name is cut, so that the key stays on the chart.
            let name: String = if cohort.name.chars().count() > 24 {
                cohort.name.chars().take(23).chain(['…']).collect()
            } else {
                cohort.name.clone()
            };
            key(
                format!("cohort {name} ({} customers)", cohort.size.round()),
                colour,
                false,
                y,
            )?;
        }
        Ok(())
    }
}
