"""Brushing rings: dense buyer-merchant blocks, linked buyers, order velocity."""
