"""Alignment graph: shortest paths, composition, JSON, PLY."""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from instructvid.scene.graph import AlignmentGraph, write_ply
from instructvid.scene.similarity import Similarity


def _sim(seed: int) -> Similarity:
    rng = np.random.default_rng(seed)
    return Similarity(
        float(rng.uniform(0.5, 2)),
        Rotation.random(random_state=seed).as_matrix(),
        rng.normal(size=3),
    )


def _chain():
    # world -> model frames: x_m = W[m](x_world)
    W = {m: _sim(i) for i, m in enumerate("abcd")}
    g = AlignmentGraph()
    for m in "abcd":
        g.add_node(m, images=10, points=100)

    def rel(src, dst):
        return W[dst] @ W[src].inverse()

    g.add_edge("a", "b", rel("a", "b"), 200)
    g.add_edge("c", "b", rel("c", "b"), 150)  # stored backwards: traversal must invert it
    g.add_edge("c", "d", rel("c", "d"), 100)
    return g, W


def test_shortest_path_composition_matches_truth():
    g, W = _chain()
    assert g.path("a", "d") == ["a", "b", "c", "d"]
    x = np.random.default_rng(0).normal(size=(5, 3))
    truth = W["d"] @ W["a"].inverse()
    np.testing.assert_allclose(g.similarity("a", "d")(x), truth(x), atol=1e-9)
    np.testing.assert_allclose(g.similarity("d", "a")(truth(x)), x, atol=1e-9)
    np.testing.assert_allclose(g.similarity("a", "a").matrix(), np.eye(4))


def test_weak_direct_edge_loses_to_strong_path_and_disconnected_is_none():
    g, _W = _chain()
    g.add_edge("a", "c", _sim(99), 20)  # a weak (and wrong) direct edge: 1/20 > 1/200 + 1/150
    assert g.path("a", "c") == ["a", "b", "c"]
    g.add_node("e")
    assert g.similarity("a", "e") is None
    assert g.components()[-1] == ["e"]


def test_json_round_trip_and_reference():
    g, W = _chain()
    data = g.to_json(reference="b")
    assert data["convention"] == "x_dst = scale * R @ x_src + t"
    assert {e["src"] for e in data["edges"]} == {"a", "c"}
    assert set(data["to_reference"]) == set("abcd")
    assert data["to_reference"]["d"]["path"] == ["d", "c", "b"]
    g2 = AlignmentGraph.from_json(data)
    x = np.ones((1, 3))
    np.testing.assert_allclose(g2.similarity("d", "a")(x), g.similarity("d", "a")(x), atol=1e-12)
    S = Similarity.from_json(data["to_reference"]["a"])
    np.testing.assert_allclose(S(x), (W["b"] @ W["a"].inverse())(x), atol=1e-9)


def test_write_ply(tmp_path):
    pts = np.arange(12, dtype=np.float32).reshape(4, 3)
    cols = np.full((4, 3), 200, np.uint8)
    path = write_ply(tmp_path / "c.ply", pts, cols)
    raw = path.read_bytes()
    header, body = raw.split(b"end_header\n", 1)
    assert b"element vertex 4" in header
    rec = np.frombuffer(
        body,
        dtype=[("x", "<f4"), ("y", "<f4"), ("z", "<f4"), ("r", "u1"), ("g", "u1"), ("b", "u1")],
    )
    np.testing.assert_allclose(np.stack([rec["x"], rec["y"], rec["z"]], 1), pts)
