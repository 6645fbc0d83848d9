"""`bgm bench`: sweep (configurations -> timed rows), frames (synthetic inputs and calibrated
random weights) and measure (timing with device synchronisation, peak memory)."""
