//! The chart of `relsim breakeven` (docs/sweeps.md): along one parameter, the paired NPV
//! difference with its 95 % band, zero and the crossing with its interval; over two, a map of
//! the difference with its zero contour.

use plotters::prelude::*;

use super::{drawing_png, drawing_svg, titled, DrawResult, Drawing, FONT};
use crate::error::Result;
use crate::report::format::human;
use crate::stats::Interval;
use crate::sweep::breakeven::{Crossing, Segment};

/// What to draw.
#[derive(Debug, Clone, PartialEq)]
pub enum BreakevenChart {
    Profile {
        key: String,
        /// `A − B`.
        label: String,
        x: Vec<f64>,
        difference: Vec<Interval>,
        crossings: Vec<Crossing>,
    },
    Map {
        /// The rows' key, then the columns'.
        keys: [String; 2],
        label: String,
        /// Columns (second key).
        x: Vec<f64>,
        /// Rows (first key).
        y: Vec<f64>,
        /// Row-major: row `r` (y) × column `c` (x).
        difference: Vec<Interval>,
        contour: Vec<Segment>,
    },
}

/// Above zero (the first strategy earns more): blue; below: orange, as in the diverging
/// Okabe–Ito pair the run charts use.
const ABOVE: RGBColor = RGBColor(0, 114, 178);
const BELOW: RGBColor = RGBColor(230, 159, 0);

impl Drawing for BreakevenChart {
    fn chart_name(&self) -> String {
        "breakeven".into()
    }

    fn draw_on<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, plotters::coord::Shift>,
    ) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        draw(self, root)
    }
}

fn draw<DB: DrawingBackend>(
    chart: &BreakevenChart,
    root: &DrawingArea<DB, plotters::coord::Shift>,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let title = match chart {
        BreakevenChart::Profile { label, .. } | BreakevenChart::Map { label, .. } => {
            format!("Break-even: NPV of {label}")
        }
    };
    let body = titled(root, &title)?;
    match chart {
        BreakevenChart::Profile {
            key,
            label,
            x,
            difference,
            crossings,
        } => profile(&body, key, label, x, difference, crossings),
        BreakevenChart::Map {
            keys,
            label,
            x,
            y,
            difference,
            contour,
        } => map(&body, keys, label, x, y, difference, contour),
    }
}

