"""Object-level authorisation (issue 9): every id-taking route, called with another citizen's token,
an out-of-scope staff member or machine client, and a token of the wrong kind."""
