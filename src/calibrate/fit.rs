//! Fitting scenario keys to a firm's observed retention (and, optionally, customers won and
//! revenue per customer) by maximum likelihood with the simulation in the loop
//! (docs/calibration.md): Nelder–Mead on the keys (log scale for positive quantities), standard
//! errors from the numerical Hessian of the log-likelihood (widened for the simulation's own
//! noise and for overdispersed data), goodness of fit, and the projection past the data.

use super::data::{Cohort, RetentionData, SeriesData};
use super::likelihood::{
    log_likelihood, normal_profile_log_likelihood, poisson_log_likelihood,
    poisson_saturated_log_likelihood, saturated_log_likelihood,
};
use crate::error::{Error, Result};
use crate::experiment::calibrate::{
    simulate_history, SharedNetworks, SimulatedHistory, SimulatedSeries,
};
use crate::scenario::Scenario;
use crate::stats::optimize::{
    inverse_positive_definite, nelder_mead, response_surface_hessian, Minimum, NelderMeadOptions,
};

/// The churn baseline: fitted by default to whole-market cohorts.
const BASELINE_KEY: &str = "defection.baseline";
/// The spread of churn across customers: fitted by default.
const CONCENTRATION_KEY: &str = "heterogeneity.churn_concentration";
/// Fitted by default when customers won are observed.
const ACQUISITION_KEY: &str = "market.advertising_max_reach";

/// Estimates correlated more strongly than this get a warning.
const STRONG_CORRELATION: f64 = 0.9;

/// The optimiser stops when `−ln L` differs by less than this across its simplex and every
/// vertex is within [`X_TOLERANCE`] of the best on the fitting scale. A simulated likelihood
/// jumps by more than 10⁻³ when one customer's exit flips, so tighter tolerances only spend
/// evaluations (the five-key segment example ran 500 without meeting 10⁻³); 0.01 in `ln L` is
/// 0.02 in the deviance, and 0.01 on the fitting scale is a small fraction of any standard
/// error the data allow.
const F_TOLERANCE: f64 = 0.01;
const X_TOLERANCE: f64 = 0.01;

/// Restarts of the optimiser from its best point, at most.
const RESTARTS: usize = 5;

/// A restart that improves `ln L` by less than this ends the search.
const RESTART_IMPROVEMENT: f64 = 0.5;

/// Where a key without spread (an infinite concentration) starts when it is fitted.
const START_CONCENTRATION: f64 = 100.0;

/// A poor fit: the simulated curve misses the observed one somewhere by more than this many
/// percentage points and by more than [`POOR_FIT_STANDARD_ERRORS`] (so that small cohorts,
/// whose shares vary by more than that by chance, are not called poorly fitted).
pub const POOR_FIT_POINTS: f64 = 3.0;
pub const POOR_FIT_STANDARD_ERRORS: f64 = 3.0;

/// A poor fit of a per-period series: the simulation misses it by more than this share of the
/// observed mean (root mean square).
pub const POOR_SERIES_FIT_PERCENT: f64 = 25.0;

/// A parameter whose 95 % interval on its fitting scale is wider than this is reported as not
/// identified by the data (on the log scale: more than a factor e⁴ ≈ 55 from end to end).
const UNIDENTIFIED_WIDTH: f64 = 4.0;

/// Degrees of freedom below which the data's dispersion is not estimated (taken as 1).
const MIN_DISPERSION_DF: f64 = 3.0;

/// 97.5 % quantile of the standard normal.
const Z_95: f64 = 1.959_963_984_540_054;

/// Everything a firm observed: cohort survival, and optionally customers won and revenue per
/// customer by period.
#[derive(Debug, Clone, PartialEq)]
pub struct CalibrationData {
    pub retention: RetentionData,
    pub acquisition: Option<SeriesData>,
    pub revenue: Option<SeriesData>,
}

impl CalibrationData {
    /// Retention alone.
    pub fn retention(retention: RetentionData) -> Self {
        Self {
            retention,
            acquisition: None,
            revenue: None,
        }
    }

    /// The last period anything is observed.
    pub fn last_period(&self) -> u32 {
        self.series()
            .map(SeriesData::last_period)
            .fold(self.retention.last_period(), u32::max)
    }

    fn series(&self) -> impl Iterator<Item = &SeriesData> {
        self.acquisition.iter().chain(self.revenue.iter())
    }
}

/// Which simulated survival curve a cohort is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Group {
    Market,
    /// A segment, by its index in the scenario.
    Segment(usize),
}

impl Group {
    fn curve(self, history: &SimulatedHistory) -> &SimulatedSeries {
        match self {
            Group::Market => &history.market,
            Group::Segment(idx) => &history.segments[idx],
        }
    }
}

