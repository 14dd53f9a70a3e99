//! The charts of `relsim sweep` (docs/sweeps.md): how robust the verdict is, which parameters
//! a paired NPV difference depends on (Sobol indices or Morris μ*–σ), and the difference at
//! every point against the parameter it depends on most.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{drawing_png, drawing_svg, strategy_colour, titled, DrawResult, Drawing, FONT};
use crate::error::Result;
use crate::report::format::human;
use crate::stats::sensitivity::Estimate;
use crate::stats::Interval;

/// One parameter's Sobol indices.
#[derive(Debug, Clone, PartialEq)]
pub struct SobolBar {
    pub parameter: String,
    pub first_order: Estimate,
    pub total: Estimate,
}

/// One parameter's Morris measures.
#[derive(Debug, Clone, PartialEq)]
pub struct MorrisDot {
    pub parameter: String,
    pub mu_star: Estimate,
    pub sigma: f64,
}

/// One strategy's robustness over the design.
#[derive(Debug, Clone, PartialEq)]
pub struct RobustnessBar {
    pub strategy: String,
    /// Its colour in every chart: its position in the scenario.
    pub strategy_idx: usize,
    pub p_best: Estimate,
    pub expected_regret: Interval,
}

/// What to draw.
#[derive(Debug, Clone, PartialEq)]
pub enum SweepChart {
    /// The probability that each strategy is best, and each one's expected regret.
    Robustness { bars: Vec<RobustnessBar> },
    /// First-order and total Sobol indices of a paired difference, largest total first.
    Sobol { pair: String, bars: Vec<SobolBar> },
    /// Morris μ* against σ for a paired difference.
    Morris { pair: String, dots: Vec<MorrisDot> },
    /// The paired difference at the design's points against one parameter: every point, or an
    /// even spread of [`HINGE_DOTS`] of them in a larger design.
    Hinge {
        pair: String,
        parameter: String,
        x: Vec<f64>,
        difference: Vec<f64>,
        /// The design's points, of which `x.len()` are drawn.
        design_points: usize,
    },
}

/// The most points a hinge chart draws: beyond, dots only overlap, and the chart (held in
/// memory and inlined in the report) would grow with the design.
pub const HINGE_DOTS: usize = 2_560;

const ABOVE: RGBColor = RGBColor(0, 114, 178);
const BELOW: RGBColor = RGBColor(230, 159, 0);
const GRID: RGBColor = RGBColor(220, 220, 220);
const FAINT: RGBColor = RGBColor(245, 245, 245);

impl SweepChart {
    /// The file stem: `robustness`, or `sensitivity_N` / `hinge_N` for the `N`-th pair shown.
    pub fn file_stem(&self, pair_number: usize) -> String {
        match self {
            SweepChart::Robustness { .. } => "robustness".into(),
            SweepChart::Sobol { .. } | SweepChart::Morris { .. } => {
                format!("sensitivity_{pair_number}")
            }
            SweepChart::Hinge { .. } => format!("hinge_{pair_number}"),
        }
    }

    pub fn title(&self) -> String {
        match self {
            SweepChart::Robustness { .. } => "Which strategy is best, over the uncertainty".into(),
            SweepChart::Sobol { pair, .. } => format!("What the NPV of {pair} depends on"),
            SweepChart::Morris { pair, .. } => format!("Screening: the NPV of {pair}"),
            SweepChart::Hinge {
                pair, parameter, ..
            } => format!("NPV of {pair} against {parameter}"),
        }
    }

