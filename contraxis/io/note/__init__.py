"""Clinical notes in, a native case out (placeholder while the reader is written)."""
