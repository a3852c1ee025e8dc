//! blocking layer (filled in by its issue).
