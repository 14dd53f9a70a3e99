//! Running totals of a run and the per-run metrics computed from them (docs/model.md §9).

use super::*;

/// Running totals a run needs beyond its period records.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct RunTotals {
    pub(super) n_initial: u64,
    pub(super) npv: f64,
    /// Discounted margin after serving costs, before acquisition costs (for CLV).
    pub(super) discounted_customer_margin: f64,
    pub(super) customer_periods_at_risk: u64,
    /// The chunks' customer totals, added up in chunk order when the run ends.
    pub(super) customers: CustomerTotals,
}

/// Running totals of customers' spells and of the stylized facts, kept per chunk.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct CustomerTotals {
    pub(super) acquired: u64,
    pub(super) referred: u64,
    /// Periods of completed spells plus censored ones (added at the end), and their squares.
    pub(super) tenure_periods: u64,
    pub(super) tenure_periods_squared: u64,
    pub(super) spells: u64,
    /// Lifetime value (discounted to acquisition) summed over referred and over paid spells.
    pub(super) referred_value: f64,
    pub(super) referred_spells: u64,
    pub(super) paid_value: f64,
    pub(super) paid_spells: u64,
    /// Unrecovered failures suffered with commitment ≥ 0.7, and exits right after them.
    pub(super) strong_bond_failures: u64,
    pub(super) strong_bond_failure_exits: u64,
    /// Unrecovered failures in a customer's first episode, and exits right after them.
    pub(super) failed_first_episodes: u64,
    pub(super) failed_first_exits: u64,
}

impl CustomerTotals {
    pub(super) fn add(&mut self, other: &Self) {
        self.acquired += other.acquired;
        self.referred += other.referred;
        self.tenure_periods += other.tenure_periods;
        self.tenure_periods_squared += other.tenure_periods_squared;
        self.spells += other.spells;
        self.referred_value += other.referred_value;
        self.referred_spells += other.referred_spells;
        self.paid_value += other.paid_value;
        self.paid_spells += other.paid_spells;
        self.strong_bond_failures += other.strong_bond_failures;
        self.strong_bond_failure_exits += other.strong_bond_failure_exits;
        self.failed_first_episodes += other.failed_first_episodes;
        self.failed_first_exits += other.failed_first_exits;
    }
}

/// Sums over the customers active at the end of a period.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct CustomerSums {
    pub(super) active: u32,
    pub(super) initial_active: u32,
    pub(super) trust: f64,
    pub(super) reciprocity: f64,
    pub(super) commitment: f64,
}

impl CustomerSums {
    #[inline(always)]
    pub(super) fn add_active(&mut self, relationship: Relationship, initial: bool) {
        self.active += 1;
        self.initial_active += u32::from(initial);
        self.trust += relationship.trust;
        self.reciprocity += relationship.reciprocity;
        self.commitment += relationship.commitment;
    }

    pub(super) fn add(&mut self, other: &Self) {
        self.active += other.active;
        self.initial_active += other.initial_active;
        self.trust += other.trust;
        self.reciprocity += other.reciprocity;
        self.commitment += other.commitment;
    }
}

impl<'a> Engine<'a> {
    /// Per-run metrics once the horizon is reached (docs/model.md §9).
    pub(super) fn finish<W: Workers>(
        &mut self,
        periods: &[PeriodRecord],
        workers: &W,
    ) -> RunMetrics {
        // Spells still open at the horizon are censored there, chunk by chunk.
        let (config, run_terms) = (self.config, &self.run_terms);
        let (population, social) = (&self.world.population, &self.social);
        workers.each(&mut self.chunks, |chunk| {
            let mut turns = Turns::of(chunk, population, social);
            // By the status masks, as in the pass: who is active looks random to the branch
            // predictor. In index order all the same, so the values add up in the same order.
            let n_customers = turns.customers.flags.len();
            for block_start in (0..n_customers).step_by(BLOCK) {
                let block_len = BLOCK.min(n_customers - block_start);
                let active = turns.customers.active_mask(block_start, block_len);
                for local in set_bits(active, block_start) {
                    turns.close_spell(local, config.periods, config, run_terms);
                }
            }
        });
        for chunk in &self.chunks {
            self.totals.customers.add(&chunk.totals);
        }
        let run = &self.totals;
        let totals = &run.customers;
        let sum = |f: fn(&PeriodRecord) -> f64| periods.iter().map(f).sum::<f64>();
        let defections = sum(|r| r.defections);
        let acquisition_spend = sum(|r| r.acquisition_cost + r.referral_cost);
        let ratio = |numerator: f64, denominator: f64| {
            if denominator > 0.0 {
                numerator / denominator
            } else {
                f64::NAN
            }
        };
        let last = periods.last().copied().unwrap_or_default();
        let mean_tenure = ratio(totals.tenure_periods as f64, totals.spells as f64);
        RunMetrics {
            npv: run.npv,
            clv: ratio(
                run.discounted_customer_margin,
                (run.n_initial + totals.acquired) as f64,
            ),
            cac: ratio(acquisition_spend, totals.acquired as f64),
            retention: 1.0 - ratio(defections, run.customer_periods_at_risk as f64),
            final_active: last.active,
            mean_tenure,
            tenure_variance: ratio(
                totals.tenure_periods_squared as f64
                    - totals.spells as f64 * mean_tenure * mean_tenure,
                totals.spells as f64 - 1.0,
            ),
            acquired: totals.acquired as f64,
            referred_share: ratio(totals.referred as f64, totals.acquired as f64),
            customer_trust: last.customer_trust,
            customer_commitment: last.customer_commitment,
            supplier_trust: last.supplier_trust,
            supplier_commitment: last.supplier_commitment,
            distributor_trust: last.distributor_trust,
            distributor_commitment: last.distributor_commitment,
            revenue: sum(|r| r.revenue),
            profit: sum(|r| r.profit),
            referred_clv: ratio(totals.referred_value, totals.referred_spells as f64),
            paid_clv: ratio(totals.paid_value, totals.paid_spells as f64),
            strong_bond_failure_exit: ratio(
                totals.strong_bond_failure_exits as f64,
                totals.strong_bond_failures as f64,
            ),
            failed_first_exit: ratio(
                totals.failed_first_exits as f64,
                totals.failed_first_episodes as f64,
            ),
        }
    }
}
