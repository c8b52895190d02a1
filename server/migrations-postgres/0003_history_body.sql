-- A run's response body in its own column, as text: the rest of the answer stays JSON, but the body
-- (often most of a row) is no longer escaped into a JSON string on every request and back on read.
ALTER TABLE history ADD COLUMN response_body TEXT;
