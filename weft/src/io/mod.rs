//! io layer (filled in by its issue).
