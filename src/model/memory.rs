//! How the engine's arrays meet the memory system: hints that bring cache lines in early, for
//! loops whose next reads lie far apart in a large market's arrays (asking a few steps early
//! lets their misses overlap instead of following one another), and zeroed arrays whose pages
//! are written at once. Neither changes a value the program computes.

/// Asks the processor to bring the cache line holding `value` into its caches, without waiting
/// for it; nothing where the target has no such instruction.
#[inline(always)]
pub fn prefetch<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch reads nothing the program sees and cannot fault, whatever the
    // address; this one is of a live reference anyway.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>((value as *const T).cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}

/// [`prefetch`] of every cache line of `values[range]`, or of the part of it that exists.
#[inline(always)]
pub fn prefetch_range<T>(values: &[T], range: std::ops::Range<usize>) {
    let per_line = (64 / std::mem::size_of::<T>().max(1)).max(1);
    for idx in range.step_by(per_line) {
        if let Some(value) = values.get(idx) {
            prefetch(value);
        }
    }
}

/// `vec![value; n]`, its pages written now rather than left to the allocator's zeroed pages.
///
/// A large zeroed allocation maps every page to the system's shared page of zeros until it is
/// written: an array read before it is written (a customer's `since`, its lifetime margin,
/// its voice, the neighbour counts) then takes a copy-on-write fault at its first write in the
/// period loop, and when several threads share the process each such fault flushes every
/// core's address cache by an interrupt (6 % of a 10-million-customer run on 2 threads).
/// Writing the values here takes the faults once, at set-up, without the copies.
pub fn written_now<T: Copy>(value: T, n: usize) -> Vec<T> {
    // Hidden from the compiler and the standard library, which would otherwise ask the
    // allocator for zeroed memory when the value is zero.
    let value = std::hint::black_box(value);
    let mut values = Vec::with_capacity(n);
    values.resize(n, value);
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_now_is_vec_of_the_value() {
        assert_eq!(written_now(0u16, 5), vec![0u16; 5]);
        assert_eq!(written_now(0.0f32, 3), vec![0.0f32; 3]);
        assert_eq!(written_now(7u8, 2), vec![7u8; 2]);
        assert!(written_now(0u32, 0).is_empty());
    }
}
