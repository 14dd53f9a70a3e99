//! The customers' social network in compressed sparse row (CSR) form (docs/model.md §2).
//!
//! Generators produce an undirected edge list; [`SocialNetwork::from_edges`] turns it into CSR,
//! dropping self-loops and duplicate edges. The small world writes its rows directly
//! (`SmallWorld`), to the same network. Node ids are customer indices (`u32`), so the
//! network costs 4 bytes per edge endpoint plus 4 bytes per customer of offsets.

use super::memory::prefetch;
use super::params::NetworkParams;
use super::rng::{StreamChance, Xoshiro256PlusPlus};
use super::workers::{InOrder, Workers};

/// An undirected graph over customers in CSR form.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SocialNetwork {
    /// `offsets[i]..offsets[i + 1]` indexes the neighbours of customer `i`.
    offsets: Vec<u32>,
    neighbours: Vec<u32>,
}

impl SocialNetwork {
    /// A network of `n_customers` without ties.
    pub fn empty(n_customers: u32) -> Self {
        Self {
            offsets: vec![0; n_customers as usize + 1],
            neighbours: Vec::new(),
        }
    }

    /// Builds the network the parameters ask for. `mixed` and `none` have no ties.
    pub fn generate(
        params: &NetworkParams,
        n_customers: u32,
        rng: &mut Xoshiro256PlusPlus,
    ) -> Self {
        Self::generate_with(params, n_customers, rng, &InOrder)
    }

    /// [`SocialNetwork::generate`], with the rows of the CSR built or sorted in pieces by
    /// `workers` (the same network whoever does them).
    pub fn generate_with<W: Workers>(
        params: &NetworkParams,
        n_customers: u32,
        rng: &mut Xoshiro256PlusPlus,
        workers: &W,
    ) -> Self {
        let from_edges =
            |edges: Vec<(u32, u32)>| Self::from_edges_with(n_customers, &edges, workers);
        match *params {
            NetworkParams::WattsStrogatz {
                mean_degree,
                rewiring,
            } => SmallWorld::draw(n_customers, mean_degree, rewiring, rng).network(workers),
            NetworkParams::BarabasiAlbert { mean_degree } => {
                from_edges(barabasi_albert_edges(n_customers, mean_degree, rng))
            }
            NetworkParams::ErdosRenyi { mean_degree } => {
                from_edges(erdos_renyi_edges(n_customers, mean_degree, rng))
            }
            NetworkParams::None {} | NetworkParams::Mixed {} => from_edges(Vec::new()),
        }
    }

    /// CSR from an undirected edge list; self-loops and repeated edges are dropped.
    pub fn from_edges(n_customers: u32, edges: &[(u32, u32)]) -> Self {
        Self::from_edges_with(n_customers, edges, &InOrder)
    }

