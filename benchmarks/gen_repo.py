"""Generate a realistic repository for benchmarks: ``python benchmarks/gen_repo.py N DIR``.

N files of mixed kinds: Deployments/Services/ConfigMaps/StatefulSets/CronJobs (some multi-doc,
with comments), Helm templates, Dockerfiles, Makefiles, Markdown and a few other files; about
2 % of the YAML files carry the init-copy pattern (IV001). Deterministic for a given N.
"""

from __future__ import annotations

import random
import shutil
import sys
from pathlib import Path

INIT_COPY = """\
# {name}: static site served by nginx
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  labels: {{app: {name}, team: {team}}}
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      initContainers:
      - name: copy-site
        image: registry.example.com/{name}-site:1.{replicas}.0
        command: ["sh", "-c", "cp -r /site/. /usr/share/nginx/html/"]
        volumeMounts:
        - name: html
          mountPath: /usr/share/nginx/html
      containers:
      - name: nginx
        image: nginx:1.27
        ports:
        - containerPort: 80
        volumeMounts:
        - name: html
          mountPath: /usr/share/nginx/html
          readOnly: true
      volumes:
      - name: html
        emptyDir: {{}}
"""

DEPLOYMENT = """\
# {name} — owned by {team}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: {team}
  labels:
    app: {name}
    tier: backend  # keep in sync with the service
spec:
  replicas: {replicas}
  selector:
    matchLabels:
      app: {name}
  template:
    metadata:
      labels:
        app: {name}
      annotations:
        prometheus.io/scrape: "true"
    spec:
      serviceAccountName: {name}
      containers:
        - name: app
          image: "registry.example.com/{team}/{name}:{replicas}.2.3"
          args: ["--port=8080", "--log-level=info"]
          env:
            - name: DATABASE_URL
              valueFrom:
                secretKeyRef: {{name: {name}-db, key: url}}
            - name: CACHE_TTL
              value: "300"
          ports:
            - containerPort: 8080
          resources:
            requests: {{cpu: 100m, memory: 128Mi}}
            limits: {{memory: 256Mi}}
          readinessProbe:
            httpGet: {{path: /healthz, port: 8080}}
          volumeMounts:
            - name: config
              mountPath: /etc/{name}
      volumes:
        - name: config
          configMap:
            name: {name}-config
"""

SERVICE = """\
---
apiVersion: v1
kind: Service
metadata:
  name: {name}
spec:
  selector:
    app: {name}
  ports:
  - port: 80
    targetPort: 8080
"""

CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}-config
data:
  settings.yaml: |
    feature_flags:
      beta: {beta}
    limits:
      requests_per_minute: {replicas}00
  motd: 'hello from {name}'
"""

CRONJOB = """\
apiVersion: batch/v1
kind: CronJob
metadata:
  name: {name}-nightly
spec:
  schedule: "0 {replicas} * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          initContainers:
          - name: wait-db
            image: busybox:1.36
            command: ["sh", "-c", "until nc -z db 5432; do sleep 1; done"]
          containers:
          - name: job
            image: registry.example.com/{team}/{name}-job:1.0
            command: ["/bin/run", "--nightly"]
"""

HELM = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{{{ include "{name}.fullname" . }}}}
  labels:
    {{{{- include "{name}.labels" . | nindent 4 }}}}
spec:
  replicas: {{{{ .Values.replicaCount }}}}
  template:
    spec:
      {{{{- with .Values.initContainers }}}}
      initContainers:
        {{{{- toYaml . | nindent 8 }}}}
      {{{{- end }}}}
      containers:
        - name: {{{{ .Chart.Name }}}}
          image: "{{{{ .Values.image.repository }}}}:{{{{ .Values.image.tag }}}}"
"""

DOCKERFILE = """\
# syntax=docker/dockerfile:1
FROM golang:1.22 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -o /out/{name} ./cmd/{name}

FROM gcr.io/distroless/static:nonroot
COPY --from=build /out/{name} /usr/local/bin/{name}
USER nonroot
ENTRYPOINT ["/usr/local/bin/{name}"]
"""

MAKEFILE = """\
IMAGE ?= registry.example.com/{team}/{name}
build:
\tdocker build -t $(IMAGE):$(VERSION) -f Dockerfile .
push: build
\tdocker push $(IMAGE):$(VERSION)
"""

README = "# {name}\n\nService {name}, owned by team {team}. See `deploy/` for manifests.\n" * 3

TEAMS = ("payments", "search", "web", "data", "platform", "ml", "growth", "infra")


def generate(n: int, root: Path, seed: int = 4639) -> dict[str, int]:
    rng = random.Random(seed)
    counts: dict[str, int] = {}
    root.mkdir(parents=True, exist_ok=True)
    (root / ".git").mkdir(exist_ok=True)  # makes it a repository root for find_root
    for i in range(n):
        team = TEAMS[i % len(TEAMS)]
        name = f"svc{i:06d}"
        directory = root / team / f"group{(i // 40) % 50:02d}" / name
        fields = {"name": name, "team": team, "replicas": 1 + i % 9, "beta": "true" if i % 2 else "false"}
        roll = rng.random()
        if roll < 0.02:
            kind, rel, text = "init-copy", "deploy/deployment.yaml", INIT_COPY.format(**fields) + SERVICE.format(**fields)
        elif roll < 0.40:
            kind, rel = "deployment", "deploy/deployment.yaml"
            text = DEPLOYMENT.format(**fields)
            if rng.random() < 0.5:
                text += SERVICE.format(**fields)
        elif roll < 0.52:
            kind, rel, text = "configmap", "deploy/configmap.yml", CONFIGMAP.format(**fields)
        elif roll < 0.58:
            kind, rel, text = "cronjob", "deploy/cronjob.yaml", CRONJOB.format(**fields)
        elif roll < 0.66:
            kind, rel, text = "helm", "chart/templates/deployment.yaml", HELM.format(**fields)
        elif roll < 0.78:
            kind, rel, text = "dockerfile", "Dockerfile", DOCKERFILE.format(**fields)
        elif roll < 0.84:
            kind, rel, text = "makefile", "Makefile", MAKEFILE.format(**fields)
        elif roll < 0.94:
            kind, rel, text = "readme", "README.md", README.format(**fields)
        else:
            kind, rel, text = "other", "main.go", f'package main\n\nfunc main() {{ println("{name}") }}\n'
        path = directory / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        counts[kind] = counts.get(kind, 0) + 1
    return counts


def generated_tree(workdir: Path, files: int) -> Path:
    """``workdir/repo-FILES``, generated on first use and reused after (a ``.generated`` marker
    says it is complete: a run interrupted half-way is generated again)."""
    tree = workdir / f"repo-{files}"
    if not (tree / ".generated").exists():
        shutil.rmtree(tree, ignore_errors=True)
        generate(files, tree)
        (tree / ".generated").write_text("ok\n")
    return tree


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: gen_repo.py N DIR", file=sys.stderr)
        return 2
    counts = generate(int(argv[0]), Path(argv[1]))
    print(" ".join(f"{k}={v}" for k, v in sorted(counts.items())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
