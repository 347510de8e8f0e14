"""Where things live: the project root, raw and processed releases, reports, and release ids."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from analysis.errors import AnalysisError, ReleaseError
from analysis.safe_yaml import YamlRefused, load_yaml

RELEASE_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
RELEASE_FILE = "release.yml"


def project_root() -> Path:
    """The project folder: $ANALYSIS_ROOT, else the nearest parent of the working directory
    holding `pyproject.toml` and `data/`, else the checkout this package was installed from."""
    env = os.environ.get("ANALYSIS_ROOT")
    if env:
        return Path(env).resolve()
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").is_file() and (folder / "data").is_dir():
            return folder
    source_checkout = Path(__file__).resolve().parents[2]
    if (source_checkout / "pyproject.toml").is_file():
        return source_checkout
    return here


def raw_root() -> Path:
    return project_root() / "data" / "raw"


def processed_dir(release_id: str) -> Path:
    return project_root() / "data" / "processed" / check_release_id(release_id)


def reports_dir(release_id: str) -> Path:
    return project_root() / "reports" / check_release_id(release_id)


def notebooks_dir() -> Path:
    return project_root() / "notebooks"


def require_folder(path: Path, error: type[AnalysisError] = ReleaseError, *, link_allowed: bool = True) -> Path:
    """`path`, a folder the package writes into, must be a folder or absent: a file there (or a
    symbolic link, where a link would be replaced) is a one-line error, and nothing is written."""
    shown = f"{display_path(path.parent)}/{path.name}"  # the link itself, not where it leads
    if path.is_symlink() and not link_allowed:
        raise error("is a symbolic link, and this folder is replaced whole on every run: remove the link "
                    "(to keep processed data elsewhere, link data/processed itself)", file=shown)
    if path.exists() and not path.is_dir():
        raise error("is a file where the package writes a folder of that name: move or remove it", file=shown)
    return path


def check_release_id(release_id: str) -> str:
    if not isinstance(release_id, str) or not RELEASE_ID_PATTERN.match(release_id) or ".." in release_id:
        raise ReleaseError(
            f"invalid release id {release_id!r}: use letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return release_id


@dataclass(frozen=True)
class ReleaseLocation:
    """A release as the user named it: its id, and its raw folder if there is one."""

    release_id: str
    raw_dir: Path | None
    config: dict

    @property
    def previous_release(self) -> str | None:
        value = self.config.get("previous_release")
        return check_release_id(str(value)) if value else None


def read_release_config(raw_dir: Path) -> dict:
    path = raw_dir / RELEASE_FILE
    if not path.is_file():
        return {}
    import yaml  # only a release with a release.yml needs the YAML parser

    try:
        config = load_yaml(path, aliases=False) or {}
    except YamlRefused as exc:
        raise ReleaseError(str(exc), file=path) from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ReleaseError(f"not valid YAML: {exc}".splitlines()[0], file=path) from None
    if not isinstance(config, dict):
        raise ReleaseError("must be a mapping of keys to values", file=path)
    return config


def locate_release(name: str | os.PathLike[str]) -> ReleaseLocation:
    """Resolve RELEASE as given on the command line: an id under data/raw/, a folder path,
    or the id of a release already ingested whose raw files are elsewhere."""
    text = str(name)
    if not text.strip():
        raise ReleaseError("no release given")
    looks_like_path = os.sep in text or text.startswith(".") or Path(text).is_absolute()
    if not looks_like_path:
        release_id = check_release_id(text)
        raw_dir = raw_root() / release_id
        if raw_dir.is_dir():
            config = read_release_config(raw_dir)
            named = config.get("release")
            if named and str(named) != release_id:
                raise ReleaseError(
                    f"release.yml names the release {named!r} but its folder is {release_id!r}; "
                    "rename one so they agree",
                    file=raw_dir / RELEASE_FILE,
                )
            return ReleaseLocation(release_id, raw_dir, config)
        if (processed_dir(release_id) / "manifest.json").is_file():
            return ReleaseLocation(release_id, None, {})
        hint = " (run `analysis sample` to create it)" if release_id == "sample" else ""
        raise ReleaseError(f"release {release_id!r} not found under {raw_root()}{hint}")
    raw_dir = Path(text).expanduser()
    if not raw_dir.exists():
        raise ReleaseError("release directory not found", file=raw_dir)
    if not raw_dir.is_dir():
        raise ReleaseError("not a directory; give the folder that holds the release's files", file=raw_dir)
    raw_dir = raw_dir.resolve()
    config = read_release_config(raw_dir)
    release_id = check_release_id(str(config.get("release") or raw_dir.name))
    return ReleaseLocation(release_id, raw_dir, config)


def display_path(path: Path) -> str:
    """A path as the user would type it: relative to the project root when inside it."""
    try:
        return str(path.resolve().relative_to(project_root()))
    except ValueError:
        return str(path)
