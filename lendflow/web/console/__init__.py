"""The web console: server-rendered pages for the lender's staff under /console.

Same server and same use cases as the API; pages are Jinja templates
(`web/templates/console`), readable without JavaScript, with htmx (vendored in
`web/static`) for partial updates. Sign-in opens a server-side session
(`identity.sessions`); every unsafe request carries a CSRF token (`asgi-csrf`).
"""
