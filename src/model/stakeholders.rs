//! The firm's stakeholder graph: firm, suppliers and distributors, with a relationship on each
//! firm–partner edge (docs/model.md §2, §5, §6). Customers are stakeholders too, but live in
//! [`super::customers::Customers`] in structure-of-arrays form for speed.

use petgraph::graph::{EdgeIndex, NodeIndex, UnGraph};

use super::distributions::beta_by_mean;
use super::params::ModelParams;
use super::relationship::Relationship;
use super::rng::Xoshiro256PlusPlus;

/// What each partner brings to a replication, shared by every strategy: its starting
/// relationship with the firm and, for a supplier, its delivery reliability in normal times.
#[derive(Debug, Clone, PartialEq)]
pub struct PartnerStarts {
    pub suppliers: Vec<Relationship>,
    pub supplier_reliability: Vec<f64>,
    pub distributors: Vec<Relationship>,
}

impl PartnerStarts {
    /// Each partner's starting state and reliability, drawn from `rng` around the scenario's
    /// values (no draw where a spread is `inf`: every partner then has the scenario's values).
    pub fn generate(model: &ModelParams, rng: &mut Xoshiro256PlusPlus) -> Self {
        let start = |rng: &mut Xoshiro256PlusPlus, trust, commitment, concentration| Relationship {
            trust: beta_by_mean(rng, trust, concentration),
            reciprocity: 0.0,
            commitment: beta_by_mean(rng, commitment, concentration),
        };
        let s = &model.suppliers;
        let d = &model.distributors;
        let suppliers = (0..s.count)
            .map(|_| {
                start(
                    rng,
                    s.initial_trust,
                    s.initial_commitment,
                    s.initial_concentration,
                )
            })
            .collect();
        let supplier_reliability = (0..s.count)
            .map(|_| beta_by_mean(rng, s.normal_delivery, s.reliability_concentration))
            .collect();
        let distributors = (0..d.count)
            .map(|_| {
                start(
                    rng,
                    d.initial_trust,
                    d.initial_commitment,
                    d.initial_concentration,
                )
            })
            .collect();
        Self {
            suppliers,
            supplier_reliability,
            distributors,
        }
    }
}

/// A node of the stakeholder graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stakeholder {
    Firm,
    Supplier(u32),
    Distributor(u32),
}

/// The firm, its partners and their relationships.
#[derive(Debug, Clone)]
pub struct StakeholderGraph {
    graph: UnGraph<Stakeholder, Relationship>,
    firm: NodeIndex,
    supplier_edges: Vec<EdgeIndex>,
    distributor_edges: Vec<EdgeIndex>,
}

impl StakeholderGraph {
    /// The firm linked to every supplier and distributor, each relationship at its starting
    /// state (one per partner, docs/model.md §5, §6).
    pub fn new(starts: &PartnerStarts) -> Self {
        let mut graph = UnGraph::new_undirected();
        let firm = graph.add_node(Stakeholder::Firm);
        let mut link = |node: Stakeholder, start: &Relationship| {
            let partner = graph.add_node(node);
            graph.add_edge(firm, partner, *start)
        };
        let supplier_edges = (0..)
            .zip(&starts.suppliers)
            .map(|(k, start)| link(Stakeholder::Supplier(k), start))
            .collect();
        let distributor_edges = (0..)
            .zip(&starts.distributors)
            .map(|(k, start)| link(Stakeholder::Distributor(k), start))
            .collect();
        Self {
            graph,
            firm,
            supplier_edges,
            distributor_edges,
        }
    }

    /// The firm's node.
    pub fn firm(&self) -> NodeIndex {
        self.firm
    }

    /// The underlying petgraph graph, for inspection and export.
    pub fn graph(&self) -> &UnGraph<Stakeholder, Relationship> {
        &self.graph
    }

    pub fn n_suppliers(&self) -> usize {
        self.supplier_edges.len()
    }

    pub fn n_distributors(&self) -> usize {
        self.distributor_edges.len()
    }

    /// Supplier `k`'s relationship with the firm.
    pub fn supplier(&self, k: usize) -> Relationship {
        self.graph[self.supplier_edges[k]]
    }

    /// Distributor `k`'s relationship with the firm.
    pub fn distributor(&self, k: usize) -> Relationship {
        self.graph[self.distributor_edges[k]]
    }

    pub fn set_supplier(&mut self, k: usize, relationship: Relationship) {
        self.graph[self.supplier_edges[k]] = relationship;
    }

    pub fn set_distributor(&mut self, k: usize, relationship: Relationship) {
        self.graph[self.distributor_edges[k]] = relationship;
    }

    /// Mean relationship over the suppliers (`None` without suppliers).
    pub fn mean_supplier(&self) -> Option<Relationship> {
        self.mean_of(&self.supplier_edges)
    }

    /// Mean relationship over the distributors (`None` without distributors).
    pub fn mean_distributor(&self) -> Option<Relationship> {
        self.mean_of(&self.distributor_edges)
    }

    fn mean_of(&self, edges: &[EdgeIndex]) -> Option<Relationship> {
        if edges.is_empty() {
            return None;
        }
        let n = edges.len() as f64;
        let mut sum = Relationship {
            trust: 0.0,
            reciprocity: 0.0,
            commitment: 0.0,
        };
        for &edge in edges {
            let r = self.graph[edge];
            sum.trust += r.trust;
            sum.reciprocity += r.reciprocity;
            sum.commitment += r.commitment;
        }
        Some(Relationship {
            trust: sum.trust / n,
            reciprocity: sum.reciprocity / n,
            commitment: sum.commitment / n,
        })
    }
}
