//! From a parsed [`ScenarioFile`] to a checked [`Scenario`]: resolves strategies (preset plus
//! overrides) and checks every value against its allowed range, naming the key when one is off.

use super::file::ScenarioFile;
use super::Scenario;
use crate::error::{Error, Location, Result};
use crate::model::customers::DIRECT;
use crate::model::distributions::LARGEST_CONCENTRATION;
use crate::model::params::{ModelParams, NetworkParams, PartnerPolicy, PartnerTurnover};
use crate::strategy::{Levers, Preset, Strategy};
use crate::sweep::design::Design;

/// Most customers one scenario may hold (ids are `u32`, periods `u16`).
pub const MAX_POPULATION: u32 = 50_000_000;
/// Most periods one run may last.
pub const MAX_PERIODS: u32 = 10_000;
/// Most distributors (one byte per customer names its area, one value means direct).
pub const MAX_DISTRIBUTORS: u32 = DIRECT as u32 - 1;
/// Most segments (one byte per customer names its segment).
pub const MAX_SEGMENTS: usize = 64;

/// The largest amount of money (or any other unbounded quantity) a scenario may hold: far above
/// any firm's figures, far below where sums over millions of customer-months lose precision.
pub const MAX_AMOUNT: f64 = 1e12;

/// A value as a message shows it: `1e300` rather than three hundred digits.
fn shown(value: f64) -> String {
    if value.abs() >= 1e16 {
        format!("{value:e}")
    } else {
        format!("{value}")
    }
}

/// Collects the first problem found, with the key it concerns.
struct Checker<'a> {
    file: &'a str,
    text: Option<&'a str>,
    problem: Option<Error>,
}

impl<'a> Checker<'a> {
    fn fail(&mut self, key: &str, message: String) {
        if self.problem.is_none() {
            self.problem = Some(Error::InvalidScenario {
                file: self.file.to_string(),
                key: key.to_string(),
                location: self.text.and_then(|text| locate_key(text, key)),
                message,
            });
        }
    }

    /// `value` must lie in `[low, high]` (NaN never does).
    fn range(&mut self, key: &str, value: f64, low: f64, high: f64) {
        if !(low..=high).contains(&value) {
            self.fail(
                key,
                format!("must be between {low} and {high}, got {}", shown(value)),
            );
        }
    }

    fn probability(&mut self, key: &str, value: f64) {
        self.range(key, value, 0.0, 1.0);
    }

    /// `value` must lie in `[low, MAX_AMOUNT]`.
    fn at_least(&mut self, key: &str, value: f64, low: f64) {
        if !(low..=MAX_AMOUNT).contains(&value) {
            self.fail(
                key,
                format!(
                    "must be a number from {low} to {MAX_AMOUNT:e}, got {}",
                    shown(value)
                ),
            );
        }
    }

    /// `value` must lie in `(0, MAX_AMOUNT]`.
    fn positive(&mut self, key: &str, value: f64) {
        if !(value > 0.0 && value <= MAX_AMOUNT) {
            self.fail(
                key,
                format!(
                    "must be a number above 0 and at most {MAX_AMOUNT:e}, got {}",
                    shown(value)
                ),
            );
        }
    }

    fn count(&mut self, key: &str, value: u64, low: u64, high: u64) {
        if !(low..=high).contains(&value) {
            self.fail(
                key,
                format!("must be a whole number from {low} to {high}, got {value}"),
            );
        }
    }

    /// A Beta concentration: above 0 and at most [`LARGEST_CONCENTRATION`], or `inf` for no
    /// spread.
    fn concentration(&mut self, key: &str, value: f64) {
        let allowed = value > 0.0 && (value <= LARGEST_CONCENTRATION || value == f64::INFINITY);
        if !allowed {
            self.fail(
                key,
                format!(
                    "must be a number above 0 and at most {LARGEST_CONCENTRATION:e} (larger is \
                     less spread; inf for none), got {}",
                    shown(value)
                ),
            );
        }
    }