    /// [`SocialNetwork::from_edges`], with the rows sorted and de-duplicated in pieces of
    /// consecutive rows by `workers`, then moved together.
    pub fn from_edges_with<W: Workers>(
        n_customers: u32,
        edges: &[(u32, u32)],
        workers: &W,
    ) -> Self {
        let n = n_customers as usize;
        let mut degree = vec![0u32; n + 1];
        for &(a, b) in edges {
            if a != b {
                degree[a as usize] += 1;
                degree[b as usize] += 1;
            }
        }
        let mut offsets = vec![0u32; n + 1];
        for i in 0..n {
            offsets[i + 1] = offsets[i] + degree[i];
        }
        let mut cursor = offsets.clone();
        let mut neighbours = vec![0u32; offsets[n] as usize];
        for &(a, b) in edges {
            if a != b {
                neighbours[cursor[a as usize] as usize] = b;
                cursor[a as usize] += 1;
                neighbours[cursor[b as usize] as usize] = a;
                cursor[b as usize] += 1;
            }
        }
        // Sort and de-duplicate each row, compacting each piece of rows to the front of its
        // part of `neighbours`; `degree` becomes each row's count without duplicates.
        struct RowPiece<'a> {
            /// Offsets of the piece's rows, relative to the start of `neighbours`.
            offsets: &'a [u32],
            neighbours: &'a mut [u32],
            degree: &'a mut [u32],
            kept: usize,
        }
        let mut pieces = Vec::new();
        let mut rest: &mut [u32] = &mut neighbours;
        for (piece_idx, degree) in degree[..n].chunks_mut(ROW_PIECE).enumerate() {
            let rows = piece_idx * ROW_PIECE..piece_idx * ROW_PIECE + degree.len();
            let len = (offsets[rows.end] - offsets[rows.start]) as usize;
            let (part, tail) = std::mem::take(&mut rest).split_at_mut(len);
            rest = tail;
            pieces.push(RowPiece {
                offsets: &offsets[rows.start..=rows.end],
                neighbours: part,
                degree,
                kept: 0,
            });
        }
        workers.each(&mut pieces, |piece| {
            let base = piece.offsets[0];
            let mut write = 0;
            for (row, degree) in piece.degree.iter_mut().enumerate() {
                let start = (piece.offsets[row] - base) as usize;
                let end = (piece.offsets[row + 1] - base) as usize;
                piece.neighbours[start..end].sort_unstable();
                let row_start = write;
                let mut previous = None;
                for read in start..end {
                    let v = piece.neighbours[read];
                    if previous != Some(v) {
                        piece.neighbours[write] = v;
                        write += 1;
                        previous = Some(v);
                    }
                }
                *degree = (write - row_start) as u32;
            }
            piece.kept = write;
        });
        let kept: Vec<(usize, usize)> = pieces
            .iter()
            .map(|piece| (piece.offsets[0] as usize, piece.kept))
            .collect();
        drop(pieces);
        let mut write = 0usize;
        for (start, len) in kept {
            neighbours.copy_within(start..start + len, write);
            write += len;
        }
        let mut compact_offsets = vec![0u32; n + 1];
        for i in 0..n {
            compact_offsets[i + 1] = compact_offsets[i] + degree[i];
        }
        neighbours.truncate(write);
        neighbours.shrink_to_fit();
        Self {
            offsets: compact_offsets,
            neighbours,
        }
    }

    /// Number of customers.
    pub fn n_customers(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Number of undirected edges.
    pub fn n_edges(&self) -> usize {
        self.neighbours.len() / 2
    }

    /// The largest number of neighbours any customer has.
    pub fn max_degree(&self) -> u32 {
        self.offsets
            .windows(2)
            .map(|pair| pair[1] - pair[0])
            .max()
            .unwrap_or(0)
    }

    /// The neighbours of `customer_idx`, sorted.
    #[inline(always)]
    pub fn neighbours(&self, customer_idx: usize) -> &[u32] {
        let start = self.offsets[customer_idx] as usize;
        let end = self.offsets[customer_idx + 1] as usize;
        &self.neighbours[start..end]
    }

    /// Asks the processor to bring `customer_idx`'s offset into the cache.
    #[inline(always)]
    pub fn prefetch_offset(&self, customer_idx: usize) {
        prefetch(&self.offsets[customer_idx]);
    }

    /// Asks the processor to bring the start of `customer_idx`'s row into the cache.
    #[inline(always)]
    pub fn prefetch_row(&self, customer_idx: usize) {
        if let Some(first) = self.neighbours.get(self.offsets[customer_idx] as usize) {
            prefetch(first);
        }
    }

    /// Bytes held by the network's arrays.
    pub fn memory_bytes(&self) -> usize {
        (self.offsets.capacity() + self.neighbours.capacity()) * std::mem::size_of::<u32>()
    }
}

/// Rows per piece of the CSR's sorting (a size fixed here, never the number of threads).
const ROW_PIECE: usize = 1 << 14;

/// How many rewired edges on the small world's scatter loops ask for the counts they will
/// need.
const SCATTER_AHEAD: usize = 16;

