"""The CPU family: cpuinfo, cpufreq, RAPL energy counters."""
