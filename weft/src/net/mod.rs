//! net layer (filled in by its issue).