/// Each cohort's [`Group`]: its `segment`, looked up by name in the scenario.
pub fn cohort_groups(scenario: &Scenario, retention: &RetentionData) -> Result<Vec<Group>> {
    let names: Vec<&str> = scenario
        .model()
        .segments
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    retention
        .cohorts
        .iter()
        .map(|cohort| match &cohort.segment {
            None => Ok(Group::Market),
            Some(segment) => names
                .iter()
                .position(|n| n == segment)
                .map(Group::Segment)
                .ok_or_else(|| Error::InvalidData {
                    path: retention.path.clone(),
                    row: Some(cohort.line),
                    message: format!(
                        "segment `{segment}` is not a segment of the scenario; it has {}",
                        names.join(", ")
                    ),
                }),
        })
        .collect()
}

/// The keys fitted when none are named. Survival of whole-market cohorts: the churn baseline
/// and its spread across customers. Survival by segment: each observed segment's intercept
/// (`segments.N.defection_intercept`) and the spread; the baseline stays, since it only shifts
/// every intercept. The baseline is added back when whole-market cohorts come along with
/// segments that do not cover the market. Customers won add the advertising reach.
pub fn default_keys(scenario: &Scenario, data: &CalibrationData) -> Result<Vec<String>> {
    let groups = cohort_groups(scenario, &data.retention)?;
    let mut segments: Vec<usize> = groups
        .iter()
        .filter_map(|g| match g {
            Group::Segment(idx) => Some(*idx),
            Group::Market => None,
        })
        .collect();
    segments.sort_unstable();
    segments.dedup();
    let market_cohorts = groups.contains(&Group::Market);
    let mut keys = Vec::new();
    if segments.is_empty() || (market_cohorts && segments.len() < scenario.model().segments.len()) {
        keys.push(BASELINE_KEY.to_string());
    }
    keys.extend(
        segments
            .iter()
            .map(|idx| format!("segments.{idx}.defection_intercept")),
    );
    keys.push(CONCENTRATION_KEY.to_string());
    if data.acquisition.is_some() {
        keys.push(ACQUISITION_KEY.to_string());
    }
    Ok(keys)
}

/// What to fit and how.
#[derive(Debug, Clone)]
pub struct FitOptions {
    /// The strategy the firm runs today.
    pub strategy_idx: usize,
    /// The keys to fit (any numeric key `--set` accepts).
    pub keys: Vec<String>,
    /// Fit on the periods up to this one and project the rest.
    pub holdout: Option<u32>,
    /// Replications behind each simulated curve (the scenario's own when `None`); the
    /// calibrated scenario keeps the scenario's.
    pub replications: Option<u32>,
    /// Worker threads; 0 means one per core.
    pub threads: usize,
    /// Nelder–Mead's evaluation budget.
    pub max_evaluations: usize,
}

/// One fitted key.
#[derive(Debug, Clone, PartialEq)]
pub struct FittedValue {
    pub key: String,
    pub start: f64,
    pub value: f64,
    /// Standard error on the natural scale (delta method); NaN where not identified.
    pub standard_error: f64,
    /// 95 % interval, symmetric on the fitting scale (so a concentration's is asymmetric).
    pub ci_low: f64,
    pub ci_high: f64,
    pub log_scale: bool,
    /// Whether the data pin it down (a positive-definite Hessian and a narrow interval).
    pub identified: bool,
}

/// How far the simulation is from what was observed: for survival in percentage points of the
/// cohort, for a per-period series in percent of the observed mean.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CurveError {
    pub rmse: f64,
    pub max: f64,
    /// Observations compared.
    pub n: usize,
}

impl CurveError {
    fn of(deviations: &[f64]) -> Self {
        let n = deviations.len();
        CurveError {
            rmse: (deviations.iter().map(|d| d * d).sum::<f64>() / n.max(1) as f64).sqrt(),
            max: deviations.iter().fold(0.0f64, |m, d| m.max(d.abs())),
            n,
        }
    }
}

/// A simulated survival curve compared with cohorts: the market's or a segment's.
#[derive(Debug, Clone, PartialEq)]
pub struct FittedCurve {
    pub group: Group,
    /// `market`, or the segment's name.
    pub label: String,
    /// `S(t)`, `t = 0..=horizon`, at the fitted values: the fit and its projection.
    pub survival: Vec<f64>,
    /// The variance of each `S(t)` as an estimate (across replications over their number).
    pub survival_variance: Vec<f64>,
}

/// How well a per-period series (customers won, revenue per customer) is matched.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesFit {
    pub data: SeriesData,
    /// Over the fitted periods, in percent of the observed mean.
    pub fit_error: CurveError,
    /// After the holdout period, if any.
    pub holdout_error: Option<CurveError>,
}

