//! util layer (filled in by its issue).
