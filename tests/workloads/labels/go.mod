module gspy.dev/workloads/labels

go 1.21
