//! The firm's stakeholder graph: firm, suppliers and distributors, with a relationship on each
//! firm–partner edge (docs/model.md §2, §5, §6). Customers are stakeholders too, but live in
//! [`super::customers::Customers`] in structure-of-arrays form for speed.

use petgraph::graph::{EdgeIndex, NodeIndex, UnGraph};

use super::params::ModelParams;
use super::relationship::Relationship;

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
    /// The firm linked to every supplier and distributor, each relationship at its initial state.
    pub fn new(model: &ModelParams) -> Self {
        let mut graph = UnGraph::new_undirected();
        let firm = graph.add_node(Stakeholder::Firm);
        let mut link = |node: Stakeholder, trust: f64, commitment: f64| {
            let partner = graph.add_node(node);
            graph.add_edge(
                firm,
                partner,
                Relationship {
                    trust,
                    reciprocity: 0.0,
                    commitment,
                },
            )
        };
        let suppliers = &model.suppliers;
        let supplier_edges = (0..suppliers.count)
            .map(|k| {
                link(
                    Stakeholder::Supplier(k),
                    suppliers.initial_trust,
                    suppliers.initial_commitment,
                )
            })
            .collect();
        let distributors = &model.distributors;
        let distributor_edges = (0..distributors.count)
            .map(|k| {
                link(
                    Stakeholder::Distributor(k),
                    distributors.initial_trust,
                    distributors.initial_commitment,
                )
            })
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
