"""Run the Examples sections of the library's docstrings: documentation that does not run is a defect."""
import doctest
import importlib

import pytest

MODULES = [
    "config", "validation", "data", "env", "course", "keras_models", "training",
    "packaging.schema", "packaging.model_card", "packaging.signature", "packaging.registry", "packaging.export",
    "language.attention", "language.embeddings", "language.text_models",
    "numpy_nn", "numpy_nn.activations", "numpy_nn.gradcheck", "numpy_nn.layers", "numpy_nn.losses",
    "numpy_nn.optimizers", "numpy_nn.schedules", "numpy_nn.batching", "vision",
    "explain", "explain.shapley", "explain.lime_scratch", "explain.shap_wrappers", "explain.keras_tabular",
    "explain.lime_wrappers", "explain.metrics", "explain.plots",
    "defaults", "serving.settings", "serving.errors", "serving.security", "serving.metrics", "serving.batching",
    "serving.runtime", "serving.service", "serving.app", "serving.server", "serving.openai_api",
    "serving.loading", "serving.openapi", "serving.text_runtime", "serving.explaining",
    "conformance", "conformance.core", "conformance.runner",
    "loadtest", "serving.source_design", "monitoring.drift", "monitoring.prometheus", "monitoring.traffic",
    "compression", "compression.quantize", "compression.prune", "compression.kd", "compression.measure", "compression.compare",
    "compression.keras_classes",
    "generation", "generation.tokenizer", "generation.params", "generation.sampling", "generation.model",
    "generation.inference", "generation.decoding", "generation.training",
    "scaling.multiworker", "scaling.ray_serve", "scaling.ray_batch", "scaling.deploy_files",
    "exercises.nb00_setup", "exercises.nb01_ai_as_a_service", "exercises.nb02_losses_and_gradients",
    "exercises.nb03_backpropagation", "exercises.nb04_optimizers", "exercises.nb05_keras_tabular",
    "exercises.nb06_training_on_a_gpu", "exercises.nb07_computer_vision", "exercises.nb08_nlp",
    "exercises.nb09_explaining_with_shap", "exercises.nb10_explaining_with_lime",
    "exercises.nb11_packaging_models", "exercises.nb12_serving_models",
    "exercises.nb13_language_model_service", "exercises.nb14_monitoring_and_updating",
    "exercises.nb15_compression", "exercises.nb16_privacy_and_security", "exercises.nb17_scaling_out",
    "privacy.sgd", "privacy.federated", "privacy.dp", "privacy.adversarial", "privacy.membership", "privacy.service",
]

# Modules with no Examples section, and why: a new module must land in one of the two lists.
NO_EXAMPLES = {
    "cli": "argument parsing; tests/test_cli.py runs it",
    "packaging.registry_cli": "tests/test_registry_cli.py runs it",
    "conformance.cli": "tests/test_conformance_kit.py runs it",
    "conformance.tfserving": "checks against a server; tests/test_conformance_*.py",
    "conformance.oip": "checks against a server; tests/test_conformance_*.py",
    "conformance.openai_api": "checks against a server; tests/test_conformance_*.py",
    "exercises": "a package of per-notebook modules", "exercises.feedback": "the decorator; tests/_feedback.py",
    "language": "a package of modules", "packaging": "a package of modules",
    "monitoring": "re-exports", "privacy": "re-exports", "scaling": "re-exports", "serving": "re-exports",
    "serving.docs": "HTML pages; tests/test_docs_offline.py", "serving.kserve": "routes; tests/test_serving_*.py",
    "serving.tfserving": "routes; tests/test_serving_*.py",
}


def test_every_module_is_listed():
    import pkgutil

    import aiaas_lib

    found = {m.name.removeprefix("aiaas_lib.") for m in pkgutil.walk_packages(aiaas_lib.__path__, "aiaas_lib.")}
    assert found - set(MODULES) - set(NO_EXAMPLES) == set(), "add the new module's Examples and list it here"
    assert not set(MODULES) & set(NO_EXAMPLES)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(f"aiaas_lib.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
    assert result.attempted > 0
