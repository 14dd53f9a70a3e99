//! The charts: one function each, drawing on any plotters backend from `ExperimentResults`.

use plotters::chart::MeshStyle;
use plotters::coord::ranged1d::Ranged;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{strategy_colour, DrawResult, FONT};
use crate::report::format::{human, percent};
use crate::results::ExperimentResults;
use crate::stats::Interval;

type Area<DB> = DrawingArea<DB, Shift>;

/// Size of axis tick labels, in pixels.
const TICK_LABEL_SIZE: u32 = 22;

/// The look every chart's axes share: axis titles and a light grid.
fn house_style<X: Ranged, Y: Ranged, DB: DrawingBackend>(mesh: &mut MeshStyle<'_, '_, X, Y, DB>) {
    mesh.axis_desc_style((FONT, 24))
        .bold_line_style(RGBColor(220, 220, 220))
        .light_line_style(RGBColor(245, 245, 245));
}

/// How an axis shows its numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scale {
    /// Money: `1.2M`, `−45k`.
    Amount,
    /// Counts, never negative: `1.2k`.
    Count,
    /// Shares: `95%`.
    Share,
    /// Scores in [0, 1]: `0.75`.
    Unit,
}

impl Scale {
    fn label(self, value: f64) -> String {
        match self {
            Scale::Amount | Scale::Count => human(value),
            Scale::Share => {
                let text = percent(value);
                text.replace(".0%", "%")
            }
            Scale::Unit => format!("{value:.2}"),
        }
    }
}

/// One line of a line panel: a strategy's mean per period with its 95 % band.
struct Line {
    colour: RGBColor,
    dashed: bool,
    /// `(period, interval)`.
    points: Vec<(f64, Interval)>,
}

/// A panel of lines over months.
struct LinePanel<'a> {
    title: &'a str,
    y_desc: &'a str,
    scale: Scale,
    lines: Vec<Line>,
    /// Fixed y range, if the quantity has natural bounds.
    y_range: Option<(f64, f64)>,
}

/// One entry of a chart's legend: a swatch (a bar, or a solid or dashed line) and its label.
struct LegendEntry<'a> {
    label: &'a str,
    colour: RGBColor,
    mark: LegendMark,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum LegendMark {
    Bar,
    Solid,
    Dashed,
}

/// Width of a legend swatch and the gap between swatch and label, in pixels.
const SWATCH_WIDTH: i32 = 44;
const SWATCH_GAP: i32 = 10;
/// Space between legend entries on a row.
const ENTRY_GAP: i32 = 40;

/// Lays legend entries of the given label widths out in centred rows no wider than
/// `max_width`: the x offset of each entry and its row.
fn legend_layout(label_widths: &[i32], max_width: i32) -> Vec<(i32, usize)> {
    let entry_width = |label: i32| SWATCH_WIDTH + SWATCH_GAP + label;
    let mut rows: Vec<Vec<usize>> = vec![Vec::new()];
    let mut row_width = 0;
    for (idx, &label) in label_widths.iter().enumerate() {
        // Rows take entries while they fit; an entry too wide alone gets a row of its own.
        let gap = if row_width > 0 { ENTRY_GAP } else { 0 };
        if row_width > 0 && row_width + gap + entry_width(label) > max_width {
            rows.push(Vec::new());
            row_width = 0;
        } else {
            row_width += gap;
        }
        row_width += entry_width(label);
        rows.last_mut().expect("rows is never empty").push(idx);
    }
    let mut placed = vec![(0, 0); label_widths.len()];
    for (row_idx, row) in rows.iter().enumerate() {
        let total: i32 = row
            .iter()
            .map(|&i| entry_width(label_widths[i]))
            .sum::<i32>()
            + ENTRY_GAP * (row.len() as i32 - 1).max(0);
        let mut x = (max_width - total).max(0) / 2;
        for &idx in row {
            placed[idx] = (x, row_idx);
            x += entry_width(label_widths[idx]) + ENTRY_GAP;
        }
    }
    placed
}

