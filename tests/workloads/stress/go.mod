module gspy.dev/tests/workloads/stress

go 1.21
