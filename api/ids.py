"""Object ids in paths and bodies: a positive 64-bit integer, so that a number too large for the database
is refused as invalid input (400) before any query, instead of overflowing the driver (500)."""

from typing import Annotated

from ninja import Path
from pydantic import Field

MAX_ID = 2**63 - 1

PathId = Annotated[int, Path(ge=1, le=MAX_ID)]
BodyId = Annotated[int, Field(ge=1, le=MAX_ID)]
