"""Fake discounts: reference prices, discount claims, raise-then-cut, channel prices, MSRP labels."""
