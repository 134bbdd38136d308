"""The vault's periodic work (config/schedule.py)."""

from vault.epochs import epochs_sweep


def move_copies_to_their_epochs() -> None:
    """Each minute: closed cases' copies under their closing month's epoch, copies made
    without an epoch under one, and any copy left under an old epoch re-sealed."""
    epochs_sweep()
