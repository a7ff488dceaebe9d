//! What a goroutine dump says of a goroutine besides its state: its name, and who started it
//! and where (Go's `created by F in goroutine N` and the file and line under it).
//!
//! A G gets both as it is made (`newproc.rs`) and keeps them, unchanged, until it is freed:
//! readers need no synchronization. Making them costs no allocation for a Rust goroutine (its
//! name is its future's type name, where it was started a `#[track_caller]` location, both
//! static) and no more than the text the JS facade gives for a JS goroutine; the parent's name
//! is shared (`Arc<str>`), never copied.
//!
//! A Rust goroutine's name is its future's `std::any::type_name` without generic arguments:
//! `my_crate::worker::{{closure}}` for an `async` block in `my_crate::worker`, as Rust's own
//! backtraces print it.

use std::panic::Location;
use std::sync::Arc;

/// What dumps call a goroutine (or the code that started one).
#[derive(Clone, Debug, Default)]
pub(crate) enum Name {
    /// It has none (a JS goroutine made from an anonymous function).
    #[default]
    None,
    /// A name known when the program was built (a Rust future's type name).
    Static(&'static str),
    /// A name made at run time (a JS goroutine's), shared with the goroutines it starts.
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    Shared(Arc<str>),
}

impl Name {
    /// The name a Rust goroutine running a future of type `F` gets.
    pub(crate) fn of_future<F>() -> Name {
        Name::Static(std::any::type_name::<F>())
    }

    /// The name as dumps show it, if any (a type name without its generic arguments).
    pub(crate) fn text(&self) -> Option<&str> {
        match self {
            Name::None => None,
            Name::Static(s) => Some(without_generics(s)),
            Name::Shared(s) => Some(s),
        }
    }
}

/// `path::Type<Args>::method` → `path::Type::method`.
fn without_generics(name: &str) -> &str {
    // Generic arguments come last in the paths `type_name` gives for futures (an `async fn`'s
    // or block's `::{{closure}}` follows the function's path, which has none), so cutting at
    // the first `<` keeps the path.
    match name.find('<') {
        Some(i) if i > 0 => &name[..i],
        _ => name,
    }
}

/// Where in the source a goroutine was started.
#[derive(Debug, Default)]
pub(crate) enum Site {
    #[default]
    Unknown,
    /// A Rust call (`gort::go`, `Runtime::go`: `#[track_caller]`).
    Rust(&'static Location<'static>),
    /// `url:line:column`, as the JS facade found it on the caller's stack.
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    Text(Box<str>),
}

impl Site {
    /// `file:line:column`, if known.
    pub(crate) fn text(&self) -> Option<String> {
        match self {
            Site::Unknown => None,
            Site::Rust(l) => Some(format!("{}:{}:{}", l.file(), l.line(), l.column())),
            Site::Text(s) => Some(s.to_string()),
        }
    }

    /// Bytes it owns besides itself.
    pub(crate) fn byte_length(&self) -> usize {
        match self {
            Site::Text(s) => s.len(),
            Site::Unknown | Site::Rust(_) => 0,
        }
    }
}

/// Who started a goroutine and where.
#[derive(Debug, Default)]
pub(crate) struct Origin {
    /// The goroutine that started it; 0 for code outside every goroutine.
    pub(crate) parent: u64,
    /// What dumps call that goroutine, or with `parent` 0 that code ("the page"); with neither,
    /// dumps say a thread outside the runtime started it.
    pub(crate) parent_name: Name,
    pub(crate) site: Site,
}

impl Origin {
    /// A goroutine started by the goroutine polled on this thread, if any, at `site`.
    pub(crate) fn here(site: Site) -> Origin {
        let (parent, parent_name) = super::current::current_g_name();
        Origin { parent, parent_name, site }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_future_is_named_by_its_type_without_generic_arguments() {
        async fn worker() {}
        let name = Name::of_future::<std::future::Ready<Vec<u8>>>();
        assert_eq!(name.text(), Some("core::future::ready::Ready"));
        fn named<F>(_: &F) -> Name {
            Name::of_future::<F>()
        }
        let text = named(&worker()).text().unwrap().to_owned();
        assert!(text.ends_with("worker::{{closure}}"), "{text}");
        assert_eq!(Name::Shared("fib".into()).text(), Some("fib"));
        assert_eq!(Name::None.text(), None);
    }
}
