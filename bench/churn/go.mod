module gspy.bench/churn

go 1.22
