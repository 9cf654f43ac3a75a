module gspy.dev/tests/workloads/gcwork

go 1.18
