"""The benchmark command (issue #8): ``python -m bench`` (``make bench``).

B0 raw aiokafka → PostgreSQL baseline, B1 end-to-end throughput, B2 replay rate,
B3 read-API latency under load, B4 peak memory, B5 period close → verdicts.
See docs/performance.md for the method and the results.
"""
