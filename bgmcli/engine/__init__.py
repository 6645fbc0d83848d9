"""The video matting engine behind `bgm matte`: sources -> pipeline (model) -> compose -> sinks.

Import `bgmcli.engine.matte.run_matte` for the whole job; this package imports nothing heavy.
"""