    /// How to read it.
    pub fn caption(&self) -> String {
        match self {
            SweepChart::Robustness { .. } => {
                "Left: the share of the design's points at which each strategy's mean NPV is the \
                 highest, with its 95 % Wilson interval; for a random design (Latin hypercube, \
                 Sobol) this is the probability of being best under the stated uncertainty. \
                 Right: expected regret, the mean over points of what choosing this strategy \
                 forgoes against the best one at that point (0 where it is best), with its 95 % \
                 interval."
                    .into()
            }
            SweepChart::Sobol { .. } => {
                "For each varied parameter: the first-order Sobol index S1 (light), the share of \
                 the difference's variance over the design that the parameter explains alone, \
                 and the total index ST (dark), which adds its interactions with the others. \
                 Whiskers are 95 % bootstrap intervals. A whisker that reaches 0 means the \
                 sample cannot tell the parameter from no effect; S1 below 0 or ST above 1 means \
                 the sample is too small (raise design.samples)."
                    .into()
            }
            SweepChart::Morris { .. } => {
                "Each parameter's Morris measures: μ* (right = more influential) is the mean \
                 absolute change of the difference when the parameter moves across its range, \
                 with its 95 % bootstrap interval; σ (up = more nonlinear or interacting) is the \
                 spread of those changes. Parameters near the origin can be fixed at any value \
                 in their range."
                    .into()
            }
            SweepChart::Hinge {
                x, design_points, ..
            } => {
                let which = if x.len() < *design_points {
                    format!(
                        "one of {} points of the design, taken evenly through it",
                        design_points
                    )
                } else {
                    "one point of the design".to_string()
                };
                format!(
                    "Each dot is {which}: the mean paired NPV difference over its replications, \
                     against the value of the parameter the difference depends on most. Blue \
                     dots lie above zero (the first strategy earns more), orange below; where \
                     the cloud crosses the red line, the verdict flips. The other parameters \
                     vary too, which is the vertical spread."
                )
            }
        }
    }

    pub fn render_svg(&self) -> Result<String> {
        drawing_svg(self)
    }

    pub fn render_png(&self) -> Result<Vec<u8>> {
        drawing_png(self)
    }
}

impl Drawing for SweepChart {
    fn chart_name(&self) -> String {
        self.file_stem(1)
    }

    fn draw_on<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let body = titled(root, &self.title())?;
        match self {
            SweepChart::Robustness { bars } => robustness(root, &body, bars),
            SweepChart::Sobol { bars, .. } => sobol(root, &body, bars),
            SweepChart::Morris { pair, dots } => morris(&body, pair, dots),
            SweepChart::Hinge {
                pair,
                parameter,
                x,
                difference,
                ..
            } => hinge(&body, pair, parameter, x, difference),
        }
    }
}

/// Pixels left of a horizontal bar chart for its category labels.
fn label_width<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, labels: &[&str]) -> u32 {
    let style = TextStyle::from((FONT, 24).into_font());
    let widest = labels
        .iter()
        .map(|l| {
            root.estimate_text_size(l, &style)
                .map(|(w, _)| w)
                .unwrap_or(l.chars().count() as u32 * 14)
        })
        .max()
        .unwrap_or(0);
    (widest + 24).clamp(80, 620)
}

/// Writes `labels[i]` right-aligned left of row `i` of a horizontal bar chart whose rows are
/// `[i, i + 1)` on the y axis (row 0 at the top).
fn row_labels<DB: DrawingBackend, X: Ranged<ValueType = f64>>(
    root: &DrawingArea<DB, Shift>,
    chart: &ChartContext<DB, Cartesian2d<X, plotters::coord::types::RangedCoordf64>>,
    x_left: f64,
    labels: &[&str],
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    for (i, label) in labels.iter().enumerate() {
        let (px, py) = chart.backend_coord(&(x_left, i as f64 + 0.5));
        root.draw(&Text::new(
            label.to_string(),
            (px - 12, py),
            (FONT, 24)
                .into_font()
                .color(&BLACK)
                .pos(Pos::new(HPos::Right, VPos::Center)),
        ))?;
    }
    Ok(())
}

/// A horizontal whisker from `low` to `high` at height `y`.
fn whisker(low: f64, high: f64, y: f64, half: f64) -> Vec<PathElement<(f64, f64)>> {
    if !(low.is_finite() && high.is_finite()) {
        return Vec::new();
    }
    let style = BLACK.stroke_width(2);
    vec![
        PathElement::new(vec![(low, y), (high, y)], style),
        PathElement::new(vec![(low, y - half), (low, y + half)], style),
        PathElement::new(vec![(high, y - half), (high, y + half)], style),
    ]
}

