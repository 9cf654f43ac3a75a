package deploy

import (
	"encoding/json"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	corev1 "k8s.io/api/core/v1"
)

// checkPrometheusRule: the rules of rules/gspy-rules.yaml, each an alert
// with a severity, the additional labels on the object and the values'
// threshold in the expression. tests/alerts evaluates them.
func checkPrometheusRule(t *testing.T, o *monitoringv1.PrometheusRule) {
	t.Helper()
	if o.Labels["release"] != "prometheus" {
		t.Errorf("PrometheusRule labels %v lack prometheusRule.additionalLabels", o.Labels)
	}
	n := 0
	for _, g := range o.Spec.Groups {
		for _, r := range g.Rules {
			n++
			if r.Alert == "" || r.Labels["severity"] == "" || r.Annotations["summary"] == "" {
				t.Errorf("group %s: rule %+v lacks an alert name, severity or summary", g.Name, r)
			}
			if r.Alert == "GspyGoGcPauseP99High" && !strings.Contains(r.Expr.String(), "> 0.005") {
				t.Errorf("GspyGoGcPauseP99High %q does not use prometheusRule.gcPauseP99.threshold", r.Expr.String())
			}
		}
	}
	if n < 8 {
		t.Errorf("PrometheusRule has %d rules", n)
	}
}

// checkDashboard: the ConfigMap Grafana's sidecar loads, holding the
// dashboard's JSON.
func checkDashboard(t *testing.T, o *corev1.ConfigMap) {
	t.Helper()
	if o.Labels["grafana_dashboard"] != "1" || o.Annotations["grafana_folder"] != "Profiling" {
		t.Errorf("dashboard ConfigMap labels %v annotations %v", o.Labels, o.Annotations)
	}
	var d struct {
		UID    string            `json:"uid"`
		Panels []json.RawMessage `json:"panels"`
	}
	if err := json.Unmarshal([]byte(o.Data["gspy.json"]), &d); err != nil || d.UID == "" || len(d.Panels) == 0 {
		t.Errorf("dashboard ConfigMap's gspy.json: %v (uid %q, %d panels)", err, d.UID, len(d.Panels))
	}
}