/// Watts–Strogatz: a ring where each node links to its `half = mean_degree / 2` clockwise
/// neighbours, each edge's far end rewired to a uniform node with probability `rewiring`
/// (edges drawn node by node, step by step).
///
/// Most edges stay on the ring, so instead of listing every edge and scattering both ends to
/// their rows (random writes all over a large market's arrays, 6 % of a 10-million-customer
/// run), [`SmallWorld::network`] writes each row in order: its ring neighbours on both sides
/// whose edge was not rewired, then the few rewired ends put in their places. The network is
/// the same as [`SocialNetwork::from_edges`] of [`SmallWorld::edges`] (tested).
struct SmallWorld {
    n: u32,
    half: u32,
    /// Bit `node·half + s − 1` set when `node`'s edge of step `s` was rewired (one bit per
    /// edge: 5 MB for ten million customers of degree 8).
    rewired_bits: Vec<u64>,
    /// The rewired edges `(node, new far end)`, in the order they were drawn.
    rewired: Vec<(u32, u32)>,
}

impl SmallWorld {
    fn draw(n: u32, mean_degree: u32, rewiring: f64, rng: &mut Xoshiro256PlusPlus) -> Self {
        let half = (mean_degree / 2).min(n.saturating_sub(1) / 2);
        let edges = n as usize * half as usize;
        let mut rewired_bits = vec![0u64; edges.div_ceil(64)];
        // Room for all but a rare excess of rewired edges (six standard deviations above
        // their mean), so that a large market's list is not copied as it grows.
        let expected = edges as f64 * rewiring.clamp(0.0, 1.0);
        let mut rewired = Vec::with_capacity((expected + 6.0 * expected.sqrt()) as usize + 16);
        // The stream drawn from a copy in registers (the pushes would otherwise make it
        // stored back at every draw), handed back at the end.
        let mut stream = rng.clone();
        let rewired_chance = StreamChance::new(rewiring);
        for bit in 0..edges {
            if stream.happens(rewired_chance) {
                // Edge `bit` is node `bit / half`'s of step `bit % half + 1`.
                rewired.push(((bit / half as usize) as u32, stream.below(n)));
                rewired_bits[bit / 64] |= 1 << (bit % 64);
            }
        }
        *rng = stream;
        Self {
            n,
            half,
            rewired_bits,
            rewired,
        }
    }

    /// Whether the edge of `node`'s step `step` was rewired.
    #[inline(always)]
    fn is_rewired(&self, node: u32, step: u32) -> bool {
        let bit = node as usize * self.half as usize + step as usize - 1;
        self.rewired_bits[bit / 64] >> (bit % 64) & 1 == 1
    }

    /// The edge list the generic CSR builder would take, which the rows are tested against.
    #[cfg(test)]
    fn edges(&self) -> Vec<(u32, u32)> {
        let mut edges = Vec::with_capacity(self.n as usize * self.half as usize);
        let mut rewired = self.rewired.iter();
        for node in 0..self.n {
            for step in 1..=self.half {
                let target = if self.is_rewired(node, step) {
                    rewired.next().expect("a rewired edge for each set bit").1
                } else {
                    (node + step) % self.n
                };
                edges.push((node, target));
            }
        }
        edges
    }

