"""Used by notebook 08 (``embeddings`` also by 13); also imported by the CLI/service.

Language models for notebook 08, one module per idea. Importing this package imports nothing heavy:
the modules that need TensorFlow import it inside, so ``import aiaas_lib`` stays TensorFlow-free.

====================  ====================================================================================
module                what
====================  ====================================================================================
:mod:`.attention`     the source's embedding formula, scaled dot-product and multi-head attention in NumPy
:mod:`.text_models`   ``vectorizer``, bag of embeddings, GRU and transformer classifiers, a GRU seq2seq
:mod:`.embeddings`    ``SentenceEncoder`` (the packaged all-MiniLM-L6-v2) and ``minilm_classifier``
====================  ====================================================================================
"""
