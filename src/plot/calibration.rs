//! The chart of `relsim calibrate` (docs/calibration.md): observed survival of each cohort
//! against the fitted simulation (the market's curve, or its segment's), with the band where a
//! cohort of the data's size would fall, and the projection past the data.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{drawing_png, drawing_svg, strategy_colour, titled, DrawResult, Drawing, FONT};
use crate::error::Result;

/// One cohort as observed: its name, size, `(period, share surviving)` and the index of the
/// curve it is compared with.
#[derive(Debug, Clone, PartialEq)]
pub struct ObservedCohort {
    pub name: String,
    pub size: f64,
    pub shares: Vec<(u32, f64)>,
    pub curve: usize,
}

/// One simulated curve: `market` or a segment's name, `S(t)` for `t = 0..=horizon` and the
/// variance of each value as an estimate.
#[derive(Debug, Clone, PartialEq)]
pub struct SimulatedCurve {
    pub label: String,
    pub survival: Vec<f64>,
    pub survival_variance: Vec<f64>,
}

/// What to draw.
#[derive(Debug, Clone, PartialEq)]
pub struct CalibrationChart {
    pub cohorts: Vec<ObservedCohort>,
    pub curves: Vec<SimulatedCurve>,
    /// The last period fitted; later observations were held out.
    pub fitted_through: u32,
}

/// Characters of a cohort's name the key shows at most.
const KEY_NAME_CHARS: usize = 30;

/// Characters of the names' common beginning kept before where they differ.
const KEY_NAME_CONTEXT: usize = 8;

/// The cohorts' names as the key shows them: whole when short; otherwise from a little before
/// where the names start to differ (names like `… quarter 3 of the fiscal year` share their
/// beginning), cut at the end when still too long.
fn key_names(names: &[&str]) -> Vec<String> {
    let chars: Vec<Vec<char>> = names.iter().map(|n| n.chars().collect()).collect();
    let common = match chars.split_first() {
        Some((first, rest)) if !rest.is_empty() => {
            rest.iter().fold(first.len(), |common, other| {
                common.min(first.iter().zip(other).take_while(|(a, b)| a == b).count())
            })
        }
        _ => 0,
    };
    let start = common.saturating_sub(KEY_NAME_CONTEXT);
    chars
        .iter()
        .map(|name| {
            if name.len() <= KEY_NAME_CHARS {
                return name.iter().collect();
            }
            let mut shown: Vec<char> = Vec::with_capacity(KEY_NAME_CHARS + 1);
            if start > 0 {
                shown.push('…');
            }
            let room = KEY_NAME_CHARS - shown.len();
            let rest = &name[start.min(name.len())..];
            if rest.len() <= room {
                shown.extend(rest);
            } else {
                shown.extend(&rest[..room - 1]);
                shown.push('…');
            }
            shown.into_iter().collect()
        })
        .collect()
}

/// The key's text: left-aligned, centred on its line.
fn key_style() -> TextStyle<'static> {
    (FONT, 22)
        .into_font()
        .color(&BLACK)
        .pos(Pos::new(HPos::Left, VPos::Center))
}

/// Entries of the key at most; the rest are summed up in one line.
const KEY_ENTRIES: usize = 12;

const GRID: RGBColor = RGBColor(220, 220, 220);

impl CalibrationChart {
    /// How to read it.
    pub fn caption(&self) -> String {
        format!(
            "Dots: each cohort's observed share still active (filled where fitted, hollow where \
             held out). Line{}: the simulated share of the starting customers still active at \
             the fitted values{}; the shaded band is where 95 % of cohorts the size of the \
             largest observed would fall (binomial spread plus the simulation's own \
             uncertainty). Right of the dashed line the curve is a projection.",
            if self.curves.len() > 1 { "s" } else { "" },
            if self.curves.len() > 1 {
                ", one per segment observed, in the colour of its cohorts"
            } else {
                ""
            }
        )
    }

    /// The largest cohort compared with curve `curve`: the band is drawn for its size.
    fn band_size(&self, curve: usize) -> f64 {
        self.cohorts
            .iter()
            .filter(|c| c.curve == curve)
            .map(|c| c.size)
            .fold(1.0, f64::max)
    }

