"""What an import did: one summary line for the CLI, then one line per note."""
from __future__ import annotations

from dataclasses import dataclass, field

from gridmap.i18n import msg


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
        """The summary line and the notes, in the locale in force (the CLI's)."""
        lines = [msg("{source} → {layer}: {features} features, {inserted} new, {updated} "
                     "updated, {repaired} repaired", source=self.source, layer=self.layer,
                     features=self.features, inserted=self.inserted, updated=self.updated,
                     repaired=self.repaired)]
        if self.retired:
            lines.append(msg(", {count} retired", count=self.retired))
        if self.skipped:
            lines.append(msg(", {count} skipped", count=self.skipped))
        if self.assignment:
            lines.append(msg("; {assigned} of {buildings} buildings in a grid",
                             assigned=self.assignment["assigned"],
                             buildings=self.assignment["buildings"]))
        return "\n".join(["".join(str(line) for line in lines), *(str(n) for n in self.notes),
                          *(str(msg("warning: {warning}", warning=w)) for w in self.warnings)])
