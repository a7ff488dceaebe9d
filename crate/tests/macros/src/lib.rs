//! `#[test]` for gort's integration tests, imported over the built-in one
//! (`use gort_test_macros::test;`), so that each test is written once and runs twice:
//!
//! - natively it is the built-in `#[test]`, unchanged;
//! - on wasm it becomes an async `#[wasm_bindgen_test]` that first awaits
//!   `gort::thread::prestart(threads)` (default 8, or `#[test(threads = N)]`), then runs the
//!   same body, which blocks on runtimes freely: a Worker only starts while the thread that
//!   created it returns to its event loop, so the Workers that will run the Ms (and any other
//!   threads the test starts) must exist before the body blocks. The wasm suites run in a
//!   dedicated worker (`wasm_bindgen_test_configure!(run_in_dedicated_worker)` in `common`).
//!
//! Other attributes (`#[should_panic]`, doc comments) are kept on both.

use proc_macro::TokenStream;
use quote::quote;
use syn::{parse_macro_input, ItemFn, LitInt};

/// Threads prestarted for a test on wasm when it does not say: the most Ms any two runtimes
/// of one test have, with room for a few helper threads.
const DEFAULT_THREADS: usize = 8;

#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut threads = DEFAULT_THREADS;
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("threads") {
            threads = meta.value()?.parse::<LitInt>()?.base10_parse()?;
            Ok(())
        } else {
            Err(meta.error("expected `threads = N`"))
        }
    });
    parse_macro_input!(args with parser);
    let f = parse_macro_input!(item as ItemFn);
    if f.sig.asyncness.is_some() || !f.sig.inputs.is_empty() {
        return syn::Error::new_spanned(&f.sig, "a gort test is a sync fn without arguments")
            .to_compile_error()
            .into();
    }
    let ItemFn { attrs, vis, sig, block } = &f;
    let name = &sig.ident;
    let output = &sig.output;
    quote! {
        #[cfg(not(target_arch = "wasm32"))]
        #[::core::prelude::v1::test]
        #(#attrs)*
        #vis #sig #block

        #[cfg(target_arch = "wasm32")]
        #[::wasm_bindgen_test::wasm_bindgen_test]
        #(#attrs)*
        #vis async fn #name() #output {
            ::gort::thread::prestart(#threads).await;
            #block
        }
    }
    .into()
}
