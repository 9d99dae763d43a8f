"""The demonstration: a simulated book driven through the real engine, and its report folder."""
