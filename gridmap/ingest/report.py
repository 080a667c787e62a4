"""What an import did: one summary line for the CLI, then one line per note."""
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
    retired: int = 0
    skipped: int = 0
    notes: list[str] = field(default_factory=list)
    assignment: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        text_ = (f"{self.source} → {self.layer}: {self.features} features, {self.inserted} "
                 f"new, {self.updated} updated, {self.repaired} repaired")
        if self.retired:
            text_ += f", {self.retired} retired"
        if self.skipped:
            text_ += f", {self.skipped} skipped"
        if self.assignment:
            text_ += (f"; {self.assignment['assigned']} of {self.assignment['buildings']} "
                      f"buildings in a grid")
        return "\n".join([text_, *self.notes, *(f"warning: {w}" for w in self.warnings)])
