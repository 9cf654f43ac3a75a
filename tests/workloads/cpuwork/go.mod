module gspy.dev/workloads/cpuwork

go 1.21
