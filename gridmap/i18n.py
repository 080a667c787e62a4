"""Message catalogues shared by the CLI and the web app (which reads them through Flask-Babel).

The catalogues are ``gridmap/translations/<locale>/LC_MESSAGES/messages.po`` (compiled to
``.mo``). zh_CN is the default locale; en is the other.
"""
from __future__ import annotations

from pathlib import Path

TRANSLATIONS = Path(__file__).resolve().parent / "translations"
DEFAULT_LOCALE = "zh_CN"
LOCALES = ["zh_CN", "en"]
