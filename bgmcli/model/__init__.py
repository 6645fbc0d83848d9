"""The BackgroundMattingV2 network: backbones, ASPP/decoder, selection strategies, refiner."""
