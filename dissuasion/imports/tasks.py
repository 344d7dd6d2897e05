"""The imports' scheduled job: uploads whose preview was never committed are removed (imports/uploads.py)."""
from .uploads import remove_old_uploads


def remove_abandoned_uploads() -> int:
    """Remove the uploads older than two hours (a preview nobody committed); returns how many files went."""
    return remove_old_uploads()
