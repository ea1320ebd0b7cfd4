"""SM2 cloud signing (电子云签) and third-party verification. Not built yet (issues 3, 5)."""
