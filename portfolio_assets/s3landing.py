"""The raw landing zone on S3: ``landing.LandingZone`` over objects, through a local mirror.

The objects under ``s3://<bucket>/<prefix>/landing/`` have the local landing zone's layout (``landing``,
``clients.store``). Responses never change once stored, so the zone works on a local mirror of them
(``S3Location.cache_path``): before a series is read, its folder is brought in line with the listing of its
objects (the missing ones downloaded, the ones no longer there dropped), and every reader keeps its local
paths and its strict naming rules. A write stores the complete file locally, then uploads it under its
final name in a single PUT, so no object ever holds part of a response under a name replay reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from portfolio_assets.landing import LandedFile, LandingZone, series_key
from portfolio_assets.objectstore import S3Location


class S3LandingZone(LandingZone):
    """A landing zone at an ``S3Location``: reads through the mirror, writes uploaded whole."""

    def __init__(self, root: S3Location) -> None:  # type: ignore[override]
        self.location = root
        self.root = root.cache_path()

    def relative(self, path: Path) -> str:
        """The object key (relative to the zone) of a path in the mirror."""
        return path.relative_to(self.root).as_posix()

    def files(self, source: str, params: Mapping[str, object]) -> list[LandedFile]:
        """``LandingZone.files`` of the series as its objects are now."""
        self.location.mirror(f"{source}/{series_key(params)}")
        return super().files(source, params)

    def store(
        self,
        source: str,
        params: Mapping[str, object],
        body: bytes,
        *,
        ext: str | None = None,
        fetched_at: datetime | None = None,
    ) -> LandedFile:
        """``LandingZone.store``, then the complete file uploaded under its final name (one PUT)."""
        self.location.mirror(f"{source}/{series_key(params)}")  # a stored instant is refused, as locally
        landed = super().store(source, params, body, ext=ext, fetched_at=fetched_at)
        try:
            self.location.put(self.relative(landed.path), body)
        except BaseException:
            landed.path.unlink(missing_ok=True)
            raise
        return landed
