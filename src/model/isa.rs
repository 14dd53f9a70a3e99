//! Work run on the widest instructions this processor has: x86-64-v3 (AVX2, BMI1, BMI2, FMA,
//! LZCNT, MOVBE) where the processor has it, the target's baseline elsewhere, from one source
//! and with the same results to the bit (Rust never fuses a multiplication and an addition it
//! was not asked to). The customers' pass chooses through `engine::isa`, so that a test can
//! run it on both; the world's builders, whose pieces run in closures handed to the worker
//! pool, through [`on_widest`] (4 % fewer instructions for a world; the wide builders' worlds
//! are the baseline's: every snapshot test compares exported results with files baseline
//! builds wrote).

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

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,bmi1,bmi2,fma,lzcnt,movbe")]
fn on_x86_64_v3<R>(work: impl FnOnce() -> R) -> R {
    work()
}

/// Whether this processor has x86-64-v3's instructions.
#[cfg(target_arch = "x86_64")]
pub fn has_x86_64_v3() -> bool {
    std::arch::is_x86_feature_detected!("avx2")
        && std::arch::is_x86_feature_detected!("bmi1")
        && std::arch::is_x86_feature_detected!("bmi2")
        && std::arch::is_x86_feature_detected!("fma")
        && std::arch::is_x86_feature_detected!("lzcnt")
        && std::arch::is_x86_feature_detected!("movbe")
}
