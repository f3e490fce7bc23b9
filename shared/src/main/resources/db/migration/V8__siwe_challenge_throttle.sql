-- Sign-in challenges are throttled per address and per client IP (auth counts the challenges issued in the last minute),
-- and expired ones are deleted as new ones are issued.
ALTER TABLE siwe_nonces ADD COLUMN source_ip TEXT;
CREATE INDEX siwe_nonces_address_issued ON siwe_nonces (address, issued_at);
CREATE INDEX siwe_nonces_ip_issued ON siwe_nonces (source_ip, issued_at);
