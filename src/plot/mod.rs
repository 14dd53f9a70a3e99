//! Charts of a run, drawn with plotters from the results alone (never from engine state).
//!
//! Each chart is drawn once per backend by one generic function: to SVG text (for print and for
//! inlining in the report) and to an RGB buffer that is encoded as PNG (for slides). Text is set
//! in DejaVu Sans, which is compiled in. Neither the charts nor the tests depend on the fonts
//! installed on the machine.

pub mod breakeven;
pub mod calibration;
mod charts;
pub mod sweep;

use std::error::Error as StdError;
use std::sync::Once;

use plotters::prelude::*;

use crate::error::{Error, Result};
use crate::results::ExperimentResults;

/// Width and height of every chart in pixels: 16:9, sharp on a projector.
pub const CHART_SIZE: (u32, u32) = (1600, 900);

/// The font family every chart uses, registered from the bundled DejaVu Sans. The name is what
/// SVG files carry as their `font-family`, so a viewer that lacks DejaVu Sans falls back to a
/// sans-serif face rather than to its default serif.
pub(crate) const FONT: &str = "DejaVu Sans, sans-serif";

/// One chart: its file stem, title and the caption that tells a reader how to read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChartSpec {
    pub name: &'static str,
    pub title: &'static str,
    pub caption: &'static str,
}

/// Every chart, in the order of the report.
pub const CHARTS: [ChartSpec; 6] = [
    ChartSpec {
        name: "retention",
        title: "Retention",
        caption: "Left: the share of the customers active at the start who are still customers, \
                  month by month (a survival curve). Right: the share of customers active at the \
                  start of each month who stay through it. Lines are means across replications, \
                  shaded bands their 95 % confidence intervals.",
    },
    ChartSpec {
        name: "profit",
        title: "Profit",
        caption: "Left: cumulative discounted profit (NPV) up to each month; where the lines \
                  cross, one strategy's early savings are overtaken by the other's returns. Right: \
                  profit in each month. Bands are 95 % confidence intervals of the mean.",
    },
    ChartSpec {
        name: "customers",
        title: "Customers",
        caption:
            "Left: active customers. Middle: customers won each month, by advertising (solid) \
                  and by word of mouth (dashed); word of mouth takes off once enough customers \
                  trust the firm to recommend it. Right: customers lost each month. Bands are \
                  95 % confidence intervals of the mean.",
    },
    ChartSpec {
        name: "relationships",
        title: "Relationship health",
        caption: "Mean trust (solid) and commitment (dashed), from 0 to 1, of the firm's active \
                  customers, its suppliers and its distributors. Arm's-length policies erode \
                  partners' trust; partnerships build commitment, which keeps supply and channel \
                  effort up. Strategies with the same partner policy have the same partner \
                  relationships, so their lines lie on top of each other.",
    },
    ChartSpec {
        name: "npv_distribution",
        title: "NPV across replications",
        caption: "Left: how NPV varies across replications for each strategy (one bar per range \
                  of NPV). Right, with two or more strategies: the paired difference in NPV \
                  between the two strategies the verdict compares, the leader minus the \
                  runner-up, in each replication (both face the same market); the red line marks \
                  zero, and the share of bars to its right is the share of replications the \
                  leader wins.",
    },
    ChartSpec {
        name: "costs",
        title: "Where the money goes",
        caption: "Mean total spend over the horizon (undiscounted) on each cost other than the \
                  goods themselves: acquisition (advertising), care, loyalty rewards, service \
                  recovery, referral bonuses, distributor margins and replacing partners who left.",
    },
];

/// [`strategy_colour`] as CSS writes it, `#rrggbb` (the report's swatches, the dashboard).
pub fn strategy_colour_hex(idx: usize) -> String {
    let RGBColor(r, g, b) = strategy_colour(idx);
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// The colour of strategy `idx`, the same in every chart: the Okabe–Ito colours, safe for
/// colour blindness, then Paul Tol's muted scheme, so that all 16 strategies a scenario may hold
/// get a colour of their own.
pub fn strategy_colour(idx: usize) -> RGBColor {
    const PALETTE: [RGBColor; 16] = [
        RGBColor(230, 159, 0),
        RGBColor(0, 114, 178),
        RGBColor(0, 158, 115),
        RGBColor(204, 121, 167),
        RGBColor(86, 180, 233),
        RGBColor(213, 94, 0),
        RGBColor(0, 0, 0),
        RGBColor(204, 102, 119),
        RGBColor(51, 34, 136),
        RGBColor(221, 204, 119),
        RGBColor(17, 119, 51),
        RGBColor(136, 204, 238),
        RGBColor(136, 34, 85),
        RGBColor(68, 170, 153),
        RGBColor(153, 153, 51),
        RGBColor(170, 68, 153),
    ];
    PALETTE[idx % PALETTE.len()]
}

/// Registers the bundled DejaVu Sans under [`FONT`] (once per process).
fn register_fonts() {
    static REGISTER: Once = Once::new();
    REGISTER.call_once(|| {
        let regular: &'static [u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
        let bold: &'static [u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");
        // The bundled files are valid fonts; a failure here is a build defect.
        plotters::style::register_font(FONT, FontStyle::Normal, regular)
            .unwrap_or_else(|_| panic!("bundled DejaVuSans.ttf is not a font"));
        plotters::style::register_font(FONT, FontStyle::Bold, bold)
            .unwrap_or_else(|_| panic!("bundled DejaVuSans-Bold.ttf is not a font"));
    });
}

/// The result of drawing on any backend.
pub(crate) type DrawResult = std::result::Result<(), Box<dyn StdError>>;

/// A run's chart with the results it draws.
struct RunChart<'a> {
    spec: &'a ChartSpec,
    results: &'a ExperimentResults,
}

