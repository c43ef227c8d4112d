"""Used by notebooks 05 and 11 (the registry also by 13, 14 and 16); also imported by the CLI/service.

Packaging a model so that a service can trust and run it — notebook 11's subject, one module per idea.
Importing this package imports nothing heavy (TensorFlow loads inside the functions that need it).

====================  ====================================================================================
module                what
====================  ====================================================================================
:mod:`.schema`        a tabular model's input contract (``input_schema``, ``check_rows``, ``validate_rows``)
:mod:`.model_card`    ``save_model`` / ``load_model``: ``.keras`` plus a card, refused if the file changed
:mod:`.signature`     reading a model's inputs at registration; metadata checked against the model
:mod:`.export`        SavedModel, TFLite (float / dynamic / int8), ONNX, ``compare_formats``
:mod:`.registry`      ``ModelRegistry``: versioned folders, labels, promote / rollback, safe loading
:mod:`.registry_cli`  ``aiaas models ...``: the registry for people who do not write Python
====================  ====================================================================================
"""
