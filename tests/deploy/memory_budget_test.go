package deploy

import (
	"math"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
)

// memoryBudgetArg: the value of gspyd's --backoff-memory-budget in ds, or
// -1 without one.
func memoryBudgetArg(t *testing.T, ds *appsv1.DaemonSet) int64 {
	t.Helper()
	budget := int64(-1)
	for _, a := range ds.Spec.Template.Spec.Containers[0].Args {
		if v, ok := strings.CutPrefix(a, "--backoff-memory-budget="); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				t.Fatalf("%s: %v", a, err)
			}
			budget = n
		}
	}
	return budget
}

// TestMemoryBudgetFollowsLimit: gspyd's memory budget is
// backoff.memoryBudgetShare of the container's memory limit, whatever form
// the limit is written in, as apimachinery's own Quantity parser reads it;
// so gspyd backs off below the limit, before the OOM killer. Without a
// limit or with a share of 0 there is no budget.
func TestMemoryBudgetFollowsLimit(t *testing.T) {
	for _, c := range []struct {
		limit string
		share float64
	}{
		{"512Mi", 0.75}, {"1.5Gi", 0.75}, {"1G", 0.5}, {"100000k", 0.9},
		{"536870912", 0.75}, {"2Ti", 1}, {"", 0.75}, {"512Mi", 0},
		// The rarer forms apimachinery reads too: exponents, milli-bytes
		// (rounded up to whole bytes, as Value() does), the largest
		// suffixes, a sign, a bare fraction.
		{"1e9", 0.75}, {"5E+8", 0.5}, {"268435456000m", 0.75}, {"1500001m", 1},
		{"1Pi", 0.75}, {"1Ei", 0.75}, {"2P", 0.25}, {"+512Mi", 0.75}, {".5Gi", 0.75},
	} {
		t.Run(c.limit+"@"+strconv.FormatFloat(c.share, 'g', -1, 64), func(t *testing.T) {
			args := []string{"template", releaseName, chartDir(t), "--namespace", namespace,
				"--set", "backoff.memoryBudgetShare=" + strconv.FormatFloat(c.share, 'g', -1, 64)}
			if c.limit == "" {
				args = append(args, "--set", "resources.limits=null")
			} else {
				args = append(args, "--set-string", "resources.limits.memory="+c.limit)
			}
			ds := daemonSetOf(t, decodeStrict(t, runHelm(t, args...)))
			got := memoryBudgetArg(t, ds)
			limit := ds.Spec.Template.Spec.Containers[0].Resources.Limits.Memory()
			if c.limit == "" || c.share == 0 {
				if got != -1 {
					t.Errorf("--backoff-memory-budget=%d with limit %q, share %v: want none", got, c.limit, c.share)
				}
				return
			}
			want := int64(math.Floor(float64(limit.Value()) * c.share))
			if got != want {
				t.Errorf("--backoff-memory-budget=%d, want %v of the limit %s (%d bytes) = %d",
					got, c.share, limit, limit.Value(), want)
			}
		})
	}
	// Every values file of the golden renderings: a limit means a budget
	// under it.
	for _, c := range cases {
		ds := daemonSetOf(t, decodeStrict(t, render(t, valuesFile(t, c))))
		limit := ds.Spec.Template.Spec.Containers[0].Resources.Limits.Memory()
		if got := memoryBudgetArg(t, ds); !limit.IsZero() && (got <= 0 || got >= limit.Value()) {
			t.Errorf("%s: --backoff-memory-budget=%d with a memory limit of %s", c, got, limit)
		}
	}
	// A limit the chart cannot read fails the rendering, not gspyd.
	for _, bad := range []string{"512MB", "1e", "Mi", "-512Mi", "1.2.3Gi", "8Ei"} {
		args := []string{"template", releaseName, chartDir(t), "--set-string", "resources.limits.memory=" + bad}
		if out, err := exec.Command(helm(t), args...).CombinedOutput(); err == nil ||
			!strings.Contains(string(out), `resources.limits.memory "`+bad+`"`) {
			t.Errorf("helm %v: err %v, output %s; want a failure naming resources.limits.memory", args, err, out)
		}
	}
}
