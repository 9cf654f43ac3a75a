module gspy.dev/tests/workloads/leaky

go 1.18
