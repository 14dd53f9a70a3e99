//! Fitting scenario keys to observed retention by maximum likelihood with the simulation in the
//! loop (docs/calibration.md): Nelder–Mead on the keys (log scale for concentrations), standard
//! errors from the numerical Hessian of the log-likelihood, goodness of fit, and the projection
//! past the data.

use super::data::{Cohort, RetentionData};
use super::likelihood::{log_likelihood, saturated_log_likelihood};
use crate::error::{Error, Result};
use crate::experiment::calibrate::initial_survival;
use crate::scenario::Scenario;
use crate::stats::optimize::{
    inverse_positive_definite, nelder_mead, response_surface_hessian, NelderMeadOptions,
};

/// The keys fitted when none are named: the churn baseline and its spread across customers.
pub const DEFAULT_KEYS: [&str; 2] = ["defection.baseline", "heterogeneity.churn_concentration"];

/// Estimates correlated more strongly than this get a warning.
const STRONG_CORRELATION: f64 = 0.9;

/// Restarts of the optimiser from its best point, at most.
const RESTARTS: usize = 5;

/// A restart that improves `ln L` by less than this ends the search.
const RESTART_IMPROVEMENT: f64 = 0.5;

/// Where a key without spread (an infinite concentration) starts when it is fitted.
const START_CONCENTRATION: f64 = 100.0;

/// A poor fit: the simulated curve misses the observed one by more than this many percentage
/// points somewhere.
pub const POOR_FIT_POINTS: f64 = 3.0;

/// A parameter whose 95 % interval on its fitting scale is wider than this is reported as not
/// identified by the data (on the log scale: more than a factor e⁴ ≈ 55 from end to end).
const UNIDENTIFIED_WIDTH: f64 = 4.0;

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

/// How far a curve is from observed survival, in percentage points of the cohort.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CurveError {
    pub rmse_points: f64,
    pub max_points: f64,
    /// Observations compared.
    pub n: usize,
}