    /// A weight or log-odds coefficient: any finite number of moderate size.
    fn coefficient(&mut self, key: &str, value: f64) {
        self.range(key, value, -50.0, 50.0);
    }

    fn partner_turnover(&mut self, prefix: &str, turnover: &PartnerTurnover) {
        self.probability(
            &format!("{prefix}.exit_commitment"),
            turnover.exit_commitment,
        );
        self.count(
            &format!("{prefix}.exit_periods"),
            turnover.exit_periods as u64,
            1,
            MAX_PERIODS as u64,
        );
        self.at_least(
            &format!("{prefix}.replacement_cost"),
            turnover.replacement_cost,
            0.0,
        );
        self.count(
            &format!("{prefix}.onboarding_periods"),
            turnover.onboarding_periods as u64,
            0,
            MAX_PERIODS as u64,
        );
    }

    fn partner_policy(&mut self, prefix: &str, policy: &PartnerPolicy) {
        self.probability(&format!("{prefix}.favour"), policy.favour);
        self.probability(&format!("{prefix}.opportunism"), policy.opportunism);
        self.range(&format!("{prefix}.episode"), policy.episode, -1.0, 1.0);
        self.probability(&format!("{prefix}.benefits"), policy.benefits);
        self.probability(&format!("{prefix}.switching_cost"), policy.switching_cost);
        self.coefficient(
            &format!("{prefix}.commitment_baseline"),
            policy.commitment_baseline,
        );
    }
}

