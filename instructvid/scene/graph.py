"""The 3D alignment graph (thesis §5.3.4, Fig. 5.3): nodes = models, edges = successful alignments.

An edge ``(src, dst)`` holds the similarity S with x_dst = scale · R · x_src + t and its number of
RANSAC inliers; traversed backwards it is S⁻¹. Any two connected models are aligned along the
shortest path (Dijkstra, networkx) by composing the similarities along it; any node can be the
reference. Path length: the sum over edges of ``1 / inliers`` — a well-supported edge is short, so
a weak direct edge can lose against a path through strongly aligned intermediate models.

JSON (``GRAPH.json``)::

    {"convention": "x_dst = scale * R @ x_src + t",
     "nodes": [{"id": "<input-name>/<k>", "images": n, "points": n}],
     "edges": [{"src": id, "dst": id, "scale": s, "R": [[...], [...], [...]], "t": [x, y, z],
                "inliers": n}],
     "reference": id, "to_reference": {id: {"scale", "R", "t", "path": [ids]}}, ...}
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from instructvid.io.atomic import atomic_open
from instructvid.scene.similarity import Similarity
from instructvid.types import PathLike

__all__ = ["AlignmentGraph", "write_ply"]

CONVENTION = "x_dst = scale * R @ x_src + t"


class AlignmentGraph:
    """An undirected graph of models whose edges carry directed similarities."""

    def __init__(self) -> None:
        import networkx as nx

        self.g = nx.Graph()

    # construction ----------------------------------------------------------------------------
    def add_node(self, node_id: str, **attrs) -> None:
        self.g.add_node(node_id, **attrs)

    def add_edge(self, src: str, dst: str, similarity: Similarity, inliers: int, **attrs) -> None:
        """Add the alignment x_dst = S(x_src) with its inlier count (> 0)."""
        if src == dst:
            raise ValueError("an alignment edge joins two different models")
        if inliers <= 0:
            raise ValueError("an alignment edge needs inliers > 0")
        for n in (src, dst):
            if n not in self.g:
                self.g.add_node(n)
        self.g.add_edge(
            src,
            dst,
            src=src,
            dst=dst,
            similarity=similarity,
            inliers=int(inliers),
            weight=1.0 / inliers,
            **attrs,
        )

    # queries -------------------------------------------------------------------------------
    @property
    def nodes(self) -> list[str]:
        return list(self.g.nodes)

    def edge_similarity(self, a: str, b: str) -> Similarity:
        """The similarity x_b = S(x_a) of the edge between a and b (either direction)."""
        data = self.g.edges[a, b]
        s = data["similarity"]
        return s if data["src"] == a else s.inverse()

    def path(self, src: str, dst: str) -> list[str]:
        """Shortest path src → dst (weights 1/inliers); raises ``networkx.NetworkXNoPath``."""
        import networkx as nx

        return nx.shortest_path(self.g, src, dst, weight="weight")

    def compose(self, path: Iterable[str]) -> Similarity:
        """The similarity x_last = S(x_first) composed along ``path`` (a list of node ids)."""
        nodes = list(path)
        total = Similarity.identity()
        for a, b in itertools.pairwise(nodes):
            total = self.edge_similarity(a, b) @ total
        return total

    def similarity(self, src: str, dst: str) -> Similarity | None:
        """x_dst = S(x_src) along the shortest path, or ``None`` when not connected."""
        import networkx as nx

        if src == dst:
            return Similarity.identity()
        try:
            return self.compose(self.path(src, dst))
        except (nx.NetworkXNoPath, nx.NodeNotFound):
            return None

    def components(self) -> list[list[str]]:
        import networkx as nx

        return [sorted(c) for c in sorted(nx.connected_components(self.g), key=len, reverse=True)]

    def to_reference(self, reference: str) -> dict[str, tuple[Similarity, list[str]]]:
        """For every node connected to ``reference``: (x_ref = S(x_node), path node → reference)."""
        import networkx as nx

        if reference not in self.g:
            raise KeyError(f"reference {reference!r} is not a node of the graph")
        paths = nx.single_source_dijkstra_path(self.g, reference, weight="weight")
        return {n: (self.compose(p[::-1]), p[::-1]) for n, p in paths.items()}

    # JSON ------------------------------------------------------------------------------------
    def to_json(self, reference: str | None = None) -> dict:
        nodes = [{"id": n, **{k: v for k, v in self.g.nodes[n].items()}} for n in self.g.nodes]
        edges = []
        for _, _, d in self.g.edges(data=True):
            extra = {
                k: v
                for k, v in d.items()
                if k not in ("src", "dst", "similarity", "inliers", "weight")
            }
            edges.append(
                {
                    "src": d["src"],
                    "dst": d["dst"],
                    **d["similarity"].to_json(),
                    "inliers": d["inliers"],
                    **extra,
                }
            )
        out = {
            "convention": CONVENTION,
            "nodes": nodes,
            "edges": edges,
            "components": self.components(),
        }
        if reference is not None:
            out["reference"] = reference
            out["to_reference"] = {
                n: {**s.to_json(), "path": p} for n, (s, p) in self.to_reference(reference).items()
            }
        return out

    @staticmethod
    def from_json(data: dict) -> AlignmentGraph:
        graph = AlignmentGraph()
        for node in data.get("nodes", []):
            graph.add_node(node["id"], **{k: v for k, v in node.items() if k != "id"})
        for e in data.get("edges", []):
            extra = {
                k: v for k, v in e.items() if k not in ("src", "dst", "scale", "R", "t", "inliers")
            }
            graph.add_edge(e["src"], e["dst"], Similarity.from_json(e), int(e["inliers"]), **extra)
        return graph


def write_ply(path: PathLike, points: np.ndarray, colors: np.ndarray | None = None) -> Path:
    """Write a binary little-endian PLY point cloud: (N, 3) points, optional (N, 3) uint8 colours."""
    pts = np.asarray(points, np.float32).reshape(-1, 3)
    cols = None if colors is None else np.asarray(colors, np.uint8).reshape(-1, 3)
    if cols is not None and len(cols) != len(pts):
        raise ValueError("points and colours differ in length")
    header = [
        "ply",
        "format binary_little_endian 1.0",
        f"element vertex {len(pts)}",
        "property float x",
        "property float y",
        "property float z",
    ]
    fields = [("x", "<f4"), ("y", "<f4"), ("z", "<f4")]
    if cols is not None:
        header += ["property uchar red", "property uchar green", "property uchar blue"]
        fields += [("red", "u1"), ("green", "u1"), ("blue", "u1")]
    header.append("end_header")
    rec = np.empty(len(pts), dtype=fields)
    rec["x"], rec["y"], rec["z"] = pts[:, 0], pts[:, 1], pts[:, 2]
    if cols is not None:
        rec["red"], rec["green"], rec["blue"] = cols[:, 0], cols[:, 1], cols[:, 2]
    with atomic_open(path, "wb") as handle:
        handle.write(("\n".join(header) + "\n").encode("ascii"))
        handle.write(rec.tobytes())
    return Path(path)