/// Title and legend across the top; returns the area left for the panels. When `line_kinds`
/// names what solid and dashed lines mean, the legend says so too. The legend wraps onto as
/// many rows as the strategies' names need, so it never covers data or runs off the chart.
pub(super) fn frame<DB: DrawingBackend>(
    root: &Area<DB>,
    title: &str,
    strategy_names: &[String],
    line_kinds: Option<(&str, &str)>,
) -> Result<Area<DB>, Box<dyn std::error::Error>>
where
    DB::ErrorType: 'static,
{
    const TITLE_HEIGHT: i32 = 76;
    const SIDE_MARGIN: i32 = 40;
    let grey = RGBColor(90, 90, 90);
    let mut entries: Vec<LegendEntry> = strategy_names
        .iter()
        .enumerate()
        .map(|(idx, name)| LegendEntry {
            label: name,
            colour: strategy_colour(idx),
            mark: LegendMark::Bar,
        })
        .collect();
    if let Some((solid, dashed)) = line_kinds {
        entries.push(LegendEntry {
            label: solid,
            colour: grey,
            mark: LegendMark::Solid,
        });
        entries.push(LegendEntry {
            label: dashed,
            colour: grey,
            mark: LegendMark::Dashed,
        });
    }
    let (width, _) = root.dim_in_pixel();
    // Many entries get a smaller type, so that the panels keep most of the height.
    let font_size: u32 = if entries.len() > 6 { 22 } else { 26 };
    let row_height = font_size as i32 + 14;
    let font = (FONT, font_size).into_font();
    let label_widths: Vec<i32> = entries
        .iter()
        .map(|entry| {
            root.estimate_text_size(entry.label, &TextStyle::from(font.clone()))
                .map(|(w, _)| w as i32)
                .unwrap_or(entry.label.chars().count() as i32 * font_size as i32 * 6 / 10)
        })
        .collect();
    let layout = legend_layout(&label_widths, width as i32 - 2 * SIDE_MARGIN);
    let rows = layout.iter().map(|&(_, row)| row + 1).max().unwrap_or(1) as i32;
    let header_height = TITLE_HEIGHT + rows * row_height + 14;
    let (header, body) = root.split_vertically(header_height);
    header.draw(&Text::new(
        title.to_string(),
        (width as i32 / 2, 38),
        (FONT, 44)
            .into_font()
            .style(FontStyle::Bold)
            .color(&BLACK)
            .pos(Pos::new(HPos::Center, VPos::Center)),
    ))?;
    for (entry, &(x_offset, row)) in entries.iter().zip(&layout) {
        let x = SIDE_MARGIN + x_offset;
        let y = TITLE_HEIGHT + row as i32 * row_height + row_height / 2;
        match entry.mark {
            LegendMark::Bar => header.draw(&Rectangle::new(
                [(x, y - 3), (x + SWATCH_WIDTH, y + 3)],
                entry.colour.filled(),
            ))?,
            LegendMark::Solid => header.draw(&PathElement::new(
                vec![(x, y), (x + SWATCH_WIDTH, y)],
                entry.colour.stroke_width(4),
            ))?,
            LegendMark::Dashed => {
                for dash in 0..3 {
                    let start = x + dash * 16;
                    header.draw(&PathElement::new(
                        vec![(start, y), (start + 10, y)],
                        entry.colour.stroke_width(4),
                    ))?;
                }
            }
        }
        let text_colour = if entry.mark == LegendMark::Bar {
            BLACK
        } else {
            grey
        };
        header.draw(&Text::new(
            entry.label.to_string(),
            (x + SWATCH_WIDTH + SWATCH_GAP, y),
            font.clone()
                .color(&text_colour)
                .pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
    }
    Ok(body)
}

/// The per-period series of `metric` for `strategy_idx`.
fn series(results: &ExperimentResults, strategy_idx: usize, metric: &str) -> Vec<(f64, Interval)> {
    results
        .timeseries
        .iter()
        .filter(|p| p.strategy_idx == strategy_idx && p.metric == metric)
        .map(|p| (p.period as f64, p.interval))
        .collect()
}

/// One line per strategy of `metric`.
fn strategy_lines(results: &ExperimentResults, metric: &str, dashed: bool) -> Vec<Line> {
    (0..results.strategy_names.len())
        .map(|idx| Line {
            colour: strategy_colour(idx),
            dashed,
            points: series(results, idx, metric),
        })
        .collect()
}

/// Smallest and largest finite value of an iterator, padded by 5 % (or ±1 when flat).
fn padded_range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (low, high) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if !low.is_finite() {
        return (0.0, 1.0);
    }
    let pad = if high > low { (high - low) * 0.05 } else { 1.0 };
    (low - pad, high + pad)
}

/// The range a confidence band is clipped to: a share, a score or a count cannot leave its own
/// range, even when few replications make the t-interval wider than that.
fn band_limits(scale: Scale, natural_range: Option<(f64, f64)>) -> (f64, f64) {
    natural_range.unwrap_or(match scale {
        Scale::Share => (0.0, 1.0),
        Scale::Count => (0.0, f64::INFINITY),
        Scale::Amount | Scale::Unit => (f64::NEG_INFINITY, f64::INFINITY),
    })
}

fn line_panel<DB: DrawingBackend>(area: &Area<DB>, panel: &LinePanel) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let last_period = panel
        .lines
        .iter()
        .flat_map(|l| l.points.last().map(|p| p.0))
        .fold(1.0, f64::max);
    let (bound_low, bound_high) = band_limits(panel.scale, panel.y_range);
    let bounded = |value: f64| value.clamp(bound_low, bound_high);
    // The axis spans the bands as drawn, never far past the quantity's own range.
    let (y_low, y_high) = panel.y_range.unwrap_or_else(|| {
        let (low, high) = padded_range(panel.lines.iter().flat_map(|l| {
            l.points
                .iter()
                .flat_map(|(_, i)| [i.mean, i.ci_low, i.ci_high].map(bounded))
        }));
        (
            low.max(bound_low),
            high.min(bound_high + (high - low) * 0.02),
        )
    });
    let mut chart = ChartBuilder::on(area)
        .caption(panel.title, (FONT, 30))
        .margin(24)
        .x_label_area_size(64)
        .y_label_area_size(110)
        .build_cartesian_2d(0.0..last_period, y_low..y_high)?;
    let scale = panel.scale;
    let mut mesh = chart.configure_mesh();
    house_style(&mut mesh);
    mesh.x_desc("month")
        .y_desc(panel.y_desc)
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| scale.label(*y))
        .x_labels(8)
        .y_labels(8)
        .label_style((FONT, TICK_LABEL_SIZE))
        .draw()?;
    for line in &panel.lines {
        let band: Vec<(f64, f64)> = line
            .points
            .iter()
            .filter(|(_, i)| i.ci_high.is_finite())
            .map(|(x, i)| (*x, bounded(i.ci_high)))
            .chain(
                line.points
                    .iter()
                    .rev()
                    .filter(|(_, i)| i.ci_low.is_finite())
                    .map(|(x, i)| (*x, bounded(i.ci_low))),
            )
            .collect();
        if band.len() > 2 {
            chart.draw_series(std::iter::once(Polygon::new(
                band,
                line.colour.mix(0.18).filled(),
            )))?;
        }
        let means: Vec<(f64, f64)> = line
            .points
            .iter()
            .filter(|(_, i)| i.mean.is_finite())
            .map(|(x, i)| (*x, i.mean))
            .collect();
        if line.dashed {
            chart.draw_series(DashedLineSeries::new(
                means,
                14,
                9,
                line.colour.stroke_width(4),
            ))?;
        } else {
            chart.draw_series(LineSeries::new(means, line.colour.stroke_width(4)))?;
        }
    }
    Ok(())
}

