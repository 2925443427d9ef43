"""Exit codes of every command; the CLI is the one place that picks them."""

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130
