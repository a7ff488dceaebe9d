//! What gort needs of a wasm32 build's rustflags, checked by `build.rs` so that a crate that
//! builds its wasm with gort and lacks some fails at once, naming them, instead of building a
//! module that traps or runs without threads (README, "Rust apps"). Cargo's config is per
//! directory and not inherited from dependencies, so each app carries the flags itself.
//!
//! Two builds are valid: with threads (`+atomics` and everything a shared memory needs), or,
//! declared with `--cfg gort_without_threads`, the build without threads for pages that are not
//! cross-origin isolated (the Makefile's `ST_RUSTFLAGS`). Both unwind panics with wasm
//! exception handling, so that a panicking goroutine is caught at its poll.
//! Shared with `tests/build_flags.rs`, which checks the verdicts natively.

/// The target features both builds need.
const FEATURES: [&str; 1] = ["exception-handling"];
/// The target features the build with threads needs too.
const THREAD_FEATURES: [&str; 3] = ["atomics", "bulk-memory", "mutable-globals"];
/// The linker arguments the build with threads needs (`--max-memory=` takes any byte count).
const THREAD_LINK_ARGS: [&str; 8] = [
    "--shared-memory",
    "--import-memory",
    "--max-memory=",
    "--export=__wasm_init_tls",
    "--export=__tls_size",
    "--export=__tls_align",
    "--export=__tls_base",
    "--export=__heap_base",
];
/// The cfg that declares the build without threads.
pub const WITHOUT_THREADS: &str = "gort_without_threads";

/// What a wasm32 build of gort lacks, from its `CARGO_ENCODED_RUSTFLAGS` (flags separated by
/// 0x1f), `CARGO_CFG_TARGET_FEATURE` (the enabled features, comma-separated) and
/// `CARGO_CFG_PANIC`: None if nothing, else the error to print, which names each missing flag
/// as it is written in `.cargo/config.toml`.
pub fn missing(encoded_rustflags: &str, target_features: &str, panic: &str) -> Option<String> {
    let flags: Vec<&str> = encoded_rustflags.split('\x1f').filter(|f| !f.is_empty()).collect();
    let features: Vec<&str> = target_features.split(',').collect();
    let codegen = options(&flags, "-C");
    let cfgs = options(&flags, "--cfg");
    let link_args: Vec<&str> = codegen
        .iter()
        .filter_map(|o| o.strip_prefix("link-arg="))
        .chain(codegen.iter().filter_map(|o| o.strip_prefix("link-args=")).flat_map(|a| a.split(' ')))
        .collect();
    let threads = features.contains(&"atomics");
    let without_threads = cfgs.contains(&WITHOUT_THREADS);
    if !threads && !without_threads {
        let mut all = vec![format!(
            "\"-C\", \"target-feature=+{}\"",
            [&THREAD_FEATURES[..], &FEATURES].concat().join(",+")
        )];
        all.extend(["\"-C\", \"panic=unwind\"".to_string()]);
        all.extend(THREAD_LINK_ARGS.iter().map(|a| link_arg(a)));
        return Some(report(
            "this build has no threads (no +atomics): the rustflags of `[target.wasm32-unknown-unknown]` \
             are missing or replaced (a RUSTFLAGS variable replaces them). gort needs",
            &all,
            &format!(
                "For the build without threads (one P, for pages that are not cross-origin isolated) \
                 add `--cfg {WITHOUT_THREADS}` to its rustflags instead."
            ),
        ));
    }
    let mut lacking: Vec<String> = Vec::new();
    let needed_features =
        if threads { [&THREAD_FEATURES[..], &FEATURES].concat() } else { FEATURES.to_vec() };
    let absent: Vec<&str> = needed_features.into_iter().filter(|f| !features.contains(f)).collect();
    if !absent.is_empty() {
        lacking.push(format!("\"-C\", \"target-feature=+{}\"", absent.join(",+")));
    }
    if panic != "unwind" {
        lacking.push("\"-C\", \"panic=unwind\" (and -Zbuild-std=panic_unwind,std)".to_string());
    }
    if threads {
        for arg in THREAD_LINK_ARGS {
            let present =
                link_args.iter().any(|a| if arg.ends_with('=') { a.starts_with(arg) } else { a == &arg });
            if !present {
                lacking.push(link_arg(arg));
            }
        }
    }
    if lacking.is_empty() {
        return None;
    }
    let build = if threads { "this build with threads (+atomics)" } else { "this build without threads" };
    Some(report(&format!("{build} lacks rustflags gort needs:"), &lacking, ""))
}

/// The values of the options `flag` takes, written `flag value` or `flagvalue` (`-Cpanic=…`)
/// or `flag=value` (`--cfg=…`).
fn options<'a>(flags: &[&'a str], flag: &str) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < flags.len() {
        if flags[i] == flag {
            if let Some(v) = flags.get(i + 1) {
                out.push(*v);
            }
            i += 2;
            continue;
        }
        if let Some(v) = flags[i].strip_prefix(flag) {
            out.push(v.strip_prefix('=').unwrap_or(v));
        }
        i += 1;
    }
    out
}

fn link_arg(arg: &str) -> String {
    let arg = if arg.ends_with('=') { format!("{arg}4294901760") } else { arg.to_string() };
    format!("\"-C\", \"link-arg={arg}\"")
}

fn report(head: &str, flags: &[String], tail: &str) -> String {
    let mut s = format!("gort: {head}\n");
    for f in flags {
        s.push_str(&format!("    {f},\n"));
    }
    s.push_str(
        "Copy gort's `[target.wasm32-unknown-unknown]` rustflags (and its `gort-build` alias, which adds \
         -Zbuild-std) into your crate's .cargo/config.toml: README.md, \"Rust apps\".",
    );
    if !tail.is_empty() {
        s.push('\n');
        s.push_str(tail);
    }
    s
}
