//! The annotated function, parsed lazily.
//!
//! Only the attributes, the visibility and the signature are parsed; the body
//! is kept as raw tokens. A syntax error inside the body is then reported by
//! rustc where it is, once, instead of making the whole function vanish (and
//! `main` with it), and long bodies cost no parsing time.

use proc_macro2::{Span, TokenStream};
use syn::parse::{Parse, ParseStream};
use syn::{braced, Attribute, Signature, Visibility};

/// `#[attrs] vis fn name(..) -> R { #![inner] body }`.
pub(crate) struct EntryFn {
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) vis: Visibility,
    pub(crate) sig: Signature,
    /// `#![...]` at the top of the body; they move onto the generated `fn`,
    /// since an `async` block cannot carry them.
    pub(crate) inner_attrs: Vec<Attribute>,
    /// The statements of the body, untouched.
    pub(crate) body: TokenStream,
    /// The span of the body's braces, for errors about the body's type.
    pub(crate) body_span: Span,
}

impl Parse for EntryFn {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis: Visibility = input.parse()?;
        let sig: Signature = input.parse()?;
        let content;
        let brace = braced!(content in input);
        let inner_attrs = content.call(Attribute::parse_inner)?;
        let body: TokenStream = content.parse()?;
        Ok(EntryFn {
            attrs,
            vis,
            sig,
            inner_attrs,
            body,
            body_span: brace.span.join(),
        })
    }
}

impl EntryFn {
    /// Whether the function already carries a test attribute (`#[test]`,
    /// `#[core::prelude::v1::test]`, another `#[weft::test]`, `#[tokio::test]`):
    /// a second one would run the test twice or fail to compile.
    pub(crate) fn test_attr(&self) -> Option<&Attribute> {
        self.attrs
            .iter()
            .find(|a| a.path().segments.last().is_some_and(|s| s.ident == "test"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    #[test]
    fn body_is_not_parsed() {
        // `let = ;` is no valid statement, but the signature still parses.
        let f: EntryFn = syn::parse2(quote! {
            #[doc = "x"] pub async fn main() -> u8 { #![allow(unused)] let = ; }
        })
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(f.sig.ident, "main");
        assert!(f.sig.asyncness.is_some());
        assert_eq!(f.attrs.len(), 1);
        assert_eq!(f.inner_attrs.len(), 1);
        assert_eq!(f.body.to_string(), "let = ;");
    }

    #[test]
    fn finds_test_attributes() {
        let f: EntryFn =
            syn::parse2(quote! { #[ignore] #[::core::prelude::v1::test] async fn t() {} })
                .unwrap_or_else(|e| panic!("{e}"));
        assert!(f.test_attr().is_some());
        let f: EntryFn =
            syn::parse2(quote! { #[ignore] async fn t() {} }).unwrap_or_else(|e| panic!("{e}"));
        assert!(f.test_attr().is_none());
    }
}
