"""The seeded fault simulator (`make torture SEEDS=N`): see simulator.py and auditor.py.

It lives in the sandbox layer because, like the build-and-test sandbox, it opens
books of its own through `lendflow.bootstrap` and drives every loan path of the
real engine; it is a tool operators and CI run, not only a test helper.
"""
