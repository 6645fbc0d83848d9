"""Many shots in one `bgm matte`: inputs expanded to shots, plates matched by name, manifests,
resume, local processes, shards and a Ray cluster; above `bgmcli.engine.matte.run_matte`."""

# Said before the library loads (the CLI) and by plan_shots (library use): one wording.
MISSING_INPUT = "missing INPUT: a video, images, a folder or glob of videos, or --manifest"
