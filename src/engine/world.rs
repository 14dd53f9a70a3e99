//! What every strategy of a replication shares: its seeds and its world (the customers'
//! fixed attributes and their social network).

use super::*;

/// The seeds of one replication's streams, derived from the master seed alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplicationSeeds {
    /// The replication's own seed, reported in `runs.csv`.
    pub replication: u64,
    pub market: u64,
    pub suppliers: u64,
    pub agents: u64,
    pub network: u64,
    pub population: u64,
    pub heterogeneity: u64,
}

impl ReplicationSeeds {
    /// The seeds of replication `replication_idx` under `master_seed` (docs/model.md §1).
    pub fn derive(master_seed: u64, replication_idx: u64) -> Self {
        let replication = mix64(master_seed ^ mix64(replication_idx));
        Self {
            replication,
            market: derive_seed(master_seed, replication_idx, Stream::Market),
            suppliers: derive_seed(master_seed, replication_idx, Stream::Suppliers),
            agents: derive_seed(master_seed, replication_idx, Stream::Agents),
            network: derive_seed(master_seed, replication_idx, Stream::Network),
            population: derive_seed(master_seed, replication_idx, Stream::Population),
            heterogeneity: derive_seed(master_seed, replication_idx, Stream::Heterogeneity),
        }
    }
}

/// What every strategy of one replication shares: the customers' fixed attributes and their
/// social network.
#[derive(Debug, Clone)]
pub struct World {
    pub population: Population,
    pub network: SocialNetwork,
    /// Each supplier's and distributor's starting state and reliability.
    pub partners: PartnerStarts,
}

impl World {
    /// Draws the population and the network from the replication's own streams.
    pub fn generate(model: &ModelParams, seeds: &ReplicationSeeds) -> Self {
        Self::around_network(model, seeds, Self::generate_network(model, seeds))
    }

    /// The replication's social network alone. It depends only on `model.network`, the
    /// population's size and the network stream, so callers that vary other parameters (a
    /// calibration) can draw it once and pass it to [`World::around_network`].
    pub fn generate_network(model: &ModelParams, seeds: &ReplicationSeeds) -> SocialNetwork {
        let mut network_rng = Xoshiro256PlusPlus::seed_from_u64(seeds.network);
        SocialNetwork::generate(&model.network, model.market.population, &mut network_rng)
    }

    /// The world of `model` and `seeds` around `network`, which must be
    /// [`World::generate_network`]'s for the same network keys, population and seeds: then it
    /// is exactly [`World::generate`]'s world.
    pub fn around_network(
        model: &ModelParams,
        seeds: &ReplicationSeeds,
        network: SocialNetwork,
    ) -> Self {
        let mut population_rng = Xoshiro256PlusPlus::seed_from_u64(seeds.population);
        let mut heterogeneity_rng = Xoshiro256PlusPlus::seed_from_u64(seeds.heterogeneity);
        let mut population =
            Population::generate(model, &mut population_rng, &mut heterogeneity_rng);
        // Drawn after the customers, so that partners' spread leaves customers' draws as they were.
        let partners = PartnerStarts::generate(model, &mut heterogeneity_rng);
        // Histories last, so that a cold start draws exactly what it drew before they existed.
        let periods = model.warm_start.periods;
        if periods > 0 {
            population.history = Some(History::live(
                model,
                &population,
                periods,
                &mut heterogeneity_rng,
            ));
        }
        Self {
            population,
            partners,
            network,
        }
    }
}
