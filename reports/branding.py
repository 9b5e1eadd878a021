"""How a client report looks: the agency's logo, accent colour and footer, with a neutral default.

Part of the report model (pure data). Each workspace stores its own (`models.repository.workspace_branding`;
`reports.stored.branding_of` turns it into this); the CLI takes them as flags for reports on files, and
anything unset is the neutral default, `Branding()`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from metrics.bounded import check_logo
from metrics.errors import UsageError

DEFAULT_ACCENT = "#4C6EF5"
DEFAULT_FOOTER = "Prepared with Campaign Lens"
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
            # the type the bytes really have
            object.__setattr__(self, "logo_mime", check_logo(self.logo, declared=self.logo_mime))
        elif self.logo_mime is not None:
            object.__setattr__(self, "logo_mime", None)

    @property
    def accent_rgb(self) -> tuple[int, int, int]:
        value = self.accent.lstrip("#")
        return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)
