module gspy.dev/tests/workloads/spiky

go 1.18