fn robustness<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    area: &DrawingArea<DB, Shift>,
    bars: &[RobustnessBar],
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let labels: Vec<&str> = bars.iter().map(|b| b.strategy.as_str()).collect();
    let n = bars.len() as f64;
    let (left, right) = area.split_horizontally(area.dim_in_pixel().0 / 2);
    let label_area = label_width(root, &labels);
    let mut best = ChartBuilder::on(&left)
        .margin_right(30)
        .x_label_area_size(70)
        .y_label_area_size(label_area)
        .build_cartesian_2d(0.0..1.0, n..0.0)?;
    best.configure_mesh()
        .disable_y_mesh()
        .y_labels(0)
        .x_desc("probability of being best")
        .axis_desc_style((FONT, 26))
        .label_style((FONT, 22))
        .x_labels(6)
        .x_label_formatter(&|v| format!("{:.0} %", 100.0 * v))
        .bold_line_style(GRID)
        .light_line_style(FAINT)
        .draw()?;
    best.draw_series(bars.iter().enumerate().map(|(i, b)| {
        let y = i as f64;
        Rectangle::new(
            [(0.0, y + 0.2), (b.p_best.estimate.clamp(0.0, 1.0), y + 0.8)],
            strategy_colour(b.strategy_idx).filled(),
        )
    }))?;
    for (i, b) in bars.iter().enumerate() {
        best.draw_series(whisker(
            b.p_best.ci_low,
            b.p_best.ci_high,
            i as f64 + 0.5,
            0.12,
        ))?;
        // The share beside its whisker; near 100 % there is no room right of it, so it goes
        // inside the bar, left of the whisker, in white.
        let right_end = b.p_best.ci_high.max(b.p_best.estimate);
        let (x, anchor, colour) = if right_end > 0.75 {
            (
                b.p_best.ci_low.min(b.p_best.estimate) - 0.02,
                HPos::Right,
                WHITE,
            )
        } else {
            (right_end + 0.02, HPos::Left, BLACK)
        };
        best.draw_series(std::iter::once(Text::new(
            format!("{:.1} %", 100.0 * b.p_best.estimate),
            (x, i as f64 + 0.5),
            (FONT, 24)
                .into_font()
                .color(&colour)
                .pos(Pos::new(anchor, VPos::Center)),
        )))?;
    }
    row_labels(root, &best, 0.0, &labels)?;

    let high = bars
        .iter()
        .flat_map(|b| [b.expected_regret.ci_high, b.expected_regret.mean])
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max)
        .max(1.0)
        * 1.1;
    let mut regret = ChartBuilder::on(&right)
        .margin_left(40)
        .x_label_area_size(70)
        .y_label_area_size(10)
        .build_cartesian_2d(0.0..high, n..0.0)?;
    regret
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(0)
        .x_desc("expected regret (NPV forgone against the best)")
        .axis_desc_style((FONT, 26))
        .label_style((FONT, 22))
        .x_label_formatter(&|v| human(*v))
        .x_labels(6)
        .bold_line_style(GRID)
        .light_line_style(FAINT)
        .draw()?;
    regret.draw_series(bars.iter().enumerate().map(|(i, b)| {
        let y = i as f64;
        Rectangle::new(
            [(0.0, y + 0.2), (b.expected_regret.mean.max(0.0), y + 0.8)],
            strategy_colour(b.strategy_idx).filled(),
        )
    }))?;
    for (i, b) in bars.iter().enumerate() {
        regret.draw_series(whisker(
            b.expected_regret.ci_low.max(0.0),
            b.expected_regret.ci_high,
            i as f64 + 0.5,
            0.12,
        ))?;
    }
    Ok(())
}

