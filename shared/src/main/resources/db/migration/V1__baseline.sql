-- Baseline of the marketplace schema. Later migrations (V2, V3, ...) add the domain tables.
CREATE TABLE marketplace_info (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
INSERT INTO marketplace_info (key, value) VALUES ('schema', 'fedmarket');
