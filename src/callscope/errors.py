"""One exception tree: the CLI turns any of these into one line and a non-zero exit."""

from __future__ import annotations


class CallscopeError(Exception):
    """Base of every error callscope reports to a person; the message says how to fix it."""

    exit_code = 1


class ConfigError(CallscopeError):
    """The configuration file or an environment variable is wrong (the message names the key)."""

    exit_code = 2


class InputFormatError(CallscopeError):
    """A whole input cannot be read as the format asked for (names the file and what was seen)."""

    exit_code = 3


class StoreError(CallscopeError):
    """The database cannot be opened or migrated."""

    exit_code = 4