/// A fit and everything `relsim calibrate` reports about it.
#[derive(Debug, Clone)]
pub struct Fit {
    pub values: Vec<FittedValue>,
    /// `ln L` of the fitted data at the optimum (up to constants, see
    /// [`super::likelihood`]), and of the saturated model for the parts that have one
    /// (survival and customers won).
    pub log_likelihood: f64,
    pub saturated_log_likelihood: f64,
    /// Intervals and periods observed (the likelihood's cells, revenue excluded) minus fitted
    /// keys.
    pub degrees_of_freedom: i64,
    /// How much more the cohorts vary than binomial chance and the simulation's own noise
    /// allow (1: no more); the intervals are widened by its square root.
    pub dispersion: f64,
    /// Observed vs fitted survival over the fitted periods.
    pub fit_error: CurveError,
    /// Observed vs projected survival after the holdout period, if any.
    pub holdout_error: Option<CurveError>,
    /// The simulated survival curves the cohorts are compared with, and which one each cohort
    /// (in the data's order) meets.
    pub curves: Vec<FittedCurve>,
    pub cohort_curve: Vec<usize>,
    pub acquisition: Option<SeriesFit>,
    pub revenue: Option<SeriesFit>,
    /// The last period fitted.
    pub fitted_through: u32,
    pub evaluations: usize,
    pub converged: bool,
    /// Things the user should know: a poor fit, a parameter the data do not identify.
    pub warnings: Vec<String>,
    /// The scenario with the fitted values.
    pub calibrated: Scenario,
}

impl Fit {
    /// `2·(ln L_saturated − ln L)`: the deviance of the fitted survival and customers won.
    pub fn deviance(&self) -> f64 {
        2.0 * (self.saturated_log_likelihood - self.log_likelihood)
    }

    /// The survival curve cohort `cohort_idx` is compared with.
    pub fn curve_of(&self, cohort_idx: usize) -> &FittedCurve {
        &self.curves[self.cohort_curve[cohort_idx]]
    }
}

/// A key as the optimiser sees it.
#[derive(Debug, Clone)]
struct Parameter {
    key: String,
    start: f64,
    log_scale: bool,
}

impl Parameter {
    fn fitting_scale(&self, value: f64) -> f64 {
        if self.log_scale {
            value.ln()
        } else {
            value
        }
    }

    fn natural(&self, x: f64) -> f64 {
        if self.log_scale {
            x.exp()
        } else {
            x
        }
    }
}

fn option_error(option: &str, message: String) -> Error {
    Error::InvalidOption {
        option: option.into(),
        message,
    }
}

/// The keys as parameters, each starting from the scenario's value (an infinite concentration
/// from [`START_CONCENTRATION`], with a warning).
fn parameters(
    scenario: &Scenario,
    keys: &[String],
    warnings: &mut Vec<String>,
) -> Result<Vec<Parameter>> {
    let mut parameters = Vec::with_capacity(keys.len());
    for key in keys {
        let current = scenario.value_of(key).ok_or_else(|| {
            option_error(
                "--fit",
                format!("`{key}` is not a key of the scenario (any numeric key --set accepts)"),
            )
        })?;
        let value = current
            .as_float()
            .or_else(|| current.as_integer().map(|i| i as f64))
            .ok_or_else(|| {
                option_error(
                    "--fit",
                    format!("`{key}` holds {current}, not a number that can be fitted"),
                )
            })?;
        // Log-odds (a baseline, an intercept) and anything that starts at or below zero are
        // fitted on their own scale; a positive quantity on the log scale, so that the
        // optimiser's steps are relative to its size and it stays positive.
        let log_odds = key.ends_with("baseline") || key.ends_with("intercept");
        let log_scale = !log_odds && value > 0.0;
        let start = if log_scale && value.is_infinite() {
            warnings.push(format!(
                "{key} starts from no spread at all (inf); the fit starts it at \
                 {START_CONCENTRATION}"
            ));
            START_CONCENTRATION
        } else {
            value
        };
        if key.ends_with("concentration") && start <= 0.0 {
            return Err(option_error(
                "--fit",
                format!("`{key}` is {start}; a concentration to fit must be positive"),
            ));
        }
        parameters.push(Parameter {
            key: key.clone(),
            start,
            log_scale,
        });
    }
    Ok(parameters)
}

