//! Which instructions the customers' pass runs on: the target's baseline, or the wider set
//! most x86-64 processors of the last decade have, chosen once per run by asking the processor.
//!
//! The pass is compiled twice from the same source (`Chunk::pass`). The wider set gives the
//! compiler shorter ways to say the same thing (three-operand shifts, bit scans, loads of
//! flags): about 8 % fewer instructions for a replication (scripts/ab-instructions.sh). The
//! results are the same to the bit on either: every operation is the same IEEE or integer
//! operation, and Rust never fuses a multiplication and an addition it was not asked to fuse
//! (tested below: `pass_gives_the_same_bits_on_every_instruction_set`).

/// The instructions a pass may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum InstructionSet {
    /// What every processor of the target has (SSE2 on x86-64).
    Baseline,
    /// x86-64-v3: AVX2, BMI1, BMI2, FMA, LZCNT, MOVBE and POPCNT (Intel since Haswell, 2013; AMD
    /// since Excavator, 2015).
    #[cfg(target_arch = "x86_64")]
    X86_64V3,
}

impl InstructionSet {
    /// The widest set this processor has.
    pub(super) fn detected() -> Self {
        #[cfg(target_arch = "x86_64")]
        if crate::model::isa::has_x86_64_v3() {
            return Self::X86_64V3;
        }
        Self::Baseline
    }

    /// Every set this processor can run, the baseline first.
    #[cfg(test)]
    pub(super) fn available() -> Vec<Self> {
        let mut sets = vec![Self::Baseline];
        if Self::detected() != Self::Baseline {
            sets.push(Self::detected());
        }
        sets
    }
}

#[cfg(test)]
mod tests {
    use super::super::*;
    use super::InstructionSet;
    use crate::scenario::{parse, presets, Override};

    /// Every bundled scenario, every strategy, four chunks (one of them short): each period's
    /// record and every customer's final state are the same to the bit on every instruction
    /// set this processor has (on a processor with only the baseline, the test compares the
    /// baseline with itself and says so).
    #[test]
    fn pass_gives_the_same_bits_on_every_instruction_set() {
        let sets = InstructionSet::available();
        if sets.len() == 1 {
            eprintln!("only the baseline instruction set on this processor: nothing to compare");
        }
        let population = 3 * CHUNK_CUSTOMERS + 1234;
        for name in presets::names() {
            let overrides: Vec<Override> = [
                format!("market.population={population}"),
                format!("market.initial_active={}", population / 5),
                "periods=24".to_string(),
            ]
            .iter()
            .map(|o| Override::parse(o).unwrap())
            .collect();
            let scenario = parse(presets::find(name).unwrap().text, name, &overrides).unwrap();
            let seeds = ReplicationSeeds::derive(11, 3);
            let world = World::generate(scenario.model(), &seeds);
            for strategy_idx in 0..scenario.strategies().len() {
                let config = scenario.run_config(strategy_idx);
                let outcome = |set: InstructionSet| {
                    let mut engine = Engine::new(&config, &world, &seeds, &InOrder);
                    engine.instruction_set = set;
                    let records: Vec<String> = (1..=config.periods)
                        .map(|period| format!("{:?}", engine.step(period, &InOrder, &mut NoTrace)))
                        .collect();
                    let states: Vec<String> = engine
                        .chunks
                        .iter()
                        .map(|chunk| format!("{:?}", chunk.customers))
                        .collect();
                    (records, states)
                };
                let baseline = outcome(InstructionSet::Baseline);
                assert_eq!(baseline.1.len(), 4, "{name}: four chunks");
                for &set in &sets[1..] {
                    assert!(
                        outcome(set) == baseline,
                        "{name}, strategy {strategy_idx}: {set:?} differs from the baseline"
                    );
                }
            }
        }
    }
}
