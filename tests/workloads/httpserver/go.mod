module gspy.dev/tests/workloads/httpserver

go 1.21
