"""`bgm ablate`: the ablation studies of BackgroundMattingV2 (studies, checkpoints, evaluation,
reports)."""
