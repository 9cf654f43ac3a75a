module gspy.tools/gen_wait_reasons

go 1.21
