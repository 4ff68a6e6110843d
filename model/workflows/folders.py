"""Result folders written as a whole: a light check of ``--out``, and a staging folder.

``mtsim validate``, ``calibrate`` and ``discover`` (and any workflow that writes a
folder of results at the end) check ``--out`` before their heavy imports
(:func:`check_out_folder`: a read-only, unwritable or misnamed folder is one line in a
moment) and write every file into a hidden staging folder beside it, moved in at the
end (:func:`staged_folder`), so a full disk, an error or an interrupt leaves earlier
results as they were. The staging folder is made as ``mtsim run`` makes its own
(``model.workflows.run.staging_folder``, with a file naming its process), so the next
run removes one that a killed process left.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from model.errors import UserError


def write_error(out: Path, exc: OSError) -> UserError:
    """Return the one line for results that cannot be written into ``out`` (earlier kept)."""
    shown = str(out) if len(str(out)) <= 120 else f"{str(out)[:117]}..."
    try:
        earlier = f"; earlier results in {shown}/ are unchanged" if out.is_dir() else ""
    except OSError:  # a name too long to look up
        earlier = ""
    return UserError(f"--out: {shown}: cannot write results ({exc.strerror or exc}){earlier}")


def check_out_folder(out: Path) -> None:
    """Check that results can be written into ``out``, or into the folder that will hold it.

    Light (no heavy import), so a command refuses a read-only, unwritable or misnamed
    folder in a moment. Nothing is made or changed: a nameless probe file is made and
    removed at once in ``out``, or in its nearest existing parent when ``out`` is new.

    Raises:
        UserError: one line naming the folder and the OS error.
    """
    try:
        if out.exists() and not out.is_dir():
            raise UserError(f"--out: {out}: is a file, not a folder; choose a folder")
        existing = next(folder for folder in (out, *out.absolute().parents) if folder.exists())
        if not existing.is_dir():
            raise UserError(f"--out: {out}: {existing} is a file, not a folder")
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as exc:
        raise write_error(out, exc) from None


@contextmanager
def staged_folder(out: Path) -> Iterator[Path]:
    """Yield a hidden staging folder for ``out``'s files; move them into ``out`` at the end.

    When the block ends normally, ``out`` is made if it is missing and each file of
    the staging folder replaces the file of that name in ``out`` (other files of
    ``out`` stay); when it raises (a full disk, an error, an interrupt), the staging
    folder is removed and ``out`` is as it was (not made, if it was missing). The
    staging folder is made as ``mtsim run`` makes its own (beside ``out``, with a file
    naming this process), so the next run into ``out`` removes one that a killed
    process left (``model.workflows.run.remove_stale_staging``).

    Raises:
        UserError: the staging folder or a file cannot be written (one line; an
            ``OSError`` in the block, such as a full disk, becomes this too).
    """
    from model.workflows.run import STAGING_OWNER, remove_stale_staging, staging_folder

    target = out.absolute()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_staging(target)
        stage = staging_folder(target)
    except OSError as exc:
        raise write_error(out, exc) from None
    try:
        yield stage
        target.mkdir(exist_ok=True)
        for name in sorted(os.listdir(stage)):
            if name != STAGING_OWNER:
                os.replace(stage / name, target / name)
    except OSError as exc:
        raise write_error(out, exc) from None
    finally:
        shutil.rmtree(stage, ignore_errors=True)
