"""A/B tests between a champion and a challenger: assignment, statistics, lifecycle."""
