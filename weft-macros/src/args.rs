//! Parsing of the attribute arguments: `#[weft::main(flavor = "multi_thread", ...)]`.
//!
//! Every argument is `name = literal`. The parser collects every mistake it
//! finds (not only the first) into one `syn::Error`, each spanned at the
//! offending token, so that a user who misspells two arguments hears about
//! both at once.

use proc_macro2::{Literal, Span, TokenStream};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, Lit, Meta, Token};

/// Which attribute is being expanded; it changes the defaults and the wording
/// of the errors, nothing else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `#[weft::main]`
    Main,
    /// `#[weft::test]`
    Test,
}

impl Kind {
    /// The attribute as the user wrote it, for error messages.
    pub(crate) fn attr(self) -> &'static str {
        match self {
            Kind::Main => "#[weft::main]",
            Kind::Test => "#[weft::test]",
        }
    }
}

/// The runtime flavour the expansion builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    /// `Builder::new_current_thread()`: one thread, `!Send` tasks allowed.
    CurrentThread,
    /// `Builder::new_multi_thread()`: work-stealing workers (issue 7).
    MultiThread,
}

impl Flavor {
    fn from_str(s: &str) -> Option<Flavor> {
        match s {
            "current_thread" => Some(Flavor::CurrentThread),
            "multi_thread" => Some(Flavor::MultiThread),
            _ => None,
        }
    }
}

/// The argument names, in the order the error for an unknown name lists them.
pub(crate) const KNOWN_ARGS: &[&str] = &["flavor", "worker_threads", "start_paused", "crate"];

/// Everything the attribute arguments asked for, with the spans of the values
/// so that the emitted builder calls point back at them.
pub(crate) struct Config {
    pub(crate) flavor: Flavor,
    /// The span of the `flavor = "..."` argument, or the call site.
    pub(crate) flavor_span: Span,
    /// `worker_threads = N`: the value (> 0) and the span of the literal.
    pub(crate) worker_threads: Option<(usize, Span)>,
    /// `start_paused = b`: the value and the span of the literal.
    pub(crate) start_paused: Option<(bool, Span)>,
    /// `crate = "path"`: where to find the runtime instead of `::weft`.
    pub(crate) crate_path: Option<syn::Path>,
}

impl Config {
    /// `worker_threads` as an unsuffixed literal carrying the user's span.
    pub(crate) fn worker_threads_lit(&self) -> Option<Literal> {
        self.worker_threads.map(|(n, span)| {
            let mut lit = Literal::usize_unsuffixed(n);
            lit.set_span(span);
            lit
        })
    }
}

/// Adds `e` to the accumulated error.
fn push_err(acc: &mut Option<syn::Error>, e: syn::Error) {
    match acc {
        Some(acc) => acc.combine(e),
        None => *acc = Some(e),
    }
}

/// The literal of `name = <literal>`, or an error naming what was expected.
fn lit_value<'a>(name: &str, value: &'a Expr, expected: &str) -> syn::Result<&'a Lit> {
    match value {
        Expr::Lit(lit) => Ok(&lit.lit),
        // `start_paused = (true)` and friends: look through the parentheses.
        Expr::Group(g) => lit_value(name, &g.expr, expected),
        Expr::Paren(p) => lit_value(name, &p.expr, expected),
        other => Err(syn::Error::new_spanned(
            other,
            format!("`{name}` takes a literal: {expected}"),
        )),
    }
}

fn parse_flavor(value: &Expr) -> syn::Result<Flavor> {
    const EXPECTED: &str = "\"current_thread\" or \"multi_thread\"";
    match lit_value("flavor", value, EXPECTED)? {
        Lit::Str(s) => Flavor::from_str(&s.value()).ok_or_else(|| {
            syn::Error::new_spanned(
                s,
                format!(
                    "unknown runtime flavor \"{}\"; expected {EXPECTED}",
                    s.value()
                ),
            )
        }),
        other => Err(syn::Error::new_spanned(
            other,
            format!("`flavor` takes a string: {EXPECTED}"),
        )),
    }
}

fn parse_worker_threads(value: &Expr) -> syn::Result<(usize, Span)> {
    const EXPECTED: &str = "a positive integer, such as `worker_threads = 4`";
    match lit_value("worker_threads", value, EXPECTED)? {
        Lit::Int(i) => match i.base10_parse::<usize>() {
            Ok(0) => Err(syn::Error::new_spanned(
                i,
                "`worker_threads` must be at least 1",
            )),
            Ok(n) => Ok((n, i.span())),
            Err(e) => Err(syn::Error::new_spanned(
                i,
                format!("`worker_threads` is not a valid thread count: {e}"),
            )),
        },
        other => Err(syn::Error::new_spanned(
            other,
            format!("`worker_threads` takes {EXPECTED}"),
        )),
    }
}

