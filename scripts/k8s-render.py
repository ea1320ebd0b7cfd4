"""Render a kustomization (deploy/k8s/ and deploy/k8s/overlays/*) without kustomize or kubectl.

    .venv/bin/python scripts/k8s-render.py deploy/k8s/overlays/prod > prod.yaml   # what `kubectl kustomize` prints
    .venv/bin/python scripts/k8s-render.py deploy/k8s/overlays/dev --out dev.yaml

Neither kustomize nor kubectl is packaged for Debian bookworm, and nothing is downloaded outside
PyPI/Debian here, so scripts/k8s-check.sh renders each overlay with this and validates the output. It
implements only the kustomization fields the overlays use, the way kustomize defines them, and refuses
any other field rather than ignore it (so an overlay can never mean more than this renders):

  resources   files or directories holding a kustomization.yaml, in order
  namespace   sets metadata.namespace on every namespaced object, and renames a Namespace object to it
              (kustomize has done so since kubernetes-sigs/kustomize#2953)
  images      [{name, newName?, newTag?}]: containers whose image is `name[:tag]` get the new name/tag
  replicas    [{name, count}]: spec.replicas of the Deployment (or StatefulSet) of that name
  patches     [{path}]: strategic-merge patches, each naming its target by kind and metadata.name.
              Maps merge key by key; lists of maps whose items have a `name` (containers, env, volumes)
              merge item by item on it, as Kubernetes' patchMergeKey `name` does; any other list, and
              every scalar, is replaced. That covers what the overlays patch (resources, ConfigMap data,
              an HPA's bounds, env); ports (merged on containerPort by kustomize) are never patched here.

The same directories render with `kubectl kustomize` / `kustomize build` where those exist.
"""
from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path

import yaml

SUPPORTED = {"apiVersion", "kind", "resources", "namespace", "images", "replicas", "patches"}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "PriorityClass", "StorageClass",
                  "CustomResourceDefinition", "IngressClass"}


class RenderError(Exception):
    """The kustomization asks for something this renderer does not do, or names what is not there."""


def strategic_merge(base, patch):
    """`patch` merged into a copy of `base` (see the module docstring for the rules)."""
    if isinstance(base, dict) and isinstance(patch, dict):
        merged = dict(base)
        for key, value in patch.items():
            merged[key] = strategic_merge(base[key], value) if key in base else copy.deepcopy(value)
        return merged
    if (isinstance(base, list) and isinstance(patch, list) and patch
            and all(isinstance(i, dict) and "name" in i for i in base + patch)):
        merged = [copy.deepcopy(i) for i in base]
        index = {item["name"]: n for n, item in enumerate(merged)}
        for item in patch:
            if item["name"] in index:
                merged[index[item["name"]]] = strategic_merge(merged[index[item["name"]]], item)
            else:
                merged.append(copy.deepcopy(item))
        return merged
    return copy.deepcopy(patch)


def _pod_specs(doc: dict) -> list[dict]:
    spec = doc.get("spec") or {}
    if doc["kind"] == "CronJob":
        return [spec["jobTemplate"]["spec"]["template"]["spec"]]
    if "template" in spec and "spec" in spec["template"]:
        return [spec["template"]["spec"]]
    return []


def _set_images(docs: list[dict], images: list[dict]) -> None:
    for rule in images:
        for doc in docs:
            for pod in _pod_specs(doc):
                for container in pod.get("containers", []) + pod.get("initContainers", []):
                    name, _, tag = container["image"].partition(":")
                    if name == rule["name"]:
                        tag = rule.get("newTag", tag)
                        container["image"] = rule.get("newName", name) + (f":{tag}" if tag else "")


def _find(docs: list[dict], kind: str | None, name: str) -> dict:
    found = [d for d in docs if d["metadata"]["name"] == name and (kind is None or d["kind"] == kind)]
    if len(found) != 1:
        raise RenderError(f"{kind or 'object'} {name!r}: {len(found)} found, expected 1")
    return found[0]


def render(directory: Path) -> list[dict]:
    """The objects the kustomization in `directory` produces, in order."""
    path = directory / "kustomization.yaml"
    if not path.is_file():
        raise RenderError(f"{path}: no kustomization.yaml")
    k = yaml.safe_load(path.read_text()) or {}
    unsupported = set(k) - SUPPORTED
    if unsupported:
        raise RenderError(f"{path}: fields this renderer does not implement: {', '.join(sorted(unsupported))}")
    docs: list[dict] = []
    for resource in k.get("resources", []):
        target = (directory / resource).resolve()
        if target.is_dir():
            docs += render(target)
        elif target.is_file():
            docs += [d for d in yaml.safe_load_all(target.read_text()) if d]
        else:
            raise RenderError(f"{path}: resource {resource} does not exist")
    for entry in k.get("patches", []):
        if set(entry) != {"path"}:
            raise RenderError(f"{path}: only patches: [{{path: …}}] (strategic merge) is implemented")
        for patch in (p for p in yaml.safe_load_all((directory / entry["path"]).read_text()) if p):
            target = _find(docs, patch["kind"], patch["metadata"]["name"])
            docs[docs.index(target)] = strategic_merge(target, patch)
    for rule in k.get("replicas", []):
        target = next((d for d in docs if d["kind"] in ("Deployment", "StatefulSet")
                       and d["metadata"]["name"] == rule["name"]), None)
        if target is None:
            raise RenderError(f"{path}: replicas names {rule['name']!r}, which is not a Deployment here")
        target["spec"]["replicas"] = int(rule["count"])
    _set_images(docs, k.get("images", []))
    if "namespace" in k:
        for doc in docs:
            if doc["kind"] == "Namespace":
                doc["metadata"]["name"] = k["namespace"]
            elif doc["kind"] not in CLUSTER_SCOPED:
                doc["metadata"]["namespace"] = k["namespace"]
    return docs


def dump(docs: list[dict]) -> str:
    return yaml.safe_dump_all(docs, sort_keys=False, allow_unicode=True, width=120)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("directory", type=Path)
    p.add_argument("--out", type=Path, help="write here instead of stdout")
    args = p.parse_args(argv)
    try:
        text = dump(render(args.directory))
    except (RenderError, KeyError, yaml.YAMLError) as exc:
        print(f"k8s-render: {exc}", file=sys.stderr)
        return 1
    if args.out:
        args.out.write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
