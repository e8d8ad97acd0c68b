"""Reward offers: eligibility, the offer book (best-offer rule, spend realism, caps), reward-aware
re-ranking."""
