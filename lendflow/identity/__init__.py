"""Who the workspace's staff are and how they prove it: users, passwords, API tokens.

The `users` table is the directory (`lendflow init` seeds it from users.yaml);
`Workspace.actor` reads it for the CLI's `--as`, and the HTTP API turns a bearer token
into an `Actor` through `tokens.check_token`.
"""
