"""Mobile backend-for-frontend: home screen, proxies, client conventions. Not built yet (issue 8)."""
