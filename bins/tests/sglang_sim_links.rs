//! What the `sglang-sim` binary is made of: the simulated engine, its image (through docker-ctl)
//! and the binaries' glue, but not the runner (`sglang-runner`, the benchmark orchestration):
//! `sglang-sim build-image` and `keep-alive` live in the sglang-sim crate. Checked on the built
//! program's symbol table: any runner function linked in would leave its mangled name
//! (`_ZN13sglang_runner…`; `perf-nightly` has hundreds), while those of what it does use
//! (sglang-sim, docker-ctl) are there.

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn the_sglang_sim_binary_does_not_link_the_runner() {
    let path = env!("CARGO_BIN_EXE_sglang-sim");
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    // What it is made of is visible this way (so the absence below means something).
    assert!(
        contains(&bytes, b"_ZN10sglang_sim"),
        "{path}: no symbol table?"
    );
    assert!(
        contains(&bytes, b"_ZN10docker_ctl"),
        "{path}: no docker-ctl code?"
    );
    assert!(
        !contains(&bytes, b"_ZN13sglang_runner"),
        "{path} has sglang_runner symbols: the sglang-sim binary links the runner"
    );
    // The same check finds the runner where it is linked.
    let nightly = std::fs::read(env!("CARGO_BIN_EXE_perf-nightly")).expect("read perf-nightly");
    assert!(contains(&nightly, b"_ZN13sglang_runner"));
}
