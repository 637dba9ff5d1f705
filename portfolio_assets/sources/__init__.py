"""Parsers for every external wire format (see ``docs/WIRE_FORMATS.md``).

Shared by the bundled sample replay and the live HTTP clients; each module has
``SOURCE`` (its landing-zone directory) and raises
:class:`~portfolio_assets.errors.SourceError` for anything unusable:

* ``alphavantage`` - ``parse_daily``, ``series_params``
* ``fred`` - ``parse_observations`` -> ``FredObservations``
* ``gdelt`` - ``parse_timeline``
* ``coingecko`` - ``parse_market_chart``
* ``fear_greed`` (``alternative_me``) - ``parse_fng``
* ``social`` - ``parse_social_csv``
* ``google_trends`` - ``parse_trends_csv``
* ``_wire`` - private helpers (decoding, strict JSON, key redaction)
"""
