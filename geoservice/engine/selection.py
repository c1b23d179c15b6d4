"""Facility sets the engine keeps between queries, and how they follow an edit.

``FacilityIndex``: the facilities of one network that lie on it, with their snaps. ``Selection``:
those of one filter, with their road pieces, hours and search targets, built once per facility
table. ``apply_changes`` carries both across an edit of a few facilities without a rebuild:
positions are remapped, only the new rows are snapped, and only their targets are built.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .arrays import Targets
from .router import Router, Snap

__all__ = ["FacilityIndex", "Selection"]


def objects(items: Sequence[Any]) -> np.ndarray:
    """A 1-d object array (so that masks and fancy indexing run in C, not in a Python loop)."""
    out = np.empty(len(items), dtype=object)
    for i, v in enumerate(items):
        out[i] = v
    return out


@dataclass
class FacilityIndex:
    """Facilities of one network that lie on it, with their snaps (an object array of ``Snap``)."""

    rows: np.ndarray  # positions in engine.facilities
    snaps: np.ndarray  # of Snap (a list given is converted)
    open_state: list[bool | None] | None = None  # with a time: True open, None hours unknown

    def __post_init__(self) -> None:
        if not isinstance(self.snaps, np.ndarray):
            self.snaps = objects(self.snaps)

    def remapped(self, newpos: np.ndarray, add_rows: np.ndarray, add_snaps: Sequence[Snap]) -> FacilityIndex:
        """The index after an edit: rows moved to ``newpos`` (-1 = removed), new rows appended."""
        keep = newpos[self.rows] >= 0 if len(self.rows) else np.zeros(0, bool)
        return FacilityIndex(
            np.concatenate([newpos[self.rows[keep]], add_rows]).astype(np.int64),
            np.concatenate([self.snaps[keep], objects(add_snaps)]),
        )


class Selection:
    """The facilities of one filter on one network, kept for the life of a facility table: rows,
    snaps, the road piece of each (numpy), hours, and the search targets per direction."""

    def __init__(
        self,
        rows: np.ndarray,
        snaps: Sequence[Snap] | np.ndarray,
        hours: Sequence[str | None] | np.ndarray,
        targets: dict[tuple[str, str], Targets] | None = None,
        geom: np.ndarray | None = None,
    ):
        self.rows = rows
        self.snaps = snaps if isinstance(snaps, np.ndarray) else objects(snaps)
        self.geom = geom if geom is not None else np.array([s.geom for s in self.snaps], np.int64)
        self.hours = hours if isinstance(hours, np.ndarray) else objects(hours)
        self._targets: dict[tuple[str, str], Targets] = targets or {}

    def targets(self, router: Router, profile: str, direction: str) -> Targets:
        """Target arrays sorted by node, built once per profile and direction."""
        key = (profile, direction)
        if key not in self._targets:
            self._targets[key] = _sorted(router.targets_for(self.snaps, profile, direction))
        return self._targets[key]

    def remapped(
        self,
        router: Router,
        newpos: np.ndarray,
        add_rows: np.ndarray,
        add_snaps: list[Snap],
        add_hours: list[str | None],
    ) -> Selection:
        """The selection after an edit (see ``FacilityIndex.remapped``); targets already built are
        carried over, relabelled, with those of the new rows added."""
        keep = newpos[self.rows] >= 0 if len(self.rows) else np.zeros(0, bool)
        n_kept = int(keep.sum())
        label = np.cumsum(keep) - 1  # old label -> new label (for kept ones)
        targets: dict[tuple[str, str], Targets] = {}
        for (profile, direction), (tn, ti, tc, tl, _) in self._targets.items():
            ok = keep[ti]
            parts = [(tn[ok], label[ti[ok]], tc[ok], tl[ok])]
            if add_snaps:
                an, ai, ac, al, _ = router.targets_for(add_snaps, profile, direction)
                parts.append((an, ai + n_kept, ac, al))
            mn, mi, mc, ml = (np.concatenate([p[i] for p in parts]) for i in range(4))
            targets[(profile, direction)] = _sorted(Targets(mn, mi, mc, ml, n_kept + len(add_snaps)))
        return Selection(
            np.concatenate([newpos[self.rows[keep]], add_rows]).astype(np.int64),
            np.concatenate([self.snaps[keep], objects(add_snaps)]),
            np.concatenate([self.hours[keep], objects(add_hours)]),
            targets,
            np.concatenate([self.geom[keep], np.array([s.geom for s in add_snaps], np.int64)]),
        )


def _sorted(targets: Targets) -> Targets:
    tn, ti, tc, tl, nt = targets
    order = np.argsort(tn, kind="stable")
    return Targets(
        np.asarray(tn)[order].astype(np.int64),
        np.asarray(ti)[order].astype(np.int64),
        np.asarray(tc, float)[order],
        np.asarray(tl, float)[order],
        nt,
    )
