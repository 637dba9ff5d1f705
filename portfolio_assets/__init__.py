"""portfolio_assets: point-in-time training sets for 90-day price prediction."""

__version__ = "0.1.0"
