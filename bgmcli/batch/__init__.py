"""Many shots in one `bgm matte`: inputs expanded to shots, plates matched by name, manifests,
resume, local processes, shards and a Ray cluster; above `bgmcli.engine.matte.run_matte`."""
