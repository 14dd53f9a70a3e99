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
#[derive(Debug, Clone, PartialEq)]
pub struct World {
    pub population: Population,
    pub network: SocialNetwork,
    /// Each supplier's and distributor's starting state and reliability.
    pub partners: PartnerStarts,
}

impl World {
    /// Draws the population and the network from the replication's own streams.
    pub fn generate(model: &ModelParams, seeds: &ReplicationSeeds) -> Self {
        Self::generate_with(model, seeds, &InOrder)
    }

    /// [`World::generate`], with the work that splits into pieces done by `workers`: the
    /// network and the population (they draw from streams of their own), and within them the
    /// customers' individual parameters and the network's rows. The same world whoever does it.
    pub fn generate_with<W: Workers>(
        model: &ModelParams,
        seeds: &ReplicationSeeds,
        workers: &W,
    ) -> Self {
        enum Part {
            Network(Option<SocialNetwork>),
            People(Option<Box<(Population, PartnerStarts)>>),
        }
        let mut parts = [Part::Network(None), Part::People(None)];
        workers.each(&mut parts, |part| match part {
            Part::Network(network) => {
                *network = Some(Self::generate_network(model, seeds, workers))
            }
            Part::People(people) => {
                *people = Some(Box::new(people_and_partners(model, seeds, workers)))
            }
        });
        match parts {
            [Part::Network(Some(network)), Part::People(Some(people))] => {
                let (population, partners) = *people;
                Self {
                    population,
                    network,
                    partners,
                }
            }
            _ => unreachable!("each part is made by the call on it"),
        }
    }

    /// The replication's social network alone. It depends only on `model.network`, the
    /// population's size and the network stream, so callers that vary other parameters (a
    /// calibration) can draw it once and pass it to [`World::around_network`].
    pub fn generate_network<W: Workers>(
        model: &ModelParams,
        seeds: &ReplicationSeeds,
        workers: &W,
    ) -> SocialNetwork {
        let mut network_rng = Xoshiro256PlusPlus::seed_from_u64(seeds.network);
        SocialNetwork::generate_with(
            &model.network,
            model.market.population,
            &mut network_rng,
            workers,
        )
    }

    /// The world of `model` and `seeds` around `network`, which must be
    /// [`World::generate_network`]'s for the same network keys, population and seeds: then it
    /// is exactly [`World::generate`]'s world.
    pub fn around_network<W: Workers>(
        model: &ModelParams,
        seeds: &ReplicationSeeds,
        network: SocialNetwork,
        workers: &W,
    ) -> Self {
        let (population, partners) = people_and_partners(model, seeds, workers);
        Self {
            population,
            partners,
            network,
        }
    }
}

/// The population (with its histories under a warm start) and the partners' starts, from the
/// population and heterogeneity streams.
fn people_and_partners<W: Workers>(
    model: &ModelParams,
    seeds: &ReplicationSeeds,
    workers: &W,
) -> (Population, PartnerStarts) {
    let mut population_rng = Xoshiro256PlusPlus::seed_from_u64(seeds.population);
    let mut heterogeneity_rng = Xoshiro256PlusPlus::seed_from_u64(seeds.heterogeneity);
    let mut population =
        Population::generate_with(model, &mut population_rng, &mut heterogeneity_rng, workers);
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
    (population, partners)
}
