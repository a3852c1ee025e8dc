//! From `async fn` to a plain `fn` that builds a runtime and blocks on the body.
//!
//! ```text
//! #[weft::main(flavor = "multi_thread", worker_threads = 2)]
//! async fn main() -> R { body }
//! ```
//! becomes
//! ```text
//! fn main() -> R {
//!     let body = async move { body };
//!     #[allow(clippy::expect_used)]
//!     let rt = ::weft::runtime::Builder::new_multi_thread()
//!         .worker_threads(2)
//!         .build()
//!         .expect("weft: failed to build the runtime");
//!     #[allow(clippy::needless_return)]
//!     {
//!         return rt.block_on(body);
//!     }
//! }
//! ```
//! The `block_on` value is returned from the function, so the body's type is
//! checked against the declared return type (a body ending in `5` under
//! `-> ()` is an error, not a value silently dropped), and `?` in the body
//! converts errors into the declared error type; `rt.block_on(body)` is
//! located over the body's last statement, where such a mismatch is then
//! reported. Each builder call carries the span of the argument that asked
//! for it, so a builder method the runtime lacks is reported on that
//! argument.
//!
//! On any error the function is emitted anyway, without `async` and with a
//! body of `unimplemented!()`, beside the errors: one mistake in the
//! attribute then does not turn into "`main` function not found" or
//! "unused function" on top.

use proc_macro2::{Ident, Span, TokenStream, TokenTree};
use quote::{quote, quote_spanned, ToTokens};
use syn::AttrStyle;

use crate::args::{self, Config, Flavor, Kind};
use crate::item::EntryFn;

/// The runtime API the expansion calls, relative to the crate path.
const BUILDER: &str = "Builder";
const NEW_CURRENT_THREAD: &str = "new_current_thread";
const NEW_MULTI_THREAD: &str = "new_multi_thread";
/// The panic message when the runtime cannot be built (the `expect` is in the
/// user's `main`, where there is nobody to return the error to).
const BUILD_FAILED: &str = "weft: failed to build the runtime";

