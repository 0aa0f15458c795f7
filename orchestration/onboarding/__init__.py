"""`powertrace onboard`: draft a source contract from one sample delivery (see docs/contracts.md)."""
