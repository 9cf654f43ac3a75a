package alerts

import (
	"context"
	"math"
	"slices"
	"sort"
	"strconv"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/tsdb/chunks"
	"github.com/prometheus/prometheus/util/annotations"
)

// A series of the scrapes: its labels as Prometheus stores them (job and
// instance added, as a scrape does) and one value per scrape (NaN where
// the scrape did not have it).
type series struct {
	labels labels.Labels
	values []float64
}

// toSeries turns the scrapes into Prometheus' series: counters, gauges and
// untyped as one series each, histograms as _bucket{le}, _sum and _count,
// as Prometheus ingests the text format. Plus up=1 per scrape.
func toSeries(scrapes []scrape, job, instance string) []*series {
	byKey := map[string]*series{}
	add := func(i int, name string, m *dto.Metric, extra map[string]string, v float64) {
		b := labels.NewBuilder(labels.EmptyLabels())
		b.Set(labels.MetricName, name)
		b.Set("job", job)
		b.Set("instance", instance)
		for _, lp := range m.GetLabel() {
			b.Set(lp.GetName(), lp.GetValue())
		}
		for k, x := range extra {
			b.Set(k, x)
		}
		ls := b.Labels()
		key := ls.String()
		s := byKey[key]
		if s == nil {
			s = &series{labels: ls, values: make([]float64, len(scrapes))}
			for j := range s.values {
				s.values[j] = math.NaN()
			}
			byKey[key] = s
		}
		s.values[i] = v
	}
	for i, sc := range scrapes {
		up := &dto.Metric{}
		add(i, "up", up, nil, 1)
		for name, fam := range sc.families {
			for _, m := range fam.GetMetric() {
				switch fam.GetType() {
				case dto.MetricType_COUNTER:
					add(i, name, m, nil, m.GetCounter().GetValue())
				case dto.MetricType_GAUGE:
					add(i, name, m, nil, m.GetGauge().GetValue())
				case dto.MetricType_UNTYPED:
					add(i, name, m, nil, m.GetUntyped().GetValue())
				case dto.MetricType_HISTOGRAM:
					h := m.GetHistogram()
					for _, b := range h.GetBucket() {
						add(i, name+"_bucket", m, map[string]string{"le": formatLe(b.GetUpperBound())}, float64(b.GetCumulativeCount()))
					}
					add(i, name+"_bucket", m, map[string]string{"le": "+Inf"}, float64(h.GetSampleCount()))
					add(i, name+"_sum", m, nil, h.GetSampleSum())
					add(i, name+"_count", m, nil, float64(h.GetSampleCount()))
				}
			}
		}
	}
	out := make([]*series, 0, len(byKey))
	for _, s := range byKey {
		out = append(out, s)
	}
	sort.Slice(out, func(a, b int) bool { return labels.Compare(out[a].labels, out[b].labels) < 0 })
	return out
}

// formatLe writes a bound as Prometheus' text format does (the parser gave
// it back as a float; the +Inf bucket is added from the count).
func formatLe(f float64) string {
	if math.IsInf(f, 1) {
		return "+Inf"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// memQueryable serves the scraped series to the PromQL engine, each sample
// at its scrape's time.
type memQueryable struct {
	series []*series
	times  []int64 // milliseconds, one per scrape
}

func newMemQueryable(ss []*series, scrapes []scrape) *memQueryable {
	q := &memQueryable{series: ss}
	for _, sc := range scrapes {
		q.times = append(q.times, sc.at.UnixMilli())
	}
	return q
}

func (q *memQueryable) Querier(mint, maxt int64) (storage.Querier, error) {
	return &memQuerier{q: q, mint: mint, maxt: maxt}, nil
}

type memQuerier struct {
	q          *memQueryable
	mint, maxt int64
}

func (m *memQuerier) Select(_ context.Context, _ bool, _ *storage.SelectHints, ms ...*labels.Matcher) storage.SeriesSet {
	var out []storage.Series
	for _, s := range m.q.series {
		if !matches(s.labels, ms) {
			continue
		}
		var smp []chunks.Sample
		for i, v := range s.values {
			if t := m.q.times[i]; !math.IsNaN(v) && t >= m.mint && t <= m.maxt {
				smp = append(smp, fsample{t: t, f: v})
			}
		}
		if len(smp) > 0 {
			out = append(out, storage.NewListSeries(s.labels, smp))
		}
	}
	return &listSeriesSet{series: out, i: -1}
}

func matches(ls labels.Labels, ms []*labels.Matcher) bool {
	for _, m := range ms {
		if !m.Matches(ls.Get(m.Name)) {
			return false
		}
	}
	return true
}

func (m *memQuerier) LabelValues(_ context.Context, name string, _ *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	var vals []string
	for _, s := range m.q.series {
		if v := s.labels.Get(name); v != "" && matches(s.labels, ms) && !slices.Contains(vals, v) {
			vals = append(vals, v)
		}
	}
	slices.Sort(vals)
	return vals, nil, nil
}

func (m *memQuerier) LabelNames(context.Context, *storage.LabelHints, ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	return nil, nil, nil
}

func (m *memQuerier) Close() error { return nil }

type listSeriesSet struct {
	series []storage.Series
	i      int
}

func (l *listSeriesSet) Next() bool                        { l.i++; return l.i < len(l.series) }
func (l *listSeriesSet) At() storage.Series                { return l.series[l.i] }
func (l *listSeriesSet) Err() error                        { return nil }
func (l *listSeriesSet) Warnings() annotations.Annotations { return nil }

// fsample is one float sample.
type fsample struct {
	t int64
	f float64
}

func (s fsample) T() int64                      { return s.t }
func (s fsample) ST() int64                     { return 0 }
func (s fsample) F() float64                    { return s.f }
func (s fsample) H() *histogram.Histogram       { return nil }
func (s fsample) FH() *histogram.FloatHistogram { return nil }
func (s fsample) Type() chunkenc.ValueType      { return chunkenc.ValFloat }
func (s fsample) Copy() chunks.Sample           { return s }
