"""Request dependencies: the running system and who is asking."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from samantha.auth import is_admin, person_for_token
from samantha.errors import AuthError
from samantha.store import Person
from samantha.system import Samantha

bearer = HTTPBearer(auto_error=False, description="a person's token, or the admin token")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


async def system(request: Request) -> Samantha:
    """The running system (async: FastAPI would run a plain function on a worker thread,
    a thread hop for every request)."""
    sam: Samantha = request.app.state.samantha
    return sam


System = Annotated[Samantha, Depends(system)]


async def current_person(sam: System, credentials: Credentials) -> Person:
    if credentials is None:
        raise AuthError("send your token as `Authorization: Bearer <token>`")
    person = await person_for_token(sam.store, credentials.credentials)
    if person is None:
        raise AuthError("that token is not valid; ask the operator for a new one")
    return person


async def require_admin(sam: System, credentials: Credentials) -> None:
    if credentials is None or not is_admin(credentials.credentials, sam.settings.home):
        raise AuthError("this needs the admin token (see $SAMANTHA_HOME/admin.token)")


async def signed_in(sam: System, credentials: Credentials) -> None:
    """Anyone with a token: a person, or the operator."""
    if credentials is not None and is_admin(credentials.credentials, sam.settings.home):
        return
    await current_person(sam, credentials)


CurrentPerson = Annotated[Person, Depends(current_person)]
SignedIn = Depends(signed_in)
Admin = Depends(require_admin)
