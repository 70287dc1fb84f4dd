//! Huge pages for the hashing workers' argon2 work area: the glibc setting they start with.

/// The glibc setting a worker starts with, added to the operator's `GLIBC_TUNABLES` unless
/// that already sets `glibc.malloc.hugetlb` ([`tunables`]): glibc (2.35 or later) advises
/// transparent huge pages (`MADV_HUGEPAGE`) for the memory it maps, the work area among it.
/// argon2 reads its 19 MiB at random, a TLB miss and a page walk per block with 4 KiB pages;
/// with 2 MiB pages the whole area fits the TLB, and what a request thread running in between
/// evicts costs little to restore. Measured on 2 cores (`cargo xtask bench`, SQLite,
/// docs/performance.md): 5-10 % more hashes per second alone, and registrations at 0.93-1.03
/// of that ceiling in five runs against 0.88-0.99 without, in alternation. It acts where the
/// kernel's `transparent_hugepage/enabled` is `madvise` (under `always` the area has huge
/// pages anyway, under `never` none); glibc ignores it for a binary with file capabilities,
/// and other C libraries do not read it.
const HUGE_PAGES: &str = "glibc.malloc.hugetlb=1";

/// A worker's `GLIBC_TUNABLES`: the operator's, with [`HUGE_PAGES`] added unless it already
/// says whether malloc uses huge pages.
pub(super) fn tunables(operator: Option<std::ffi::OsString>) -> std::ffi::OsString {
    match operator.filter(|own| !own.is_empty()) {
        None => HUGE_PAGES.into(),
        Some(own) if own.to_string_lossy().contains("glibc.malloc.hugetlb") => own,
        Some(mut own) => {
            own.push(":");
            own.push(HUGE_PAGES);
            own
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Workers ask for huge pages unless the operator's `GLIBC_TUNABLES` says otherwise; the
    /// operator's other settings are kept.
    #[test]
    fn a_workers_tunables_add_huge_pages_to_the_operators() {
        let of = |v: Option<&str>| tunables(v.map(Into::into)).into_string().unwrap();
        assert_eq!(of(None), "glibc.malloc.hugetlb=1");
        assert_eq!(of(Some("")), "glibc.malloc.hugetlb=1");
        assert_eq!(
            of(Some("glibc.pthread.rseq=0")),
            "glibc.pthread.rseq=0:glibc.malloc.hugetlb=1"
        );
        assert_eq!(of(Some("glibc.malloc.hugetlb=0")), "glibc.malloc.hugetlb=0");
    }
}