impl Drawing for RunChart<'_> {
    fn chart_name(&self) -> String {
        self.spec.name.to_string()
    }

    fn draw_on<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, plotters::coord::Shift>,
    ) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let (chart, results) = (self.spec, self.results);
        let line_kinds = match chart.name {
            "customers" => Some(("advertising", "word of mouth")),
            "relationships" => Some(("trust", "commitment")),
            _ => None,
        };
        let body = charts::frame(root, chart.title, &results.strategy_names, line_kinds)?;
        match chart.name {
            "npv_distribution" => charts::npv_distribution(&body, results)?,
            "costs" => charts::costs(&body, results)?,
            name => {
                let panels = charts::line_chart_panels(name)
                    .ok_or_else(|| format!("no chart called {name}"))?;
                charts::line_panels(&body, results, &panels)?;
            }
        }
        Ok(())
    }
}

/// A chart as SVG text.
pub fn render_svg(chart: &ChartSpec, results: &ExperimentResults) -> Result<String> {
    drawing_svg(&RunChart {
        spec: chart,
        results,
    })
}

/// A chart as PNG bytes.
pub fn render_png(chart: &ChartSpec, results: &ExperimentResults) -> Result<Vec<u8>> {
    drawing_png(&RunChart {
        spec: chart,
        results,
    })
}

/// A chart with a title over the top 80 pixels: draws the title (smaller if it is long, so
/// that it stays on the chart) and returns the area below it, with margins.
pub(crate) fn titled<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    title: &str,
) -> std::result::Result<DrawingArea<DB, plotters::coord::Shift>, Box<dyn StdError>>
where
    DB::ErrorType: 'static,
{
    use plotters::style::text_anchor::{HPos, Pos, VPos};
    let (width, _) = root.dim_in_pixel();
    let title_size = if title.chars().count() > 60 { 30 } else { 40 };
    let (header, body) = root.split_vertically(80);
    header.draw(&Text::new(
        title.to_string(),
        (width as i32 / 2, 40),
        (FONT, title_size)
            .into_font()
            .style(FontStyle::Bold)
            .color(&BLACK)
            .pos(Pos::new(HPos::Center, VPos::Center)),
    ))?;
    Ok(body.margin(10, 30, 30, 40))
}

/// A chart: drawn by one generic function on either backend.
pub(crate) trait Drawing {
    /// The chart's name in error messages.
    fn chart_name(&self) -> String;

    /// Draws the chart on `root`, fonts registered and background filled.
    fn draw_on<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, plotters::coord::Shift>,
    ) -> DrawResult
    where
        DB::ErrorType: 'static;
}

fn draw_drawing<D: Drawing, DB: DrawingBackend>(
    chart: &D,
    root: DrawingArea<DB, plotters::coord::Shift>,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    register_fonts();
    root.fill(&WHITE)?;
    chart.draw_on(&root)?;
    root.present()?;
    Ok(())
}

/// `chart` as SVG text.
pub(crate) fn drawing_svg<D: Drawing>(chart: &D) -> Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, CHART_SIZE).into_drawing_area();
        draw_drawing(chart, root).map_err(|err| drawing_error(chart, err))?;
    }
    Ok(svg)
}

/// `chart` as PNG bytes.
pub(crate) fn drawing_png<D: Drawing>(chart: &D) -> Result<Vec<u8>> {
    let (width, height) = CHART_SIZE;
    let mut pixels = vec![0u8; width as usize * height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, CHART_SIZE).into_drawing_area();
        draw_drawing(chart, root).map_err(|err| drawing_error(chart, err))?;
    }
    png_from_rgb(&pixels, width, height).map_err(|err| drawing_error(chart, err))
}

fn drawing_error<D: Drawing>(chart: &D, err: Box<dyn StdError>) -> Error {
    Error::Plot {
        chart: chart.chart_name(),
        message: err.to_string(),
    }
}

/// RGB pixels of a `width × height` image as PNG bytes.
pub(crate) fn png_from_rgb(
    pixels: &[u8],
    width: u32,
    height: u32,
) -> std::result::Result<Vec<u8>, Box<dyn StdError>> {
    let mut png_bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut png_bytes, width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header()?;
        writer.write_image_data(pixels)?;
    }
    Ok(png_bytes)
}

/// One chart drawn: its spec, SVG text (for print and for the report) and PNG bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderedChart {
    pub spec: ChartSpec,
    pub svg: String,
    pub png: Vec<u8>,
}

impl ChartSpec {
    /// The file names the chart is saved under: `NAME.svg` and `NAME.png`.
    pub fn file_names(&self) -> [String; 2] {
        [format!("{}.svg", self.name), format!("{}.png", self.name)]
    }
}

/// Every chart, in the order of [`CHARTS`], drawn from `results`. Nothing is written.
pub fn render_all(results: &ExperimentResults) -> Result<Vec<RenderedChart>> {
    CHARTS
        .iter()
        .map(|spec| {
            Ok(RenderedChart {
                spec: *spec,
                svg: render_svg(spec, results)?,
                png: render_png(spec, results)?,
            })
        })
        .collect()
}
