"""What a connection cut mid-body looks like through whichever SDK version is installed."""

from __future__ import annotations

import sys

import openai

#: The HTTP library the installed SDK sends with: httpx, or httpx2 for openai 3.
TRANSPORT = sys.modules[openai.DefaultHttpxClient.__mro__[1].__module__.split(".")[0]]
#: What a stream iterator may raise for a cut connection, depending on the SDK version.
CONNECTION_ERRORS = (openai.APIConnectionError, TRANSPORT.RemoteProtocolError)


def assert_cut_mid_body(exc: BaseException) -> None:
    """``exc`` reports a response body the peer cut short (not a timeout, not a clean end).

    The cut is the HTTP library's ``RemoteProtocolError`` (httpx, or httpx2 for openai 3).
    openai >= 3.14 raises it from a stream as the ``__cause__`` of ``APIConnectionError``;
    older SDKs let it out of the stream iterator unwrapped. Which one the caller gets is
    the SDK's business; the devserver's is that the body was cut.
    """
    assert isinstance(transport_error(exc), TRANSPORT.RemoteProtocolError), repr(exc)


def transport_error(exc: BaseException) -> BaseException | None:
    """The HTTP library's exception behind what a stream raised: openai >= 3.14 wraps it in
    ``APIConnectionError`` (as its ``__cause__``), older SDKs raise it as it is."""
    return exc.__cause__ if isinstance(exc, openai.APIConnectionError) else exc
