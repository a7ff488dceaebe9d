//! `#[derive(Trace)]` for gort's garbage-collected heap (re-exported as `gort::gc::Trace`).
//!
//! The derived `trace` visits every field with `Trace::trace`, except fields marked
//! `#[trace(skip)]`. What the expansion guarantees, so that the `unsafe impl` it emits is sound:
//! * **Every traced field is `Trace`** (the impl calls `Trace::trace` on it), and every type
//!   parameter gets a `Trace` bound.
//! * **A skipped field holds no `Gc` and may be shared between threads**: it must be
//!   `Send + Sync`, checked at compile time. (`Gc` is neither, so a `Gc` cannot hide in a
//!   skipped field.)
//! * **No `Drop` impl**: sweeping drops dead objects in any order, so a `Drop` impl could
//!   reach an object already freed through a `Gc` field. A type that implements `Drop` fails
//!   to compile with a conflicting-implementations error naming `MustNotImplDrop`; such a type
//!   must implement `Trace` by hand (gc-arena's `no_drop` rule).
//! * `NEEDS_TRACE` is the disjunction of the traced fields' `NEEDS_TRACE`, so objects without
//!   any `Gc` inside are marked without being scanned.

use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;
use quote::{format_ident, quote};
use syn::{parse_macro_input, parse_quote, Data, DeriveInput, Fields, Index};

/// Derives `gort::gc::Trace`; see the crate documentation for the rules it enforces.
#[proc_macro_derive(Trace, attributes(trace))]
pub fn derive_trace(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match expand(input) {
        Ok(ts) => ts.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

/// Whether the field carries `#[trace(skip)]`.
fn skipped(attrs: &[syn::Attribute]) -> syn::Result<bool> {
    let mut skip = false;
    for attr in attrs.iter().filter(|a| a.path().is_ident("trace")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("skip") {
                skip = true;
                Ok(())
            } else {
                Err(meta.error("unknown trace attribute; the only one is `#[trace(skip)]`"))
            }
        })?;
    }
    Ok(skip)
}

/// What the expansion does with each field: its expression (a reference to it) and type.
struct Visits {
    /// Statements of the trace body.
    body: Vec<TokenStream2>,
    /// Types of the traced fields, for `NEEDS_TRACE`.
    traced: Vec<syn::Type>,
}

impl Visits {
    fn field(&mut self, field: &syn::Field, access: TokenStream2) -> syn::Result<()> {
        if skipped(&field.attrs)? {
            self.body.push(quote! { __gort_assert_send_sync(#access); });
        } else {
            self.traced.push(field.ty.clone());
            self.body.push(quote! { ::gort::gc::Trace::trace(#access, __gort_tracer); });
        }
        Ok(())
    }
}

/// A pattern binding every field of `fields` (for enum variants) and the bindings' names.
fn bind(fields: &Fields) -> (TokenStream2, Vec<syn::Ident>) {
    let names: Vec<_> = (0..fields.len()).map(|i| format_ident!("__gort_f{}", i)).collect();
    let pat = match fields {
        Fields::Named(named) => {
            let idents = named.named.iter().map(|f| f.ident.as_ref().expect("named field"));
            quote! { { #(#idents: #names),* } }
        }
        Fields::Unnamed(_) => quote! { ( #(#names),* ) },
        Fields::Unit => quote! {},
    };
    (pat, names)
}

fn expand(input: DeriveInput) -> syn::Result<TokenStream2> {
    let name = &input.ident;
    let mut visits = Visits { body: Vec::new(), traced: Vec::new() };
    match &input.data {
        Data::Struct(s) => {
            for (i, field) in s.fields.iter().enumerate() {
                let access = match &field.ident {
                    Some(id) => quote! { &self.#id },
                    None => {
                        let idx = Index::from(i);
                        quote! { &self.#idx }
                    }
                };
                visits.field(field, access)?;
            }
        }
        Data::Enum(e) => {
            let mut arms = Vec::new();
            for variant in &e.variants {
                let (pat, names) = bind(&variant.fields);
                let mut inner = Visits { body: Vec::new(), traced: Vec::new() };
                for (field, binding) in variant.fields.iter().zip(&names) {
                    inner.field(field, quote! { #binding })?;
                }
                visits.traced.extend(inner.traced);
                let vname = &variant.ident;
                let stmts = inner.body;
                arms.push(quote! { Self::#vname #pat => { #(#stmts)* } });
            }
            visits.body.push(quote! {
                #[allow(unreachable_code)]
                match self { #(#arms)* }
            });
        }
        Data::Union(u) => {
            return Err(syn::Error::new(u.union_token.span, "Trace cannot be derived for a union"));
        }
    }

    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let mut traced_generics = input.generics.clone();
    for param in traced_generics.type_params_mut() {
        param.bounds.push(parse_quote!(::gort::gc::Trace));
    }
    let (trace_impl_generics, _, trace_where) = traced_generics.split_for_impl();
    let body = visits.body;
    let traced = visits.traced;

    Ok(quote! {
        const _: () = {
            trait MustNotImplDrop {}
            #[allow(drop_bounds)]
            impl<T: ::core::ops::Drop + ?::core::marker::Sized> MustNotImplDrop for T {}
            impl #impl_generics MustNotImplDrop for #name #ty_generics #where_clause {}

            // SAFETY: `trace` visits every field that is not skipped; skipped fields are checked
            // to be `Send + Sync` (so they hold no `Gc`); the type has no `Drop` impl (above).
            unsafe impl #trace_impl_generics ::gort::gc::Trace for #name #ty_generics #trace_where {
                const NEEDS_TRACE: bool = false #(|| <#traced as ::gort::gc::Trace>::NEEDS_TRACE)*;

                #[allow(unused_variables)]
                fn trace(&self, __gort_tracer: &mut ::gort::gc::Tracer) {
                    fn __gort_assert_send_sync<T: ?::core::marker::Sized + ::core::marker::Send + ::core::marker::Sync>(_: &T) {}
                    #(#body)*
                }
            }
        };
    })
}