/// The scenario with each key set to its value on the natural scale.
fn with_values(scenario: &Scenario, parameters: &[Parameter], x: &[f64]) -> Result<Scenario> {
    let values: Vec<toml::Value> = parameters
        .iter()
        .zip(x)
        .map(|(p, &xi)| toml::Value::Float(p.natural(xi)))
        .collect();
    let assignments: Vec<(&str, &toml::Value)> = parameters
        .iter()
        .map(|p| p.key.as_str())
        .zip(&values)
        .collect();
    scenario.at_point(&assignments)
}

/// The data the likelihood sees (the fitted periods), with each cohort's group.
struct Fitted {
    cohorts: Vec<(Cohort, Group)>,
    acquisition: Option<SeriesData>,
    revenue: Option<SeriesData>,
}

/// The parts of `ln L`: survival, customers won, revenue per customer.
#[derive(Debug, Clone, Copy, Default)]
struct LogLikelihoods {
    survival: f64,
    acquisition: f64,
    revenue: f64,
}

impl Fitted {
    fn log_likelihoods(&self, history: &SimulatedHistory) -> LogLikelihoods {
        LogLikelihoods {
            survival: self
                .cohorts
                .iter()
                .map(|(c, g)| log_likelihood(c, &g.curve(history).mean))
                .sum(),
            acquisition: self.acquisition.as_ref().map_or(0.0, |a| {
                poisson_log_likelihood(&a.observations, &history.acquired.mean)
            }),
            revenue: self.revenue.as_ref().map_or(0.0, |r| {
                normal_profile_log_likelihood(&r.observations, &history.revenue_per_customer.mean)
            }),
        }
    }

    fn survival_cells(&self) -> usize {
        self.cohorts.iter().map(|(c, _)| c.observations.len()).sum()
    }

    fn acquisition_cells(&self) -> usize {
        self.acquisition
            .as_ref()
            .map_or(0, |a| a.observations.len())
    }
}

/// Weights of the parts of `ln L` (the inverse of each part's dispersion).
#[derive(Debug, Clone, Copy)]
struct Weights {
    survival: f64,
    acquisition: f64,
}

impl Weights {
    const ONE: Weights = Weights {
        survival: 1.0,
        acquisition: 1.0,
    };

    fn total(self, parts: LogLikelihoods) -> f64 {
        self.survival * parts.survival + self.acquisition * parts.acquisition + parts.revenue
    }
}

/// Nelder–Mead from `start`, restarted from its best point with the full steps while that
/// improves `−ln L` by [`RESTART_IMPROVEMENT`] or more: a simulated likelihood has small jumps
/// that can make the simplex collapse early.
fn minimise(mut f: impl FnMut(&[f64]) -> f64, start: &[f64], budget: usize) -> Minimum {
    let steps = vec![0.5; start.len()];
    let options = |budget: usize| NelderMeadOptions {
        f_tolerance: F_TOLERANCE,
        x_tolerance: X_TOLERANCE,
        max_evaluations: budget,
    };
    let mut minimum = nelder_mead(&mut f, start, &steps, &options(budget));
    for _ in 0..RESTARTS {
        let left = budget.saturating_sub(minimum.evaluations);
        if left <= start.len() + 1 {
            break;
        }
        let again = nelder_mead(&mut f, &minimum.x, &steps, &options(left));
        let improvement = minimum.value - again.value;
        let evaluations = minimum.evaluations + again.evaluations;
        if improvement > 0.0 {
            minimum = again;
        }
        minimum.evaluations = evaluations;
        if improvement < RESTART_IMPROVEMENT {
            break;
        }
    }
    minimum
}

/// The covariance of the estimates on the fitting scale, from the curvature of `f` (a
/// weighted `−ln L`) read off a quadratic fitted around the optimum over ±2 steps. The steps
/// are then set to two standard errors found, but never below 0.1: closer in, the
/// simulation's small jumps would outweigh the curvature.
fn covariance(mut f: impl FnMut(&[f64]) -> f64, at: &[f64]) -> Option<Vec<f64>> {
    let k = at.len();
    let mut h = vec![0.25; k];
    let mut covariance = None;
    for _ in 0..2 {
        covariance = response_surface_hessian(&mut f, at, &h)
            .and_then(|curvature| inverse_positive_definite(&curvature, k));
        let Some(c) = &covariance else { break };
        for (i, step) in h.iter_mut().enumerate() {
            *step = (2.0 * c[i * k + i].sqrt()).clamp(0.1, 1.0);
        }
    }
    covariance
}

