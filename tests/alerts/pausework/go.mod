module gspy.dev/tests/alerts/pausework

go 1.21
