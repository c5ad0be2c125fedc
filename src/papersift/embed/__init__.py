"""Sentence embeddings: which embedder a spec names (``load.py``), the encoders that run them
(``encoders.py``), and the bundled all-MiniLM-L6-v2 (``minilm.py``), whose ONNX graph is built here from
its safetensors weights (``bert_graph.py``) and quantised to int8 (``quantise.py``); no torch at run time.

Below the indexes: the index and the front door hand texts in and get unit vectors back; nothing here
reads the store.
"""
