{{/* Names, labels and shared pieces of the pod specs. */}}

{{- define "mtcp.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "mtcp.fullname" -}}
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

{{/* A component's object name: <fullname>-<component>, within 63 characters. */}}
{{- define "mtcp.componentName" -}}
{{- printf "%s-%s" (include "mtcp.fullname" .root | trunc 52 | trimSuffix "-") .component }}
{{- end }}

{{- define "mtcp.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "mtcp.selectorLabels" -}}
app.kubernetes.io/name: {{ include "mtcp.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "mtcp.labels" -}}
helm.sh/chart: {{ include "mtcp.chart" . }}
{{ include "mtcp.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: mcp-teleport-control-plane
{{- end }}

{{/* Labels of one component; call with (dict "root" $ "component" "gateway"). */}}
{{- define "mtcp.componentLabels" -}}
{{ include "mtcp.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "mtcp.componentSelectorLabels" -}}
{{ include "mtcp.selectorLabels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "mtcp.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "mtcp.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "mtcp.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* DATABASE_URL from the existing Secret. */}}
{{- define "mtcp.databaseEnv" -}}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ required "database.existingSecret.name: the Secret with the database URL is required" .Values.database.existingSecret.name }}
      key: {{ .Values.database.existingSecret.key }}
{{- end }}

{{/* The Secret holding console.cookie_key: the one named in console.cookieKey.existingSecret, or
the one the chart makes (templates/console-secret.yaml). */}}
{{- define "mtcp.consoleSecretName" -}}
{{- default (include "mtcp.componentName" (dict "root" . "component" "console")) .Values.console.cookieKey.existingSecret.name }}
{{- end }}

{{/* MTCP_CONSOLE__COOKIE_KEY (console.cookie_key) from that Secret: every gateway replica signs and
checks console sessions with the same key. */}}
{{- define "mtcp.consoleEnv" -}}
- name: MTCP_CONSOLE__COOKIE_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "mtcp.consoleSecretName" . }}
      key: {{ required "console.cookieKey.existingSecret.key: the key in the Secret holding the cookie key is required" .Values.console.cookieKey.existingSecret.key }}
{{- end }}

{{/* Liveness /health and readiness /ready on the named port "http". */}}
{{- define "mtcp.probes" -}}
livenessProbe:
  httpGet:
    path: /health
    port: http
  {{- toYaml .Values.probes.liveness | nindent 2 }}
readinessProbe:
  httpGet:
    path: /ready
    port: http
  {{- toYaml .Values.probes.readiness | nindent 2 }}
{{- end }}

{{/* Pod-level settings every component shares; call with (dict "root" $ "values" .Values.gateway). */}}
{{- define "mtcp.podCommon" -}}
serviceAccountName: {{ include "mtcp.serviceAccountName" .root }}
automountServiceAccountToken: false
{{- with .root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .root.Values.podSecurityContext | nindent 2 }}
terminationGracePeriodSeconds: {{ .values.terminationGracePeriodSeconds }}
{{- with .values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* Pod annotations: the config checksum (roll on change), Prometheus hints, extras. */}}
{{- define "mtcp.podAnnotations" -}}
checksum/config: {{ include (print .root.Template.BasePath "/configmap.yaml") .root | sha256sum }}
{{- if .root.Values.metrics.podAnnotations }}
prometheus.io/scrape: "true"
prometheus.io/port: {{ .port | quote }}
prometheus.io/path: /metrics
{{- end }}
{{- with .values.podAnnotations }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* The in-cluster names of the gateway Service, always accepted as Host. */}}
{{- define "mtcp.gatewayHosts" -}}
{{- $svc := include "mtcp.componentName" (dict "root" . "component" "gateway") }}
{{- $ns := .Release.Namespace }}
{{- list $svc (printf "%s.%s" $svc $ns) (printf "%s.%s.svc" $svc $ns) (printf "%s.%s.svc.cluster.local" $svc $ns) | toJson }}
{{- end }}

{{/* The rendered config.yaml: values.config with the chart-managed keys set. */}}
{{- define "mtcp.config" -}}
{{- $cfg := deepCopy .Values.config }}
{{- $hosts := .Values.config.service.allowed_hosts | default list }}
{{- if not (has "*" $hosts) }}
{{- $hosts = concat (include "mtcp.gatewayHosts" . | fromJsonArray) $hosts }}
{{- end }}
{{- $identityName := ternary "identity" .Values.teleport.identity.existingSecret.key .Values.teleport.tbot.enabled }}
{{- $teleport := dict "proxy" .Values.teleport.proxy "tctl_path" .Values.teleport.tctlPath "identity_file" (printf "%s/%s" .Values.teleport.identity.mountPath $identityName) }}
{{- $tsh := dict "tsh_path" .Values.teleport.tshPath "home" "/var/lib/mcp-teleport/home" }}
{{- if .Values.teleport.simulator.enabled }}
{{- $env := merge (dict "TELEPORT_SIM_STATE_DIR" "/var/lib/mcp-teleport/sim-state") (.Values.config.teleport.env | default dict) }}
{{- $teleport = dict "proxy" "teleport.example.com:443" "tctl_path" "/opt/mtcp/sim/bin/tctl" "identity_file" "/opt/mtcp/sim/identity" "env" $env }}
{{- $_ := set $tsh "tsh_path" "/opt/mtcp/sim/bin/tsh" }}
{{- end }}
{{- $managed := dict
  "teleport" $teleport
  "tsh" $tsh
  "service" (dict "host" "0.0.0.0" "port" (int .Values.gateway.port) "allowed_hosts" $hosts)
  "worker" (dict "listen" (printf "0.0.0.0:%d" (int .Values.worker.port)))
  "reaper" (dict "listen" (printf "0.0.0.0:%d" (int .Values.reaper.port))) }}
{{- if .Values.policy }}
{{- $_ := set $managed "policy" (dict "path" "/etc/mtcp/policy.yaml") }}
{{- end }}
{{- toYaml (mergeOverwrite $cfg $managed) }}
{{- end }}

{{/* The worker autoscaler's behaviour: up at once, down slowly (a removed worker stops the proxy
leases it supervises). */}}
{{- define "mtcp.workerScaleBehavior" -}}
{{- $d := .Values.worker.autoscaling.scaleDown -}}
scaleUp:
  stabilizationWindowSeconds: 0
scaleDown:
  stabilizationWindowSeconds: {{ $d.stabilizationWindowSeconds }}
  policies:
    - type: Pods
      value: {{ $d.podsPerPeriod }}
      periodSeconds: {{ $d.periodSeconds }}
{{- end }}
