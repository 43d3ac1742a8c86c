-- drizzle-kit does not emit extensions; the vector column below needs pgvector.
CREATE EXTENSION IF NOT EXISTS vector;
