"""The build-and-test sandbox: a fresh book with its own key, driven through the real engine."""
