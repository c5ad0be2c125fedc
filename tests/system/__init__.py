"""The whole service as it runs: processes, harvests, schedules, mail, workers, failures, a browser."""
