"""prices on a hand-made landing zone: CoinGecko's reference close."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime

import pandas as pd

from portfolio_assets.assets.prices import canonical_prices
from portfolio_assets.landing import SAMPLE_LANDING_ROOT, LandingZone
from portfolio_assets.resources import LandingZoneResource

SERIES = "id=bitcoin,vs_currency=usd"


def test_coingeckos_current_price_point_is_not_taken_for_a_close(tmp_path):
    root = tmp_path / "landing"
    shutil.copytree(SAMPLE_LANDING_ROOT, root)
    zone = LandingZone(root)
    stored = zone.files("coingecko", {"id": "bitcoin", "vs_currency": "usd"})[-1]
    body = json.loads(stored.read_bytes())
    last_ms, last_price = body["prices"][-1]
    # a live answer ends with the price "now": 14:37 UTC of the day after the last daily point
    now_ms = last_ms + (14 * 3600 + 37 * 60) * 1000
    for key, value in (("prices", 1.0), ("market_caps", 2.0), ("total_volumes", 3.0)):
        body[key].append([now_ms, value])
    stored.path.unlink()
    zone.store(
        "coingecko",
        {"id": "bitcoin", "vs_currency": "usd"},
        json.dumps(body).encode(),
        fetched_at=datetime(2013, 3, 1, tzinfo=UTC),
    )
    prices = canonical_prices(LandingZoneResource(root=str(root)))
    btc = prices[prices["asset_symbol"] == "BTC-USD"].set_index("timestamp")
    close_day = pd.Timestamp(last_ms, unit="ms", tz="UTC") - pd.Timedelta(days=1)
    assert btc.loc[close_day, "reference_close"] == last_price  # the 00:00 point, not the "now" price
    assert (btc["reference_close"] != 1.0).all()