/// One panel of lines over months: a metric drawn solid per strategy, and optionally a second
/// one drawn dashed.
pub(super) struct PanelSpec {
    title: &'static str,
    y_desc: &'static str,
    scale: Scale,
    solid: &'static str,
    dashed: Option<&'static str>,
    /// Fixed y range, for quantities with natural bounds.
    y_range: Option<(f64, f64)>,
}

/// Panels side by side, one per spec.
pub(super) fn line_panels<DB: DrawingBackend>(
    area: &Area<DB>,
    results: &ExperimentResults,
    specs: &[PanelSpec],
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let panels = area.split_evenly((1, specs.len()));
    for (panel, spec) in panels.iter().zip(specs) {
        let mut lines = strategy_lines(results, spec.solid, false);
        if let Some(dashed) = spec.dashed {
            lines.extend(strategy_lines(results, dashed, true));
        }
        line_panel(
            panel,
            &LinePanel {
                title: spec.title,
                y_desc: spec.y_desc,
                scale: spec.scale,
                lines,
                y_range: spec.y_range,
            },
        )?;
    }
    Ok(())
}

/// The panels of the charts made only of lines over months, by chart name (`None` for the
/// histogram and bar charts, which have their own functions).
pub(super) fn line_chart_panels(chart: &str) -> Option<Vec<PanelSpec>> {
    let panel = |title, y_desc, scale, solid, dashed, y_range| PanelSpec {
        title,
        y_desc,
        scale,
        solid,
        dashed,
        y_range,
    };
    let unit = Some((0.0, 1.0));
    let health = |title, trust, commitment| {
        panel(
            title,
            "mean score (0–1)",
            Scale::Unit,
            trust,
            Some(commitment),
            unit,
        )
    };
    let per_month = "customers per month";
    Some(match chart {
        "retention" => vec![
            panel(
                "Starting customers still active",
                "share of starting customers",
                Scale::Share,
                "initial_survival",
                None,
                unit,
            ),
            panel(
                "Monthly retention rate",
                "customers kept in the month",
                Scale::Share,
                "retention",
                None,
                None,
            ),
        ],
        "profit" => vec![
            panel(
                "Cumulative discounted profit (NPV)",
                "NPV to date (currency units)",
                Scale::Amount,
                "cumulative_npv",
                None,
                None,
            ),
            panel(
                "Profit per month",
                "profit (currency units)",
                Scale::Amount,
                "profit",
                None,
                None,
            ),
        ],
        "customers" => vec![
            panel(
                "Active customers",
                "customers",
                Scale::Count,
                "active",
                None,
                None,
            ),
            panel(
                "Won each month",
                per_month,
                Scale::Count,
                "acquired_paid",
                Some("acquired_referred"),
                None,
            ),
            panel("Lost", per_month, Scale::Count, "defections", None, None),
        ],
        "relationships" => vec![
            health("Customers", "customer_trust", "customer_commitment"),
            health("Suppliers", "supplier_trust", "supplier_commitment"),
            health(
                "Distributors",
                "distributor_trust",
                "distributor_commitment",
            ),
        ],
        _ => return None,
    })
}

