module gspy.dev/bench/goroutine_snapshot

go 1.22
