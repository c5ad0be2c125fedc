from papersift.search.fusion import FusionParams, fuse


def test_convex_weight_extremes_reproduce_each_leg():
    lexical = [("a", 9.0), ("b", 5.0), ("c", 1.0)]
    dense = [("c", 0.9), ("b", 0.5), ("d", 0.1)]
    only_lex = [d for d, _ in fuse(lexical, dense, FusionParams(lexical_weight=1.0))]
    only_dense = [d for d, _ in fuse(lexical, dense, FusionParams(lexical_weight=0.0))]
    assert only_lex[:2] == ["a", "b"]  # third place ties at 0 after min-max
    assert only_dense[:2] == ["c", "b"]


def test_convex_keeps_score_gaps_that_rrf_loses():
    # "a" wins lexical by a mile and is second in dense by a hair: convex ranks it first
    lexical = [("a", 30.0), ("b", 3.0), ("c", 2.9)]
    dense = [("b", 0.80), ("a", 0.79), ("c", 0.10)]
    convex = fuse(lexical, dense, FusionParams(lexical_weight=0.5))
    assert convex[0][0] == "a"
    rrf = fuse(lexical, dense, FusionParams(method="rrf", lexical_weight=0.5))
    assert {d for d, _ in rrf} == {"a", "b", "c"}


def test_documents_missing_from_a_leg_and_empty_legs():
    fused = fuse([("a", 1.0)], [], FusionParams(lexical_weight=0.3))
    assert fused == [("a", 0.3)]
    assert fuse([], [], FusionParams()) == []
    both = dict(fuse([("a", 2.0), ("b", 1.5), ("e", 1.0)], [("c", 0.9), ("a", 0.8), ("f", 0.1)],
                     FusionParams(lexical_weight=0.5)))
    assert both["a"] > both["b"] and both["a"] > both["c"]  # strong in both legs beats strong in one