fn sobol<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    area: &DrawingArea<DB, Shift>,
    bars: &[SobolBar],
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let labels: Vec<&str> = bars.iter().map(|b| b.parameter.as_str()).collect();
    let n = bars.len().max(1) as f64;
    let values = bars.iter().flat_map(|b| {
        [
            b.first_order.estimate,
            b.first_order.ci_low,
            b.first_order.ci_high,
            b.total.estimate,
            b.total.ci_low,
            b.total.ci_high,
        ]
    });
    let (low, high) = values
        .filter(|v| v.is_finite())
        .fold((0.0f64, 1.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let (legend, plot) = area.split_vertically(50);
    let mut chart = ChartBuilder::on(&plot)
        .margin_right(30)
        .x_label_area_size(70)
        .y_label_area_size(label_width(root, &labels))
        .build_cartesian_2d(low.min(0.0) - 0.02..high + 0.02, n..0.0)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(0)
        .x_desc("share of the variance of the NPV difference over the design")
        .axis_desc_style((FONT, 26))
        .label_style((FONT, 22))
        // A tick at a hair below zero would read "-0.0".
        .x_label_formatter(&|v| format!("{:.1}", if v.abs() < 0.005 { 0.0 } else { *v }))
        .bold_line_style(GRID)
        .light_line_style(FAINT)
        .draw()?;
    let light = ABOVE.mix(0.35);
    for (i, b) in bars.iter().enumerate() {
        let y = i as f64;
        for (estimate, top, bottom, colour) in [
            (&b.first_order, y + 0.12, y + 0.48, light.filled()),
            (&b.total, y + 0.52, y + 0.88, ABOVE.filled()),
        ] {
            if estimate.estimate.is_finite() {
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(0.0, top), (estimate.estimate, bottom)],
                    colour,
                )))?;
            }
            chart.draw_series(whisker(
                estimate.ci_low,
                estimate.ci_high,
                (top + bottom) / 2.0,
                0.08,
            ))?;
        }
    }
    chart.draw_series(std::iter::once(PathElement::new(
        vec![(0.0, 0.0), (0.0, n)],
        BLACK.stroke_width(2),
    )))?;
    row_labels(root, &chart, low.min(0.0) - 0.02, &labels)?;
    // The key: what light and dark mean.
    let (legend_width, _) = legend.dim_in_pixel();
    let x0 = legend_width as i32 / 2 - 300;
    for (offset, colour, text) in [
        (0, light.filled(), "S1, first order (alone)"),
        (330, ABOVE.filled(), "ST, total (with interactions)"),
    ] {
        legend.draw(&Rectangle::new(
            [(x0 + offset, 14), (x0 + offset + 28, 38)],
            colour,
        ))?;
        legend.draw(&Text::new(
            text,
            (x0 + offset + 38, 26),
            (FONT, 24)
                .into_font()
                .color(&BLACK)
                .pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
    }
    Ok(())
}

fn morris<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    pair: &str,
    dots: &[MorrisDot],
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let finite = |v: &f64| v.is_finite();
    let x_high = dots
        .iter()
        .flat_map(|d| [d.mu_star.estimate, d.mu_star.ci_high])
        .filter(finite)
        .fold(0.0f64, f64::max)
        .max(1.0)
        * 1.15;
    let y_high = dots
        .iter()
        .map(|d| d.sigma)
        .filter(finite)
        .fold(0.0f64, f64::max)
        .max(1.0)
        * 1.15;
    let mut chart = ChartBuilder::on(area)
        .margin_right(30)
        .x_label_area_size(70)
        .y_label_area_size(130)
        .build_cartesian_2d(0.0..x_high, 0.0..y_high)?;
    chart
        .configure_mesh()
        .x_desc(format!("μ*: mean absolute effect on the NPV of {pair}"))
        .y_desc("σ: spread of the effects")
        .axis_desc_style((FONT, 26))
        .label_style((FONT, 22))
        .x_label_formatter(&|v| human(*v))
        .y_label_formatter(&|v| human(*v))
        .bold_line_style(GRID)
        .light_line_style(FAINT)
        .draw()?;
    for d in dots {
        if !(d.mu_star.estimate.is_finite() && d.sigma.is_finite()) {
            continue;
        }
        chart.draw_series(whisker(
            d.mu_star.ci_low,
            d.mu_star.ci_high,
            d.sigma,
            0.012 * y_high,
        ))?;
        chart.draw_series(std::iter::once(Circle::new(
            (d.mu_star.estimate, d.sigma),
            8,
            ABOVE.filled(),
        )))?;
    }
    // Names of the most influential, so that the cloud near the origin stays legible.
    let mut ranked: Vec<&MorrisDot> = dots
        .iter()
        .filter(|d| d.mu_star.estimate.is_finite() && d.sigma.is_finite())
        .collect();
    ranked.sort_by(|a, b| b.mu_star.estimate.total_cmp(&a.mu_star.estimate));
    for d in ranked.iter().take(8) {
        let right_half = d.mu_star.estimate > 0.6 * x_high;
        chart.draw_series(std::iter::once(Text::new(
            d.parameter.clone(),
            (d.mu_star.estimate, d.sigma + 0.025 * y_high),
            (FONT, 22).into_font().color(&BLACK).pos(Pos::new(
                if right_half { HPos::Right } else { HPos::Left },
                VPos::Bottom,
            )),
        )))?;
    }
    Ok(())
}

