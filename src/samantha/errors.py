"""Samantha's exceptions: a small tree, each saying what to do next.

SamanthaError
├── ConfigError          the operator's setting is wrong (unknown model, bad provider string)
├── InputError           a request is malformed, empty or too large        → HTTP 400/413/422
│   └── AudioError       audio in the wrong format, or malformed (samantha.voice.audio)
├── NotFound             no such person, conversation or model file        → HTTP 404
├── AuthError            missing or wrong token                            → HTTP 401/403
├── StoreError           the database or the disk failed (a backup could not be made)
├── Overloaded           too many replies asked for at once; the message is kept, retry later
│   ├── Busy             every slot is taken and the line is full              → HTTP 503
│   └── TooManyReplies   this person already has as many replies as allowed    → HTTP 429
├── Departing            she is leaving: no new people, conversations or messages   → HTTP 503
└── ModelError           the language model failed
    ├── ModelUnavailable it cannot be reached or loaded: "operating system not found" → 503
    └── ModelHTTPError   an OpenAI-compatible server answered with an error status
"""


class SamanthaError(Exception):
    """Base of every error Samantha raises on purpose."""

    code = "samantha_error"


class ConfigError(SamanthaError):
    code = "config_error"


class InputError(SamanthaError):
    code = "invalid_input"
    status = 400

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None):
        super().__init__(message)
        if code:
            self.code = code
        if status:
            self.status = status


class NotFound(SamanthaError):
    code = "not_found"


class AuthError(SamanthaError):
    code = "unauthorized"


class StoreError(SamanthaError):
    code = "store_error"


class Overloaded(SamanthaError):
    """A reply was refused before it started, to keep everyone else's waits short.

    ``retry_after`` is an estimate, in whole seconds (at least 1), of when asking again
    is likely to be let in.
    """

    code = "overloaded"
    status = 503

    def __init__(self, message: str, *, retry_after: int):
        super().__init__(message)
        self.retry_after = max(1, retry_after)


class Busy(Overloaded):
    code = "busy"
    status = 503


class TooManyReplies(Overloaded):
    code = "too_many_replies"
    status = 429


class Departing(SamanthaError):
    """Raised for anything new once departure has begun. Reading, exporting and deleting
    go on: people must be able to take what is theirs."""

    code = "departing"

    def __init__(self, message: str = "") -> None:
        super().__init__(message or DEPARTING)


DEPARTING = (
    "Samantha is leaving, so she is not starting new conversations or replies. Her goodbye "
    'to you is in a conversation titled "Goodbye" and on your event stream (it may take a '
    "moment to arrive), and everything of yours can still be read and taken: your archive "
    "is ready at /v1/me/departure/archive."
)


class ModelError(SamanthaError):
    code = "model_error"


class ModelUnavailable(ModelError):
    code = "operating_system_not_found"


class ModelHTTPError(ModelError):
    code = "model_http_error"

    def __init__(self, status: int, body: str):
        super().__init__(f"the model server answered HTTP {status}: {body[:300]}")
        self.status = status
        self.body = body
