"""The exception types of timeline: one root, a few documented subclasses."""

from __future__ import annotations


class TimelineError(ValueError):
    """Root of every error timeline raises on bad input or configuration."""


class FormatSpecError(TimelineError):
    """A format spec file is invalid, or one of its samples does not parse."""


class InputError(TimelineError):
    """An input file or option cannot be used as given."""


class ReconstructError(TimelineError):
    """The events cannot be reconstructed into an incident as asked."""
