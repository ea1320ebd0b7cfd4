"""E-licence wallet (电子证照): issuance, one-time QR presentation, counter verification. Not built yet (issue 4)."""
