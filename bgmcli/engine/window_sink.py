"""The preview window (`--preview`), on pygame-ce (SDL2): the composite, alpha or input with the
fps and latency over it. Keys: q (or Esc, or closing the window) quits, b captures the plate
again, a cycles composite -> alpha -> input. It runs on the model's thread: GUI toolkits want
the thread that made the window."""

from __future__ import annotations

import os
import sys

import numpy as np

from bgmcli.errors import BgmError

VIEWS = ("composite", "alpha", "input")
MAX_WIDTH = 1280  # larger frames are shown scaled down


def check_display() -> None:
    """A one-line error where no window can open (an SSH session, a server, CI)."""
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        raise BgmError("--preview needs a display, and none is set (no DISPLAY or WAYLAND_DISPLAY)")


class WindowSink:
    def __init__(self, width: int, height: int, title: str = "bgm"):
        check_display()
        try:
            os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
            import pygame
        except ImportError:
            raise BgmError("--preview needs pygame-ce: pip install 'bgmcli[live]'") from None
        self.pygame, self.view = pygame, 0
        scale = min(1.0, MAX_WIDTH / width)
        self.size = (round(width * scale), round(height * scale))
        try:
            pygame.display.init()
            pygame.font.init()
            self.screen = pygame.display.set_mode(self.size)
        except pygame.error as exc:
            raise BgmError(f"--preview: cannot open a window: {exc}") from None
        pygame.display.set_caption(f"{title} - q quits, b takes the plate again, a switches view")
        self.font = pygame.font.Font(None, 24)

    @property
    def view_name(self) -> str:
        return VIEWS[self.view]

    def show(self, image: np.ndarray, caption: str) -> None:
        """Shows a uint8 (H, W, 3) picture with `caption` (fps, latency) in a corner."""
        pygame = self.pygame
        height, width = image.shape[:2]
        surface = pygame.image.frombuffer(np.ascontiguousarray(image).tobytes(), (width, height),
                                          "RGB")  # fmt: skip
        if (width, height) != self.size:
            surface = pygame.transform.smoothscale(surface, self.size)
        self.screen.blit(surface, (0, 0))
        text = self.font.render(f"{self.view_name}  {caption}", True, (255, 255, 255), (0, 0, 0))
        self.screen.blit(text, (8, 8))
        pygame.display.flip()

    def actions(self) -> list[str]:
        """What the user asked for since the last call: "quit", "plate"; `a` switches the view."""
        pygame, asked = self.pygame, []
        for event in pygame.event.get():
            if event.type == pygame.QUIT:
                asked.append("quit")
            elif event.type == pygame.KEYDOWN:
                if event.key in (pygame.K_q, pygame.K_ESCAPE):
                    asked.append("quit")
                elif event.key == pygame.K_b:
                    asked.append("plate")
                elif event.key == pygame.K_a:
                    self.view = (self.view + 1) % len(VIEWS)
        return asked

    def close(self) -> None:
        self.pygame.display.quit()
