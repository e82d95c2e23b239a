"""`backoffice ssh serve`: the console over SSH, one console process per
session, as the operator's own PostgreSQL role (README: Operators over SSH).

operators_file.py reads and checks the operators file, host_key.py keeps the
server's key, pty_console.py runs a console on a pseudo-terminal, limits.py
holds the session limits and server.py ties them to asyncssh.
"""
