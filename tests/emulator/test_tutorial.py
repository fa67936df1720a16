"""Belimo's "first graph in Python" tutorial runs unchanged against the emulator (but its URLs).

It logs in with requests-oauthlib as the tutorial does, selects the heating valves, finds the
energy datapoints by their description and fetches a year of daily heating-energy readings.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest
from oauthlib.oauth2 import LegacyApplicationClient
from requests_oauthlib import OAuth2Session

CLIENT_ID = "__ClientIDPlaceHolder__"
CLIENT_SECRET = "__ClientSecretPlaceHolder__"
USERNAME = "__UserPlaceHolder__"
PASSWORD = "__PasswordPlaceHolder__"
J_PER_KWH = 3.6e6


@pytest.fixture
def session(emulator_url: str, monkeypatch: pytest.MonkeyPatch) -> OAuth2Session:
    # oauthlib insists on https unless told that this is a local test.
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    oauth = OAuth2Session(client=LegacyApplicationClient(client_id=CLIENT_ID))
    token = oauth.fetch_token(
        token_url=f"{emulator_url}/oauth/token",
        username=USERNAME,
        password=PASSWORD,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        include_client_id=True,
        audience="https://api.cloud.belimo.com/",
        scope=["public.read", "offline_access", "read:dataprofile"],
    )
    assert token["token_type"] == "Bearer"
    assert "refresh_token" in token
    assert token["scope"] == ["public.read", "offline_access", "read:dataprofile"]
    return oauth


def test_tutorial_flow(emulator_url: str, session: OAuth2Session) -> None:
    api = f"{emulator_url}/api/v3"
    response = session.get(f"{api}/devices", params={"state": "REGISTERED", "limit": 100})
    assert response.status_code == 200
    listed = response.json()["data"]
    assert len(listed) == 36
    heating = [d for d in listed if "Heizung" in d["displayName"]]
    assert len(heating) >= 5

    device = heating[0]
    profile_ref = device["dataprofile"]["ref"]
    assert device["dataprofile"]["entityId"] == "energyvalve3/1.2"
    profile = session.get(f"{api}{profile_ref}").json()
    energy = {
        dp["id"]: dp["featureValues"]["default.description"]
        for dp in profile["datapoints"]
        if "Energy" in dp["featureValues"].get("default.description", "")
    }
    assert energy["evcloud.210"] == "Heating Energy in J"
    assert energy["evcloud.200"] == "Cooling Energy in J"

    detail = session.get(f"{api}/devices/{device['id']}").json()
    current = detail["state"]["datapoints"]["evcloud.210"]["value"]
    assert isinstance(current, float)
    assert current > 0

    response = session.get(
        f"{api}/devices/{device['id']}/data/history/timeseries",
        params={
            "datapointIds": "evcloud.210",
            "from": "2017-12-01T00:00:00Z",
            "to": "2018-12-01T00:00:00Z",
            "resolution": "1d",
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert body["resolution"] == "1d"
    (series,) = body["series"]
    assert series["datapointId"] == "evcloud.210"
    assert series["aggregation"] == "last"
    stamps = [datetime.fromisoformat(v["timestamp"]) for v in series["values"]]
    values = np.array([v["value"] for v in series["values"]], dtype=float)
    assert 300 <= len(values) <= 365
    assert all(s.hour == 0 and s.minute == 0 for s in stamps)

    daily_kwh = np.diff(values) / J_PER_KWH
    # A counter: it never runs backwards except where the designed-in meter replacement
    # restarts it, which a tutorial user would see as one large negative step.
    assert (daily_kwh < -1).sum() <= 1
    plausible = daily_kwh[daily_kwh >= 0]
    assert plausible.max() < 5_000  # one valve, one day
    months = np.array([s.month for s in stamps[1:]])[daily_kwh >= 0]
    winter = plausible[np.isin(months, (12, 1, 2))].mean()
    summer = plausible[np.isin(months, (6, 7, 8))].mean()
    assert winter > 50
    assert winter > 5 * summer
