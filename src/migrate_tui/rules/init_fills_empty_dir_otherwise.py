"""IV002 init-fills-empty-dir-otherwise

## What it does
Finds an init container that fills an `emptyDir` read by other containers by *downloading*
(`wget`, `curl`, `git clone`, `gsutil`, `hf download`, `pip install`…), by *templating*
(`envsubst`, `sed > file`, `gomplate`…; also `sed -i` on the init image's own files before
they are copied), or through a program migrate-tui can't see: no `command` (the image's
entrypoint decides what happens), or a `command` that runs an executable or script from the
image that is not a known tool (`command: ["/usr/local/bin/get-resource.sh"]`), or a copy
whose source comes from a variable set at run time (`cp -r $MODEL_DIR/. /models/`), and nothing
else copies into the volume. The message names the program: read it, or the Dockerfile that
builds the image, to see what it writes. An init container without a command that runs a
*copier image* the repository builds is IV001's (the image's `CMD` is the copy); when that
`CMD` can't stand in here, this finding says why (the image also runs as a regular container,
a variable of the copy comes from a Secret/ConfigMap/downward API or a build argument, or the
command does more than copy).

## Why is this bad?
The pod's content depends on the network or on the environment at start-up: every restart
downloads again, a registry or bucket outage stops the pod from starting, and what runs is not
what was reviewed or scanned. Baking the content into an asset image (`FROM scratch` + files)
and mounting it as an image volume makes it versioned, cached by the node, and immutable.

## Example
```yaml
initContainers:
- name: fetch-model
  image: python:3.11
  command: ["sh", "-c", "pip install huggingface_hub && hf download org/model --local-dir /models"]
  volumeMounts: [{name: models, mountPath: /models}]
```

## Use instead
Build the files into an image in CI (`FROM scratch` + `COPY model/ /model/`), push it, and
mount it: `volumes: [{name: models, image: {reference: registry/model:1.0}}]`.

## Fix safety
**manual**: no automatic fix. What the download or template produces can't be known statically;
the message names the command and the reason.
"""

from __future__ import annotations

from typing import Iterator

from migrate_tui.analysis.context import PodSpecSubject, RuleContext
from migrate_tui.model.findings import Finding, Location, Severity
from migrate_tui.model.reasons import IMAGE_DEFAULT_BLOCKERS, texts
from migrate_tui.rules import PodSpecRule
from migrate_tui.rules.init_copy_to_empty_dir import flows_of

CODE = "IV002"


def check(subject: PodSpecSubject, ctx: RuleContext) -> Iterator[Finding]:
    inits = subject.ref.spec.get("initContainers") or []
    for flow in flows_of(subject, ctx):
        if not flow.fills:
            continue
        if not flow.consumers:
            continue  # filled but read by nobody here: nothing to say about this pod
        init_node = inits[flow.init_index]
        location = Location(subject.path, getattr(init_node, "line", 0) or 1)
        readers = ", ".join(dict.fromkeys(f"'{c.name}'" for c in flow.consumers))
        reasons = list(dict.fromkeys(flow.fills))
        # a copier image the repo builds whose default command can't stand in here: say why
        reasons += texts([b for b in flow.manual if b.kind in IMAGE_DEFAULT_BLOCKERS])
        what = reasons[0]
        message = (
            f"init container '{flow.init.get('name')}' fills emptyDir '{flow.name}' (read by {readers}) at start-up: "
            f"{what}; bake the content into an asset image and mount it as an image volume"
        )
        explanation = "\n".join(
            ["Why this can't be rewritten automatically:"]
            + [f"- {r}" for r in reasons + texts(flow.manual)]
            + [
                "What to do:",
                "- build the content into an image in CI (FROM scratch + COPY), push it with a pinned tag or digest;",
                "- replace the emptyDir with `image: {reference: <that image>}` and drop the init container.",
            ]
        )
        yield Finding(
            rule=CODE,
            severity=Severity.WARNING,
            location=location,
            message=message,
            explanation=explanation,
            data={"owner": subject.ref.owner, "volume": flow.name},
            fix_blocked="; ".join(reasons),
            anchor=f"{subject.ref.owner}/{subject.ref.path}/{flow.name}/{flow.init.get('name')}",
            doc_span=subject.doc_span,
        )


RULE = PodSpecRule(
    code=CODE,
    name="init-fills-empty-dir-otherwise",
    summary="Init container downloads or templates content into an emptyDir: bake it into an asset image",
    check=check,
    needles=("initContainers",),
)