/// Counts of `values` in `bins` equal bins over `[low, high]`.
fn histogram(values: &[f64], low: f64, high: f64, bins: usize) -> Vec<u32> {
    let mut counts = vec![0u32; bins];
    let width = (high - low) / bins as f64;
    for &v in values.iter().filter(|v| v.is_finite()) {
        let bin = (((v - low) / width) as usize).min(bins - 1);
        counts[bin] += 1;
    }
    counts
}

/// Histograms of bars sharing one x range: each `(colour, values)` drawn translucent.
fn histogram_panel<DB: DrawingBackend>(
    area: &Area<DB>,
    title: &str,
    x_desc: &str,
    groups: &[(RGBColor, &[f64])],
    mark_zero: bool,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    const BINS: usize = 30;
    let (mut low, mut high) =
        padded_range(groups.iter().flat_map(|(_, values)| values.iter().copied()));
    if mark_zero {
        low = low.min(0.0);
        high = high.max(0.0);
    }
    let counts: Vec<Vec<u32>> = groups
        .iter()
        .map(|(_, values)| histogram(values, low, high, BINS))
        .collect();
    let max_count = counts.iter().flatten().copied().max().unwrap_or(1).max(1) as f64;
    let mut chart = ChartBuilder::on(area)
        .caption(title, (FONT, 30))
        .margin(24)
        .x_label_area_size(64)
        .y_label_area_size(90)
        .build_cartesian_2d(low..high, 0.0..max_count * 1.1)?;
    let mut mesh = chart.configure_mesh();
    house_style(&mut mesh);
    mesh.x_desc(x_desc)
        .y_desc("replications")
        .x_label_formatter(&|x| human(*x))
        // Counts are whole numbers: a tick between two of them gets no label.
        .y_label_formatter(&|y| {
            if (y - y.round()).abs() < 1e-9 {
                format!("{y:.0}")
            } else {
                String::new()
            }
        })
        .x_labels(6)
        .y_labels(6)
        .label_style((FONT, TICK_LABEL_SIZE))
        .draw()?;
    let width = (high - low) / BINS as f64;
    for ((colour, _), group_counts) in groups.iter().zip(&counts) {
        chart.draw_series(group_counts.iter().enumerate().filter(|(_, &c)| c > 0).map(
            |(bin, &count)| {
                let x0 = low + bin as f64 * width;
                Rectangle::new(
                    [(x0, 0.0), (x0 + width, count as f64)],
                    colour.mix(0.55).filled(),
                )
            },
        ))?;
    }
    if mark_zero {
        chart.draw_series(LineSeries::new(
            vec![(0.0, 0.0), (0.0, max_count * 1.1)],
            RED.stroke_width(4),
        ))?;
    }
    Ok(())
}

