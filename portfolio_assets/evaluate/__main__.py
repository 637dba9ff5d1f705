"""``python -m portfolio_assets.evaluate``: see ``portfolio_assets.evaluate.cli``."""

import sys

from portfolio_assets.evaluate.cli import main

sys.exit(main())
