"""Constants shared by the crypto benchmark modules."""
GOAL_RATIO = 0.8
FAST_BACKEND = "tongsuo"
MSG_LEN = 32
KIB8 = 8192
MIB = 1 << 20
MB = 1e6  # MB/s in 10^6 bytes, as `openssl speed` counts (its "1000s of bytes")