fn parse_bool(name: &str, value: &Expr) -> syn::Result<(bool, Span)> {
    match lit_value(name, value, "`true` or `false`")? {
        Lit::Bool(b) => Ok((b.value, b.span)),
        other => Err(syn::Error::new_spanned(
            other,
            format!("`{name}` takes `true` or `false`"),
        )),
    }
}

fn parse_crate_path(value: &Expr) -> syn::Result<syn::Path> {
    const EXPECTED: &str = "a path in a string, such as `crate = \"::weft\"`";
    match lit_value("crate", value, EXPECTED)? {
        Lit::Str(s) => s.parse::<syn::Path>().map_err(|_| {
            syn::Error::new_spanned(
                s,
                format!(
                    "`crate` is not a path: \"{}\"; expected {EXPECTED}",
                    s.value()
                ),
            )
        }),
        other => Err(syn::Error::new_spanned(
            other,
            format!("`crate` takes {EXPECTED}"),
        )),
    }
}

/// The error for an argument that is not `name = value`, with a hint when
/// the user wrote a value on its own (`#[weft::main(multi_thread)]`).
fn not_name_value(kind: Kind, meta: &Meta) -> syn::Error {
    let name = meta.path().get_ident().map(|i| i.to_string());
    let msg = match name.as_deref() {
        Some(f @ ("current_thread" | "multi_thread")) => {
            format!("write the runtime flavor as `flavor = \"{f}\"`")
        }
        Some("start_paused") => "write `start_paused = true`".to_string(),
        Some(n) if KNOWN_ARGS.contains(&n) => format!("`{n}` needs a value: `{n} = ...`"),
        _ => format!(
            "expected `name = value` arguments to `{}`, one of: {}",
            kind.attr(),
            known_list()
        ),
    };
    syn::Error::new_spanned(meta, msg)
}

