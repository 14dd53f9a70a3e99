//! Work run on the widest instructions this processor has: x86-64-v3 (AVX2, BMI1, BMI2, FMA,
//! LZCNT, MOVBE, and x86-64-v2's POPCNT, which it includes) where the processor has it, the
//! target's baseline elsewhere, from one source and with the same results to the bit (Rust
//! never fuses a multiplication and an addition it was not asked to). The customers' pass
//! chooses through `engine::isa`, so that a test can run it on both; the world's builders,
//! whose pieces run in closures handed to the worker pool, through [`on_widest`] (4 % fewer
//! instructions for a world; the wide builders' worlds are the baseline's: every snapshot test
//! compares exported results with files baseline builds wrote).

/// `work()`, compiled for x86-64-v3 where the processor has it and for the target's baseline
/// elsewhere, with the same results to the bit. `work` should be an `#[inline(always)]`
/// closure, so that its body is compiled inside the wide version.
#[inline(always)]
pub fn on_widest<R>(work: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    if has_x86_64_v3() {
        // SAFETY: the processor has every feature the function enables.
        return unsafe { on_x86_64_v3(work) };
    }
    work()
}

/// The one place x86-64-v3's features are listed: `x86_64_v3!(detected)` asks the processor
/// whether it has them all; `x86_64_v3! { fn … }` compiles a function with them
/// (`#[target_feature]` takes only a literal, so the list cannot be a constant). POPCNT belongs
/// to x86-64-v2, which v3 includes, but no AVX feature implies it: without it `count_ones`
/// compiles to a dozen shifts and masks.
macro_rules! x86_64_v3 {
    (detected) => {
        std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("bmi1")
            && std::arch::is_x86_feature_detected!("bmi2")
            && std::arch::is_x86_feature_detected!("fma")
            && std::arch::is_x86_feature_detected!("lzcnt")
            && std::arch::is_x86_feature_detected!("movbe")
            && std::arch::is_x86_feature_detected!("popcnt")
    };
    ($(#[$attribute:meta])* $visibility:vis fn $($function:tt)*) => {
        $(#[$attribute])*
        #[target_feature(enable = "avx2,bmi1,bmi2,fma,lzcnt,movbe,popcnt")]
        $visibility fn $($function)*
    };
}
pub(crate) use x86_64_v3;

x86_64_v3! {
    #[cfg(target_arch = "x86_64")]
    fn on_x86_64_v3<R>(work: impl FnOnce() -> R) -> R {
        work()
    }
}

/// Whether this processor has x86-64-v3's instructions.
#[cfg(target_arch = "x86_64")]
pub fn has_x86_64_v3() -> bool {
    x86_64_v3!(detected)
}
