//! The check of a wasm build's rustflags (`crate/build_flags.rs`, run by `build.rs`): the
//! repository's own two builds pass, and a build that lacks flags fails naming each of them.
//! Native only: it is the build script's logic, which runs on the host.
#![cfg(not(target_arch = "wasm32"))]

#[path = "../build_flags.rs"]
mod build_flags;

use build_flags::missing;

/// The flags of `.cargo/config.toml`'s `[target.wasm32-unknown-unknown]`, as cargo encodes them.
const THREADED: &[&str] = &[
    "-C",
    "target-feature=+atomics,+bulk-memory,+mutable-globals,+exception-handling",
    "-C",
    "panic=unwind",
    "-C",
    "link-arg=--shared-memory",
    "-C",
    "link-arg=--import-memory",
    "-C",
    "link-arg=--max-memory=4294901760",
    "-C",
    "link-arg=--export=__wasm_init_tls",
    "-C",
    "link-arg=--export=__tls_size",
    "-C",
    "link-arg=--export=__tls_align",
    "-C",
    "link-arg=--export=__tls_base",
    "-C",
    "link-arg=--export=__heap_base",
];
const THREADED_FEATURES: &str =
    "atomics,bulk-memory,exception-handling,multivalue,mutable-globals,reference-types";

fn encoded(flags: &[&str]) -> String {
    flags.join("\x1f")
}

#[test]
fn the_repository_config_passes() {
    assert_eq!(missing(&encoded(THREADED), THREADED_FEATURES, "unwind"), None);
}

#[test]
fn the_makefile_build_without_threads_passes() {
    // The Makefile's ST_RUSTFLAGS, as a RUSTFLAGS variable (split on spaces).
    let flags = "-C target-feature=+bulk-memory,+mutable-globals,+exception-handling -C panic=unwind \
                 -C link-arg=--max-memory=4294901760 --cfg gort_without_threads";
    let flags: Vec<&str> = flags.split(' ').collect();
    let features = "bulk-memory,exception-handling,multivalue,mutable-globals,reference-types";
    assert_eq!(missing(&encoded(&flags), features, "unwind"), None);
}

#[test]
fn joined_flag_forms_pass() {
    let flags = [
        "-Ctarget-feature=+atomics,+bulk-memory,+mutable-globals,+exception-handling",
        "-Cpanic=unwind",
        "-Clink-args=--shared-memory --import-memory --max-memory=1073741824",
        "-Clink-arg=--export=__wasm_init_tls",
        "-Clink-arg=--export=__tls_size",
        "-Clink-arg=--export=__tls_align",
        "-Clink-arg=--export=__tls_base",
        "-Clink-arg=--export=__heap_base",
    ];
    assert_eq!(missing(&encoded(&flags), THREADED_FEATURES, "unwind"), None);
}

#[test]
fn no_flags_at_all_names_every_flag_and_the_opt_out() {
    let e = missing("", "bulk-memory,multivalue,mutable-globals,reference-types", "abort").unwrap();
    assert!(e.contains("no threads (no +atomics)"), "{e}");
    assert!(e.contains("target-feature=+atomics,+bulk-memory,+mutable-globals,+exception-handling"), "{e}");
    assert!(e.contains("panic=unwind"), "{e}");
    for arg in
        ["--shared-memory", "--import-memory", "--max-memory=", "--export=__heap_base", "--export=__tls_base"]
    {
        assert!(e.contains(&format!("link-arg={arg}")), "{arg} in {e}");
    }
    assert!(e.contains("--cfg gort_without_threads"), "{e}");
    assert!(e.contains("README.md, \"Rust apps\""), "{e}");
}

#[test]
fn atomics_alone_names_what_a_shared_memory_still_needs() {
    let e =
        missing(&encoded(&["-C", "target-feature=+atomics"]), "atomics,bulk-memory,mutable-globals", "abort")
            .unwrap();
    assert!(e.starts_with("gort: this build with threads (+atomics) lacks"), "{e}");
    assert!(e.contains("target-feature=+exception-handling\""), "{e}");
    assert!(e.contains("panic=unwind"), "{e}");
    assert!(e.contains("link-arg=--shared-memory"), "{e}");
    assert!(e.contains("link-arg=--export=__wasm_init_tls"), "{e}");
    assert!(!e.contains("target-feature=+atomics"), "atomics is there: {e}");
}

#[test]
fn each_missing_link_arg_is_named_alone() {
    for (i, flag) in THREADED.iter().enumerate().filter(|(_, f)| f.starts_with("link-arg=")) {
        let flags: Vec<&str> =
            THREADED.iter().enumerate().filter(|&(j, _)| j != i && j != i - 1).map(|(_, f)| *f).collect();
        let e = missing(&encoded(&flags), THREADED_FEATURES, "unwind")
            .unwrap_or_else(|| panic!("{flag} not missed"));
        let arg = flag.strip_prefix("link-arg=").unwrap();
        let named = if arg.starts_with("--max-memory=") {
            "link-arg=--max-memory=".to_string()
        } else {
            format!("{flag}\"")
        };
        assert!(e.contains(&named), "{flag}: {e}");
        assert_eq!(e.matches("link-arg=").count(), 1, "only {flag}: {e}");
    }
}

#[test]
fn the_build_without_threads_still_needs_unwinding() {
    let e = missing(&encoded(&["--cfg", "gort_without_threads"]), "bulk-memory", "abort").unwrap();
    assert!(e.starts_with("gort: this build without threads lacks"), "{e}");
    assert!(e.contains("target-feature=+exception-handling\""), "{e}");
    assert!(e.contains("panic=unwind"), "{e}");
    assert!(!e.contains("link-arg"), "{e}");
}
