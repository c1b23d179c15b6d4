"""A facility table after an edit of a few rows, without copying it row by row.

Taking the kept rows of a 50,000-row table (``iloc``) and concatenating costs more than the rest of
an edit together. So rows are found through an id → position map kept with the table, a replaced
facility is overwritten in place (in a copy: the old table stays valid for queries running on it),
new ones are appended, and rows are only taken out when a facility is deleted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["TableEdit", "edit_table", "id_positions"]


@dataclass
class TableEdit:
    table: Any  # the new facility GeoDataFrame (index 0..n-1)
    newpos: np.ndarray  # old row -> new row; -1 when deleted or replaced (its index entries are rebuilt)
    rows: np.ndarray  # new row of each upsert, in upsert order
    id_pos: dict[str, int]  # id -> row of the new table, once ``added`` is merged into it
    added: dict[str, int]  # ids appended (merged by the caller when the whole edit succeeded)


def id_positions(table: Any) -> dict[str, int]:
    return {str(v): i for i, v in enumerate(table["id"].to_numpy())}


def edit_table(table: Any, id_pos: dict[str, int], upserts: Any, removed_ids: set[str]) -> TableEdit:
    """``table`` with ``upserts`` (a facility table) replacing or adding rows by id and
    ``removed_ids`` deleted. ``id_pos`` is ``table``'s id map; it is reused (updated) for the new
    table unless rows were deleted, and left untouched here: a failed edit leaves the engine as it was."""
    n = len(table)
    upserts = upserts.reset_index(drop=True)
    up_ids = [str(v) for v in upserts["id"].to_numpy()]
    up_pos = np.array([id_pos.get(i, -1) for i in up_ids], np.int64)
    removed = np.array(sorted(id_pos[i] for i in map(str, removed_ids) if i in id_pos), np.int64)
    newpos = np.arange(n, dtype=np.int64)
    if len(removed):  # deletion: the rows after a deleted one move up
        gone = np.concatenate([removed, up_pos[up_pos >= 0]])
        keep = np.ones(n, bool)
        keep[gone] = False
        kept = np.flatnonzero(keep)
        newpos[:] = -1
        newpos[kept] = np.arange(len(kept))
        new = pd.concat([table.iloc[kept], upserts], ignore_index=True) if len(upserts) else table.iloc[kept]
        new = new.reset_index(drop=True)
        rows = len(kept) + np.arange(len(upserts), dtype=np.int64)
        return TableEdit(new, newpos, rows, id_positions(new), {})
    replace = up_pos >= 0
    new = table
    if replace.any():
        new = table.copy()
        at = up_pos[replace]
        for j, col in enumerate(new.columns):
            new.iloc[at, j] = upserts[col].to_numpy()[replace] if col in upserts else None
        newpos[at] = -1
    added = np.flatnonzero(~replace)
    if len(added):
        new = pd.concat([new, upserts.iloc[added]], ignore_index=True)
    rows = up_pos.copy()
    rows[added] = n + np.arange(len(added))
    return TableEdit(new, newpos, rows, id_pos, {up_ids[k]: int(rows[k]) for k in added})
