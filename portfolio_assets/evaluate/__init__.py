"""The evaluation harness: does a fine-tuned model beat the naive baselines on an export's held-out rows?

``python -m portfolio_assets.evaluate EXPORT_DIR [PREDICTIONS.jsonl]`` (``cli``); ``data`` reads the export and
its folds, ``parse`` the predictions, ``baselines`` makes the naive forecasts, ``metrics`` and ``intervals``
score them with intervals that respect overlapping 90-day labels, ``harness`` puts it together, ``report`` and
``plots`` write the results. The Dagster asset ``assets.evaluation`` runs it on the latest export.
"""
