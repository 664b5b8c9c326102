"""Argument checks shared by the mixing components."""


def check_finite_positive(owner: str, name: str, value: float) -> None:
    """Raise unless ``0 < value < inf`` (NaN fails too).

    Args:
        owner (str): The component, for the message (e.g. ``'FMix'``).
        name (str): The argument's name.
        value (float): Its value.

    Raises:
        ValueError: ``'<owner> <name> must be finite and > 0, got <value>'``.
    """
    if not 0 < value < float('inf'):
        raise ValueError(
            f'{owner} {name} must be finite and > 0, got {value}')