/// Simulated maximum likelihood's variance is the data's times `1 + n_data / n_simulated`
/// (Gouriéroux & Monfort 1996), where `n_simulated` is the binomial sample as precise as the
/// simulated curve: replications share market-wide events (rival campaigns, shortages), so
/// the curve's variance across replications, not the number of simulated customers, says how
/// precise it is. The least precise fitted period of each curve counts, and the curve whose
/// data outweigh it most. Returns `(1 + n_data / n_simulated, n_data, n_simulated)` of that
/// curve.
fn simulation_variance_factor(fitted: &Fitted, history: &SimulatedHistory) -> (f64, f64, f64) {
    let mut worst = (1.0, 0.0, f64::INFINITY);
    let mut groups: Vec<Group> = fitted.cohorts.iter().map(|(_, g)| *g).collect();
    groups.sort_unstable();
    groups.dedup();
    for group in groups {
        let curve = group.curve(history);
        let (n_data, last): (f64, u32) = fitted
            .cohorts
            .iter()
            .filter(|(_, g)| *g == group)
            .fold((0.0, 0), |(n, last), (c, _)| {
                (n + c.size, last.max(c.last_period()))
            });
        let n_simulated = (1..=last as usize)
            .filter(|&t| curve.variance_of_mean[t] > 0.0)
            .map(|t| curve.mean[t] * (1.0 - curve.mean[t]) / curve.variance_of_mean[t])
            .fold(f64::INFINITY, f64::min);
        let factor = 1.0 + n_data / n_simulated;
        if factor > worst.0 {
            worst = (factor, n_data, n_simulated);
        }
    }
    worst
}

/// A part's dispersion: its deviance over its degrees of freedom beyond what `expected` (the
/// simulation's noise) explains, never below 1, and 1 when there are too few degrees of
/// freedom to tell.
fn dispersion(deviance: f64, degrees_of_freedom: f64, expected: f64) -> f64 {
    if degrees_of_freedom < MIN_DISPERSION_DF || !deviance.is_finite() {
        return 1.0;
    }
    (deviance / degrees_of_freedom / expected).max(1.0)
}

/// Observed survival as shares of each cohort against its curve, over the observations that
/// `keep` selects, in percentage points.
fn survival_error(
    cohorts: &[Cohort],
    groups: &[Group],
    history: &SimulatedHistory,
    keep: impl Fn(u32) -> bool,
) -> CurveError {
    let deviations: Vec<f64> = cohorts
        .iter()
        .zip(groups)
        .flat_map(|(c, g)| {
            let survival = &g.curve(history).mean;
            c.observations
                .iter()
                .filter(|(t, _)| keep(*t))
                .map(move |&(t, n)| 100.0 * (n / c.size - survival[t as usize]))
                .collect::<Vec<_>>()
        })
        .collect();
    CurveError::of(&deviations)
}

/// The largest miss of a fitted observation that is both over [`POOR_FIT_POINTS`] and over
/// [`POOR_FIT_STANDARD_ERRORS`] standard errors (binomial spread of the cohort's share plus the
/// simulated curve's own variance, times the dispersion): `(points, standard errors)`.
fn worst_miss(
    cohorts: &[(Cohort, Group)],
    history: &SimulatedHistory,
    dispersion: f64,
) -> Option<(f64, f64)> {
    cohorts
        .iter()
        .flat_map(|(c, g)| {
            let curve = g.curve(history);
            c.observations.iter().map(move |&(t, n)| {
                let s = curve.mean[t as usize];
                let se = (dispersion
                    * (s * (1.0 - s) / c.size + curve.variance_of_mean[t as usize]))
                    .sqrt();
                let miss = (n / c.size - s).abs();
                (100.0 * miss, miss / se)
            })
        })
        .filter(|&(points, z)| points > POOR_FIT_POINTS && z > POOR_FIT_STANDARD_ERRORS)
        .max_by(|a, b| a.0.total_cmp(&b.0))
}

/// A series against its simulated mean over the observations `keep` selects, in percent of
/// their observed mean.
fn series_error(series: &SeriesData, simulated: &[f64], keep: impl Fn(u32) -> bool) -> CurveError {
    let kept: Vec<(u32, f64)> = series
        .observations
        .iter()
        .copied()
        .filter(|(t, _)| keep(*t))
        .collect();
    let mean = kept.iter().map(|(_, y)| y).sum::<f64>() / kept.len().max(1) as f64;
    let scale = if mean > 0.0 { 100.0 / mean } else { f64::NAN };
    let deviations: Vec<f64> = kept
        .iter()
        .map(|&(t, y)| scale * (simulated[t as usize] - y))
        .collect();
    CurveError::of(&deviations)
}