/// Best-effort line and column of `key` in the file: the line that assigns its last segment
/// (`name = …`) inside the table that holds it, counting `[[array]]` headers for indexed keys
/// such as `segments[1].value`.
fn locate_key(text: &str, key: &str) -> Option<Location> {
    let (table, leaf) = match key.rsplit_once('.') {
        Some((table, leaf)) => (Some(table), leaf),
        None => (None, key),
    };
    // `segments[1]` → ("segments", Some(1)); `market` → ("market", None).
    let (table_name, wanted_entry) = match table {
        Some(t) => match t.split_once('[') {
            Some((name, rest)) => (Some(name), rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (Some(t), None),
        },
        None => (None, None),
    };
    let mut in_table = table_name.is_none();
    let mut entries_seen = 0usize;
    for (line_idx, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.starts_with('[') {
            let is_array_entry = trimmed.starts_with("[[");
            let header = trimmed
                .split('#')
                .next()
                .unwrap_or("")
                .trim()
                .trim_matches(|c| c == '[' || c == ']')
                .trim();
            in_table = table_name == Some(header);
            if in_table && is_array_entry {
                entries_seen += 1;
                in_table = wanted_entry.is_none_or(|wanted| wanted + 1 == entries_seen);
            }
            continue;
        }
        if !in_table {
            continue;
        }
        if let Some(rest) = trimmed.strip_prefix(leaf) {
            if rest.trim_start().starts_with('=') {
                return Some(Location {
                    line: line_idx + 1,
                    column: line.len() - trimmed.len() + 1,
                });
            }
        }
    }
    None
}

/// Checks `file` and builds the scenario. `text` is the source, used to point at lines.
pub fn validate(file: ScenarioFile, source_name: &str, text: Option<&str>) -> Result<Scenario> {
    let mut check = Checker {
        file: source_name,
        text,
        problem: None,
    };
    let name_ok = !file.name.is_empty()
        && file.name.len() <= 64
        && file
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !name_ok {
        check.fail(
            "name",
            format!(
                "must be 1 to 64 letters, digits, '_' or '-' (it names the output folder), got {:?}",
                file.name
            ),
        );
    }
    check.count("periods", file.periods as u64, 1, MAX_PERIODS as u64);
    check.range("periods_per_year", file.periods_per_year, 1.0, 366.0);
    check.count("replications", file.replications as u64, 1, 10_000_000);
    check.range("annual_discount_rate", file.annual_discount_rate, 0.0, 1.0);

    let m = &file.market;
    check.count(
        "market.population",
        m.population as u64,
        1,
        MAX_POPULATION as u64,
    );
    if m.initial_active > m.population {
        check.fail(
            "market.initial_active",
            format!(
                "must be at most market.population ({}), got {}",
                m.population, m.initial_active
            ),
        );
    }
    check.probability("market.cogs_share", m.cogs_share);
    check.at_least("market.fixed_cost", m.fixed_cost, 0.0);
    check.probability("market.shortage_probability", m.shortage_probability);
    check.probability(
        "market.rival_campaign_probability",
        m.rival_campaign_probability,
    );
    check.probability("market.base_failure", m.base_failure);
    check.range("market.stockout_impact", m.stockout_impact, 0.0, 10.0);
    check.probability("market.advertising_max_reach", m.advertising_max_reach);
    check.positive("market.advertising_half_spend", m.advertising_half_spend);
    check.probability("market.word_of_mouth", m.word_of_mouth);
    check.probability("market.negative_word_of_mouth", m.negative_word_of_mouth);
    check.probability("market.advocate_trust", m.advocate_trust);
    check.count(
        "market.winback_cooldown",
        m.winback_cooldown as u64,
        0,
        MAX_PERIODS as u64,
    );
    check.count(
        "market.detractor_periods",
        m.detractor_periods as u64,
        0,
        MAX_PERIODS as u64,
    );
    check.probability(
        "market.failed_first_winback_factor",
        m.failed_first_winback_factor,
    );
    check.probability("market.direct_share", m.direct_share);
    check.probability("market.base_share_of_wallet", m.base_share_of_wallet);

    let r = &file.relationship;
    check.probability("relationship.trust_gain", r.trust_gain);
    check.probability("relationship.trust_loss", r.trust_loss);
    check.probability(
        "relationship.opportunism_trust_loss",
        r.opportunism_trust_loss,
    );
    check.probability("relationship.reciprocity_decay", r.reciprocity_decay);
    check.probability("relationship.commitment_speed", r.commitment_speed);
    check.coefficient("relationship.weight_trust", r.weight_trust);
    check.coefficient("relationship.weight_reciprocity", r.weight_reciprocity);
    check.coefficient("relationship.weight_benefits", r.weight_benefits);
    check.coefficient(
        "relationship.weight_switching_cost",
        r.weight_switching_cost,
    );
    check.probability("relationship.initial_trust", r.initial_trust);
    check.probability("relationship.initial_commitment", r.initial_commitment);
    check.probability("relationship.referred_trust_bonus", r.referred_trust_bonus);
    check.probability("relationship.referral_bond", r.referral_bond);

    let e = &file.episode;
    check.range("episode.success", e.success, -1.0, 1.0);
    check.range("episode.care_bonus", e.care_bonus, -1.0, 1.0);
    check.range("episode.recovered", e.recovered, -1.0, 1.0);
    check.range("episode.unrecovered", e.unrecovered, -1.0, 1.0);
    check.probability("episode.recovery_favour", e.recovery_favour);

    let d = &file.defection;
    check.coefficient("defection.baseline", d.baseline);
    check.coefficient("defection.commitment", d.commitment);
    check.coefficient("defection.trust", d.trust);
    check.range(
        "defection.novice_trust_multiplier",
        d.novice_trust_multiplier,
        0.0,
        10.0,
    );
    check.coefficient("defection.unrecovered_failure", d.unrecovered_failure);
    check.coefficient("defection.price", d.price);
    check.coefficient("defection.rival_campaign", d.rival_campaign);

    if file.segments.is_empty() || file.segments.len() > MAX_SEGMENTS {
        check.fail(
            "segments",
            format!(
                "must list 1 to {MAX_SEGMENTS} segments, got {}",
                file.segments.len()
            ),
        );
    }
    for (idx, segment) in file.segments.iter().enumerate() {
        let key = |field: &str| format!("segments[{idx}].{field}");
        if segment.name.is_empty() {
            check.fail(&key("name"), "must not be empty".into());
        }
        if file.segments[..idx].iter().any(|s| s.name == segment.name) {
            check.fail(
                &key("name"),
                format!("{:?} is used by an earlier segment", segment.name),
            );
        }
        check.positive(&key("share"), segment.share);
        check.coefficient(&key("defection_intercept"), segment.defection_intercept);
        check.at_least(&key("value"), segment.value, 0.0);
        check.probability(&key("purchase_probability"), segment.purchase_probability);
        check.range(
            &key("price_sensitivity"),
            segment.price_sensitivity,
            0.0,
            10.0,
        );
        check.probability(&key("novice_share"), segment.novice_share);
        check.coefficient(&key("commitment_baseline"), segment.commitment_baseline);
    }

    match file.network {
        NetworkParams::WattsStrogatz {
            mean_degree,
            rewiring,
        } => {
            check.count("network.mean_degree", mean_degree as u64, 2, 1_000);
            check.probability("network.rewiring", rewiring);
        }
        NetworkParams::BarabasiAlbert { mean_degree } => {
            check.count("network.mean_degree", mean_degree as u64, 2, 1_000);
        }
        NetworkParams::ErdosRenyi { mean_degree } => {
            check.count("network.mean_degree", mean_degree as u64, 1, 1_000);
        }
        NetworkParams::None {} | NetworkParams::Mixed {} => {}
    }

    let s = &file.suppliers;
    check.count("suppliers.count", s.count as u64, 0, 1_000);
    check.probability("suppliers.normal_delivery", s.normal_delivery);
    check.probability("suppliers.shortage_delivery", s.shortage_delivery);
    check.range(
        "suppliers.partnership_cost_factor",
        s.partnership_cost_factor,
        0.0,
        10.0,
    );
    check.range("suppliers.spot_cost_factor", s.spot_cost_factor, 0.0, 10.0);
    check.partner_policy("suppliers.partnership", &s.partnership);
    check.partner_policy("suppliers.spot", &s.spot);
    check.probability("suppliers.initial_trust", s.initial_trust);
    check.probability("suppliers.initial_commitment", s.initial_commitment);
    check.range(
        "suppliers.missed_delivery_episode",
        s.missed_delivery_episode,
        -1.0,
        1.0,
    );
    check.concentration(
        "suppliers.reliability_concentration",
        s.reliability_concentration,
    );
    check.concentration("suppliers.initial_concentration", s.initial_concentration);
    check.partner_turnover("suppliers.turnover", &s.turnover);

    let k = &file.distributors;
    check.count(
        "distributors.count",
        k.count as u64,
        0,
        MAX_DISTRIBUTORS as u64,
    );
    check.probability("distributors.partnership_margin", k.partnership_margin);
    check.probability("distributors.squeeze_margin", k.squeeze_margin);
    check.partner_policy("distributors.partnership", &k.partnership);
    check.partner_policy("distributors.squeeze", &k.squeeze);
    check.probability("distributors.initial_trust", k.initial_trust);
    check.probability("distributors.initial_commitment", k.initial_commitment);
    check.range(
        "distributors.stockout_episode",
        k.stockout_episode,
        -1.0,
        1.0,
    );
    check.concentration(
        "distributors.initial_concentration",
        k.initial_concentration,
    );
    check.partner_turnover("distributors.turnover", &k.turnover);

    let h = &file.heterogeneity;
    check.concentration(
        "heterogeneity.initial_trust_concentration",
        h.initial_trust_concentration,
    );
    check.concentration(
        "heterogeneity.initial_commitment_concentration",
        h.initial_commitment_concentration,
    );
    check.concentration("heterogeneity.churn_concentration", h.churn_concentration);
    check.count(
        "warm_start.periods",
        file.warm_start.periods as u64,
        0,
        MAX_PERIODS as u64,
    );
    check.concentration(
        "heterogeneity.advocacy_concentration",
        h.advocacy_concentration,
    );
    check.concentration(
        "heterogeneity.learning_concentration",
        h.learning_concentration,
    );

    if let Some(problem) = check.problem.take() {
        return Err(problem);
    }

    if file.strategies.is_empty() || file.strategies.len() > MAX_STRATEGIES {
        check.fail(
            "strategies",
            format!(
                "must list 1 to {MAX_STRATEGIES} strategies, got {}",
                file.strategies.len()
            ),
        );
    }
    let mut strategies: Vec<Strategy> = Vec::with_capacity(file.strategies.len());
    for (idx, table) in file.strategies.iter().enumerate() {
        match resolve_strategy(idx, table, source_name) {
            Ok(strategy) => {
                check_levers(&mut check, idx, &strategy.levers);
                if strategies.iter().any(|s| s.name == strategy.name) {
                    check.fail(
                        &format!("strategies[{idx}].name"),
                        format!(
                            "{:?} is used by an earlier strategy; give each a distinct name",
                            strategy.name
                        ),
                    );
                }
                strategies.push(strategy);
            }
            Err(problem) => {
                if check.problem.is_none() {
                    check.problem = Some(problem);
                }
            }
        }
    }
    let design = match &file.design {
        Some(spec) => match Design::new(spec, &file.vary, file.seed) {
            Ok(design) => Some(design),
            Err(problem) => {
                check.fail(&problem.key, problem.message);
                None
            }
        },
        None => {
            if !file.vary.is_empty() {
                check.fail(
                    "vary",
                    "[[vary]] tables need a [design] table saying how to choose the points \
                     (kind = \"grid\", \"list\", \"lhs\", \"sobol\" or \"morris\")"
                        .to_string(),
                );
            }
            None
        }
    };
    if let Some(problem) = check.problem {
        return Err(problem);
    }

    Ok(Scenario {
        name: file.name,
        description: file.description.trim().to_string(),
        periods: file.periods,
        periods_per_year: file.periods_per_year,
        replications: file.replications,
        seed: file.seed,
        annual_discount_rate: file.annual_discount_rate,
        model: ModelParams {
            market: file.market,
            relationship: file.relationship,
            episode: file.episode,
            defection: file.defection,
            heterogeneity: file.heterogeneity,
            warm_start: file.warm_start,
            segments: file.segments,
            network: file.network,
            suppliers: file.suppliers,
            distributors: file.distributors,
        },
        strategies,
        design_spec: file.design,
        vary: file.vary,
        design,
        calibration: file.calibration,
    })
}

/// The longest strategy name, in characters: long enough to describe a policy, short enough
/// for a table column and a chart legend.
pub const MAX_STRATEGY_NAME: usize = 32;

/// The most strategies one scenario may compare.
pub const MAX_STRATEGIES: usize = 16;

/// A strategy table: `preset` (required), optional `name`, and lever overrides on top of the
/// preset's levers.
fn resolve_strategy(idx: usize, table: &toml::Table, source_name: &str) -> Result<Strategy> {
    let invalid = |key: &str, message: String| Error::InvalidScenario {
        file: source_name.to_string(),
        key: format!("strategies[{idx}]{key}"),
        location: None,
        message,
    };
    let preset_names: Vec<&str> = Preset::ALL.iter().map(|p| p.name()).collect();
    let preset = match table.get("preset") {
        Some(toml::Value::String(name)) => Preset::from_name(name).ok_or_else(|| {
            invalid(
                ".preset",
                format!(
                    "unknown preset {name:?}; allowed: {}",
                    preset_names.join(", ")
                ),
            )
        })?,
        Some(other) => {
            return Err(invalid(
                ".preset",
                format!(
                    "must be a string, one of {}; got {other}",
                    preset_names.join(", ")
                ),
            ))
        }
        None => {
            return Err(invalid(
                "",
                format!("needs a preset, one of {}", preset_names.join(", ")),
            ))
        }
    };
    let name = match table.get("name") {
        Some(toml::Value::String(name))
            if name.trim().is_empty()
                || name.chars().count() > MAX_STRATEGY_NAME
                || name.chars().any(char::is_control) =>
        {
            return Err(invalid(
                ".name",
                format!(
                    "must be 1 to {MAX_STRATEGY_NAME} characters without line breaks or control \
                     characters (it labels tables and charts), got {name:?}"
                ),
            ))
        }
        Some(toml::Value::String(name)) => name.clone(),
        Some(other) => return Err(invalid(".name", format!("must be a string, got {other}"))),
        None => preset.name().to_string(),
    };
    let mut levers = toml::Table::try_from(preset.levers()).expect("levers serialize to a table");
    for (key, value) in table {
        if key != "preset" && key != "name" {
            levers.insert(key.clone(), value.clone());
        }
    }
    let levers: Levers =
        serde_path_to_error::deserialize(toml::Value::Table(levers)).map_err(|err| {
            let path = err.path().to_string();
            let key = if path == "." {
                String::new()
            } else {
                format!(".{path}")
            };
            invalid(&key, plain_message(err.inner().message()))
        })?;
    Ok(Strategy {
        name,
        preset,
        levers,
    })
}

fn check_levers(check: &mut Checker, idx: usize, levers: &Levers) {
    let key = |field: &str| format!("strategies[{idx}].{field}");
    check.range(&key("price_level"), levers.price_level, 0.01, 10.0);
    check.range(&key("intro_discount"), levers.intro_discount, 0.0, 0.99);
    check.count(
        &key("intro_periods"),
        levers.intro_periods as u64,
        0,
        MAX_PERIODS as u64,
    );
    check.probability(
        &key("price_rise_opportunism"),
        levers.price_rise_opportunism,
    );
    check.at_least(&key("acquisition_budget"), levers.acquisition_budget, 0.0);
    check.count(
        &key("personal_care_managers"),
        levers.personal_care_managers as u64,
        0,
        1_000_000,
    );
    check.count(
        &key("manager_capacity"),
        levers.manager_capacity as u64,
        0,
        1_000_000,
    );
    check.at_least(&key("manager_cost"), levers.manager_cost, 0.0);
    check.probability(&key("automated_care_effect"), levers.automated_care_effect);
    check.at_least(&key("automated_care_cost"), levers.automated_care_cost, 0.0);
    check.probability(&key("care_favour"), levers.care_favour);
    check.probability(&key("care_benefits"), levers.care_benefits);
    check.probability(&key("care_prevention"), levers.care_prevention);
    check.probability(&key("recovery_rate"), levers.recovery_rate);
    check.at_least(&key("recovery_cost"), levers.recovery_cost, 0.0);
    check.probability(&key("loyalty_reward"), levers.loyalty_reward);
    check.probability(&key("loyalty_benefits"), levers.loyalty_benefits);
    check.probability(&key("loyalty_favour"), levers.loyalty_favour);
    check.range(
        &key("referral_multiplier"),
        levers.referral_multiplier,
        0.0,
        100.0,
    );
    check.at_least(&key("referral_bonus"), levers.referral_bonus, 0.0);
    check.probability(&key("structural_bonds"), levers.structural_bonds);
    check.at_least(&key("target_min_value"), levers.target_min_value, 0.0);
}

/// Turns a TOML deserialisation error into one that names the key and the line.
pub(super) fn describe_parse_error(
    err: serde_path_to_error::Error<toml::de::Error>,
    source_name: &str,
    text: Option<&str>,
) -> Error {
    let path = err.path().to_string();
    let inner = err.into_inner();
    let location = match (text, inner.span()) {
        (Some(text), Some(span)) => Some(location_of(text, span.start)),
        _ => None,
    };
    Error::InvalidScenario {
        file: source_name.to_string(),
        key: if path == "." { String::new() } else { path },
        location,
        message: plain_message(inner.message()),
    }
}

/// A deserialiser's message in the words of a scenario file rather than of Rust: `expected u32`
/// becomes `expected a whole number from 0 to 4294967295`, `a sequence` a list, and so on.
pub(crate) fn plain_message(message: &str) -> String {
    const WORDS: [(&str, &str); 11] = [
        ("expected u8", "expected a whole number from 0 to 255"),
        ("expected u16", "expected a whole number from 0 to 65535"),
        (
            "expected u32",
            "expected a whole number from 0 to 4294967295",
        ),
        ("expected u64", "expected a whole number of at least 0"),
        ("expected usize", "expected a whole number of at least 0"),
        ("expected i64", "expected a whole number"),
        ("expected f64", "expected a number"),
        ("expected f32", "expected a number"),
        ("expected a sequence", "expected a list such as [1, 2]"),
        ("expected a map", "expected a table"),
        ("expected a boolean", "expected true or false"),
    ];
    let mut text = message.trim().to_string();
    for (rust, plain) in WORDS {
        if let Some(at) = text.find(rust) {
            let end = at + rust.len();
            // Only whole words: `expected u32` but not `expected u32x`.
            if !text[end..].starts_with(|c: char| c.is_alphanumeric()) {
                text.replace_range(at..end, plain);
            }
        }
    }
    text.replace("floating point `", "decimal number `")
        .replace("invalid type: string", "invalid type: text")
        .replace("struct ", "table ")
}

/// The key a line of scenario text assigns (`periods` for `periods = 12`), for syntax errors
/// whose message names no key, such as a number too large for any field.
pub(super) fn key_on_line(text: &str, line: usize) -> Option<String> {
    let line = text.lines().nth(line.checked_sub(1)?)?;
    let (key, _) = line.split_once('=')?;
    let key = key.trim().trim_matches('"');
    let bare = key
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    (!key.is_empty() && bare).then(|| key.to_string())
}

/// 1-based line and column of a byte offset.
pub(super) fn location_of(text: &str, offset: usize) -> Location {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    Location { line, column }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_speak_of_numbers_and_lists_not_rust_types() {
        assert_eq!(
            plain_message("invalid type: string \"abc\", expected u32"),
            "invalid type: text \"abc\", expected a whole number from 0 to 4294967295"
        );
        assert_eq!(
            plain_message("invalid type: floating point `1.5`, expected u64"),
            "invalid type: decimal number `1.5`, expected a whole number of at least 0"
        );
        assert_eq!(
            plain_message("invalid type: integer `5`, expected a sequence"),
            "invalid type: integer `5`, expected a list such as [1, 2]"
        );
    }

    #[test]
    fn the_key_of_a_line_is_found_for_messages_that_name_none() {
        let text = "name = \"x\"\n[market]\n  population = 99999999999999999999\n";
        assert_eq!(key_on_line(text, 3).as_deref(), Some("population"));
        assert_eq!(key_on_line(text, 2), None);
        assert_eq!(key_on_line(text, 9), None);
    }

    #[test]
    fn locate_key_finds_the_line_in_its_table() {
        let text = "name = \"x\"\n[market]\npopulation = 0\n[suppliers]\ncount = 3\n";
        assert_eq!(
            locate_key(text, "market.population"),
            Some(Location { line: 3, column: 1 })
        );
        assert_eq!(
            locate_key(text, "name"),
            Some(Location { line: 1, column: 1 })
        );
        assert_eq!(locate_key(text, "market.count"), None);
        let text = "[[segments]]\nvalue = 1\n[[segments]] # second\nvalue = 2\n";
        assert_eq!(
            locate_key(text, "segments[1].value"),
            Some(Location { line: 4, column: 1 })
        );
    }

    #[test]
    fn location_of_counts_lines_and_columns() {
        assert_eq!(location_of("ab\ncd", 4), Location { line: 2, column: 2 });
    }
}
