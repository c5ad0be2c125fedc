"""The labelled short-topic set (bench/short_topics/): its shape, its split, and its judgements."""

import collections

from bench.short_topics import read_qrels, read_queries


def test_sixty_four_short_queries_half_ambiguous_split_in_halves_of_each_kind():
    queries = read_queries()
    assert len(queries) == 64
    assert all(1 <= len(q["query"].split()) <= 3 for q in queries.values())
    kinds = collections.Counter((q["kind"], q["split"]) for q in queries.values())
    assert kinds == {("ambiguous", "dev"): 16, ("ambiguous", "test"): 16, ("specific", "dev"): 16, ("specific", "test"): 16}
    assert all(len(q["query"].split()) == 1 for q in queries.values() if q["kind"] == "ambiguous")


def test_every_query_is_judged_on_a_pool_of_graded_papers():
    queries, qrels = read_queries(), read_qrels()
    assert set(qrels) == set(queries)
    assert all(25 <= len(judged) <= 60 for judged in qrels.values())  # the top 20 of three systems, merged
    grades = collections.Counter(g for judged in qrels.values() for g in judged.values())
    assert set(grades) == {0, 1, 2, 3} and sum(grades.values()) == 2405
    assert all(any(g >= 2 for g in judged.values()) for judged in qrels.values())
