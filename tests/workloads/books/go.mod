module gspy.dev/tests/workloads/books

go 1.18