    /// Curve `curve`'s colour; with one curve, each cohort has its own colour and the first
    /// shares the line's.
    fn colour(&self, curve: usize, cohort: Option<usize>) -> RGBColor {
        match (self.curves.len(), cohort) {
            (1, Some(idx)) => strategy_colour(if idx == 0 { 0 } else { idx + 1 }),
            _ => strategy_colour(curve),
        }
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
        let horizon = self
            .curves
            .iter()
            .map(|c| c.survival.len().saturating_sub(1))
            .max()
            .unwrap_or(0) as f64;
        let band = |curve: usize, t: usize, sign: f64| {
            let (survival, variance) = (
                &self.curves[curve].survival,
                &self.curves[curve].survival_variance,
            );
            let s = survival[t];
            let spread = (s * (1.0 - s) / self.band_size(curve) + variance[t]).sqrt();
            100.0 * (s + sign * 1.959_963_984_540_054 * spread).clamp(0.0, 1.0)
        };
        let lowest = self
            .curves
            .iter()
            .enumerate()
            .flat_map(|(idx, c)| (0..c.survival.len()).map(move |t| band(idx, t, -1.0)))
            .chain(
                self.cohorts
                    .iter()
                    .flat_map(|c| c.shares.iter().map(|&(_, s)| 100.0 * s)),
            )
            .filter(|v| v.is_finite())
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
        for (idx, curve) in self.curves.iter().enumerate() {
            let colour = self.colour(idx, None);
            let points = 0..curve.survival.len();
            let upper = points.clone().map(|t| (t as f64, band(idx, t, 1.0)));
            let lower = points.rev().map(|t| (t as f64, band(idx, t, -1.0)));
            chart.draw_series(std::iter::once(Polygon::new(
                upper.chain(lower).collect::<Vec<_>>(),
                colour.mix(0.15).filled(),
            )))?;
            chart.draw_series(LineSeries::new(
                curve
                    .survival
                    .iter()
                    .enumerate()
                    .map(|(t, s)| (t as f64, 100.0 * s)),
                colour.stroke_width(4),
            ))?;
        }
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
            let colour = self.colour(cohort.curve, Some(idx));
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
        let x = width as i32 - 600;
        let key = |label: String, colour: RGBColor, line: bool, y: i32| -> DrawResult {
            if line {
                root.draw(&PathElement::new(
                    vec![(x, y), (x + 40, y)],
                    colour.stroke_width(4),
                ))?;
            } else {
                root.draw(&Circle::new((x + 20, y), 8, colour.filled()))?;
            }
            root.draw(&Text::new(label, (x + 52, y), key_style()))?;
            Ok(())
        };
        y += 90;
        for (idx, curve) in self.curves.iter().enumerate() {
            let label = if self.curves.len() == 1 {
                "simulated (fitted)".to_string()
            } else {
                format!("simulated: {}", curve.label)
            };
            key(label, self.colour(idx, None), true, y)?;
            y += 32;
        }
        let shown = if self.cohorts.len() > KEY_ENTRIES {
            KEY_ENTRIES - 1
        } else {
            self.cohorts.len()
        };
        let names: Vec<&str> = self.cohorts.iter().map(|c| c.name.as_str()).collect();
        let names = key_names(&names);
        for (idx, cohort) in self.cohorts.iter().enumerate().take(shown) {
            key(
                format!("{} ({} customers)", names[idx], cohort.size.round()),
                self.colour(cohort.curve, Some(idx)),
                false,
                y,
            )?;
            y += 32;
        }
        if shown < self.cohorts.len() {
            root.draw(&Text::new(
                format!("… and {} more cohorts", self.cohorts.len() - shown),
                (x + 52, y),
                key_style(),
            ))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_cohort_names_show_where_they_differ() {
        let long: Vec<String> = (1..=3)
            .map(|q| format!("Enterprise accounts acquired in quarter {q} of the fiscal year"))
            .collect();
        let long: Vec<&str> = long.iter().map(String::as_str).collect();
        let shown = key_names(&long);
        assert_eq!(shown[0], "…quarter 1 of the fiscal year");
        assert_eq!(shown[2], "…quarter 3 of the fiscal year");
        // Short names stay whole; a long one alone is cut at the end.
        assert_eq!(key_names(&["2025-01", "2025-04"]), ["2025-01", "2025-04"]);
        let alone = key_names(&["A cohort with a name far too long for the key"]);
        assert_eq!(alone[0], "A cohort with a name far too …");
        assert_eq!(alone[0].chars().count(), KEY_NAME_CHARS);
    }
}
