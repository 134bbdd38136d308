"""A task for tests/config/test_logs.py that fails with what a child wrote in its
message, as a careless exception might."""


def fail_quoting(text: str) -> None:
    raise ValueError(f"could not handle {text}")
