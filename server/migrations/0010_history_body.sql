-- A run's response body in its own column, as text: the rest of the answer stays JSON, but the body
-- (often most of a row) is no longer escaped into a JSON string on every request and back on read.
-- Rows written before this keep their body inside response_json and this column empty.
ALTER TABLE history ADD COLUMN response_body TEXT;