fn profile<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    key: &str,
    label: &str,
    x: &[f64],
    difference: &[Interval],
    crossings: &[Crossing],
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let finite = |v: f64| v.is_finite();
    let (mut low, mut high) = difference
        .iter()
        .flat_map(|d| [d.ci_low, d.ci_high, d.mean])
        .filter(|&v| finite(v))
        .fold((0.0f64, 0.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let pad = 0.08 * (high - low).max(1.0);
    low -= pad;
    high += pad;
    let (x0, x1) = (x[0], x[x.len() - 1]);
    let mut chart = ChartBuilder::on(area)
        .x_label_area_size(70)
        .y_label_area_size(120)
        .build_cartesian_2d(x0..x1, low..high)?;
    chart
        .configure_mesh()
        .x_desc(key)
        .y_desc(format!("NPV of {label}"))
        .axis_desc_style((FONT, 26))
        .label_style((FONT, 22))
        .y_label_formatter(&|v| human(*v))
        .bold_line_style(RGBColor(220, 220, 220))
        .light_line_style(RGBColor(245, 245, 245))
        .draw()?;
    // Where the crossing is undecided: a grey stretch.
    for c in crossings {
        let from = c.low.unwrap_or(x0);
        let to = c.high.unwrap_or(x1);
        chart.draw_series(std::iter::once(Rectangle::new(
            [(from, low), (to, high)],
            RGBColor(200, 200, 200).mix(0.35).filled(),
        )))?;
    }
    let band: Vec<(f64, f64)> = x
        .iter()
        .zip(difference)
        .map(|(&xi, d)| (xi, d.ci_high))
        .chain(
            x.iter()
                .zip(difference)
                .rev()
                .map(|(&xi, d)| (xi, d.ci_low)),
        )
        .filter(|p| finite(p.1))
        .collect();
    chart.draw_series(std::iter::once(Polygon::new(band, ABOVE.mix(0.2).filled())))?;
    chart.draw_series(std::iter::once(PathElement::new(
        vec![(x0, 0.0), (x1, 0.0)],
        RGBColor(200, 0, 0).stroke_width(3),
    )))?;
    chart.draw_series(LineSeries::new(
        x.iter().zip(difference).map(|(&xi, d)| (xi, d.mean)),
        ABOVE.stroke_width(4),
    ))?;
    chart.draw_series(
        x.iter()
            .zip(difference)
            .map(|(&xi, d)| Circle::new((xi, d.mean), 6, ABOVE.filled())),
    )?;
    for c in crossings {
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(c.at, low), (c.at, high)],
            BLACK.stroke_width(2),
        )))?;
        chart.draw_series(std::iter::once(Text::new(
            format!(" break-even {:.4}", c.at),
            (c.at, high - 0.04 * (high - low)),
            (FONT, 24).into_font().color(&BLACK),
        )))?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn map<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    keys: &[String; 2],
    label: &str,
    x: &[f64],
    y: &[f64],
    difference: &[Interval],
    contour: &[Segment],
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let (plot_area, key_area) = area.split_horizontally(area.dim_in_pixel().0 - 420);
    // Cells span halfway to their neighbours.
    let edges = |v: &[f64]| -> Vec<f64> {
        let mut e = Vec::with_capacity(v.len() + 1);
        e.push(v[0] - 0.5 * (v[1] - v[0]));
        for w in v.windows(2) {
            e.push(0.5 * (w[0] + w[1]));
        }
        let n = v.len();
        e.push(v[n - 1] + 0.5 * (v[n - 1] - v[n - 2]));
        e
    };
    let (xe, ye) = (edges(x), edges(y));
    let mut chart = ChartBuilder::on(&plot_area)
        .x_label_area_size(70)
        .y_label_area_size(120)
        .build_cartesian_2d(xe[0]..xe[xe.len() - 1], ye[0]..ye[ye.len() - 1])?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc(keys[1].as_str())
        .y_desc(keys[0].as_str())
        .axis_desc_style((FONT, 26))
        .label_style((FONT, 22))
        .x_label_formatter(&|v| short(*v))
        .y_label_formatter(&|v| short(*v))
        .draw()?;
    let scale = difference
        .iter()
        .map(|d| d.mean.abs())
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max)
        .max(1e-9);
    for (p, d) in difference.iter().enumerate() {
        let (r, c) = (p / x.len(), p % x.len());
        let strength = (d.mean.abs() / scale).clamp(0.0, 1.0);
        let hue = if d.mean >= 0.0 { ABOVE } else { BELOW };
        let colour = blend(hue, strength);
        chart.draw_series(std::iter::once(Rectangle::new(
            [(xe[c], ye[r]), (xe[c + 1], ye[r + 1])],
            colour.filled(),
        )))?;
        if d.ci_low <= 0.0 && d.ci_high >= 0.0 {
            // Undecided: the 95 % interval contains 0. A small grey dot marks it.
            let centre = (0.5 * (xe[c] + xe[c + 1]), 0.5 * (ye[r] + ye[r + 1]));
            chart.draw_series(std::iter::once(Circle::new(
                centre,
                5,
                RGBColor(90, 90, 90).filled(),
            )))?;
        }
    }
    for &((x0, y0), (x1, y1)) in contour {
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(x0, y0), (x1, y1)],
            BLACK.stroke_width(4),
        )))?;
    }
    // The key: colour scale and marks.
    let text = |s: String, at: (i32, i32)| Text::new(s, at, (FONT, 22).into_font().color(&BLACK));
    // The pair on lines of its own: strategy names may be 32 characters long.
    let (first, second) = label.split_once(" − ").unwrap_or((label, ""));
    key_area.draw(&text("NPV of".into(), (20, 0)))?;
    key_area.draw(&text(first.to_string(), (20, 24)))?;
    key_area.draw(&text(format!("− {second}"), (20, 48)))?;
    let steps = 10;
    for i in 0..=steps {
        let value = scale * (1.0 - 2.0 * i as f64 / steps as f64);
        let hue = if value >= 0.0 { ABOVE } else { BELOW };
        let y = 80 + i * 36;
        key_area.draw(&Rectangle::new(
            [(20, y), (70, y + 34)],
            blend(hue, (value.abs() / scale).clamp(0.0, 1.0)).filled(),
        ))?;
        key_area.draw(&text(human(value), (80, y + 8)))?;
    }
    let y = 80 + (steps + 1) * 36 + 30;
    key_area.draw(&PathElement::new(
        vec![(20, y), (70, y)],
        BLACK.stroke_width(4),
    ))?;
    key_area.draw(&text("zero: break-even".into(), (80, y - 10)))?;
    key_area.draw(&Circle::new((45, y + 40), 5, RGBColor(90, 90, 90).filled()))?;
    key_area.draw(&text("undecided (CI has 0)".into(), (80, y + 30)))?;
    Ok(())
}

/// `hue` at `strength` in [0, 1] over white.
fn blend(hue: RGBColor, strength: f64) -> RGBColor {
    let mix = |c: u8| (255.0 - strength * (255.0 - c as f64)).round() as u8;
    RGBColor(mix(hue.0), mix(hue.1), mix(hue.2))
}

fn short(value: f64) -> String {
    if value.abs() >= 1000.0 {
        human(value)
    } else {
        let text = format!("{value:.3}");
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// The chart as SVG text.
pub fn render_svg(chart: &BreakevenChart) -> Result<String> {
    drawing_svg(chart)
}

/// The chart as PNG bytes.
pub fn render_png(chart: &BreakevenChart) -> Result<Vec<u8>> {
    drawing_png(chart)
}