/// Expands `#[weft::main]` or `#[weft::test]` with `args` on `item`.
pub(crate) fn expand(kind: Kind, args: TokenStream, item: TokenStream) -> TokenStream {
    let f: EntryFn = match syn::parse2(item.clone()) {
        Ok(f) => f,
        Err(e) => {
            // Not a function at all: keep the item as it was, and say so.
            let e = syn::Error::new(
                e.span(),
                format!("`{}` goes on an `async fn`: {e}", kind.attr()),
            )
            .into_compile_error();
            return quote!(#e #item);
        }
    };

    let mut errors = check_fn(kind, &f);
    let cfg = match args::parse(kind, args) {
        Ok(cfg) => Some(cfg),
        Err(e) => {
            errors.push(e);
            None
        }
    };
    match cfg {
        Some(cfg) if errors.is_empty() => expand_ok(kind, &cfg, &f),
        _ => {
            let errors = errors.iter().map(syn::Error::to_compile_error);
            let dummy = dummy(&f);
            quote!(#(#errors)* #dummy)
        }
    }
}

/// Every reason `f` cannot carry the attribute, each spanned at its cause.
fn check_fn(kind: Kind, f: &EntryFn) -> Vec<syn::Error> {
    let mut errors = Vec::new();
    let sig = &f.sig;
    let is_main = sig.ident == "main";
    if sig.asyncness.is_none() {
        errors.push(syn::Error::new_spanned(
            sig.fn_token,
            "the `async` keyword is missing from the function declaration",
        ));
    }
    match kind {
        Kind::Main => {
            if is_main && !sig.inputs.is_empty() {
                errors.push(syn::Error::new_spanned(
                    &sig.inputs,
                    "the `main` function cannot take arguments",
                ));
            }
            if is_main && has_generics(sig) {
                errors.push(syn::Error::new_spanned(
                    &sig.generics,
                    "the `main` function cannot have generic parameters",
                ));
            }
            if let Some(attr) = f.test_attr() {
                errors.push(syn::Error::new_spanned(
                    attr,
                    "`#[weft::main]` is for the program's entry point; \
                     for a test, replace both attributes with `#[weft::test]`",
                ));
            }
        }
        Kind::Test => {
            if is_main {
                errors.push(syn::Error::new_spanned(
                    &sig.ident,
                    "`#[weft::test]` cannot be used on `main`; \
                     use `#[weft::main]` for the program's entry point",
                ));
            }
            if !sig.inputs.is_empty() {
                errors.push(syn::Error::new_spanned(
                    &sig.inputs,
                    "test functions cannot take arguments",
                ));
            }
            if has_generics(sig) {
                errors.push(syn::Error::new_spanned(
                    &sig.generics,
                    "test functions cannot have generic parameters",
                ));
            }
            if let Some(attr) = f.test_attr() {
                errors.push(syn::Error::new_spanned(
                    attr,
                    "second test attribute: `#[weft::test]` already adds `#[test]`; remove this one",
                ));
            }
        }
    }
    errors
}

fn has_generics(sig: &syn::Signature) -> bool {
    !sig.generics.params.is_empty() || sig.generics.where_clause.is_some()
}

/// The body's `#![...]` attributes, turned into outer ones for the `fn`.
fn inner_as_outer(f: &EntryFn) -> impl Iterator<Item = syn::Attribute> + '_ {
    f.inner_attrs.iter().cloned().map(|mut a| {
        a.style = AttrStyle::Outer;
        a
    })
}

/// `Builder::new_*()` and the option calls, each spanned at its argument.
fn builder(cfg: &Config) -> TokenStream {
    let krate = match &cfg.crate_path {
        Some(path) => path.to_token_stream(),
        None => quote!(::weft),
    };
    let builder = Ident::new(BUILDER, Span::call_site());
    // Spanned at the `flavor` value: a flavour the runtime lacks is
    // reported there.
    let new = Ident::new(
        match cfg.flavor {
            Flavor::CurrentThread => NEW_CURRENT_THREAD,
            Flavor::MultiThread => NEW_MULTI_THREAD,
        },
        cfg.flavor_span,
    );
    let mut chain = quote!(#krate::runtime::#builder::#new());
    if let (Some(lit), Some((_, span))) = (cfg.worker_threads_lit(), cfg.worker_threads) {
        chain = quote_spanned!(span=> #chain.worker_threads(#lit));
    }
    if let Some((paused, span)) = cfg.start_paused {
        chain = quote_spanned!(span=> #chain.start_paused(#paused));
    }
    chain
}

fn expand_ok(kind: Kind, cfg: &Config, f: &EntryFn) -> TokenStream {
    let mut sig = f.sig.clone();
    sig.asyncness = None;
    let attrs = &f.attrs;
    let inner = inner_as_outer(f);
    let vis = &f.vis;
    let stmts = &f.body;
    let test_attr = match kind {
        Kind::Test => quote!(#[::core::prelude::v1::test]),
        Kind::Main => TokenStream::new(),
    };
    // mixed_site: the user's body cannot see (or shadow) these bindings.
    let body = Ident::new("body", Span::mixed_site());
    let rt = Ident::new("rt", Span::mixed_site());
    let chain = builder(cfg);
    // `rt.block_on(body)` is the function's value; it is located over the
    // body's last statement, so that a body of the wrong type is reported
    // there ("expected `()`, found integer") rather than on the attribute.
    let (start, end) = tail_spans(&f.body, f.body_span);
    let rt_at_tail = Ident::new("rt", Span::mixed_site().located_at(start));
    let body_at_tail = Ident::new("body", Span::mixed_site().located_at(end));
    let run =
        quote_spanned!(Span::mixed_site().located_at(end)=> #rt_at_tail.block_on(#body_at_tail));
    quote! {
        #test_attr
        #(#attrs)*
        #(#inner)*
        #vis #sig {
            let #body = async move { #stmts };
            #[allow(clippy::expect_used)]
            let #rt = #chain.build().expect(#BUILD_FAILED);
            #[allow(clippy::needless_return)]
            {
                return #run;
            }
        }
    }
}

/// The spans of the first and the last token of the body's last statement,
/// found by splitting the top level at `;` (a tail expression, or the last
/// `stmt;`); the braces' span for an empty body.
fn tail_spans(body: &TokenStream, braces: Span) -> (Span, Span) {
    let tokens: Vec<TokenTree> = body.clone().into_iter().collect();
    let Some(last) = tokens.last() else {
        return (braces, braces);
    };
    let is_semi = |t: &TokenTree| matches!(t, TokenTree::Punct(p) if p.as_char() == ';');
    let before_last = &tokens[..tokens.len() - 1];
    let start = before_last.iter().rposition(is_semi).map_or(0, |i| i + 1);
    (tokens[start].span(), last.span())
}

/// The function as it stands, made sync, with a body that type-checks
/// against any return type.
fn dummy(f: &EntryFn) -> TokenStream {
    let mut sig = f.sig.clone();
    sig.asyncness = None;
    if sig.ident == "main" {
        // Whatever else is wrong, leave a `main` rustc accepts.
        sig.inputs.clear();
        sig.variadic = None;
        sig.generics = syn::Generics::default();
    }
    let attrs = &f.attrs;
    let inner = inner_as_outer(f);
    let vis = &f.vis;
    quote! {
        #(#attrs)*
        #(#inner)*
        #[allow(dead_code, unused_variables)]
        #vis #sig {
            ::core::unimplemented!()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand_str(kind: Kind, args: TokenStream, item: TokenStream) -> String {
        expand(kind, args, item).to_string()
    }

    #[test]
    fn main_default() {
        let out = expand_str(
            Kind::Main,
            quote!(),
            quote!(
                async fn main() {
                    work().await
                }
            ),
        );
        assert!(out.starts_with("fn main ()"), "{out}");
        assert!(out.contains("async move { work () . await }"), "{out}");
        assert!(
            out.contains(
                ":: weft :: runtime :: Builder :: new_current_thread () . build () \
                 . expect (\"weft: failed to build the runtime\") ;"
            ),
            "{out}"
        );
        assert!(out.contains("return rt . block_on (body) ;"), "{out}");
        assert!(!out.contains("test"), "{out}");
    }

    #[test]
    fn options_become_builder_calls() {
        let out = expand_str(
            Kind::Main,
            quote!(
                flavor = "multi_thread",
                worker_threads = 3,
                start_paused = true,
                crate = "rt"
            ),
            quote!(
                pub(crate) async fn main() -> Result<(), E> {
                    Ok(())
                }
            ),
        );
        assert!(
            out.contains(
                "rt :: runtime :: Builder :: new_multi_thread () . worker_threads (3) \
                 . start_paused (true) . build ()"
            ),
            "{out}"
        );
        assert!(
            out.starts_with("pub (crate) fn main () -> Result < () , E >"),
            "{out}"
        );
    }

    #[test]
    fn test_adds_the_test_attribute_first() {
        let out = expand_str(
            Kind::Test,
            quote!(),
            quote!(
                #[ignore]
                async fn t() {}
            ),
        );
        assert!(
            out.starts_with("# [:: core :: prelude :: v1 :: test] # [ignore] fn t ()"),
            "{out}"
        );
    }

    #[test]
    fn inner_attributes_move_out() {
        let out = expand_str(
            Kind::Test,
            quote!(),
            quote!(
                async fn t() {
                    #![allow(unused)]
                    let x = 1;
                }
            ),
        );
        assert!(out.contains("# [allow (unused)] fn t ()"), "{out}");
        assert!(out.contains("async move { let x = 1 ; }"), "{out}");
    }

    #[test]
    fn errors_come_with_a_dummy() {
        let out = expand_str(
            Kind::Main,
            quote!(bogus = 1),
            quote!(
                fn main(x: u8) {
                    x
                }
            ),
        );
        assert_eq!(out.matches("compile_error").count(), 3, "{out}");
        assert!(
            out.contains("fn main () { :: core :: unimplemented ! () }"),
            "{out}"
        );
        assert!(!out.contains("Builder"), "{out}");
    }

    #[test]
    fn non_main_may_take_arguments() {
        let out = expand_str(
            Kind::Main,
            quote!(),
            quote!(
                async fn run(n: u32) -> u32 {
                    n
                }
            ),
        );
        assert!(!out.contains("compile_error"), "{out}");
        assert!(out.starts_with("fn run (n : u32) -> u32"), "{out}");
    }

    #[test]
    fn not_a_function() {
        let out = expand_str(
            Kind::Test,
            quote!(),
            quote!(
                struct S;
            ),
        );
        assert!(out.contains("goes on an `async fn`"), "{out}");
        assert!(out.ends_with("struct S ;"), "{out}");
    }
}
