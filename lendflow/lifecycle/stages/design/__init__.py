"""Stage 3, design: the product spec checked against research, policy and its own documents."""
