"""Make one frozen registry with the geoservice code AS RELEASED at some commit (see README.md).

Run from the exported tree, so its ``geoservice`` is imported, not the working copy's::

    git archive <commit> geoservice | tar -x -C /tmp/reg-<commit>
    cd /tmp/reg-<commit> && PYTHONPATH=/tmp/reg-<commit> /work/main/.venv/bin/python \
        /work/main/tests/data/registry/make_registry.py \
        /work/main/tests/data/registry/registry-<commit>.sqlite /tmp/reg-fac-monaco.geojson /tmp/reg-fac-andorra.geojson

It seeds Monaco and Andorra from the two facility files (four real facilities each, from the
regions' built bundles), then, through that code's own API: creates an editor key, creates two
AEDs in Monaco, renames one, deletes a seeded Andorra facility, and (when that code has
responders) posts two responder positions. The editor key's token is written beside it
(.token; or at the path given fourth, for a ``postgresql://`` URL, see README.md). Nothing here
is imported by the tests.
"""

from __future__ import annotations

import sys
from pathlib import Path

import geopandas as gpd

import geoservice

out, monaco, andorra = sys.argv[1:4]
token_file = Path(sys.argv[4]) if len(sys.argv) > 4 else Path(out).with_suffix(".token")
print("geoservice from", geoservice.__file__, file=sys.stderr)
if not out.startswith("postgresql://"):
    Path(out).unlink(missing_ok=True)
from geoservice.service import registry as registry_module  # noqa: E402

reg = registry_module.Registry(out)
for name, path in (("monaco", monaco), ("andorra", andorra)):
    print(name, "seeded", reg.seed(name, gpd.read_file(path)), file=sys.stderr)
key, token = reg.create_key("fixture-editor", "editor")
token_file.write_text(token + "\n")  # a throwaway key: the tests check it still opens
aeds = [
    {
        "id": f"frozen-aed-{i}",
        "type": "aed",
        "name": f"Frozen AED {i}",
        "lon": lon,
        "lat": 43.7386,
        "source": "fixture",
        "demo": False,
    }
    for i, lon in enumerate((7.4236, 7.4251))
]
gone = reg.records("andorra")[0]["id"]
if hasattr(reg, "edit"):  # versions and the hash chain (34c0f37 on)
    for a in aeds:
        reg.edit("monaco", a["id"], lambda _b, a=a: a, actor=key, action="create")
    reg.edit("monaco", "frozen-aed-0", lambda b: {**b, "name": "Frozen AED 0 renamed"}, actor=key, action="patch")
    reg.edit("andorra", gone, lambda _b: None, actor=key, action="delete")
else:  # the first registry (c2ccc87 .. c90faf2)
    for a in aeds:
        reg.write("monaco", a, actor=key, action="create")
    reg.write("monaco", {**aeds[0], "name": "Frozen AED 0 renamed"}, actor=key, action="update")
    reg.delete("andorra", gone, actor=key)
try:
    from geoservice.service.responders import ResponderStore
except ImportError:
    pass
else:
    store = ResponderStore(reg.db, ttl_s=10 * 365 * 86400.0)  # still current when the tests read them
    store.post("frozen-responder-1", 7.4240, 43.7390, available=True)
    store.post("frozen-responder-2", 7.4200, 43.7310, available=False)
reg.close()
