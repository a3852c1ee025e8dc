//! time layer (filled in by its issue).
