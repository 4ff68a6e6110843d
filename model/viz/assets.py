"""Local copies of the browser files that Solara would otherwise fetch from a CDN.

A Solara page loads its Vue/Vuetify bundle, RequireJS and Font Awesome through the
server's CDN proxy (``/_solara/cdn/...``). The proxy reads them from a cache folder
(``<venv>/share/solara/cdn``) and, when a file is missing, downloads it from the
jsDelivr CDN. Without Internet access (CI, a classroom network) the page then stays
blank. This module fills the cache from the npm registry with the ordinary ``npm``
client (``npm pack name@version``), exactly the packages and versions the installed
Solara asks for, so ``mtsim viz`` works offline.

Usage::

    python -m model.viz.assets          # install what is missing, say what was done
    python -m model.viz.assets --check  # exit 1 if something is missing
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from model.errors import UserError

_CDN_REF = re.compile(r"\{\{\s*cdn\s*\}\}/((?:@[\w.-]+/)?[\w.-]+)@(\d+\.\d+\.\d+[\w.+-]*)/")
_PATH_REF = re.compile(r"^/?((?:@[\w.-]+/)?[\w.-]+)@(\d+\.\d+\.\d+[\w.+-]*)/")


class AssetError(UserError):
    """The browser files could not be installed (no npm, no registry, a bad package)."""


def cache_dir() -> Path:
    """Return the folder Solara's CDN proxy serves files from."""
    from solara.server import settings

    return Path(settings.assets.proxy_cache_dir)


def required_packages() -> list[tuple[str, str]]:
    """List the npm packages (name, version) the installed Solara's page template loads.

    Read from Solara's own page template, so an upgrade of Solara changes the list.
    Only the Vuetify app matching the installed ipyvuetify (2 or 3) is included.
    """
    import solara
    import solara.util

    template = Path(solara.__file__).parent / "server" / "templates" / "solara.html.j2"
    found: dict[str, str] = {}
    for name, version in _CDN_REF.findall(template.read_text(encoding="utf-8")):
        found.setdefault(name, version)
    vuetify3 = bool(getattr(solara.util, "IPYVUETIFY_V3", False))
    unused = "@widgetti/solara-vuetify-app" if vuetify3 else "@widgetti/solara-vuetify3-app"
    found.pop(unused, None)
    try:
        from solara.server import settings

        if settings.assets.fontawesome_enabled:
            match = _PATH_REF.match(settings.assets.fontawesome_path)
            if match:
                found.setdefault(match.group(1), match.group(2))
    except Exception:  # noqa: BLE001 - settings unreadable: the template list still holds
        pass
    return sorted(found.items())


def package_dir(name: str, version: str, root: Path | None = None) -> Path:
    """Return where the proxy expects ``name@version`` (``<cache>/<name>@<version>``)."""
    return (root or cache_dir()) / f"{name}@{version}"


def missing_packages(root: Path | None = None) -> list[tuple[str, str]]:
    """List the required packages not yet in the cache."""
    root = root or cache_dir()
    return [
        (name, version)
        for name, version in required_packages()
        if not (package_dir(name, version, root) / "package.json").is_file()
    ]


def _npm_pack(npm: str, spec: str, workdir: Path, timeout: float) -> Path:
    try:
        done = subprocess.run(
            [npm, "pack", spec, "--pack-destination", str(workdir), "--silent"],
            cwd=workdir,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise AssetError(f"npm pack {spec}: no answer within {timeout:.0f} s") from None
    tarballs = sorted(workdir.glob("*.tgz"))
    if done.returncode != 0 or not tarballs:
        detail = (done.stderr or done.stdout).strip().splitlines()
        reason = detail[-1] if detail else f"exit code {done.returncode}"
        raise AssetError(f"npm pack {spec} failed: {reason}")
    return tarballs[0]


def install_packages(
    root: Path | None = None, npm: str | None = None, timeout: float = 300.0
) -> list[tuple[str, str]]:
    """Fetch the missing packages with ``npm pack`` and unpack them into the cache.

    Each package is unpacked into a temporary folder and renamed into place, so an
    interrupted install never leaves a half-filled package behind.

    Args:
        root: the cache folder (default: Solara's).
        npm: the npm executable (default: ``npm`` on the PATH).
        timeout: seconds allowed for each ``npm pack``.

    Returns:
        The packages installed (empty when nothing was missing).

    Raises:
        AssetError: npm is missing or a package could not be fetched.
    """
    root = root or cache_dir()
    todo = missing_packages(root)
    if not todo:
        return []
    npm = npm or shutil.which("npm")
    if not npm:
        names = ", ".join(f"{n}@{v}" for n, v in todo)
        raise AssetError(
            f"npm not found: cannot install the browser files {names} into {root} "
            "(install Node.js and npm, or give the page Internet access to the CDN)"
        )
    root.mkdir(parents=True, exist_ok=True)
    for name, version in todo:
        target = package_dir(name, version, root)
        with tempfile.TemporaryDirectory(prefix="mtsim-assets-") as tmp:
            tarball = _npm_pack(npm, f"{name}@{version}", Path(tmp), timeout)
            unpacked = Path(tmp) / "unpacked"
            with tarfile.open(tarball) as archive:
                archive.extractall(unpacked, filter="data")
            inner = unpacked / "package"
            if not (inner / "package.json").is_file():
                raise AssetError(f"npm pack {name}@{version}: the archive has no package/ folder")
            target.parent.mkdir(parents=True, exist_ok=True)
            staging = target.parent / f".{target.name}.partial"
            shutil.rmtree(staging, ignore_errors=True)
            shutil.move(str(inner), staging)
            if target.exists():
                shutil.rmtree(target)
            staging.rename(target)
    return todo


def main(argv: list[str] | None = None) -> int:
    """``python -m model.viz.assets [--check]``."""
    parser = argparse.ArgumentParser(
        prog="python -m model.viz.assets",
        description="Install the browser files of the Solara page (mtsim viz) for offline use.",
    )
    parser.add_argument("--check", action="store_true", help="only report; exit 1 if missing")
    args = parser.parse_args(argv)
    root = cache_dir()
    if args.check:
        missing = missing_packages(root)
        for name, version in missing:
            print(f"missing: {name}@{version}")
        print(f"{len(missing)} of {len(required_packages())} packages missing in {root}")
        return 1 if missing else 0
    try:
        done = install_packages(root)
    except AssetError as exc:
        print(f"mtsim: error: {exc}", file=sys.stderr)
        return 1
    for name, version in done:
        print(f"installed {name}@{version}")
    print(f"browser files complete in {root} ({len(done)} installed now)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
