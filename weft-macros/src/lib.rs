//! Procedural macros for weft.
