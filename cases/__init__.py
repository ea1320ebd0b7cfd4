"""Case progress (办件进度): department events, the citizen's timeline, 好差评."""
