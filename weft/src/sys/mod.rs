//! sys layer (filled in by its issue).
