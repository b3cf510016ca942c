"""The Busy ratio of the heartbeat: the share of the last 10 s the GPU worked (for anyone: a
generation and a training that overlap count once)."""
import threading
import time


class BusyMeter:
    def __init__(self, window: float = 10.0, clock=time.monotonic):
        self.window = window
        self.clock = clock
        self._spans: list[tuple[float, float]] = []
        self._since: float | None = None
        self._users = 0
        self._lock = threading.Lock()

    def start(self):
        with self._lock:
            self._users += 1
            if self._users == 1:
                self._since = self.clock()

    def stop(self):
        with self._lock:
            self._users = max(0, self._users - 1)
            if self._users == 0 and self._since is not None:
                self._spans.append((self._since, self.clock()))
                self._since = None

    def ratio(self) -> float:
        now = self.clock()
        begin = now - self.window
        with self._lock:
            self._spans = [(a, b) for a, b in self._spans if b > begin]
            spans = self._spans + ([(self._since, now)] if self._since is not None else [])
        worked = sum(min(b, now) - max(a, begin) for a, b in spans if b > begin)
        return max(0.0, min(1.0, worked / self.window))
