-- Schema version 3: bytes on the wire beside decoded bytes, the method, and notes on fetches.
ALTER TABLE fetch_log ADD COLUMN wire_bytes BIGINT;
ALTER TABLE fetch_log ADD COLUMN note VARCHAR;
ALTER TABLE fetch_log ADD COLUMN method VARCHAR;