/// A fit and everything `relsim calibrate` reports about it.
#[derive(Debug, Clone)]
pub struct Fit {
    pub values: Vec<FittedValue>,
    /// `ln L` of the fitted data at the optimum, and of the saturated model.
    pub log_likelihood: f64,
    pub saturated_log_likelihood: f64,
    /// Intervals observed (the likelihood's cells) minus fitted keys.
    pub degrees_of_freedom: i64,
    /// Observed vs fitted survival over the fitted periods.
    pub fit_error: CurveError,
    /// Observed vs projected survival after the holdout period, if any.
    pub holdout_error: Option<CurveError>,
    /// `S(t)`, `t = 0..=horizon`, at the fitted values: the fit and its projection.
    pub survival: Vec<f64>,
    /// The variance of each `S(t)` as an estimate (across replications over their number).
    pub survival_variance: Vec<f64>,
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
    /// `2·(ln L_saturated − ln L)`: the deviance of the fitted data.
    pub fn deviance(&self) -> f64 {
        2.0 * (self.saturated_log_likelihood - self.log_likelihood)
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

/// Observed survival as shares of each cohort against `survival`, over the observations of
/// `cohorts` that `keep` selects.
fn curve_error(cohorts: &[Cohort], survival: &[f64], keep: impl Fn(u32) -> bool) -> CurveError {
    let deviations: Vec<f64> = cohorts
        .iter()
        .flat_map(|c| {
            c.observations
                .iter()
                .filter(|(t, _)| keep(*t))
                .map(move |&(t, n)| 100.0 * (n / c.size - survival[t as usize]))
        })
        .collect();
    let n = deviations.len();
    CurveError {
        rmse_points: (deviations.iter().map(|d| d * d).sum::<f64>() / n.max(1) as f64).sqrt(),
        max_points: deviations.iter().fold(0.0f64, |m, d| m.max(d.abs())),
        n,
    }
}

/// Fits `options.keys` of `scenario` to `data` (see the module docs). `on_evaluation` is
/// called after each evaluation of the likelihood with their count so far (for a progress
/// display).
pub fn fit(
    scenario: &Scenario,
    data: &RetentionData,
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
    let fitted_cohorts: Vec<Cohort> = data
        .cohorts
        .iter()
        .map(|c| c.up_to(fitted_through))
        .filter(|c| !c.observations.is_empty())
        .collect();

    let mut parameters = Vec::with_capacity(options.keys.len());
    let mut warnings = Vec::new();
    for key in &options.keys {
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
        let log_scale = key.ends_with("concentration");
        let start = if log_scale && value.is_infinite() {
            warnings.push(format!(
                "{key} starts from no spread at all (inf); the fit starts it at \
                 {START_CONCENTRATION}"
            ));
            START_CONCENTRATION
        } else {
            value
        };
        if log_scale && start <= 0.0 {
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

    let pool = crate::experiment::calibrate::calibration_pool(options.threads)?;
    let mut fitting = scenario.with("periods", fitted_through as i64)?;
    if let Some(replications) = options.replications {
        fitting = fitting.with("replications", replications as i64)?;
    }
    let evaluations = std::cell::Cell::new(0usize);
    let negative_ll = |x: &[f64]| -> f64 {
        evaluations.set(evaluations.get() + 1);
        on_evaluation(evaluations.get());
        match with_values(&fitting, &parameters, x) {
            Ok(candidate) => {
                let survival = initial_survival(&candidate, options.strategy_idx, &pool).mean;
                -fitted_cohorts
                    .iter()
                    .map(|c| log_likelihood(c, &survival))
                    .sum::<f64>()
            }
            // A value the scenario refuses (out of its range) is no candidate.
            Err(_) => f64::NAN,
        }
    };
    let start: Vec<f64> = parameters
        .iter()
        .map(|p| p.fitting_scale(p.start))
        .collect();
    let steps = vec![0.5; parameters.len()];
    let nelder_mead_options = |budget: usize| NelderMeadOptions {
        f_tolerance: 1e-3,
        x_tolerance: 1e-3,
        max_evaluations: budget,
    };
    let mut minimum = nelder_mead(
        negative_ll,
        &start,
        &steps,
        &nelder_mead_options(options.max_evaluations),
    );
    // A simulated likelihood has small jumps that can make the simplex collapse early; a
    // restart from the best point with the full steps either confirms it or moves on.
    for _ in 0..RESTARTS {
        let budget = options.max_evaluations.saturating_sub(minimum.evaluations);
        if budget <= parameters.len() + 1 {
            break;
        }
        let again = nelder_mead(
            negative_ll,
            &minimum.x,
            &steps,
            &nelder_mead_options(budget),
        );
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

    // Standard errors from the curvature of −ln L on the fitting scale, read off a quadratic
    // fitted around the optimum over ±2 steps. The steps are then set to two standard errors
    // found, but never below 0.1: closer in, the simulation's small jumps would outweigh the
    // curvature.
    let mut h = vec![0.25; parameters.len()];
    let mut covariance = None;
    for _ in 0..2 {
        covariance = response_surface_hessian(negative_ll, &minimum.x, &h)
            .and_then(|curvature| inverse_positive_definite(&curvature, parameters.len()));
        let Some(c) = &covariance else { break };
        for (i, step) in h.iter_mut().enumerate() {
            *step = (2.0 * c[i * parameters.len() + i].sqrt()).clamp(0.1, 1.0);
        }
    }
    // The curve at the optimum, projected to the horizon: a run's first periods do not depend
    // on its horizon, so this one simulation serves the fit, its precision and the projection.
    let calibrated = with_values(scenario, &parameters, &minimum.x)?;
    let horizon = scenario.periods().max(last);
    let mut projecting = calibrated.with("periods", horizon as i64)?;
    if let Some(replications) = options.replications {
        projecting = projecting.with("replications", replications as i64)?;
    }
    let projected = initial_survival(&projecting, options.strategy_idx, &pool);
    let (survival, survival_variance) = (projected.mean, projected.variance_of_mean);
    // The simulated curve is itself an estimate. Simulated maximum likelihood's variance is the
    // data's times `1 + n_data / n_simulated` (Gouriéroux & Monfort 1996), where `n_simulated`
    // is the binomial sample as precise as the simulated curve: replications share market-wide
    // events (rival campaigns, shortages), so the curve's variance across replications, not the
    // number of simulated customers, says how precise it is. The least precise fitted period
    // counts.
    let n_data: f64 = fitted_cohorts.iter().map(|c| c.size).sum();
    let n_simulated = (1..=fitted_through as usize)
        .filter(|&t| survival_variance[t] > 0.0)
        .map(|t| survival[t] * (1.0 - survival[t]) / survival_variance[t])
        .fold(f64::INFINITY, f64::min);
    let simulation_factor = (1.0 + n_data / n_simulated).sqrt();
    if simulation_factor > 1.5 {
        warnings.push(format!(
            "the simulated curve is noisy for data this size (as precise as {n_simulated:.0} \
             customers against the data's {n_data:.0}): the intervals are {simulation_factor:.1} \
             times wider than the data alone would give; raise --replications"
        ));
    }
    let values: Vec<FittedValue> = parameters
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let value = p.natural(minimum.x[i]);
            let se_scale = covariance.as_ref().map_or(f64::NAN, |c| {
                simulation_factor * c[i * parameters.len() + i].sqrt()
            });
            let (low, high) = (
                p.natural(minimum.x[i] - 1.959_963_984_540_054 * se_scale),
                p.natural(minimum.x[i] + 1.959_963_984_540_054 * se_scale),
            );
            let identified = se_scale.is_finite() && 2.0 * 1.96 * se_scale < UNIDENTIFIED_WIDTH;
            FittedValue {
                key: p.key.clone(),
                start: p.start,
                value,
                standard_error: if p.log_scale {
                    value * se_scale
                } else {
                    se_scale
                },
                ci_low: low,
                ci_high: high,
                log_scale: p.log_scale,
                identified,
            }
        })
        .collect();
    if let Some(c) = &covariance {
        let k = parameters.len();
        for i in 0..k {
            for j in 0..i {
                let r = c[i * k + j] / (c[i * k + i] * c[j * k + j]).sqrt();
                if r.abs() > STRONG_CORRELATION {
                    warnings.push(format!(
                        "{} and {} are strongly correlated in the fit (r = {r:.2}): the data \
                         pin down a combination of them better than either; more periods or \
                         fixing one with --set would separate them",
                        parameters[j].key, parameters[i].key
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

    let log_likelihood_at = fitted_cohorts
        .iter()
        .map(|c| log_likelihood(c, &survival))
        .sum::<f64>();
    let saturated = fitted_cohorts.iter().map(saturated_log_likelihood).sum();
    let cells: usize = fitted_cohorts.iter().map(|c| c.observations.len()).sum();
    let fit_error = curve_error(&data.cohorts, &survival, |t| t <= fitted_through);
    let holdout_error = options
        .holdout
        .map(|k| curve_error(&data.cohorts, &survival, |t| t > k));
    if fit_error.max_points > POOR_FIT_POINTS {
        warnings.push(format!(
            "the fit is poor: the simulated curve misses the observed one by up to {:.1} \
             percentage points; the model's churn drivers may not match this market (try \
             --fit with more keys, or another --strategy)",
            fit_error.max_points
        ));
    }
    if data.cohorts.iter().any(|c| c.nominal_size) {
        warnings.push(format!(
            "percentages without a cohort size are taken as shares of {} customers; standard \
             errors depend on that size (add a size column)",
            super::data::NOMINAL_SIZE
        ));
    }
    Ok(Fit {
        values,
        log_likelihood: log_likelihood_at,
        saturated_log_likelihood: saturated,
        degrees_of_freedom: cells as i64 - parameters.len() as i64,
        fit_error,
        holdout_error,
        survival,
        survival_variance,
        fitted_through,
        evaluations: minimum.evaluations,
        converged: minimum.converged,
        warnings,
        calibrated,
    })
}
