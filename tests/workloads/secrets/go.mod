module gspy.dev/tests/workloads/secrets

go 1.22
