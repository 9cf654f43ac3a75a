module gspy.dev/tests/workloads/goroutines

go 1.18