    /// The CSR built row by row, its rows in pieces of consecutive customers by `workers`.
    ///
    /// Every row is written straight into the network's one array of neighbours: a piece of
    /// rows owns the room its rows could take at most (their rings and all their rewired
    /// ends) and writes them one after another from its start; the pieces are then moved
    /// together.
    fn network<W: Workers>(&self, workers: &W) -> SocialNetwork {
        let n = self.n as usize;
        let ring_len = 2 * self.half as usize;
        // The rewired edges' ends by node (both ends of each; self-loops dropped), node `i`'s
        // from `ends_at[i]` to `ends_at[i + 1]`. Each node's count is put two places on, so that
        // after the running sum `ends_at[i + 1]` is where node `i`'s ends start: it serves as
        // the node's cursor while they are written and ends where the next node's start. No
        // copy of the array is needed for the cursors (40 MB for ten million customers).
        let mut ends_at = vec![0u32; n + 2];
        // The far ends fall anywhere in a large market's arrays: each loop asks for the
        // counts (and then the places) of the edges a few on, so that the misses overlap.
        for (idx, &(node, target)) in self.rewired.iter().enumerate() {
            if let Some(&(_, ahead)) = self.rewired.get(idx + SCATTER_AHEAD) {
                prefetch(&ends_at[ahead as usize + 2]);
            }
            if node != target {
                ends_at[node as usize + 2] += 1;
                ends_at[target as usize + 2] += 1;
            }
        }
        let mut total = 0;
        for count in &mut ends_at {
            total += *count;
            *count = total;
        }
        let mut ends = vec![0u32; total as usize];
        for (idx, &(node, target)) in self.rewired.iter().enumerate() {
            if let Some(&(_, ahead)) = self.rewired.get(idx + SCATTER_AHEAD) {
                prefetch(&ends_at[ahead as usize + 1]);
            }
            // Half as far on, its count is in the cache: the place it points to.
            if let Some(&(_, ahead)) = self.rewired.get(idx + SCATTER_AHEAD / 2) {
                if let Some(place) = ends.get(ends_at[ahead as usize + 1] as usize) {
                    prefetch(place);
                }
            }
            if node != target {
                let cursor = &mut ends_at[node as usize + 1];
                ends[*cursor as usize] = target;
                *cursor += 1;
                let cursor = &mut ends_at[target as usize + 1];
                ends[*cursor as usize] = node;
                *cursor += 1;
            }
        }
        ends_at.truncate(n + 1);
        // The most room rows `..i` can take.
        let room_before = |i: usize| i * ring_len + ends_at[i] as usize;
        let mut neighbours = vec![0u32; room_before(n)];
        // Each row's length at `offsets[i + 1]`, summed into the rows' ends at the last.
        let mut offsets = vec![0u32; n + 1];
        struct Piece<'a> {
            first: usize,
            /// The piece's room, its rows written from the front.
            neighbours: &'a mut [u32],
            degree: &'a mut [u32],
            written: usize,
        }
        let mut pieces = Vec::with_capacity(n.div_ceil(ROW_PIECE));
        let mut rest: &mut [u32] = &mut neighbours;
        for (piece_idx, degree) in offsets[1..].chunks_mut(ROW_PIECE).enumerate() {
            let first = piece_idx * ROW_PIECE;
            let room = room_before(first + degree.len()) - room_before(first);
            let (part, tail) = std::mem::take(&mut rest).split_at_mut(room);
            rest = tail;
            pieces.push(Piece {
                first,
                neighbours: part,
                degree,
                written: 0,
            });
        }
        workers.each(&mut pieces, |piece| {
            super::isa::on_widest(
                #[inline(always)]
                || {
                    let mut written = 0;
                    for (local, degree) in piece.degree.iter_mut().enumerate() {
                        let node = piece.first + local;
                        let rewired_ends =
                            &ends[ends_at[node] as usize..ends_at[node + 1] as usize];
                        let room =
                            &mut piece.neighbours[written..written + ring_len + rewired_ends.len()];
                        let len = self.write_row(node as u32, rewired_ends, room);
                        *degree = len as u32;
                        written += len;
                    }
                    piece.written = written;
                },
            )
        });
        let moves: Vec<(usize, usize)> = pieces
            .iter()
            .map(|piece| (room_before(piece.first), piece.written))
            .collect();
        drop(pieces);
        let mut written = 0;
        for (start, len) in moves {
            neighbours.copy_within(start..start + len, written);
            written += len;
        }
        neighbours.truncate(written);
        neighbours.shrink_to_fit();
        let mut end = 0u32;
        for offset in &mut offsets {
            end += *offset;
            *offset = end;
        }
        SocialNetwork {
            offsets,
            neighbours,
        }
    }

    /// Writes `node`'s row, sorted and without repeats, at the front of `room` (room for its
    /// whole ring and `rewired_ends`, the ends of its rewired edges), and returns its length.
    #[inline(always)]
    fn write_row(&self, node: u32, rewired_ends: &[u32], room: &mut [u32]) -> usize {
        let half = self.half;
        // Ring neighbours behind, nearest last, then ahead, nearest first. Each is written,
        // then kept by moving the end past it unless its edge was rewired: whether it was looks
        // random to the branch predictor.
        let mut kept = 0;
        if node >= half && node + half < self.n {
            // Away from where the ring wraps, the ring part comes out sorted: the few rewired
            // ends go in their places, unless already there.
            for step in (1..=half).rev() {
                room[kept] = node - step;
                kept += usize::from(!self.is_rewired(node - step, step));
            }
            for step in 1..=half {
                room[kept] = node + step;
                kept += usize::from(!self.is_rewired(node, step));
            }
            for &end in rewired_ends {
                // Its place, found from the back (rows are short), and shifted into.
                let mut place = kept;
                while place > 0 && room[place - 1] > end {
                    place -= 1;
                }
                if place > 0 && room[place - 1] == end {
                    continue;
                }
                for i in (place..kept).rev() {
                    room[i + 1] = room[i];
                }
                room[place] = end;
                kept += 1;
            }
            kept
        } else {
            // Where the ring wraps (no remainder operation: `step < n`, so one wrap at most),
            // the row is sorted whole and repeats dropped.
            for step in (1..=half).rev() {
                room[kept] = if node >= step {
                    node - step
                } else {
                    node + self.n - step
                };
                kept += usize::from(!self.is_rewired(room[kept], step));
            }
            for step in 1..=half {
                let ahead = node + step;
                room[kept] = if ahead >= self.n {
                    ahead - self.n
                } else {
                    ahead
                };
                kept += usize::from(!self.is_rewired(node, step));
            }
            let len = kept + rewired_ends.len();
            room[kept..len].copy_from_slice(rewired_ends);
            let row = &mut room[..len];
            row.sort_unstable();
            let mut unique = 0;
            for read in 0..row.len() {
                if read == 0 || row[read] != row[unique - 1] {
                    row[unique] = row[read];
                    unique += 1;
                }
            }
            unique
        }
    }
}

