"""Personal recommendations: a per-reader linear model over a paper's embedding and its
tf-idf words, a prior for recency and community votes, diversity, and the reasons behind each pick.

A band beside ``search/`` and ``feed/``: it reads papers and vectors handed to it (from the store's
embeddings cache or the vector index) and never the service or an interface. The front door turns
stored signals into a :class:`Reader` and calls :class:`Recommender`.
"""

from papersift.recommend.features import FeatureSpace, TextFeatures
from papersift.recommend.reader import Reader
from papersift.recommend.recommender import Recommendation, Recommender, RecParams

__all__ = ["FeatureSpace", "Reader", "Recommendation", "Recommender", "RecParams", "TextFeatures"]
