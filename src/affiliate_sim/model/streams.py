"""Random numbers: one independent stream per replicate, per process and per draw site.

Each stream is a PCG64 generator seeded by ``SeedSequence(seed, spawn_key=(process,
site))`` (names hashed with CRC-32), where ``seed`` is the replicate's seed. A process asks
for a block of a fixed shape every day (:meth:`Draws.uniform`, :meth:`Draws.normal`); the
numbers are drawn ``BLOCK`` days at a time but always in the same sequence, so the draw of a
site on a day depends only on the seed, the process, the site and the day. Hence:

* replicate r of an ensemble draws exactly what a single run with seed r draws;
* switching a mechanism off removes its streams and leaves every other process's numbers
  unchanged, so knock-outs are common-random-number comparisons;
* a decision that is not taken on a day leaves its number unused, without shifting any
  later number.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np

#: Days of numbers drawn at once per site.
BLOCK = 32


def _key(name: str) -> int:
    return zlib.crc32(name.encode("utf-8"))


class Streams:
    """The random streams of an ensemble whose replicates have seeds ``seeds``.

    Attributes:
        day: the day whose numbers :class:`Draws` hands out (the model sets it).
    """

    def __init__(self, seeds: Sequence[int], block: int = BLOCK):
        self.seeds = [int(s) for s in seeds]
        self.block = int(block)
        self.day = 0
        self._draws: dict[str, Draws] = {}

    def of(self, process: str) -> Draws:
        """The draws of one process."""
        if process not in self._draws:
            self._draws[process] = Draws(self, process)
        return self._draws[process]


class Draws:
    """The random numbers of one process, for every replicate (``(R, *shape)`` a day)."""

    def __init__(self, streams: Streams, process: str):
        self._streams = streams
        self.process = process
        self._sites: dict[str, _Site] = {}

    def uniform(self, site: str, shape: tuple[int, ...]) -> np.ndarray:
        """Today's uniforms in [0, 1) of a site, ``(R, *shape)``."""
        return self._site(site, shape, "uniform").at(self._streams.day)

    def normal(self, site: str, shape: tuple[int, ...]) -> np.ndarray:
        """Today's standard normals of a site, ``(R, *shape)``."""
        return self._site(site, shape, "normal").at(self._streams.day)

    def _site(self, site: str, shape, kind: str) -> _Site:
        s = self._sites.get(site)
        if s is None:
            s = self._sites[site] = _Site(self._streams, self.process, site, tuple(shape),
                                          kind)
        elif s.shape != tuple(shape) or s.kind != kind:
            raise ValueError(f"random site {self.process}/{site} asked for {kind} "
                             f"{tuple(shape)} after {s.kind} {s.shape}")
        return s


class _Site:
    def __init__(self, streams: Streams, process: str, site: str, shape, kind: str):
        self.name = f"{process}/{site}"
        self.shape = shape
        self.kind = kind
        self.block = streams.block
        key = (_key(process), _key(site))
        self.gens = [np.random.Generator(np.random.PCG64(
            np.random.SeedSequence(seed, spawn_key=key))) for seed in streams.seeds]
        self.buf = np.empty((len(self.gens), self.block, *shape))
        self.filled = -1  # index of the block in the buffer
        self.last_day = -1

    def at(self, day: int) -> np.ndarray:
        if day <= self.last_day:
            raise RuntimeError(f"random site {self.name} drawn twice, or backwards, on day "
                               f"{day}")
        self.last_day = day
        want = day // self.block
        while self.filled < want:  # blocks in sequence, so day d's numbers never vary
            for r, gen in enumerate(self.gens):
                size = (self.block, *self.shape)
                self.buf[r] = (gen.random(size) if self.kind == "uniform"
                               else gen.standard_normal(size))
            self.filled += 1
        return self.buf[:, day % self.block].copy()
