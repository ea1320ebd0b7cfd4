"""The outside systems the enterprise feature talks to (the business registry)."""
