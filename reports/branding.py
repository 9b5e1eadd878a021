"""How a client report looks: the agency's logo, accent colour and footer, with a neutral default.

Part of the report model (pure data). Each workspace stores its own (`models.repository.workspace_branding`;
`reports.stored.branding_of` turns it into this); the CLI takes them as flags for reports on files, and
anything unset is the neutral default, `Branding()`.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

from metrics.errors import InputError, UsageError

DEFAULT_ACCENT = "#4C6EF5"
DEFAULT_FOOTER = "Prepared with Campaign Lens"
# Logos are drawn in both files; PNG and JPEG are what every PDF writer and browser shows as they are.
LOGO_TYPES: dict[str, tuple[bytes, ...]] = {"image/png": (b"\x89PNG\r\n\x1a\n",), "image/jpeg": (b"\xff\xd8\xff",)}
MAX_LOGO_BYTES = 2_000_000
MAX_FOOTER_CHARS = 200
_HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")


@dataclass(frozen=True)
class Branding:
    """Logo (PNG or JPEG bytes and their MIME type), accent colour (#RRGGBB) and footer text.

    Validated on creation: a bad colour is a `UsageError`, a logo that is not a readable PNG or JPEG an
    `InputError`, each with one sentence (both are `metrics.errors.CampaignLensError`)."""

    logo: bytes | None = None
    logo_mime: str | None = None
    accent: str = DEFAULT_ACCENT
    footer: str = DEFAULT_FOOTER

    def __post_init__(self) -> None:
        if not isinstance(self.accent, str) or not _HEX_COLOUR.fullmatch(self.accent):
            raise UsageError(f"The accent colour {str(self.accent)[:20]!r} is not a colour like #4C6EF5; "
                             "give six hexadecimal digits after #.")
        if len(self.footer) > MAX_FOOTER_CHARS:
            raise UsageError(f"The footer is longer than {MAX_FOOTER_CHARS} characters; shorten it.")
        if self.logo is not None:
            _check_logo(self.logo, self.logo_mime)
            object.__setattr__(self, "logo_mime", logo_type(self.logo))  # the type the bytes really have
        elif self.logo_mime is not None:
            object.__setattr__(self, "logo_mime", None)

    @property
    def accent_rgb(self) -> tuple[int, int, int]:
        value = self.accent.lstrip("#")
        return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def logo_type(data: bytes) -> str | None:
    """The MIME type of PNG or JPEG bytes, read from their signature (never from a file name)."""
    return next((mime for mime, magics in LOGO_TYPES.items() if data.startswith(magics)), None)


def _check_logo(data: bytes, mime: str | None) -> None:
    if len(data) > MAX_LOGO_BYTES:
        raise InputError(f"The logo is larger than {MAX_LOGO_BYTES // 1_000_000} MB; use a smaller PNG or JPEG.")
    found = logo_type(data)
    if found is None:
        raise InputError("The logo is not a PNG or JPEG image; save it as PNG or JPEG and try again.")
    if mime is not None and mime != found:
        raise InputError(f"The logo is a {found.split('/')[1].upper()} image but was declared as {mime[:40]}; "
                         "upload it again.")
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise InputError("The logo image is damaged and cannot be read; save it again as PNG or JPEG.") from None
