"""Offline evaluation: temporal split, ranking metrics, the runner, the reward-boost trade-off."""
