//! A hint to the processor's caches, for loops whose next reads lie far apart in a large
//! market's arrays: asking for them a few steps early lets their misses overlap instead of
//! following one another. It changes no value the program computes.

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
