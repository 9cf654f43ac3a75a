module gspy.bench/fixedrate

go 1.22
