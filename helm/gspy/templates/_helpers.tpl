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
