"""What an import did, in one line for the CLI."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ImportReport:
    layer: str
    source: str
    features: int = 0
    inserted: int = 0
    updated: int = 0
    repaired: int = 0
    assignment: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        text_ = (f"{self.source} → {self.layer}: {self.features} features, {self.inserted} "
                 f"new, {self.updated} updated, {self.repaired} repaired")
        if self.assignment:
            text_ += (f"; {self.assignment['assigned']} of {self.assignment['buildings']} "
                      f"buildings in a grid")
        return text_
