module gspy.dev/tests/workloads/heapwork

go 1.18