/// Fits `options.keys` of `scenario` to `data` (see the module docs). `on_evaluation` is
/// called after each evaluation of the likelihood with their count so far (for a progress
/// display).
pub fn fit(
    scenario: &Scenario,
    data: &CalibrationData,
    options: &FitOptions,
    on_evaluation: &dyn Fn(usize),
) -> Result<Fit> {
    if options.strategy_idx >= scenario.strategies().len() {
        return Err(option_error(
            "--strategy",
            format!("no strategy {} in the scenario", options.strategy_idx),
        ));
    }
    let last = data.last_period();
    let fitted_through = match options.holdout {
        Some(k) if k == 0 || k >= last => {
            return Err(option_error(
                "--holdout",
                format!(
                    "{k} must be at least 1 and below the last observed period, {last}, so that \
                     there is something to fit and something to project"
                ),
            ))
        }
        Some(k) => k,
        None => last,
    };
    let groups = cohort_groups(scenario, &data.retention)?;
    let fitted = Fitted {
        cohorts: data
            .retention
            .cohorts
            .iter()
            .zip(&groups)
            .map(|(c, &g)| (c.up_to(fitted_through), g))
            .filter(|(c, _)| !c.observations.is_empty())
            .collect(),
        acquisition: data.acquisition.as_ref().map(|a| a.up_to(fitted_through)),
        revenue: data.revenue.as_ref().map(|r| r.up_to(fitted_through)),
    };
    let mut warnings = Vec::new();
    let parameters = parameters(scenario, &options.keys, &mut warnings)?;
    let k = parameters.len();

    let pool = crate::experiment::calibrate::calibration_pool(options.threads)?;
    let mut fitting = scenario.with("periods", fitted_through as i64)?;
    if let Some(replications) = options.replications {
        fitting = fitting.with("replications", replications as i64)?;
    }
    let networks = parameters
        .iter()
        .all(|p| SharedNetworks::unaffected_by(&p.key))
        .then(|| SharedNetworks::draw(&fitting, &pool));
    let evaluations = std::cell::Cell::new(0usize);
    let negative_ll = |x: &[f64], weights: Weights| -> f64 {
        evaluations.set(evaluations.get() + 1);
        on_evaluation(evaluations.get());
        match with_values(&fitting, &parameters, x) {
            Ok(candidate) => -weights.total(fitted.log_likelihoods(&simulate_history(
                &candidate,
                options.strategy_idx,
                &pool,
                networks.as_ref(),
            ))),
            // A value the scenario refuses (out of its range) is no candidate.
            Err(_) => f64::NAN,
        }
    };
    let start: Vec<f64> = parameters
        .iter()
        .map(|p| p.fitting_scale(p.start))
        .collect();
    let minimum = minimise(
        |x| negative_ll(x, Weights::ONE),
        &start,
        options.max_evaluations,
    );
    if !minimum.x.iter().all(|x| x.is_finite()) || !minimum.value.is_finite() {
        return Err(option_error(
            "--fit",
            "no value of the fitted keys gives the data a finite likelihood".into(),
        ));
    }
    if !minimum.converged {
        warnings.push(format!(
            "the optimiser stopped after {} evaluations before converging; the values may not \
             be the best",
            minimum.evaluations
        ));
    }

    // The history at the optimum, projected to the horizon: a run's first periods do not
    // depend on its horizon, so this one simulation serves the fit, its precision and the
    // projection.
    let calibrated = with_values(scenario, &parameters, &minimum.x)?;
    let horizon = scenario.periods().max(last);
    let mut projecting = calibrated.with("periods", horizon as i64)?;
    if let Some(replications) = options.replications {
        projecting = projecting.with("replications", replications as i64)?;
    }
    let history = simulate_history(&projecting, options.strategy_idx, &pool, networks.as_ref());
    let at_optimum = fitted.log_likelihoods(&history);
    let saturated_survival: f64 = fitted
        .cohorts
        .iter()
        .map(|(c, _)| saturated_log_likelihood(c))
        .sum();
    let saturated_acquisition = fitted
        .acquisition
        .as_ref()
        .map_or(0.0, |a| poisson_saturated_log_likelihood(&a.observations));

    // Intervals: the curvature of ln L with each part weighted by the inverse of its
    // dispersion (quasi-likelihood), times the simulation's variance factor.
    let (simulation_factor, n_data, n_simulated) = simulation_variance_factor(&fitted, &history);
    if simulation_factor.sqrt() > 1.5 {
        warnings.push(format!(
            "the simulated curve is noisy for data this size (as precise as {n_simulated:.0} \
             customers against the data's {n_data:.0}): the intervals are {:.1} times wider \
             than the data alone would give; raise --replications",
            simulation_factor.sqrt()
        ));
    }
    let (survival_cells, acquisition_cells) = (
        fitted.survival_cells() as f64,
        fitted.acquisition_cells() as f64,
    );
    let cells = survival_cells + acquisition_cells;
    let share_of_keys = |part_cells: f64| part_cells - k as f64 * part_cells / cells.max(1.0);
    let survival_dispersion = dispersion(
        2.0 * (saturated_survival - at_optimum.survival),
        share_of_keys(survival_cells),
        simulation_factor,
    );
    let acquisition_dispersion = dispersion(
        2.0 * (saturated_acquisition - at_optimum.acquisition),
        share_of_keys(acquisition_cells),
        1.0,
    );
    if survival_dispersion > 1.5 {
        warnings.push(format!(
            "the cohorts vary more than chance and the simulation's noise allow (dispersion \
             {survival_dispersion:.1}): market-wide shocks, or cohorts that differ in ways the \
             model does not; the intervals are widened by its square root, {:.2}",
            survival_dispersion.sqrt()
        ));
    }
    if acquisition_dispersion > 1.5 {
        warnings.push(format!(
            "customers won vary more from period to period than Poisson counts (dispersion \
             {acquisition_dispersion:.1}); the intervals are widened accordingly"
        ));
    }
    let weights = Weights {
        survival: 1.0 / survival_dispersion,
        acquisition: 1.0 / acquisition_dispersion,
    };
    let covariance = covariance(|x| negative_ll(x, weights), &minimum.x);
    let values = fitted_values(
        &parameters,
        &minimum.x,
        covariance.as_deref(),
        simulation_factor,
    );
    warnings.extend(precision_warnings(&values, covariance.as_deref()));

    let fit_error = survival_error(&data.retention.cohorts, &groups, &history, |t| {
        t <= fitted_through
    });
    let holdout_error = options
        .holdout
        .map(|h| survival_error(&data.retention.cohorts, &groups, &history, |t| t > h));
    if let Some((points, standard_errors)) =
        worst_miss(&fitted.cohorts, &history, survival_dispersion)
    {
        warnings.push(format!(
            "the fit is poor: the simulated curve misses the observed one by up to {points:.1} \
             percentage points, {standard_errors:.1} times what chance allows; the model's \
             churn drivers may not match this market (try --fit with more keys, or another \
             --strategy)"
        ));
    }
    if data.retention.cohorts.iter().any(|c| c.nominal_size) {
        warnings.push(format!(
            "percentages without a cohort size are taken as shares of {} customers; standard \
             errors depend on that size (add a size column)",
            super::data::NOMINAL_SIZE
        ));
    }
    let series_fit = |series: &Option<SeriesData>, simulated: &SimulatedSeries| {
        series.as_ref().map(|s| SeriesFit {
            data: s.clone(),
            fit_error: series_error(s, &simulated.mean, |t| t <= fitted_through),
            holdout_error: options
                .holdout
                .map(|h| series_error(s, &simulated.mean, |t| t > h)),
        })
    };
    let acquisition = series_fit(&data.acquisition, &history.acquired);
    let revenue = series_fit(&data.revenue, &history.revenue_per_customer);
    warnings.extend(series_warnings(&acquisition, &revenue));
    let (curves, cohort_curve) = fitted_curves(scenario, &groups, &history);
    Ok(Fit {
        values,
        log_likelihood: at_optimum.survival + at_optimum.acquisition + at_optimum.revenue,
        saturated_log_likelihood: saturated_survival + saturated_acquisition,
        degrees_of_freedom: cells as i64 - k as i64,
        dispersion: survival_dispersion,
        fit_error,
        holdout_error,
        curves,
        cohort_curve,
        acquisition,
        revenue,
        fitted_through,
        evaluations: minimum.evaluations,
        converged: minimum.converged,
        warnings,
        calibrated,
    })
}

