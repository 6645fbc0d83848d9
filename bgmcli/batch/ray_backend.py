"""`--cluster ray[=ADDRESS]`: each shot a Ray task (one GPU where the cluster has them, else CPUs),
retried once by Ray; Ray schedules, bgm only collects the rows. Ray is the `[cluster]` extra."""

from __future__ import annotations

import logging

from bgmcli.batch.worker import matte_shot, one_line, shot_row
from bgmcli.errors import BgmError

INSTALL = "pip install 'bgmcli[cluster]' (or: pip install 'ray>=2.9')"
DEFAULT_TASK_CPUS = 4


def parse_cluster(text: str | None) -> str | None:
    """'ray' -> '' (RAY_ADDRESS, else a local Ray), 'ray=ADDRESS' -> ADDRESS; None: no cluster."""
    if text is None:
        return None
    engine, _, address = text.partition("=")
    if engine.strip().lower() != "ray" or ("=" in text and not address.strip()):
        raise BgmError(
            f"--cluster {text!r}: give ray or ray=ADDRESS (e.g. ray=auto, ray://head:10001)"
        )
    import_ray()
    return address.strip()


def import_ray():
    try:
        import ray
    except ImportError:
        raise BgmError(f"--cluster ray needs Ray, which is not installed: {INSTALL}") from None
    return ray


def ray_task(shot, threads: int):
    """What a Ray worker runs: unexpected errors propagate so that Ray retries the task."""
    return matte_shot(shot, threads=threads, raise_unexpected=True)


def run_on_ray(todo, options, report, finished) -> None:
    ray = import_ray()
    started = not ray.is_initialized()
    if started:
        ray.init(address=options.cluster or None, include_dashboard=False, log_to_driver=False,
                 logging_level=logging.ERROR)  # fmt: skip
    try:
        gpus = ray.cluster_resources().get("GPU", 0)
        cpus = options.threads or min(DEFAULT_TASK_CPUS, _largest_node_cpus(ray))
        task = ray.remote(ray_task).options(
            num_gpus=1 if gpus else 0, num_cpus=1 if gpus else cpus,
            max_retries=1, retry_exceptions=True,  # a lost worker or node, or any other error
        )  # fmt: skip
        refs = {task.remote(shot, cpus): (index, shot) for index, shot in todo}
        pending = list(refs)
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            index, shot = refs[done[0]]
            try:
                row = ray.get(done[0])
            except Exception as exc:  # failed twice: RayTaskError wraps the cause
                cause = getattr(exc, "cause", None) or exc
                row = shot_row(shot, "failed", error=f"failed twice on Ray: {one_line(cause)}")
            finished(index, row)
    finally:
        if started:
            ray.shutdown()


def _largest_node_cpus(ray) -> int:
    """A task asking for more CPUs than any node has would wait forever."""
    nodes = [node["Resources"].get("CPU", 0) for node in ray.nodes() if node.get("Alive")]
    return max(1, int(max(nodes, default=1)))
