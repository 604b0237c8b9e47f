"""Hand-written envelopes and mappers around the generated models in `generated/`."""
