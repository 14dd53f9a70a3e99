//! Lever decomposition (docs/sweeps.md, `relsim decompose`): how much of the NPV gap between two
//! strategies each lever explains.
//!
//! Start from strategy `B`'s levers and switch them to `A`'s one at a time, in random orders:
//! a lever's contribution in one order is the change in mean NPV when it switches, and its
//! **Shapley value** is the average over orders (Shapley 1953). The contributions add up to the
//! whole gap `NPV(A) − NPV(B)` exactly, in every order and every replication, whatever the
//! interactions; averaging over orders shares each interaction fairly among the levers that
//! make it. Every lever set of a replication meets the same market (common random numbers), so
//! the contributions are paired replication by replication and their intervals cover
//! Monte-Carlo noise.

use std::collections::HashMap;

use crate::model::rng::{mix64, Xoshiro256PlusPlus};
use crate::strategy::Levers;

/// The levers whose values differ between `a` and `b`, by name, in declaration order.
pub fn differing_levers(a: &Levers, b: &Levers) -> Vec<String> {
    let (a, b) = (as_map(a), as_map(b));
    a.iter()
        .filter(|(name, value)| b.get(*name) != Some(value))
        .map(|(name, _)| name.clone())
        .collect()
}

fn as_map(levers: &Levers) -> serde_json::Map<String, serde_json::Value> {
    match serde_json::to_value(levers) {
        Ok(serde_json::Value::Object(map)) => map,
        _ => unreachable!("levers serialize to a JSON object"),
    }
}

/// The value of lever `name` in `levers`, as text.
pub fn lever_value(levers: &Levers, name: &str) -> String {
    match as_map(levers).get(name) {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

/// `b`'s levers with those of `names` whose bit is set in `mask` taken from `a`.
pub fn mixed_levers(a: &Levers, b: &Levers, names: &[String], mask: u64) -> Levers {
    let from_a = as_map(a);
    let mut mixed = as_map(b);
    for (bit, name) in names.iter().enumerate() {
        if mask & (1 << bit) != 0 {
            mixed.insert(name.clone(), from_a[name].clone());
        }
    }
    serde_json::from_value(serde_json::Value::Object(mixed))
        .expect("levers taken from two valid strategies make valid levers")
}

/// `orders` random orders of `n` levers (Fisher–Yates from `seed`); when `n! ≤ orders`, every
/// order once, so the Shapley values are exact.
pub fn lever_orders(n: usize, orders: usize, seed: u64) -> Vec<Vec<usize>> {
    let factorial = (1..=n as u64).try_fold(1u64, |acc, k| acc.checked_mul(k));
    if let Some(all) = factorial.filter(|&f| f as usize <= orders) {
        let mut every = Vec::with_capacity(all as usize);
        permutations(&mut (0..n).collect::<Vec<_>>(), 0, &mut every);
        return every;
    }
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(mix64(seed ^ 0x5348_4150));
    (0..orders)
        .map(|_| {
            let mut order: Vec<usize> = (0..n).collect();
            for i in (1..n).rev() {
                let j = rng.below(i as u32 + 1) as usize;
                order.swap(i, j);
            }
            order
        })
        .collect()
}

fn permutations(items: &mut Vec<usize>, k: usize, out: &mut Vec<Vec<usize>>) {
    if k == items.len() {
        out.push(items.clone());
        return;
    }
    for i in k..items.len() {
        items.swap(k, i);
        permutations(items, k + 1, out);
        items.swap(k, i);
    }
}

/// The lever sets (as masks) the orders visit, each once: every prefix of every order.
pub fn visited_masks(orders: &[Vec<usize>]) -> Vec<u64> {
    let mut seen = HashMap::new();
    let mut masks = Vec::new();
    let mut visit = |mask: u64| {
        if seen.insert(mask, ()).is_none() {
            masks.push(mask);
        }
    };
    for order in orders {
        let mut mask = 0u64;
        visit(mask);
        for &lever in order {
            mask |= 1 << lever;
            visit(mask);
        }
    }
    masks
}

/// Each lever's Shapley contribution in one replication, from the NPV of every visited mask
/// (`npv_of[mask]`).
pub fn shapley_contributions(
    n: usize,
    orders: &[Vec<usize>],
    npv_of: &HashMap<u64, f64>,
) -> Vec<f64> {
    let mut contributions = vec![0.0; n];
    for order in orders {
        let mut mask = 0u64;
        for &lever in order {
            let before = npv_of[&mask];
            mask |= 1 << lever;
            contributions[lever] += npv_of[&mask] - before;
        }
    }
    for c in &mut contributions {
        *c /= orders.len() as f64;
    }
    contributions
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::Preset;

    #[test]
    fn presets_differ_in_the_levers_the_table_lists() {
        let r = Preset::Relationship.levers();
        let h = Preset::Hybrid.levers();
        assert_eq!(differing_levers(&r, &h), ["target_min_value"]);
        let t = Preset::Transactional.levers();
        let names = differing_levers(&r, &t);
        assert!(names.contains(&"price_level".to_string()));
        assert!(names.contains(&"supplier_policy".to_string()));
        let all = (1u64 << names.len()) - 1;
        assert_eq!(mixed_levers(&r, &t, &names, all), r);
        assert_eq!(mixed_levers(&r, &t, &names, 0), t);
        assert_eq!(lever_value(&t, "supplier_policy"), "spot");
    }

    /// `v(S) = Σ_{i∈S} wᵢ + 10·[0 ∈ S ∧ 1 ∈ S]`: Shapley gives each its own weight and splits
    /// the interaction equally between levers 0 and 1.
    #[test]
    fn shapley_values_add_up_and_share_interactions_equally() {
        let weights = [1.0, 2.0, 4.0];
        let value = |mask: u64| {
            let own: f64 = (0..3)
                .filter(|i| mask & (1 << i) != 0)
                .map(|i| weights[i])
                .sum();
            own + if mask & 0b11 == 0b11 { 10.0 } else { 0.0 }
        };
        let orders = lever_orders(3, 100, 1);
        assert_eq!(orders.len(), 6, "every order of three levers");
        let npv_of: HashMap<u64, f64> = visited_masks(&orders)
            .into_iter()
            .map(|m| (m, value(m)))
            .collect();
        let c = shapley_contributions(3, &orders, &npv_of);
        assert!((c[0] - 6.0).abs() < 1e-12 && (c[1] - 7.0).abs() < 1e-12);
        assert!((c[2] - 4.0).abs() < 1e-12);
        assert!((c.iter().sum::<f64>() - value(0b111)).abs() < 1e-12);
        // Sampled orders still add up exactly.
        let sampled = lever_orders(12, 20, 7);
        assert_eq!(sampled.len(), 20);
        let npv_of: HashMap<u64, f64> = visited_masks(&sampled)
            .into_iter()
            .map(|m| (m, m.count_ones() as f64 * 3.0 + (m & 1) as f64))
            .collect();
        let c = shapley_contributions(12, &sampled, &npv_of);
        assert!((c.iter().sum::<f64>() - npv_of[&0xfff]).abs() < 1e-9);
    }
}
