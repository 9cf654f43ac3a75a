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

{{/* A Kubernetes memory quantity (resources.limits.memory) in bytes, in every form apimachinery's Quantity reads: a number (512, 1.5, .5, +2) with a binary suffix (Ki to Ei), a decimal one (m, k to E) or a decimal exponent (1e9, 5E+8); fails on anything else, naming the value. */}}
{{- define "gspy.quantityBytes" -}}
{{- $q := toString . }}
{{- $m := regexFind "^\\+?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)" $q }}
{{- $suffix := trimPrefix $m $q }}
{{- $units := dict "" 1.0 "m" 1e-3 "k" 1e3 "M" 1e6 "G" 1e9 "T" 1e12 "P" 1e15 "E" 1e18 "Ki" 1024.0 "Mi" 1048576.0 "Gi" 1073741824.0 "Ti" 1099511627776.0 "Pi" 1125899906842624.0 "Ei" 1152921504606846976.0 }}
{{- $scale := 1.0 }}
{{- if regexMatch "^[eE][+-]?[0-9]{1,2}$" $suffix }}
{{- $exp := trimPrefix "+" (substr 1 (len $suffix) $suffix) | int }}
{{- range until (ternary (mul -1 $exp) $exp (lt $exp 0) | int) }}
{{- $scale = ternary (divf $scale 10) (mulf $scale 10) (lt $exp 0) }}
{{- end }}
{{- else if and $m (hasKey $units $suffix) }}
{{- $scale = get $units $suffix }}
{{- else }}
{{- fail (printf "resources.limits.memory %q: expected a Kubernetes quantity: a number with an optional suffix (Ki, Mi, Gi, Ti, Pi, Ei; m, k, M, G, T, P, E) or exponent (e9)" $q) }}
{{- end }}
{{- if not $m }}
{{- fail (printf "resources.limits.memory %q: expected a Kubernetes quantity: a number with an optional suffix (Ki, Mi, Gi, Ti, Pi, Ei; m, k, M, G, T, P, E) or exponent (e9)" $q) }}
{{- end }}
{{- $bytes := mulf (float64 (trimPrefix "+" $m)) $scale | ceil }}
{{- if gt $bytes 9.2e18 }}
{{- fail (printf "resources.limits.memory %q: more bytes than gspyd's flag holds" $q) }}
{{- end }}
{{- $bytes | int64 }}
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
