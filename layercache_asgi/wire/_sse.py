"""A small incremental Server-Sent Events parser (enough for provider streams)."""

from __future__ import annotations

__all__ = ["SSEParser", "format_event"]


class SSEParser:
    """Feed raw bytes as they arrive; get back complete ``(event, data)`` pairs."""

    def __init__(self) -> None:
        self._buffer = b""
        self._event = ""
        self._data: list[str] = []

    def feed(self, chunk: bytes) -> list[tuple[str, str]]:
        self._buffer += chunk
        out: list[tuple[str, str]] = []
        while True:
            nl = self._buffer.find(b"\n")
            if nl < 0:
                break
            raw, self._buffer = self._buffer[:nl], self._buffer[nl + 1 :]
            line = raw.rstrip(b"\r").decode("utf-8", "replace")
            if not line:
                if self._data:
                    out.append((self._event, "\n".join(self._data)))
                self._event, self._data = "", []
            elif line.startswith("data:"):
                self._data.append(line[5:].lstrip(" ") if line[5:6] == " " else line[5:])
            elif line.startswith("event:"):
                self._event = line[6:].strip()
        return out

    def close(self) -> list[tuple[str, str]]:
        """Flush a last event that was not followed by a blank line."""
        out = self.feed(b"\n\n") if self._buffer or self._data else []
        return out


def format_event(data: str, event: str | None = None) -> bytes:
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {data}\n\n".encode()