/// NPV distribution per strategy and, with two or more strategies, the paired difference of the
/// two the verdict is about: the leader and the runner-up by mean NPV.
pub(super) fn npv_distribution<DB: DrawingBackend>(
    area: &Area<DB>,
    results: &ExperimentResults,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let groups: Vec<(RGBColor, &[f64])> = (0..results.strategy_names.len())
        .map(|idx| {
            let npv = results.runs.metric(idx, "npv").unwrap_or_default();
            (strategy_colour(idx), npv)
        })
        .collect();
    let lead = results.leader("npv");
    let panels = if lead.is_some() {
        area.split_evenly((1, 2))
    } else {
        vec![area.clone()]
    };
    histogram_panel(
        &panels[0],
        "NPV of each replication",
        "NPV (currency units)",
        &groups,
        false,
    )?;
    if let Some(lead) = lead {
        let differences: Vec<f64> = groups[lead.best]
            .1
            .iter()
            .zip(groups[lead.runner_up].1)
            .map(|(a, b)| a - b)
            .collect();
        let title = format!(
            "Paired difference: {} − {}",
            results.strategy_names[lead.best], results.strategy_names[lead.runner_up]
        );
        histogram_panel(
            &panels[1],
            &title,
            "NPV difference (currency units)",
            &[(RGBColor(90, 90, 90), &differences)],
            true,
        )?;
    }
    Ok(())
}

/// The costs shown in the costs chart: label and period metric.
const COSTS: [(&str, &str); 7] = [
    ("acquisition", "acquisition_cost"),
    ("care", "care_cost"),
    ("loyalty rewards", "loyalty_cost"),
    ("service recovery", "recovery_cost"),
    ("referral bonuses", "referral_cost"),
    ("distributor margins", "distributor_margin"),
    ("partner replacement", "partner_replacement_cost"),
];

