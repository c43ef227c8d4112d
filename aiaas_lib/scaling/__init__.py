"""Used by notebook 17 (through its modules); also imported by the CLI/service.

Scaling out: the same training and serving on several processes or machines.

- :mod:`~aiaas_lib.scaling.multiworker` — data-parallel training with ``tf.distribute``
  ``MultiWorkerMirroredStrategy``: worker processes on localhost (``TF_CONFIG``), a custom training loop,
  and the same loop on one worker for comparison.
- :mod:`~aiaas_lib.scaling.ray_serve` — the course's FastAPI service as a Ray Serve deployment (replicas,
  autoscaling, ``@serve.batch``), started with ``aiaas serve --ray``.
- :mod:`~aiaas_lib.scaling.ray_batch` — batch inference over a large table with Ray Data.
- :mod:`~aiaas_lib.scaling.deploy_files` — the cluster configuration files in ``deploy/``, read and checked.

Nothing here is imported by ``import aiaas_lib``; TensorFlow and Ray load only when a function needs them.
"""
