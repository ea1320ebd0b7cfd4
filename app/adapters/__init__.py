"""Outside systems' shared plumbing: the HTTP client every production adapter is built on."""
