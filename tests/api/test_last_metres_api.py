"""The API's side of the last metres (``tests/test_last_metres.py``): a tap in the sea is a 422
naming its distance; near the shore the walk to the road is its own leg."""

from __future__ import annotations

import json

SEA_FAR = (7.4400, 43.7350)  # the sea off Monaco, ~890 m from the nearest road
SEA_NEAR = (7.4300, 43.7330)  # ~120 m off the harbour road


def test_the_api_refuses_the_sea_with_a_422_naming_the_distance(client):
    r = client.get("/nearest", params={"lon": SEA_FAR[0], "lat": SEA_FAR[1], "type": "hospital"})
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["snap_m"] > 500 and "limit is 500 m" in json.dumps(body)
    ok = client.get("/nearest", params={"lon": SEA_NEAR[0], "lat": SEA_NEAR[1], "type": "hospital"})
    assert ok.status_code == 200
    res = ok.json()["results"][0]
    assert res["access_s"] > 60 and res["time_s"] > res["access_s"]