/// Warnings about what the data pin down: keys correlated beyond [`STRONG_CORRELATION`] in
/// `covariance` (on the fitting scale), and keys not identified.
fn precision_warnings(values: &[FittedValue], covariance: Option<&[f64]>) -> Vec<String> {
    let mut warnings = Vec::new();
    let k = values.len();
    if let Some(c) = covariance {
        for i in 0..k {
            for j in 0..i {
                let r = c[i * k + j] / (c[i * k + i] * c[j * k + j]).sqrt();
                if r.abs() > STRONG_CORRELATION {
                    warnings.push(format!(
                        "{} and {} are strongly correlated in the fit (r = {r:.2}): the data \
                         pin down a combination of them better than either; more periods or \
                         fixing one with --set would separate them",
                        values[j].key, values[i].key
                    ));
                }
            }
        }
    }
    for v in values.iter().filter(|v| !v.identified) {
        warnings.push(format!(
            "{} is not identified by the data: the likelihood barely changes with it (its \
             interval is [{:.4}, {:.4}]); fix it with --set and fit fewer keys, or give more \
             periods or cohorts",
            v.key, v.ci_low, v.ci_high
        ));
    }
    warnings
}

/// Warnings about per-period series the simulation misses by more than
/// [`POOR_SERIES_FIT_PERCENT`], each with a hint.
fn series_warnings(acquisition: &Option<SeriesFit>, revenue: &Option<SeriesFit>) -> Vec<String> {
    [
        (
            acquisition,
            "customers won per period",
            "is market.population the size of the firm's market?",
        ),
        (
            revenue,
            "revenue per customer",
            "fit the keys it depends on, such as segments.N.value, with --fit",
        ),
    ]
    .into_iter()
    .filter_map(|(series, what, hint)| {
        let s = series
            .as_ref()
            .filter(|s| s.fit_error.rmse > POOR_SERIES_FIT_PERCENT)?;
        Some(format!(
            "the fit of {what} ({}) is poor: the simulation misses it by {:.0} % of its mean \
             (root mean square); {hint}",
            s.data.path.display(),
            s.fit_error.rmse
        ))
    })
    .collect()
}

