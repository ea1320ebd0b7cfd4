"""Security primitives shared by every feature: keys, personal-data encryption, tokens, passwords, auth."""
