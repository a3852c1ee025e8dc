//! task layer (filled in by its issue).
