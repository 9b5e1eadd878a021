"""Bounded reading of what people hand the app: goals files, column mappings, and later rates, budgets
and schedules; and report logos (`check_logo`). Every import goes through `load_json_bounded`, which checks size,
nesting depth and entries per list/object *before* `json.loads` can recurse without end (a 100,000
deep `[[[[…]]]]` raises RecursionError inside the parser) or build a structure nobody meant
(200,000 goals). Each refusal is one sentence saying what is wrong and what to do.

The limits of each kind of file are declared here, once; docs/operations.md lists them.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from itertools import accumulate
from typing import Any, Literal

from metrics.errors import CampaignLensError, InputError

Reason = Literal["size", "encoding", "depth", "syntax", "entries"]


@dataclass(frozen=True)
class JsonLimits:
    """`max_bytes` of UTF-8; `max_depth` nested lists/objects; `max_items` entries in any one list or object."""

    max_bytes: int
    max_depth: int
    max_items: int

    def load(self, text: bytes | str, *, what: str) -> Any:
        """`load_json_bounded` with these limits."""
        return load_json_bounded(text, max_bytes=self.max_bytes, max_depth=self.max_depth,
                                 max_items=self.max_items, what=what)


# A goals file: {"goals": [{...}, ...]} or a list of goals (3 levels); a team has dozens, not thousands.
GOALS_LIMITS = JsonLimits(max_bytes=1_000_000, max_depth=6, max_items=1_000)
# A column mapping: {header: column} or {file name: {header: column}} (2 levels); exports have hundreds of columns.
MAPPING_LIMITS = JsonLimits(max_bytes=1_000_000, max_depth=4, max_items=5_000)


class BoundedJsonError(InputError):
    """Text refused by `load_json_bounded`; `reason` says which check refused it."""

    def __init__(self, message: str, reason: Reason) -> None:
        super().__init__(message)
        self.reason = reason


# A JSON string, escapes included; its brackets do not nest anything. Unambiguous, so linear time.
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def nesting_depth(text: str) -> int:
    """How deeply lists and objects nest in JSON `text`, counted without parsing (no recursion)."""
    brackets = _BRACKET.findall(_STRING.sub("", text))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:,.1f} MB"


def load_json_bounded(text: bytes | str, *, max_bytes: int, max_depth: int, max_items: int, what: str) -> Any:
    """Parse JSON `text` (bytes are read as UTF-8, a BOM allowed) within the limits.

    `what` starts the sentence of a refusal ("This goals file"). Raises `BoundedJsonError` (an
    `InputError`) with `reason` "size", "encoding", "depth", "syntax" or "entries"; never
    RecursionError or MemoryError from the parser.
    """
    size = len(text)  # characters: a lower bound of the bytes, and enough to refuse a huge string at once
    if isinstance(text, str) and size <= max_bytes:
        size = len(text.encode("utf-8", "surrogatepass"))
    if size > max_bytes:  # (callers may pass only the first max_bytes + 1 bytes of a file)
        raise BoundedJsonError(
            f"{what} is larger than the {_megabytes(max_bytes)} allowed; check that it is the right file, or "
            "split it.", "size")
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise BoundedJsonError(f"{what} is not UTF-8 text; save it as UTF-8 JSON and try again.",
                                   "encoding") from None
    depth = nesting_depth(text)
    if depth > max_depth:
        raise BoundedJsonError(
            f"{what} nests lists or objects {depth:,} levels deep, more than the {max_depth} this file can have; "
            "check that it is the right file.", "depth")
    try:
        document = json.loads(text)
    except ValueError as error:
        raise BoundedJsonError(f"{what} is not valid JSON ({error}).", "syntax") from None
    _check_entries(document, max_items, what)
    return document


def _check_entries(document: Any, max_items: int, what: str) -> None:
    pending = [document]
    while pending:  # a loop, not recursion: the depth is already bounded, but keep it flat anyway
        value = pending.pop()
        if isinstance(value, (list, dict)):
            if len(value) > max_items:
                raise BoundedJsonError(
                    f"{what} has {len(value):,} entries in one list or object, more than the {max_items:,} "
                    "allowed; split it into smaller files.", "entries")
            pending.extend(value.values() if isinstance(value, dict) else value)


# Report logos: PNG and JPEG are what every PDF writer and browser shows as they are. No SVG: it can carry
# scripts into the HTML report files.
LOGO_TYPES: dict[str, tuple[bytes, ...]] = {"image/png": (b"\x89PNG\r\n\x1a\n",), "image/jpeg": (b"\xff\xd8\xff",)}


def logo_type(data: bytes) -> str | None:
    """The MIME type of PNG or JPEG bytes, read from their signature (never from a file name)."""
    return next((mime for mime, magics in LOGO_TYPES.items() if data.startswith(magics)), None)


# One logo limit for the stored workspace logo and for report files made on the command line.
MAX_LOGO_BYTES = 1_000_000


def check_logo(data: bytes, *, max_bytes: int = MAX_LOGO_BYTES, declared: str | None = None,
               error: type[CampaignLensError] = InputError) -> str:
    """The MIME type of a logo that every report file can draw: at most `max_bytes`, PNG or JPEG by its
    signature (and the `declared` type, when given), and readable by Pillow. Otherwise raises `error` with
    one sentence (the workspace settings refuse with a `UsageError`, report files with an `InputError`)."""
    if len(data) > max_bytes:
        raise error(f"The logo is {_megabytes(len(data))}; use a PNG or JPEG under {_megabytes(max_bytes)}.")
    found = logo_type(data)
    if found is None:
        raise error("The logo is not a PNG or JPEG image; save it as PNG or JPEG and try again.")
    if declared is not None and declared != found:
        raise error(f"The logo is a {found.split('/')[1].upper()} image but was declared as {declared[:40]}; "
                    "upload it again.")
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise error("The logo image is damaged and cannot be read; save it again as PNG or JPEG.") from None
    return found
