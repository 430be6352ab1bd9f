"""What a parser found wrong or guessed, located by sheet, row and cell so a user can find it."""
from __future__ import annotations

from dataclasses import dataclass

ERROR = "error"  # stops the commit
WARNING = "warning"  # imported, but check it


@dataclass(frozen=True)
class Problem:
    message: str
    severity: str = WARNING
    sheet: str | None = None  # the worksheet, or "Proposal 3.4" for a document
    row: int | None = None
    cell: str | None = None  # "E45", or "Our Rating" for a document

    @property
    def where(self) -> str:
        parts = [self.sheet or "", f"row {self.row}" if self.row else "", f"cell {self.cell}" if self.cell else ""]
        return ", ".join(p for p in parts if p)

    def to_dict(self) -> dict:
        return {"message": self.message, "severity": self.severity, "sheet": self.sheet, "row": self.row,
                "cell": self.cell}

    @classmethod
    def from_dict(cls, data: dict) -> Problem:
        return cls(**data)


def has_errors(problems: list[Problem]) -> bool:
    return any(p.severity == ERROR for p in problems)