/// Each key's value and 95 % interval from the covariance on the fitting scale, its standard
/// errors multiplied by `√variance_factor`.
fn fitted_values(
    parameters: &[Parameter],
    x: &[f64],
    covariance: Option<&[f64]>,
    variance_factor: f64,
) -> Vec<FittedValue> {
    let k = parameters.len();
    parameters
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let value = p.natural(x[i]);
            let se_scale = covariance.map_or(f64::NAN, |c| (variance_factor * c[i * k + i]).sqrt());
            let identified = se_scale.is_finite() && 2.0 * Z_95 * se_scale < UNIDENTIFIED_WIDTH;
            FittedValue {
                key: p.key.clone(),
                start: p.start,
                value,
                standard_error: if p.log_scale {
                    value * se_scale
                } else {
                    se_scale
                },
                ci_low: p.natural(x[i] - Z_95 * se_scale),
                ci_high: p.natural(x[i] + Z_95 * se_scale),
                log_scale: p.log_scale,
                identified,
            }
        })
        .collect()
}

/// The curves the cohorts meet, market first then segments in the scenario's order, and the
/// index of each cohort's.
fn fitted_curves(
    scenario: &Scenario,
    groups: &[Group],
    history: &SimulatedHistory,
) -> (Vec<FittedCurve>, Vec<usize>) {
    let mut used: Vec<Group> = groups.to_vec();
    used.sort_unstable();
    used.dedup();
    let curves = used
        .iter()
        .map(|&group| {
            let curve = group.curve(history);
            FittedCurve {
                group,
                label: match group {
                    Group::Market => "market".to_string(),
                    Group::Segment(idx) => scenario.model().segments[idx].name.clone(),
                },
                survival: curve.mean.clone(),
                survival_variance: curve.variance_of_mean.clone(),
            }
        })
        .collect();
    let cohort_curve = groups
        .iter()
        .map(|g| {
            used.iter()
                .position(|u| u == g)
                .expect("every group is used")
        })
        .collect();
    (curves, cohort_curve)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(key: &str, identified: bool) -> FittedValue {
        FittedValue {
            key: key.into(),
            start: 0.0,
            value: 0.0,
            standard_error: 1.0,
            ci_low: -2.0,
            ci_high: 2.0,
            log_scale: false,
            identified,
        }
    }

    #[test]
    fn correlated_and_unidentified_keys_are_warned_about() {
        let values = [value("a", true), value("b", false)];
        let correlated = [1.0, 0.95, 0.95, 1.0];
        let warnings = precision_warnings(&values, Some(&correlated));
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].starts_with("a and b are strongly correlated in the fit (r = 0.95)"));
        assert!(warnings[1].starts_with("b is not identified by the data"));
        let independent = [1.0, 0.5, 0.5, 1.0];
        assert_eq!(
            precision_warnings(&[value("a", true), value("b", true)], Some(&independent)),
            Vec::<String>::new()
        );
    }

    #[test]
    fn a_series_missed_by_more_than_a_quarter_of_its_mean_is_warned_about() {
        let series = |rmse| {
            Some(SeriesFit {
                data: SeriesData {
                    path: "won.csv".into(),
                    kind: super::super::data::SeriesKind::Acquired,
                    observations: vec![(1, 10.0)],
                },
                fit_error: CurveError {
                    rmse,
                    max: rmse,
                    n: 1,
                },
                holdout_error: None,
            })
        };
        assert!(series_warnings(&series(10.0), &None).is_empty());
        let warnings = series_warnings(&series(40.0), &None);
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("customers won per period (won.csv) is poor"));
        assert!(warnings[0].contains("market.population"));
    }
}
