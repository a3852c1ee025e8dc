//! executor layer (filled in by its issue).
