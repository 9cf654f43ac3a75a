// Package alerts tests gspy's Prometheus alerting rules and Grafana
// dashboard (helm/gspy/rules/gspy-rules.yaml, helm/gspy/dashboards/gspy.json)
// against series a real gspyd exported: gspyd and four workloads (GC pauses
// spiking and calm, a goroutine leak and none), /metrics scraped every
// second, the rules evaluated over those scrapes with Prometheus' own rule
// and PromQL packages and, with GSPY_PROMTOOL=1, with promtool.
package alerts
