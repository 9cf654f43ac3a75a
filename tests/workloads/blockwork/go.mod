module gspy.dev/tests/workloads/blockwork

go 1.18