fn known_list() -> String {
    KNOWN_ARGS
        .iter()
        .map(|a| format!("`{a}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Parses the tokens between the attribute's parentheses.
pub(crate) fn parse(kind: Kind, args: TokenStream) -> syn::Result<Config> {
    let metas = Punctuated::<Meta, Token![,]>::parse_terminated.parse2(args)?;

    let mut errors: Option<syn::Error> = None;
    let mut flavor: Option<(Flavor, Span)> = None;
    let mut worker_threads: Option<(usize, Span)> = None;
    let mut worker_threads_name: Option<Span> = None;
    let mut start_paused: Option<(bool, Span)> = None;
    let mut crate_path: Option<syn::Path> = None;
    let mut seen: Vec<String> = Vec::new();

    for meta in &metas {
        let Meta::NameValue(nv) = meta else {
            push_err(&mut errors, not_name_value(kind, meta));
            continue;
        };
        let Some(ident) = nv.path.get_ident() else {
            push_err(
                &mut errors,
                syn::Error::new_spanned(
                    &nv.path,
                    format!("unknown argument; expected one of: {}", known_list()),
                ),
            );
            continue;
        };
        let name = ident.to_string();
        if !KNOWN_ARGS.contains(&name.as_str()) {
            push_err(
                &mut errors,
                syn::Error::new_spanned(
                    ident,
                    format!(
                        "unknown argument `{name}` to `{}`; expected one of: {}",
                        kind.attr(),
                        known_list()
                    ),
                ),
            );
            continue;
        }
        if seen.contains(&name) {
            push_err(
                &mut errors,
                syn::Error::new_spanned(ident, format!("`{name}` is given more than once")),
            );
            continue;
        }
        seen.push(name.clone());

        let parsed = match name.as_str() {
            "flavor" => parse_flavor(&nv.value).map(|f| flavor = Some((f, nv.value.span()))),
            "worker_threads" => parse_worker_threads(&nv.value).map(|n| {
                worker_threads = Some(n);
                worker_threads_name = Some(ident.span());
            }),
            "start_paused" => parse_bool(&name, &nv.value).map(|b| start_paused = Some(b)),
            // Only "crate" is left: KNOWN_ARGS was checked above.
            _ => parse_crate_path(&nv.value).map(|p| crate_path = Some(p)),
        };
        if let Err(e) = parsed {
            push_err(&mut errors, e);
        }
    }

    // Both flavours default to current_thread until issue 7 decides from the
    // benchmarks; tokio's main defaults to multi_thread.
    let flavor_value = flavor.map_or(Flavor::CurrentThread, |(f, _)| f);
    if let (Some(name_span), Flavor::CurrentThread) = (worker_threads_name, flavor_value) {
        let msg = if flavor.is_some() {
            "`worker_threads` only applies to `flavor = \"multi_thread\"`; \
             the current-thread runtime runs everything on the calling thread"
        } else {
            "`worker_threads` needs the multi-thread runtime: \
             add `flavor = \"multi_thread\"` (the default flavor is \"current_thread\")"
        };
        push_err(&mut errors, syn::Error::new(name_span, msg));
    }

    match errors {
        Some(e) => Err(e),
        None => Ok(Config {
            flavor: flavor_value,
            flavor_span: flavor.map_or_else(Span::call_site, |(_, span)| span),
            worker_threads,
            start_paused,
            crate_path,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn ok(kind: Kind, args: TokenStream) -> Config {
        match parse(kind, args) {
            Ok(c) => c,
            Err(e) => panic!("unexpected error: {e}"),
        }
    }

    /// All messages of a (possibly combined) error.
    fn errs(args: TokenStream) -> Vec<String> {
        let args_str = args.to_string();
        match parse(Kind::Main, args) {
            Ok(_) => panic!("expected an error for `{args_str}`"),
            Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn empty_is_current_thread() {
        let c = ok(Kind::Main, quote!());
        assert_eq!(c.flavor, Flavor::CurrentThread);
        assert!(c.worker_threads.is_none() && c.start_paused.is_none());
        assert!(c.crate_path.is_none());
        assert_eq!(ok(Kind::Test, quote!()).flavor, Flavor::CurrentThread);
    }

    #[test]
    fn all_arguments() {
        let c = ok(
            Kind::Test,
            quote!(
                flavor = "multi_thread",
                worker_threads = 4,
                start_paused = true,
                crate = "::my::weft",
            ),
        );
        assert_eq!(c.flavor, Flavor::MultiThread);
        assert_eq!(c.worker_threads.map(|w| w.0), Some(4));
        assert_eq!(c.start_paused.map(|b| b.0), Some(true));
        let path = c.crate_path.map(|p| quote!(#p).to_string());
        assert_eq!(path.as_deref(), Some(":: my :: weft"));
        assert_eq!(
            ok(
                Kind::Main,
                quote!(flavor = "current_thread", start_paused = false)
            )
            .start_paused
            .map(|b| b.0),
            Some(false)
        );
    }

    #[test]
    fn worker_threads_literal_keeps_value() {
        let c = ok(
            Kind::Main,
            quote!(flavor = "multi_thread", worker_threads = 8usize),
        );
        assert_eq!(
            c.worker_threads_lit().map(|l| l.to_string()).as_deref(),
            Some("8")
        );
    }

    #[test]
    fn unknown_argument_lists_known_ones() {
        let e = errs(quote!(flavour = "multi_thread"));
        assert_eq!(e.len(), 1);
        assert!(e[0].contains("unknown argument `flavour`"), "{e:?}");
        assert!(
            e[0].contains("`flavor`, `worker_threads`, `start_paused`, `crate`"),
            "{e:?}"
        );
    }

    #[test]
    fn every_mistake_is_reported() {
        let e = errs(quote!(
            flavor = "threaded",
            worker_threads = 0,
            start_paused = "yes",
            bogus = 1
        ));
        assert_eq!(e.len(), 4, "{e:?}");
        assert!(e[0].contains("unknown runtime flavor \"threaded\""));
        assert!(e[1].contains("at least 1"));
        assert!(e[2].contains("`start_paused` takes `true` or `false`"));
        assert!(e[3].contains("unknown argument `bogus`"));
    }

    #[test]
    fn bad_value_types() {
        assert!(errs(quote!(flavor = multi_thread))[0].contains("takes a literal"));
        assert!(errs(quote!(flavor = 1))[0].contains("`flavor` takes a string"));
        assert!(
            errs(quote!(flavor = "multi_thread", worker_threads = "4"))[0]
                .contains("`worker_threads` takes a positive integer")
        );
        assert!(errs(quote!(crate = "not a path"))[0].contains("`crate` is not a path"));
        assert!(errs(quote!(crate = weft))[0].contains("`crate` takes a literal"));
    }

    #[test]
    fn duplicates() {
        let e = errs(quote!(start_paused = true, start_paused = false));
        assert_eq!(e, ["`start_paused` is given more than once"]);
    }

    #[test]
    fn bare_words_get_hints() {
        assert_eq!(
            errs(quote!(multi_thread)),
            ["write the runtime flavor as `flavor = \"multi_thread\"`"]
        );
        assert_eq!(errs(quote!(start_paused)), ["write `start_paused = true`"]);
        assert_eq!(
            errs(quote!(flavor)),
            ["`flavor` needs a value: `flavor = ...`"]
        );
        assert!(errs(quote!(foo(bar)))[0].starts_with("expected `name = value`"));
    }

    #[test]
    fn worker_threads_needs_multi_thread() {
        let e = errs(quote!(worker_threads = 2));
        assert!(e[0].contains("add `flavor = \"multi_thread\"`"), "{e:?}");
        let e = errs(quote!(flavor = "current_thread", worker_threads = 2));
        assert!(
            e[0].contains("only applies to `flavor = \"multi_thread\"`"),
            "{e:?}"
        );
    }

    #[test]
    fn not_a_list_is_a_syntax_error() {
        assert!(parse(
            Kind::Main,
            quote!(flavor = "multi_thread" worker_threads = 2)
        )
        .is_err());
    }
}
