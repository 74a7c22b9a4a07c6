"""The one error type the core raises for bad input: its message is a Vietnamese sentence for users."""


class InputError(Exception):
    """Input a person supplied cannot be used. `str(err)` is shown to users as is (Vietnamese, names the file/row/field)."""
