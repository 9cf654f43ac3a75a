{{/* The chart's name, at most 63 characters. */}}
{{- define "gspy.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's full name: the release name alone when it holds the chart's name. */}}
{{- define "gspy.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "gspy.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Selector labels: app.kubernetes.io/name is what `gspy --gspy-selector` looks for. */}}
{{- define "gspy.selectorLabels" -}}
app.kubernetes.io/name: {{ include "gspy.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "gspy.labels" -}}
helm.sh/chart: {{ include "gspy.chart" . }}
{{ include "gspy.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/component: profiler
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "gspy.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "gspy.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "gspy.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}

{{/* Whether gspyd pushes profiles anywhere. */}}
{{- define "gspy.push" -}}
{{- if or .Values.push.pyroscope.url .Values.push.parca.url .Values.push.otlp.url }}true{{ end }}
{{- end }}

{{/* The address gspyd listens on: the pod IP with authentication, loopback without. */}}
{{- define "gspy.listenHost" -}}
{{- if eq (include "gspy.authn" .) "kubernetes" }}0.0.0.0{{ else }}127.0.0.1{{ end }}
{{- end }}

{{/* authn.mode, checked. */}}
{{- define "gspy.authn" -}}
{{- $mode := .Values.authn.mode | default "kubernetes" }}
{{- if not (has $mode (list "kubernetes" "none")) }}
{{- fail (printf "authn.mode %q: expected kubernetes or none" $mode) }}
{{- end }}
{{- $mode }}
{{- end }}

{{/* A Kubernetes memory quantity (resources.limits.memory: 512Mi, 1.5Gi, 1G, 536870912) in bytes; fails on a form it does not know. */}}
{{- define "gspy.quantityBytes" -}}
{{- $q := toString . }}
{{- $m := regexFind "^[0-9]+(\\.[0-9]+)?" $q }}
{{- $suffix := trimPrefix $m $q }}
{{- $units := dict "" 1.0 "k" 1e3 "M" 1e6 "G" 1e9 "T" 1e12 "Ki" 1024.0 "Mi" 1048576.0 "Gi" 1073741824.0 "Ti" 1099511627776.0 }}
{{- if or (not $m) (not (hasKey $units $suffix)) }}
{{- fail (printf "resources.limits.memory %q: expected a number with an optional suffix k, M, G, T, Ki, Mi, Gi or Ti" $q) }}
{{- end }}
{{- mulf (float64 $m) (get $units $suffix) | floor | int64 }}
{{- end }}

{{/* gspyd's --backoff-memory-budget: backoff.memoryBudgetShare of the container's memory limit; empty without a limit or a share. */}}
{{- define "gspy.memoryBudget" -}}
{{- $share := float64 (.Values.backoff.memoryBudgetShare | default 0) }}
{{- if or (lt $share 0.0) (gt $share 1.0) }}
{{- fail (printf "backoff.memoryBudgetShare %v: expected a share of the memory limit in [0, 1]" .Values.backoff.memoryBudgetShare) }}
{{- end }}
{{- $limit := dig "limits" "memory" "" (.Values.resources | default dict) }}
{{- if and $limit (gt $share 0.0) }}
{{- mulf (include "gspy.quantityBytes" $limit | float64) $share | floor | int64 }}
{{- end }}
{{- end }}
