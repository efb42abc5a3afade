"""Business rules. Services flush; the caller (request or worker) commits."""