fn hinge<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    pair: &str,
    parameter: &str,
    x: &[f64],
    difference: &[f64],
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let points: Vec<(f64, f64)> = x
        .iter()
        .zip(difference)
        .map(|(&a, &b)| (a, b))
        .filter(|(a, b)| a.is_finite() && b.is_finite())
        .collect();
    let (x_low, x_high) = points
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
            (lo.min(p.0), hi.max(p.0))
        });
    let (x_low, x_high) = if x_low < x_high {
        let pad = 0.03 * (x_high - x_low);
        (x_low - pad, x_high + pad)
    } else if x_low.is_finite() {
        (x_low - 1.0, x_low + 1.0)
    } else {
        (0.0, 1.0)
    };
    let (y_low, y_high) = points
        .iter()
        .fold((0.0f64, 0.0f64), |(lo, hi), p| (lo.min(p.1), hi.max(p.1)));
    let pad = 0.08 * (y_high - y_low).max(1.0);
    let mut chart = ChartBuilder::on(area)
        .margin_right(30)
        .x_label_area_size(70)
        .y_label_area_size(130)
        .build_cartesian_2d(x_low..x_high, y_low - pad..y_high + pad)?;
    chart
        .configure_mesh()
        .x_desc(parameter)
        .y_desc(format!("NPV of {pair}, mean at the point"))
        .axis_desc_style((FONT, 26))
        .label_style((FONT, 22))
        .y_label_formatter(&|v| human(*v))
        .bold_line_style(GRID)
        .light_line_style(FAINT)
        .draw()?;
    // Many points: smaller, fainter dots.
    let (radius, alpha) = if points.len() > 1000 {
        (4, 0.45)
    } else {
        (7, 0.8)
    };
    chart.draw_series(points.iter().map(|&(a, b)| {
        let colour = if b >= 0.0 { ABOVE } else { BELOW };
        Circle::new((a, b), radius, colour.mix(alpha).filled())
    }))?;
    chart.draw_series(std::iter::once(PathElement::new(
        vec![(x_low, 0.0), (x_high, 0.0)],
        RGBColor(200, 0, 0).stroke_width(3),
    )))?;
    Ok(())
}

/// A paired difference the sweep's charts and report look at: the leading strategy (most
/// often best) against another.
#[derive(Debug, Clone, PartialEq)]
pub struct ShownPair {
    /// `leader − other`.
    pub label: String,
    /// The label of the quantity in the sensitivity rows (`a − b` in scenario order).
    pub quantity_label: String,
    /// Index in [`crate::sweep::analysis::pairs`].
    pub pair_idx: usize,
    /// Whether `leader − other` is the quantity negated (the leader comes later in the
    /// scenario).
    pub negated: bool,
}

/// Pairs shown in charts: the leader against each other strategy, the closest rival first.
pub const PAIRS_SHOWN: usize = 3;

