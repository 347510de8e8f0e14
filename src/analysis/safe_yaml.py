"""YAML the package reads (release.yml, claim files), within limits checked before anything is
built: a size limit, then one pass over the parser's event stream (which, unlike building the
document, does not recurse) that bounds nesting depth and the number of values the document
would hold once every alias is expanded. An alias bomb or a 50,000-deep file is refused in
milliseconds, in one line, instead of a MemoryError or RecursionError.
"""

from __future__ import annotations

from pathlib import Path

MAX_BYTES = 1 << 20  # a release.yml or claim file is a few kilobytes
MAX_DEPTH = 64
MAX_VALUES = 100_000  # after alias expansion


class YamlRefused(ValueError):
    """A YAML file outside the limits; the message says which."""


def load_yaml(path: Path, *, aliases: bool) -> object:
    """The document in `path` (safe_load: no tags), after the limits. `aliases=False` refuses any
    `*alias` (release.yml never needs one). Raises YamlRefused, yaml.YAMLError or UnicodeDecodeError."""
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise YamlRefused(f"is {size:,} bytes, more than the {MAX_BYTES:,} any such file needs: refused")
    import yaml  # imported when a YAML file is read: most commands read none

    text = path.read_bytes().decode("utf-8")
    check_structure(text, aliases=aliases)
    return yaml.safe_load(text)


def check_structure(text: str, *, aliases: bool) -> None:
    """Depth and expanded size of a YAML text, from its event stream."""
    import yaml

    expanded = 0
    sizes: dict[str, int] = {}  # anchor -> values it stands for
    open_collections: list[tuple[int, str | None]] = []  # (values before it, its anchor)
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent):
            if not aliases:
                raise YamlRefused(f"uses a YAML alias (*{event.anchor}), which this file never needs: refused; "
                                  "write the value out")
            expanded += sizes.get(event.anchor or "", 1)
        elif isinstance(event, yaml.ScalarEvent):
            expanded += 1
            if event.anchor:
                sizes[event.anchor] = 1
        elif isinstance(event, yaml.CollectionStartEvent):
            open_collections.append((expanded, event.anchor))
            expanded += 1
            if len(open_collections) > MAX_DEPTH:
                raise YamlRefused(f"nests lists and mappings deeper than {MAX_DEPTH} levels: refused")
        elif isinstance(event, yaml.CollectionEndEvent):
            before, anchor = open_collections.pop()
            if anchor:
                sizes[anchor] = expanded - before
        if expanded > MAX_VALUES:
            raise YamlRefused(f"would hold more than {MAX_VALUES:,} values once its aliases are expanded "
                              "(an alias bomb?): refused")
