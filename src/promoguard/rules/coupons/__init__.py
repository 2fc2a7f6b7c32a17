"""Coupons and red envelopes: conditions not shown, terms worsened, unreachable 到手价, coupons not honoured."""