/// Mean total spend per cost category and strategy, as grouped horizontal bars.
pub(super) fn costs<DB: DrawingBackend>(area: &Area<DB>, results: &ExperimentResults) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let n_strategies = results.strategy_names.len();
    let totals: Vec<Vec<f64>> = COSTS
        .iter()
        .map(|(_, metric)| {
            (0..n_strategies)
                .map(|idx| {
                    series(results, idx, metric)
                        .iter()
                        .map(|(_, i)| i.mean)
                        .filter(|v| v.is_finite())
                        .sum()
                })
                .collect()
        })
        .collect();
    let max_total = totals.iter().flatten().copied().fold(1.0, f64::max);
    let rows = COSTS.len() * n_strategies;
    // Values are written beside the bars while each bar is tall enough to carry its label
    // (up to four strategies); with more, labels would overlap and the axis tells the values.
    let show_values = n_strategies <= 4;
    let mut chart = ChartBuilder::on(area)
        .margin(30)
        .x_label_area_size(70)
        .y_label_area_size(260)
        .build_cartesian_2d(0.0..max_total * 1.15, (0..rows).into_segmented())?;
    let mut mesh = chart.configure_mesh();
    house_style(&mut mesh);
    mesh.x_desc("mean total over the horizon (currency units)")
        .x_label_formatter(&|x| human(*x))
        .y_label_formatter(&|row| match row {
            // Name each group once, beside its middle bar.
            SegmentValue::CenterOf(row) if row % n_strategies == n_strategies / 2 => COSTS
                .get(row / n_strategies)
                .map_or_else(String::new, |(label, _)| label.to_string()),
            _ => String::new(),
        })
        .y_labels(rows)
        .disable_y_mesh()
        // Category names are the only y labels here, so they get a size larger than ticks.
        .label_style((FONT, 24))
        .draw()?;
    for (category, strategy_totals) in totals.iter().enumerate() {
        for (strategy_idx, &total) in strategy_totals.iter().enumerate() {
            let row = category * n_strategies + strategy_idx;
            let mut bar = Rectangle::new(
                [
                    (0.0, SegmentValue::Exact(row)),
                    (total, SegmentValue::Exact(row + 1)),
                ],
                strategy_colour(strategy_idx).filled(),
            );
            if show_values {
                bar.set_margin(2, 2, 0, 0);
            }
            chart.draw_series(std::iter::once(bar))?;
            if show_values && total > 0.0 {
                chart.draw_series(std::iter::once(Text::new(
                    format!(" {}", human(total)),
                    (total, SegmentValue::CenterOf(row)),
                    (FONT, 20)
                        .into_font()
                        .color(&BLACK)
                        .pos(Pos::new(HPos::Left, VPos::Center)),
                )))?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legend_rows_never_exceed_the_width_and_keep_the_order() {
        let widths = vec![300; 16];
        let layout = legend_layout(&widths, 1520);
        let entry = SWATCH_WIDTH + SWATCH_GAP + 300;
        for &(x, _) in &layout {
            assert!(x >= 0 && x + entry <= 1520);
        }
        // Three entries of 354 px and two gaps fit in 1520 px; a fourth would not.
        assert_eq!(layout[2].1, 0);
        assert_eq!(layout[3].1, 1);
        assert!(layout.windows(2).all(|w| w[0].1 <= w[1].1));
        // One entry is centred.
        assert_eq!(legend_layout(&[100], 1000), vec![((1000 - 154) / 2, 0)]);
    }

    #[test]
    fn bands_of_shares_stay_within_zero_and_one() {
        let (low, high) = band_limits(Scale::Share, None);
        assert_eq!(
            (1.07f64.clamp(low, high), (-0.2f64).clamp(low, high)),
            (1.0, 0.0)
        );
        assert_eq!(band_limits(Scale::Unit, Some((0.0, 1.0))), (0.0, 1.0));
        let (low, high) = band_limits(Scale::Amount, None);
        assert_eq!((-5e9f64).clamp(low, high), -5e9);
        let (low, high) = band_limits(Scale::Count, None);
        assert_eq!(
            ((-3.0f64).clamp(low, high), 5e9f64.clamp(low, high)),
            (0.0, 5e9)
        );
    }

    #[test]
    fn histogram_counts_every_finite_value_once() {
        let counts = histogram(&[0.0, 0.5, 1.0, f64::NAN, 0.99], 0.0, 1.0, 2);
        assert_eq!(counts, vec![1, 3]);
    }

    #[test]
    fn ranges_pad_and_survive_empty_input() {
        assert_eq!(padded_range([1.0, 3.0].into_iter()), (0.9, 3.1));
        assert_eq!(padded_range(std::iter::empty()), (0.0, 1.0));
        assert_eq!(padded_range([2.0].into_iter()), (1.0, 3.0));
    }

    #[test]
    fn axis_labels_read_well() {
        assert_eq!(Scale::Amount.label(1_200_000.0), "1.20M");
        assert_eq!(Scale::Share.label(0.95), "95%");
        assert_eq!(Scale::Share.label(0.955), "95.5%");
        assert_eq!(Scale::Unit.label(0.5), "0.50");
    }
}
