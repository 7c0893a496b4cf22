"""What county to invent: size, years, volume and seed."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

from embedded.synth.vocab import NANSHA_COUNTY_ID

__all__ = [
    "DEFAULT_EVENTS_PER_VILLAGE",
    "DEFAULT_VILLAGES",
    "DEFAULT_YEAR",
    "MAX_VILLAGES",
    "MIN_VILLAGES",
    "CountyConfig",
]

DEFAULT_VILLAGES: Final = 200
DEFAULT_YEAR: Final = 2025
DEFAULT_EVENTS_PER_VILLAGE: Final = 500
MIN_VILLAGES: Final = 30
"""The showcase advisors (one per behaviour profile, the handovers, the six-village
advisor and the villages without one) need 24 villages; the rest are ordinary."""

MAX_VILLAGES: Final = 100_000
"""Far beyond a real county (a few hundred villages); the 12-digit village codes hold."""

_COUNTY_ID: Final = re.compile(r"^[0-9]{6}$")


@dataclass(frozen=True)
class CountyConfig:
    """The knobs of a synthetic county. Equal configs generate byte-identical streams.

    ``events_per_village`` is the approximate number of events per village and year
    for an ordinary advisor: consultations, documents and ratings scale with it; duty
    days, lectures and inspections follow the calendar and the rules instead. Weak
    profiles (failing, absent) produce fewer events whatever the volume.
    """

    county_id: str = NANSHA_COUNTY_ID
    villages: int = DEFAULT_VILLAGES
    years: tuple[int, ...] = (DEFAULT_YEAR,)
    events_per_village: int = DEFAULT_EVENTS_PER_VILLAGE
    seed: int = 1
    close_years: tuple[int, ...] = ()
    """Append ``period.closed.v1`` for these years (an admin act, off by default)."""
    carry_over: bool = True
    """Add the year before the first one for the chronic-rectify advisor only, as a
    bureau imports last year's ledger of assignments under rectification (整改), so
    CONSECUTIVE_RECTIFY can fire even when one year is generated."""
    close_day: tuple[int, int] = field(default=(1, 15))
    """(month, day) of the following year on which a closed year is closed."""

    def __post_init__(self) -> None:
        if not _COUNTY_ID.match(self.county_id) or self.county_id == "000000":
            raise ValueError(f"county_id must be a 6-digit county code, got {self.county_id!r}")
        if self.villages < MIN_VILLAGES:
            raise ValueError(f"a county needs at least {MIN_VILLAGES} villages for every profile")
        if self.villages > MAX_VILLAGES:
            raise ValueError(f"at most {MAX_VILLAGES} villages")
        years = tuple(sorted(set(self.years)))
        if not years or years != tuple(range(years[0], years[-1] + 1)):
            raise ValueError(f"years must be consecutive, got {self.years!r}")
        if years[0] < 2002 or years[-1] > 2098:
            raise ValueError("years must lie within 2002–2098")
        object.__setattr__(self, "years", years)
        unknown = sorted(set(self.close_years) - set(years))
        if unknown:
            raise ValueError(f"close_years {unknown} are not among the generated years {years}")
        object.__setattr__(self, "close_years", tuple(sorted(set(self.close_years))))
        if self.events_per_village < 1:
            raise ValueError("events_per_village must be positive")

    @property
    def focus_year(self) -> int:
        """The last year: the one every verdict, reason and grade is arranged to appear in."""
        return self.years[-1]

    @property
    def volume(self) -> float:
        """Multiplier of the volume-driven activities (1.0 at the default)."""
        return self.events_per_village / DEFAULT_EVENTS_PER_VILLAGE
