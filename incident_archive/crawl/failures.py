"""Why a request failed, in words a person can act on: the reason a crawl names."""

from __future__ import annotations

import scrapy.exceptions
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet import error as twisted_errors
from twisted.web._newclient import ResponseFailed


def _exceptions(*names: str) -> tuple[type, ...]:
    """Download exceptions by name: Scrapy 2.13+ wraps Twisted's in its own."""
    found = []
    for name in names:
        for module in (scrapy.exceptions, twisted_errors):
            if hasattr(module, name):
                found.append(getattr(module, name))
    return tuple(found)


CANNOT_RESOLVE = _exceptions("DNSLookupError", "CannotResolveHostError")
REFUSED = _exceptions("ConnectionRefusedError", "DownloadConnectionRefusedError")
TIMED_OUT = _exceptions("TimeoutError", "TCPTimedOutError", "DownloadTimeoutError")
BROKEN = (ResponseFailed, *_exceptions("ResponseDataLossError", "ConnectionLost", "ConnectionDone"))
CANCELLED = _exceptions("DownloadCancelledError")


def describe_failure(failure) -> str:
    """A short, actionable reason for a failed request."""
    return describe_exception(failure.value, getattr(failure, "request", None))


def describe_exception(error: BaseException, request=None) -> str:
    """The reason behind a download exception, in words a person can act on."""
    url = request.url if request is not None else "request"
    # Connection-level failures are about the host, not the page: said once per host.
    host = urlparse_cached(request).netloc if request is not None else "host"
    if isinstance(error, HttpError):
        response = error.response
        reason = f"HTTP {response.status}"
        retry_after = response.headers.get(b"Retry-After")
        if retry_after:
            reason += f" (Retry-After: {retry_after.decode('latin-1')})"
        return f"{response.url}: {reason}"
    if isinstance(error, CANNOT_RESOLVE):
        return f"could not reach {host} (DNS lookup failed; is the network up?)"
    if isinstance(error, REFUSED):
        return f"could not reach {host} (connection refused)"
    if isinstance(error, TIMED_OUT):
        return f"{url}: timed out"
    if isinstance(error, BROKEN):
        return f"{url}: the connection broke before the whole response arrived"
    if isinstance(error, CANCELLED):
        return f"{url}: download cancelled: the response was larger than allowed (DOWNLOAD_MAXSIZE)"
    message = str(error) or type(error).__name__
    if isinstance(error, scrapy.exceptions.IgnoreRequest) and "offsite" in message.lower():
        return f"{url}: refused to leave the configured hosts ({message})"
    if isinstance(error, scrapy.exceptions.IgnoreRequest) and "redirect" in message.lower():
        return f"{url}: redirect loop ({message})"
    return f"{url}: {type(error).__name__}: {message}"
