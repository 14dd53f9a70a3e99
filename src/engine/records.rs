//! What one replication reports: a record per period and a summary per run (docs/model.md §9).
//!
//! Each record is a struct of `f64` fields declared once by [`metric_record!`], which also gives
//! the field names in order and the values as an array, so exporters and statistics iterate over
//! metrics without listing them again.

use serde::Serialize;

/// Declares a record type of `f64` metrics with `NAMES`, `COUNT` and `values()`.
macro_rules! metric_record {
    ($(#[$meta:meta])* $name:ident { $($(#[$field_meta:meta])* $field:ident),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
        pub struct $name {
            $($(#[$field_meta])* pub $field: f64,)*
        }

        impl $name {
            /// Metric names in declaration order.
            pub const NAMES: &'static [&'static str] = &[$(stringify!($field)),*];
            /// Number of metrics.
            pub const COUNT: usize = Self::NAMES.len();

            /// Metric values in the order of [`Self::NAMES`].
            pub fn values(&self) -> [f64; Self::COUNT] {
                [$(self.$field),*]
            }

            /// The record holding `values`, in the order of [`Self::NAMES`].
            pub fn from_values(values: [f64; Self::COUNT]) -> Self {
                let mut fields = values.into_iter();
                Self {
                    $($field: fields.next().expect("one value per field"),)*
                }
            }
        }
    };
}

metric_record! {
    /// Everything measured in one period of one replication.
    PeriodRecord {
        /// Active customers at the end of the period.
        active,
        /// Customers won by advertising.
        acquired_paid,
        /// Customers won by word of mouth.
        acquired_referred,
        /// Customers who left.
        defections,
        /// Share of customers active at the start who are still active at the end.
        retention,
        /// Share of the period-0 customers still active (survival curve).
        initial_survival,
        revenue,
        cogs,
        distributor_margin,
        acquisition_cost,
        care_cost,
        loyalty_cost,
        recovery_cost,
        referral_cost,
        fixed_cost,
        /// Cost of replacing partners who left (docs/model.md §5, §6).
        partner_replacement_cost,
        profit,
        /// Discounted profit up to and including this period.
        cumulative_npv,
        customer_trust,
        customer_reciprocity,
        customer_commitment,
        supplier_trust,
        supplier_reciprocity,
        supplier_commitment,
        distributor_trust,
        distributor_reciprocity,
        distributor_commitment,
        /// Service failures (before recovery).
        failures,
        failures_recovered,
        fill_rate,
        /// Active customers with trust at or above the advocate threshold (start of period).
        advocates,
        /// Lapsed customers spreading negative word of mouth (start of period).
        detractors,
        personal_care_customers,
        automated_care_customers,
        /// 1 in a period with a supply shortage.
        shortage,
        /// 1 in a period with a rival's campaign.
        rival_campaign,
        /// Suppliers and distributors who left and were replaced.
        partner_replacements,
    }
}

metric_record! {
    /// The per-replication results of one strategy (docs/model.md §9).
    RunMetrics {
        /// Net present value of profit over the horizon.
        npv,
        /// Discounted margin after serving costs per customer served (before acquisition costs).
        clv,
        /// Acquisition cost (advertising and referral bonuses) per acquired customer.
        cac,
        /// Pooled monthly retention: 1 − defections / customer-periods at risk.
        retention,
        /// Active customers after the last period.
        final_active,
        /// Mean spell length in periods of every customer served (censored at the horizon).
        mean_tenure,
        /// Variance of spell lengths (censored at the horizon).
        tenure_variance,
        /// Customers acquired during the run.
        acquired,
        /// Share of acquisitions won by word of mouth.
        referred_share,
        customer_trust,
        customer_commitment,
        supplier_trust,
        supplier_commitment,
        distributor_trust,
        distributor_commitment,
        /// Undiscounted revenue over the horizon.
        revenue,
        /// Undiscounted profit over the horizon.
        profit,
        /// Lifetime value of referred customers: margin after variable serving costs over the
        /// first ⌊T/2⌋ periods of a spell, discounted to its acquisition, for spells acquired
        /// in the first half of the run (so every one is observed for the whole window).
        referred_clv,
        /// The same for customers won by advertising.
        paid_clv,
        /// Share of unrecovered failures suffered with commitment ≥ 0.7 after which the
        /// customer left in the same period.
        strong_bond_failure_exit,
        /// Share of failed (unrecovered) first episodes after which the customer left.
        failed_first_exit,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_values_line_up() {
        let record = PeriodRecord {
            revenue: 7.0,
            ..Default::default()
        };
        let idx = PeriodRecord::NAMES
            .iter()
            .position(|&n| n == "revenue")
            .unwrap();
        assert_eq!(record.values()[idx], 7.0);
        assert_eq!(RunMetrics::NAMES[0], "npv");
        assert_eq!(RunMetrics::COUNT, RunMetrics::default().values().len());
    }
}
