"""The Ray Serve application builder: ``Ingress.bind(Detector.bind(), Swapper.bind())``.

``serve run serve/config.yaml`` (or ``serve deploy`` to a running cluster) starts it;
``python -m serve.config`` regenerates that file with ``serve build``. Arguments
(``AppArgs``) go under ``args:`` in the config, or as ``key=val`` after
``serve run serve.app:build_app``.
"""

from pathlib import Path

from ray.serve import Application

from huchu.config import Settings
from serve.args import AppArgs
from serve.deployments import DETECTOR, INGRESS, SWAPPER

INSWAPPER = "inswapper_128.onnx"


def build_app(args: AppArgs) -> Application:
    """The application graph with the options ``args`` asks for."""
    detector = DETECTOR.options(
        ray_actor_options={"num_cpus": args.detector_cpus, "num_gpus": args.detector_gpus},
        autoscaling_config=args.autoscaling(
            args.min_replicas, args.max_replicas, args.detector_target
        ),
        max_ongoing_requests=args.max_ongoing_requests,
        user_config=args.batch_config(),
    ).bind(args.engine, args.models_dir)
    ingress = INGRESS.options(
        ray_actor_options={"num_cpus": 0.25},
        autoscaling_config=args.autoscaling(1, args.ingress_max_replicas, 50),
        max_ongoing_requests=args.ingress_max_ongoing_requests,
    )
    if not _wants_swap(args):
        app: Application = ingress.bind(detector)
        return app
    swapper = SWAPPER.options(
        ray_actor_options={"num_cpus": args.detector_cpus, "num_gpus": args.swap_gpus},
        autoscaling_config=args.autoscaling(0, args.max_replicas, 2),
    ).bind(args.models_dir)
    app = ingress.bind(detector, swapper)
    return app


def _wants_swap(args: AppArgs) -> bool:
    if args.swap is not None:
        return args.swap
    models_dir = Path(args.models_dir) if args.models_dir else Path(Settings().models_dir)
    return (models_dir / INSWAPPER).is_file()


def __getattr__(name: str) -> Application:
    # `serve build` takes an Application, not a builder: this one is built only
    # when asked for by name (never on import), with the defaults and no swapper.
    if name == "default_app":
        return build_app(AppArgs(swap=False))
    raise AttributeError(name)
