"""Walking routes over the street network for the daily inspection (issue 10)."""
