module gspy.dev/bench/heapbuckets

go 1.18
