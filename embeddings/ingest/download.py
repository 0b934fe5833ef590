"""Fetch a URL into a hidden temporary file, bounded by a timeout, a size cap and a redirect limit.

Nothing is left behind on failure; the caller moves the file into place only once it is read.
"""

from __future__ import annotations

import http.client
import os
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from embeddings.errors import DownloadError
from embeddings.ingest.readers import MB

USER_AGENT = "PolicyBot/0.1 (policy document ingestion)"
CHUNK = 64 * 1024


@dataclass(frozen=True)
class Download:
    path: Path  # hidden temporary file in the target folder
    url: str  # where the content came from, after redirects
    content_type: str


def download(url: str, folder: Path, max_bytes: int, timeout: float, max_redirects: int) -> Download:
    """GET `url` into a temporary file in `folder`; raise `DownloadError` with a clear reason."""
    if not url.lower().startswith(("http://", "https://")):
        raise DownloadError(f"{url}: only http:// and https:// addresses can be added")
    opener = urllib.request.build_opener(_LimitedRedirects(url, max_redirects))
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    deadline = time.monotonic() + timeout
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".add-", suffix=".part", dir=folder)
    try:
        with os.fdopen(fd, "wb") as out, opener.open(request, timeout=timeout) as response:
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise DownloadError(f"{url}: is {int(declared) / MB:.0f} MB, over the {max_bytes / MB:g} MB limit")
            size = 0
            while chunk := response.read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise DownloadError(f"{url}: is over the {max_bytes / MB:g} MB limit (ingest.max_file_mb)")
                if time.monotonic() > deadline:
                    raise DownloadError(f"{url}: download took over {timeout:g}s (ingest.download_timeout); try again")
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
            final_url, content_type = response.geturl(), response.headers.get_content_type()
    except urllib.error.HTTPError as exc:
        Path(tmp).unlink(missing_ok=True)
        if 300 <= exc.code < 400:
            raise DownloadError(f"{url}: redirected more than {max_redirects} times (a redirect loop?)") from None
        raise DownloadError(f"{url}: the server answered {exc.code} {exc.reason}; check the address") from None
    except TimeoutError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise DownloadError(f"{url}: no answer within {timeout:g}s (ingest.download_timeout); try again") from exc
    except urllib.error.URLError as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc.reason, TimeoutError):
            raise DownloadError(f"{url}: no answer within {timeout:g}s (ingest.download_timeout); try again") from exc
        raise DownloadError(f"{url}: cannot be reached ({exc.reason}); check the address and network") from exc
    except (OSError, http.client.HTTPException) as exc:  # connection reset, malformed response...
        Path(tmp).unlink(missing_ok=True)
        raise DownloadError(f"{url}: the download failed ({exc or type(exc).__name__}); try again") from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Download(Path(tmp), final_url, content_type)


class _LimitedRedirects(urllib.request.HTTPRedirectHandler):
    """Follows at most `limit` redirects (urllib's own cap is 10, and it stops exact loops sooner)."""

    def __init__(self, url: str, limit: int) -> None:
        self.url = url
        self.limit = limit
        self.followed = 0

    def redirect_request(
        self, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: Any, newurl: str
    ) -> urllib.request.Request | None:
        self.followed += 1
        if self.followed > self.limit:
            raise DownloadError(f"{self.url}: redirected more than {self.limit} times (a redirect loop?)")
        return super().redirect_request(req, fp, code, msg, headers, newurl)
