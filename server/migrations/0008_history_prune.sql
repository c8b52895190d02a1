-- Pruning a member's history keeps the newest runs by id: this index lets it skip to them instead
-- of reading and sorting every run of the member on every write.
CREATE INDEX IF NOT EXISTS history_by_staff_id ON history (staff, id);
