//! reactor layer (filled in by its issue).
