"""PromoGuard: watch online shopping promotions for unlawful practices."""

__version__ = "0.1.0"