/// Barabási–Albert preferential attachment with `m = mean_degree / 2` edges per new node, started
/// from a clique of `m + 1` nodes. Sampling uniformly from the list of edge endpoints picks nodes
/// in proportion to their degree.
fn barabasi_albert_edges(
    n: u32,
    mean_degree: u32,
    rng: &mut Xoshiro256PlusPlus,
) -> Vec<(u32, u32)> {
    let m = (mean_degree / 2).max(1);
    let seed_nodes = (m + 1).min(n);
    let mut edges = Vec::with_capacity(n as usize * m as usize);
    let mut endpoints: Vec<u32> = Vec::with_capacity(2 * n as usize * m as usize);
    for a in 0..seed_nodes {
        for b in (a + 1)..seed_nodes {
            edges.push((a, b));
            endpoints.extend([a, b]);
        }
    }
    for node in seed_nodes..n {
        for _ in 0..m {
            let target = endpoints[rng.below(endpoints.len() as u32) as usize];
            edges.push((node, target));
            endpoints.extend([node, target]);
        }
    }
    edges
}

/// Erdős–Rényi `G(n, M)` with `M = n·mean_degree / 2` uniformly drawn edges.
fn erdos_renyi_edges(n: u32, mean_degree: u32, rng: &mut Xoshiro256PlusPlus) -> Vec<(u32, u32)> {
    if n < 2 {
        return Vec::new();
    }
    let n_edges = n as usize * mean_degree as usize / 2;
    (0..n_edges).map(|_| (rng.below(n), rng.below(n))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mean_degree(network: &SocialNetwork) -> f64 {
        2.0 * network.n_edges() as f64 / network.n_customers() as f64
    }

    fn is_symmetric(network: &SocialNetwork) -> bool {
        (0..network.n_customers()).all(|i| {
            network.neighbours(i).iter().all(|&j| {
                network
                    .neighbours(j as usize)
                    .binary_search(&(i as u32))
                    .is_ok()
            })
        })
    }

    /// The row-by-row small world is the generic CSR of the same edges, for rings small and
    /// large (several pieces of rows), without, with some and with every edge rewired, and of
    /// high degree.
    #[test]
    fn small_world_rows_equal_the_csr_of_its_edges() {
        for (n, mean_degree, rewiring) in [
            (1, 8, 0.1),
            (2, 8, 0.5),
            (5, 4, 0.3),
            (9, 8, 0.0),
            (100, 8, 0.1),
            (100, 10, 1.0),
            (40_000, 8, 0.1),
            (50_000, 6, 0.4),
            (300, 140, 0.2),
        ] {
            let seed = n as u64 + mean_degree as u64;
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
            let edges = SmallWorld::draw(n, mean_degree, rewiring, &mut rng).edges();
            let expected = SocialNetwork::from_edges(n, &edges);
            let params = NetworkParams::WattsStrogatz {
                mean_degree,
                rewiring,
            };
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
            let built = SocialNetwork::generate(&params, n, &mut rng);
            assert_eq!(
                built, expected,
                "n = {n}, degree {mean_degree}, rewiring {rewiring}"
            );
            if rewiring == 0.0 {
                // Every node keeps its ring neighbours on both sides.
                let ring = 2 * (mean_degree as usize / 2);
                assert!((0..n as usize).all(|i| built.neighbours(i).len() == ring));
            }
        }
    }

    #[test]
    fn csr_drops_loops_and_duplicates() {
        let network = SocialNetwork::from_edges(4, &[(0, 1), (1, 0), (2, 2), (1, 3)]);
        assert_eq!(network.neighbours(0), &[1]);
        assert_eq!(network.neighbours(1), &[0, 3]);
        assert!(network.neighbours(2).is_empty());
        assert_eq!(network.n_edges(), 2);
    }

    #[test]
    fn lattice_without_rewiring_is_a_ring() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        let params = NetworkParams::WattsStrogatz {
            mean_degree: 4,
            rewiring: 0.0,
        };
        let network = SocialNetwork::generate(&params, 10, &mut rng);
        assert_eq!(network.neighbours(0), &[1, 2, 8, 9]);
        assert_eq!(mean_degree(&network), 4.0);
    }

    #[test]
    fn generators_reach_their_mean_degree_and_are_symmetric() {
        let cases = [
            NetworkParams::WattsStrogatz {
                mean_degree: 8,
                rewiring: 0.1,
            },
            NetworkParams::BarabasiAlbert { mean_degree: 8 },
            NetworkParams::ErdosRenyi { mean_degree: 8 },
        ];
        for params in cases {
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
            let network = SocialNetwork::generate(&params, 5_000, &mut rng);
            let degree = mean_degree(&network);
            assert!((7.8..=8.01).contains(&degree), "{params:?}: {degree}");
            assert!(is_symmetric(&network), "{params:?}");
        }
    }

    #[test]
    fn preferential_attachment_makes_hubs() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        let ba = SocialNetwork::generate(
            &NetworkParams::BarabasiAlbert { mean_degree: 8 },
            5_000,
            &mut rng,
        );
        let max_degree = (0..5_000).map(|i| ba.neighbours(i).len()).max().unwrap();
        assert!(max_degree > 60, "max degree {max_degree}");
    }

    #[test]
    fn none_and_mixed_have_no_ties() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        for params in [NetworkParams::None {}, NetworkParams::Mixed {}] {
            assert_eq!(SocialNetwork::generate(&params, 100, &mut rng).n_edges(), 0);
        }
    }
}
