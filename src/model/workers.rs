//! Who does a set of independent pieces of work: the engine and the world's generators split
//! their work into pieces of a fixed size (so that the pieces, and hence the results, do not
//! depend on the number of threads) and hand them to a [`Workers`]. The library itself has only
//! [`InOrder`]; `experiment`, the only module with threads, runs the pieces on its pool.

/// Runs `work` once on each item. Each call may change only its item and must read nothing
/// another call changes, so a `Workers` may make the calls in any order or at once: the result
/// is the same to the bit.
pub trait Workers: Sync {
    fn each<T: Send, F: Fn(&mut T) + Sync>(&self, items: &mut [T], work: F);

    /// Whether [`Workers::each`] may run calls at the same time. When it may not, work that
    /// would share state between the calls can instead be done by the caller alone, without
    /// synchronisation (the result is the same to the bit).
    fn at_once(&self) -> bool;
}

/// One piece after another on the calling thread.
#[derive(Debug, Clone, Copy, Default)]
pub struct InOrder;

impl Workers for InOrder {
    fn each<T: Send, F: Fn(&mut T) + Sync>(&self, items: &mut [T], work: F) {
        items.iter_mut().for_each(work);
    }

    fn at_once(&self) -> bool {
        false
    }
}