/// The leader (highest probability of being best, then lowest expected regret) and the pairs
/// shown: the leader against the others, the one with the highest probability first.
pub fn shown_pairs(
    robustness: &[crate::sweep::analysis::Robustness],
    strategy_names: &[String],
) -> (usize, Vec<ShownPair>) {
    let order = |a: &usize, b: &usize| {
        let (x, y) = (&robustness[*a], &robustness[*b]);
        y.p_best
            .estimate
            .total_cmp(&x.p_best.estimate)
            .then(x.expected_regret.mean.total_cmp(&y.expected_regret.mean))
            .then(a.cmp(b))
    };
    let mut ranked: Vec<usize> = (0..robustness.len()).collect();
    ranked.sort_by(order);
    let Some(&leader) = ranked.first() else {
        return (0, Vec::new());
    };
    let all_pairs = crate::results::points::pairs(strategy_names.len());
    let shown = ranked
        .iter()
        .skip(1)
        .take(PAIRS_SHOWN)
        .map(|&other| {
            let (a, b) = (leader.min(other), leader.max(other));
            ShownPair {
                label: format!("{} − {}", strategy_names[leader], strategy_names[other]),
                quantity_label: format!("{} − {}", strategy_names[a], strategy_names[b]),
                pair_idx: all_pairs
                    .iter()
                    .position(|&p| p == (a, b))
                    .expect("a pair of distinct strategies"),
                negated: leader > other,
            }
        })
        .collect();
    (leader, shown)
}

/// The parameter a pair's NPV difference depends on most: the largest Sobol total index or
/// Morris μ*; for other designs, the largest squared correlation between the parameter's
/// value and the difference over the points. Only numeric parameters qualify.
pub fn hinge_parameter(
    rows: &[crate::sweep::analysis::SensitivityRow],
    quantity_label: &str,
    parameters: &[String],
    values: &[Vec<f64>],
    difference: &[f64],
) -> Option<usize> {
    let numeric = |p: usize| values[p].iter().all(|v| v.is_finite());
    let by_index = rows
        .iter()
        .filter(|r| r.metric == "npv" && r.strategy == quantity_label)
        .filter(|r| r.index == "ST" || r.index == "mu_star")
        .filter(|r| r.estimate.estimate.is_finite())
        .filter_map(|r| {
            let p = parameters.iter().position(|k| *k == r.parameter)?;
            numeric(p).then_some((p, r.estimate.estimate))
        })
        .max_by(|a, b| a.1.total_cmp(&b.1));
    if let Some((p, _)) = by_index {
        return Some(p);
    }
    (0..parameters.len())
        .filter(|&p| numeric(p))
        .map(|p| (p, squared_correlation(&values[p], difference)))
        .filter(|(_, r2)| r2.is_finite())
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(p, _)| p)
}

/// Pearson's r² of two equally long series (NaN if either is constant).
fn squared_correlation(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    sxy * sxy / (sxx * syy)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::analysis::Robustness;

    fn robust(name: &str, p: f64, regret: f64) -> Robustness {
        Robustness {
            strategy: name.into(),
            p_best: Estimate {
                estimate: p,
                ci_low: p,
                ci_high: p,
            },
            expected_regret: Interval::around(regret, 0.0, 10),
            worst_regret: regret,
        }
    }

    #[test]
    fn the_leader_is_compared_with_its_closest_rivals_first() {
        let names = ["t", "r", "h"].map(String::from);
        let rows = [
            robust("t", 0.1, 50.0),
            robust("r", 0.6, 5.0),
            robust("h", 0.3, 9.0),
        ];
        let (leader, shown) = shown_pairs(&rows, &names);
        assert_eq!(leader, 1);
        assert_eq!(shown.len(), 2);
        assert_eq!(shown[0].label, "r − h");
        assert_eq!(shown[0].quantity_label, "r − h");
        assert!(!shown[0].negated);
        assert_eq!(shown[1].label, "r − t");
        assert_eq!(shown[1].quantity_label, "t − r");
        assert!(shown[1].negated);
        assert_eq!(shown[1].pair_idx, 0);
    }

    #[test]
    fn without_indices_the_hinge_is_the_best_correlated_parameter() {
        let values = vec![vec![1.0, 2.0, 3.0, 4.0], vec![4.0, 1.0, 3.0, 2.0]];
        let difference = [-2.0, -1.0, 1.0, 2.0];
        let names = ["a".to_string(), "b".to_string()];
        assert_eq!(
            hinge_parameter(&[], "x − y", &names, &values, &difference),
            Some(0)
        );
        assert!((squared_correlation(&values[0], &difference) - 0.98).abs() < 1e-12);
    }
}
