"""Used by notebook 16.

Privacy and security for models as a service (notebook 16), one concept per module:

- :mod:`~aiaas_lib.privacy.sgd` a tiny image classifier, plain SGD and accuracy, shared by the others;
- :mod:`~aiaas_lib.privacy.federated` clients (IID or Dirichlet label skew), FedAvg, federated training;
- :mod:`~aiaas_lib.privacy.dp` DP-SGD: per-example gradients, clipping, Gaussian noise, the RDP accountant;
- :mod:`~aiaas_lib.privacy.adversarial` FGSM adversarial examples and accuracy under attack;
- :mod:`~aiaas_lib.privacy.membership` per-example losses and the loss-threshold membership attack;
- :mod:`~aiaas_lib.privacy.service` attacks on the running service, tampering, a self-signed TLS certificate.

Nothing heavy is imported here: TensorFlow is imported inside the functions that need it.
"""
from aiaas_lib.privacy.adversarial import accuracy_under_attack, fgsm, fgsm_perturbation
from aiaas_lib.privacy.dp import (clip_by_l2_norm, clip_per_example, dp_epsilon, dp_sgd_gradient, per_example_gradients,
                                  train_dp_sgd)
from aiaas_lib.privacy.federated import fedavg, federated_training, split_clients
from aiaas_lib.privacy.membership import loss_threshold_attack, per_example_loss
from aiaas_lib.privacy.sgd import accuracy, mlp_classifier, train_sgd

__all__ = [
    "accuracy", "accuracy_under_attack", "clip_by_l2_norm", "clip_per_example",
    "dp_epsilon", "dp_sgd_gradient", "fedavg", "federated_training", "fgsm", "fgsm_perturbation", "mlp_classifier",
    "loss_threshold_attack", "per_example_gradients", "per_example_loss", "split_clients",
    "train_dp_sgd", "train_sgd",
]
