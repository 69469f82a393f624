"""Field types the tickets API uses in more than one area."""

from typing import Annotated

from pydantic import Field

# a catalogue code (upper-cased when stored) and a product line ('*': every line)
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$"
LINE_PATTERN = r"^(\*|[^\s*]{1,40})$"
Code = Annotated[str, Field(pattern=CODE_PATTERN, description="catalogue code, e.g. NOISE")]
