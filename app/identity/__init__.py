"""Identity (实名认证): citizens, staff and machine clients; login, tokens, real-name levels."""
